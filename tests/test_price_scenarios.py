"""Price models in scenarios (issue 12): the joint-noise model, replayed histories.

The price model is off by default (presets are unchanged: tests/presets); on, the paths of
its assets keep their own crash and drift while their noise is drawn together.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError, PriceFileError, ScenarioFileError
from contagion.model import ContagionModel
from contagion.params import PriceModelParams, PricePathParams
from contagion.scenario_file import dumps, load, loads
from models import get_scenario

SAMPLE = Path(__file__).resolve().parents[1] / "models" / "data" / "eth_btc_2022-06.csv"
N = 200


def _default(**kw: object) -> object:
    return get_scenario("default", n_traders=N, **kw)


def _paths(sc: object, seed: int = 1) -> np.ndarray:
    return ContagionModel(sc, seed=seed).market.path.copy()  # type: ignore[arg-type]


def _correlated(rho: float, steps: int = 2000, **kw: object) -> object:
    sc = _default(steps=steps)
    paths = tuple(dataclasses.replace(p, kind="flat", vol_per_step=0.01) for p in sc.paths)
    pm = PriceModelParams(assets=("ETH", "LND", "EXT"),
                          correlation=((1.0, rho, rho), (rho, 1.0, rho), (rho, rho, 1.0)), **kw)
    return dataclasses.replace(sc, paths=paths, price_model=pm)


def test_off_by_default_and_off_draws_exactly_as_before() -> None:
    sc = _default()
    assert sc.price_model is None
    identity = dataclasses.replace(sc, price_model=None)
    assert np.array_equal(_paths(sc), _paths(identity))


def test_the_models_paths_carry_the_correlation() -> None:
    sc = _correlated(0.7)
    path = _paths(sc)
    r = np.diff(np.log(path[1:]), axis=1)  # ETH, LND, EXT log returns
    n = r.shape[1]
    corr = np.corrcoef(r)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert abs(math.atanh(corr[i, j]) - math.atanh(0.7)) < 3.2905 / math.sqrt(n - 3)
    off = _paths(dataclasses.replace(sc, price_model=None))
    r_off = np.corrcoef(np.diff(np.log(off[1:]), axis=1))
    assert abs(r_off[0, 1]) < 3.2905 / math.sqrt(n - 3)  # independent without the model


def test_a_crash_keeps_its_deterministic_fall_under_the_model() -> None:
    sc = _default()
    pm = PriceModelParams(assets=("ETH", "LND"), correlation=((1.0, 0.9), (0.9, 1.0)),
                          innovations="student_t", dof=4.0, garch_alpha=0.1, garch_beta=0.85)
    on = _paths(dataclasses.replace(sc, price_model=pm))
    eth = next(p for p in sc.paths if p.asset == "ETH")
    end = eth.shock_start_step + eth.shock_duration_steps
    # the noise is small (vol 0.2% a step): ETH still ends ~35% down
    assert on[1, end] / on[1, 0] == pytest.approx(1 - eth.shock_frac, rel=0.15)


def test_same_seed_same_run_with_the_model_on() -> None:
    sc = _correlated(0.5, steps=50, innovations="student_t", dof=5.0, garch_alpha=0.05,
                     garch_beta=0.9)
    assert np.array_equal(_paths(sc, 3), _paths(sc, 3))
    assert not np.array_equal(_paths(sc, 3), _paths(sc, 4))


def test_conservation_holds_with_the_model_on() -> None:
    sc = _correlated(0.9, steps=60, innovations="student_t", dof=4.0)
    ContagionModel(sc, seed=2, check_conservation=True).run()


@pytest.mark.parametrize(("pm", "match"), [
    (PriceModelParams(assets=("ETH", "BTC")), r"'price_model.assets\[1\]' = 'BTC'"),
    (PriceModelParams(assets=("USDC",)), r"'price_model.assets\[0\]' = 'USDC'"),
])
def test_scenario_cross_checks_name_the_asset(pm: PriceModelParams, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        dataclasses.replace(_default(), price_model=pm)


def test_a_path_without_noise_cannot_be_in_the_model() -> None:
    sc = _default()
    quiet = tuple(dataclasses.replace(p, vol_per_step=0.0) if p.asset == "LND" else p
                  for p in sc.paths)
    with pytest.raises(ParameterError, match=r"'price_model.assets\[1\]' = 'LND'"):
        dataclasses.replace(sc, paths=quiet,
                            price_model=PriceModelParams(assets=("ETH", "LND")))


def test_matrix_size_must_match_the_assets() -> None:
    with pytest.raises(ParameterError, match=r"'price_model.correlation' .* 3 rows of 3"):
        PriceModelParams(assets=("ETH", "LND", "EXT"), correlation=((1.0, 0.5), (0.5, 1.0)))
    with pytest.raises(ParameterError, match=r"'price_model.factor_loadings' .* not both"):
        PriceModelParams(assets=("ETH",), correlation=((1.0,),), factor_loadings=((0.5,),))


def test_the_model_round_trips_through_a_scenario_file() -> None:
    sc = _correlated(0.6, steps=40, innovations="student_t", dof=6.0, garch_alpha=0.05,
                     garch_beta=0.9)
    text = dumps(sc)
    assert "[price_model]" in text and "correlation = [[1.0, 0.6, 0.6]" in text
    assert loads(text) == sc
    bad = text.replace("correlation = [[1.0, 0.6, 0.6]", "correlation = [[1.0, 0.6, 0.7]")
    with pytest.raises(ScenarioFileError, match=r"price_model.correlation\[\d\]\[\d\]"):
        loads(bad, source="mine.toml")


# ---------------------------------------------------------------------- replay
def _replay(file: str, steps: int = 144, step_minutes: float = 5.0, column: str = "ETH",
            **kw: object) -> object:
    sc = _default(steps=steps)
    paths = tuple(PricePathParams(asset="ETH", kind="replay", file=file, column=column, **kw)
                  if p.asset == "ETH" else p for p in sc.paths)
    market = dataclasses.replace(sc.market, step_minutes=step_minutes)
    return dataclasses.replace(sc, paths=paths, market=market)


def test_the_sample_replays_rescaled_to_the_initial_price() -> None:
    sc = _replay(str(SAMPLE), step_minutes=60.0)
    path = _paths(sc)[1]
    raw = pd.read_csv(SAMPLE)["ETH"].to_numpy()
    eth0 = sc.asset("ETH").initial_price_usd
    np.testing.assert_allclose(path, eth0 * raw[:145] / raw[0], rtol=1e-15)
    model = ContagionModel(sc, seed=0, check_conservation=True)
    model.run()
    assert model.market.price[1] > 0


def test_replay_resamples_to_the_step_as_of() -> None:
    sc = _replay(str(SAMPLE), steps=30, step_minutes=90.0)
    raw = pd.read_csv(SAMPLE)["ETH"].to_numpy()
    rows = np.floor(np.arange(31) * 90 / 60).astype(int)  # the last (hourly) row at or before
    np.testing.assert_allclose(_paths(sc)[1], 2000.0 * raw[rows] / raw[0], rtol=1e-15)


def test_the_sample_is_june_2022_as_recorded() -> None:
    """The shipped sample is the recorded hourly history its README cites (Binance spot,
    ETH/USDT and BTC/USDT): every hour of June 2022, and the closes other records show."""
    frame = pd.read_csv(SAMPLE, index_col="timestamp")
    hours = pd.to_datetime(frame.index, utc=True)
    assert len(frame) == 720 and hours[0] == pd.Timestamp("2022-06-01T00:00Z")
    assert (np.diff(hours) == pd.Timedelta(hours=1)).all()  # no hour missing
    assert frame.loc["2022-06-13T23:00:00Z", "ETH"] == 1209.82  # the 13 June close
    assert frame.loc["2022-06-13T23:00:00Z", "BTC"] == 22487.41
    assert frame.loc["2022-06-18T23:00:00Z", "ETH"] == 995.13
    low = frame.idxmin()  # the lowest hourly closes: 18 June, 20:00 (intrabar lows went deeper)
    assert (low == "2022-06-18T20:00:00Z").all()
    assert frame["ETH"].min() == 904.25 and frame["BTC"].min() == 17809.0


def test_start_replays_from_a_recorded_time() -> None:
    sc = _replay(str(SAMPLE), steps=48, step_minutes=60.0, start="2022-06-12T00:00:00Z")
    raw = pd.read_csv(SAMPLE)["ETH"].to_numpy()
    at = 11 * 24  # 12 June, 00:00
    path = _paths(sc)[1]
    np.testing.assert_allclose(path, 2000.0 * raw[at:at + 49] / raw[at], rtol=1e-15)
    assert path[-1] / path[0] < 0.85  # the 13 June sell-off: ETH lost a fifth in two days
    # a start between records reads the price recorded before it (as-of, no look-ahead)
    off = _replay(str(SAMPLE), steps=48, step_minutes=60.0, start="2022-06-12T00:30:00")
    assert np.array_equal(_paths(off)[1][:-1], path[:-1])
    # round trip through a scenario file keeps it
    eth = next(p for p in loads(dumps(sc)).paths if p.asset == "ETH")
    assert eth.start == "2022-06-12T00:00:00Z"


@pytest.mark.parametrize(("start", "error", "match"), [
    ("12 June", ParameterError, r"'paths\[ETH\].start' = '12 June' is invalid: allowed an ISO"),
    ("2022-05-31T23:00:00Z", PriceFileError,
     r"start '2022-05-31T23:00:00Z' is before the first timestamp, 2022-06-01T00:00:00Z"),
    ("2022-06-29T00:00:00Z", PriceFileError,
     r"48 rows span 2,820 minutes from start '2022-06-29T00:00:00Z', 47 steps of 60 minutes "
     r"\(the last timestamp is 2022-06-30T23:00:00Z\); the run needs 144 steps"),
])
def test_a_bad_start_is_refused_naming_it(start: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _replay(str(SAMPLE), step_minutes=60.0, start=start)


def test_a_relative_file_resolves_against_the_scenario_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "h.csv").write_bytes(SAMPLE.read_bytes())
    text = dumps(_replay(str(SAMPLE))).replace(str(SAMPLE), "data/h.csv")
    (folder / "mine.toml").write_text(text)
    sc = load(folder / "mine.toml")
    eth = next(p for p in sc.paths if p.asset == "ETH")
    assert Path(str(eth.file)) == (folder / "data" / "h.csv").absolute()
    with pytest.raises(PriceFileError, match=r"data/h.csv: no such file"):
        loads(text)  # from text alone: relative to the working directory


def _write(tmp_path: Path, body: str, name: str = "h.csv") -> str:
    f = tmp_path / name
    f.write_text(body)
    return str(f)


GOOD_HEAD = "timestamp,ETH\n2022-06-13T00:00Z,100\n2022-06-13T00:05Z,99\n"


@pytest.mark.parametrize(("body", "kw", "match"), [
    (GOOD_HEAD, {"column": "BTC"}, r"column 'BTC': no such column; the file has: timestamp, ETH"),
    (GOOD_HEAD + "2022-06-13T00:10Z,abc\n", {}, r"row 3, column 'ETH': 'abc' is not a finite"),
    (GOOD_HEAD + "2022-06-13T00:10Z,-5\n", {}, r"row 3, column 'ETH': -5: a price must be pos"),
    (GOOD_HEAD + "2022-06-13T00:10Z,0\n", {}, r"row 3, column 'ETH': 0: a price must be pos"),
    (GOOD_HEAD + "2022-06-13T00:01Z,98\n", {},
     r"row 3, column 'timestamp': .* does not come after row 2's"),
    (GOOD_HEAD + "yesterday,98\n", {}, r"row 3, column 'timestamp': 'yesterday' is not a time"),
    (GOOD_HEAD, {}, r"2 rows span 5 minutes, 1 steps .* the run needs 2 steps"),
])
def test_bad_histories_are_refused_naming_file_row_and_column(tmp_path: Path, body: str,
                                                              kw: dict, match: str) -> None:
    f = _write(tmp_path, body)
    with pytest.raises(PriceFileError, match=match) as info:
        _replay(f, steps=2, **kw)
    assert str(info.value).startswith(f"price file {f}: ")


def test_a_missing_file_or_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match=r"nope.csv: no such file"):
        _replay(str(tmp_path / "nope.csv"))
    with pytest.raises(PriceFileError, match=r"unknown file type '.txt'"):
        _replay(_write(tmp_path, GOOD_HEAD, "h.txt"))


def test_a_replay_needs_its_file_and_column() -> None:
    with pytest.raises(ParameterError, match=r"'paths\[ETH\].file' = None"):
        PricePathParams(asset="ETH", kind="replay", column="ETH")
    with pytest.raises(ParameterError, match=r"'paths\[ETH\].column' = None"):
        PricePathParams(asset="ETH", kind="replay", file="x.csv")


def test_parquet_replays_like_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    pq = tmp_path / "h.parquet"
    frame.to_parquet(pq)
    assert np.array_equal(_paths(_replay(str(pq), steps=50, step_minutes=60.0)),
                          _paths(_replay(str(SAMPLE), steps=50, step_minutes=60.0)))


def test_an_uploaded_scenario_cannot_make_the_server_read_a_file() -> None:
    import base64

    from contagion.errors import ContagionError
    from dashboard.uploads import UploadDir, scenario_upload

    text = dumps(_replay(str(SAMPLE)))
    with pytest.raises(ScenarioFileError, match=r"'paths\[ETH\].file' names a file to read"):
        loads(text, allow_files=False)
    contents = "data:application/toml;base64," + base64.b64encode(text.encode()).decode()
    uploads = UploadDir()
    with pytest.raises(ContagionError, match=r"mine.toml: key 'paths\[ETH\].file'"):
        scenario_upload(contents, "mine.toml", uploads)
    assert not any(uploads.root.iterdir())  # nothing kept


def test_the_june_2022_example_replays_the_sell_off() -> None:
    """models/data/june_2022_replay.toml: the default world on the recorded hours from
    12 June 2022 (its file path is relative to the scenario file's folder)."""
    sc = load(SAMPLE.parent / "june_2022_replay.toml")
    eth = next(p for p in sc.paths if p.asset == "ETH")
    assert Path(str(eth.file)) == SAMPLE and eth.start == "2022-06-12T00:00:00Z"
    model = ContagionModel(sc, seed=0)
    model.run()
    frame = model.events_frame
    first = frame[frame["kind"] == "default"].groupby("agent")["step"].min()
    assert 12 <= first["AlphaFund"] <= 48  # 13 June, within the sell-off's hours
