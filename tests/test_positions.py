"""Positions files: every run exports its starting books; a file of the user's own books
replaces the random ones, exactly (byte-identical reruns), after every row is checked."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contagion import positions as positions_module
from contagion.cli import main
from contagion.errors import ContagionError, ParameterError, PositionsError
from contagion.mechanics.lending import close_factor, health_factor, liquidation_amounts
from contagion.model import ContagionModel
from contagion.positions import COLUMNS, KINDS, check_positions, read_positions
from contagion.runner import simulate
from contagion.scenario import override
from models import SCENARIOS, get_scenario

SMALL = 300


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _read_back(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(_parquet(frame)))


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("preset", SCENARIOS)
def test_every_preset_reruns_byte_for_byte_from_its_exported_positions(preset: str) -> None:
    scenario = get_scenario(preset, n_traders=SMALL)
    first = simulate(scenario, seed=5)
    exported = first.positions
    assert list(exported.columns) == list(COLUMNS)
    again = simulate(scenario, seed=5, positions=_read_back(exported))
    assert _parquet(again.events) == _parquet(first.events)
    assert _parquet(again.series.reset_index()) == _parquet(first.series.reset_index())
    assert _parquet(again.venues) == _parquet(first.venues)
    assert _parquet(again.positions) == _parquet(exported)


def test_the_export_has_the_documented_types_and_is_deterministic() -> None:
    scenario = get_scenario("default", n_traders=SMALL)
    a = ContagionModel(scenario, seed=3).positions_frame()
    b = ContagionModel(scenario, seed=3).positions_frame()
    assert _parquet(a) == _parquet(b)
    assert _parquet(a) != _parquet(ContagionModel(scenario, seed=4).positions_frame())
    back = _read_back(a)
    assert back["account"].dtype == np.int64
    assert back["amount"].dtype == np.float64 and back["entry_price"].dtype == np.float64
    assert back["cross_margined"].dtype == bool and back["tops_up"].dtype == bool
    for col in ("venue", "kind", "asset"):
        assert pd.api.types.is_string_dtype(back[col])
    assert set(a["kind"]) == set(KINDS) - {"option"}  # the default lists no options
    perp = a["kind"] == "perp"
    assert (a.loc[perp, "entry_price"] > 0).all() and a.loc[~perp, "entry_price"].isna().all()
    assert a.loc[a["kind"] != "deposit", "run_threshold"].isna().all()
    assert not a.loc[a["kind"] != "wallet", "tops_up"].any()
    assert not a.loc[a["kind"] != "perp", "cross_margined"].any()
    # every trader has a wallet row; the firm (id n) and the outside world (-1) keep their ids
    assert (a.loc[a["kind"] == "wallet", "account"].to_numpy() == np.arange(SMALL)).all()
    assert set(a.loc[a["account"] == SMALL, "venue"]) == {"LendB"}
    assert set(a.loc[a["account"] == -1, "venue"]) == {"PerpX"}
    # rows go venue by venue in the scenario's order, by account within a venue
    order = {v: i for i, v in enumerate(["LendA", "LendB", "PerpX", "CEX", "wallet"])}
    key = a["venue"].map(order).to_numpy() * 10**6 + a["account"].to_numpy()
    assert (np.diff(key) >= 0).all()
    # custodial deposits total the scenario's deposits_usd; perp sizes net to zero
    assert a.loc[a["kind"] == "deposit", "amount"].sum() == pytest.approx(2e8, abs=1e-3)
    assert abs(a.loc[perp, "amount"].sum()) < 1e-9 * a.loc[perp, "amount"].abs().sum()


def test_what_the_file_leaves_out_the_scenario_draws_as_before() -> None:
    # without the outside world's rows and the optional policy columns the engine sets the
    # market makers and draws the policies exactly as it did: the run is unchanged
    scenario = get_scenario("default", n_traders=SMALL)
    first = simulate(scenario, seed=2)
    slim = first.positions
    slim = slim[slim["account"] != -1].drop(columns=["cross_margined", "tops_up"])
    again = simulate(scenario, seed=2, positions=slim)
    assert _parquet(again.events) == _parquet(first.events)


def test_the_cli_reruns_a_run_from_its_positions_file(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    base = ["run", "--set", "n_traders=300", "--seed", "7"]
    assert main([*base, "--out", str(a)]) == 0
    assert (a / "positions.parquet").stat().st_size > 0
    assert main([*base, "--out", str(b), "--positions", str(a / "positions.parquet")]) == 0
    assert (a / "events.parquet").read_bytes() == (b / "events.parquet").read_bytes()
    assert (a / "positions.parquet").read_bytes() == (b / "positions.parquet").read_bytes()
    # the same books as CSV (pandas writes floats so that they read back exactly)
    csv = tmp_path / "books.csv"
    pd.read_parquet(a / "positions.parquet").to_csv(csv, index=False)
    assert main([*base, "--out", str(c), "--positions", str(csv)]) == 0
    assert (a / "events.parquet").read_bytes() == (c / "events.parquet").read_bytes()


# ----------------------------------------------------------------------------- bad rows
N_BAD = 3000  # a market big enough to have 200 traders that hold nothing but a wallet


def _bad_rows(base: pd.DataFrame, rng: np.random.Generator
              ) -> tuple[pd.DataFrame, set[tuple[int, str]], list[str]]:
    """The base books (as text) with 200 bad rows of 20 kinds mixed in; the expected
    (row, column) of each problem and the kinds' names."""
    held = base.loc[base["kind"] != "wallet", "account"].unique()
    free = iter(rng.permutation(np.setdiff1d(np.arange(N_BAD), held)).tolist())
    firm = N_BAD  # AlphaFund's id

    def row(venue: str, kind: str, asset: str, amount: str, entry: str = "",
            account: str | None = None) -> dict[str, str]:
        return {"account": str(next(free)) if account is None else account, "venue": venue,
                "kind": kind, "asset": asset, "amount": amount, "entry_price": entry}

    kinds: dict[str, tuple[str, Callable[[int], dict[str, str]] | None]] = {
        "unknown venue": ("venue", lambda i: row("LendZ", "collateral", "ETH", "1")),
        "unknown kind": ("kind", lambda i: row("LendA", "loan", "USDC", "1")),
        "asset not accepted at the venue": ("asset", lambda i: row("LendA", "collateral", "EXT", "1")),
        "unknown asset": ("asset", lambda i: row("LendB", "collateral", "DOGE", "1")),
        "negative collateral": ("amount", lambda i: row("LendA", "collateral", "ETH", "-1")),
        "negative deposit": ("amount", lambda i: row("CEX", "deposit", "USDC", "-5")),
        "negative debt": ("amount", lambda i: row("LendB", "debt", "USDC", "-3")),
        "non-numeric amount": ("amount", lambda i: row("LendA", "collateral", "ETH", "1,5")),
        "NaN amount": ("amount", lambda i: row("LendA", "debt", "USDC", "NaN")),
        "non-integer account": ("account", lambda i: row("LendA", "debt", "USDC", "1",
                                                         account=f"acct{i}")),
        "fractional account": ("account", lambda i: row("LendA", "debt", "USDC", "1",
                                                        account=f"{i}.5")),
        "account out of range": ("account", lambda i: row("LendA", "debt", "USDC", "1",
                                                          account=str(N_BAD + 10 + i))),
        "perp without entry price": ("entry_price", lambda i: row("PerpX", "perp", "ETH", "2")),
        "perp entry price <= 0": ("entry_price", lambda i: row("PerpX", "perp", "ETH", "2", "0")),
        "entry price on a non-perp row": ("entry_price",
                                          lambda i: row("LendA", "collateral", "ETH", "1", "2000")),
        "perp row at a lending venue": ("kind", lambda i: row("LendA", "perp", "ETH", "1", "2000")),
        "debt in another asset": ("asset", lambda i: row("LendB", "debt", "ETH", "1")),
        "perp in another asset": ("asset", lambda i: row("PerpX", "perp", "EXT", "1", "20")),
        "firm or outside world where it holds nothing": ("account", lambda i: misplaced[i]),
        "duplicate row": ("account", None),
    }
    # the firm (id N_BAD) holds only collateral and debt at LendB, the outside world (-1)
    # only at PerpX: ten rows with distinct keys elsewhere
    misplaced = [
        row(v, k, a, "1", "2000" if k == "perp" else "", account=acct)
        for acct, v, k, a in [(str(firm), "LendA", "collateral", "ETH"),
                              (str(firm), "LendA", "debt", "USDC"),
                              (str(firm), "PerpX", "collateral", "USDC"),
                              (str(firm), "PerpX", "perp", "ETH"),
                              (str(firm), "CEX", "deposit", "USDC"),
                              (str(firm), "wallet", "wallet", "USDC"),
                              ("-1", "LendA", "collateral", "ETH"),
                              ("-1", "LendB", "debt", "USDC"),
                              ("-1", "CEX", "deposit", "USDC"),
                              ("-1", "LendB", "collateral", "EXT")]]
    extra: list[tuple[dict[str, str], str, str]] = []  # (row, column, kind)
    dup_sources = rng.choice(np.flatnonzero((base["kind"] == "collateral").to_numpy()), 10,
                             replace=False)
    text = base.astype(str).replace({"nan": ""})
    for name, (column, make) in kinds.items():
        for i in range(10):
            if make is None:
                r = text.iloc[int(dup_sources[i])][["account", "venue", "kind", "asset", "amount",
                                                    "entry_price"]].to_dict()
            else:
                r = make(i)
            extra.append((r, column, name))
    assert len(extra) == 200, len(extra)

    frame = text[["account", "venue", "kind", "asset", "amount", "entry_price"]].copy()
    slots = np.sort(rng.choice(len(frame) + len(extra), len(extra), replace=False))
    rows_out: list[dict[str, str]] = frame.to_dict("records")
    is_bad = np.zeros(len(frame) + len(extra), dtype=bool)
    is_bad[slots] = True
    merged: list[dict[str, str]] = []
    base_iter, bad_iter = iter(rows_out), iter(extra)
    expected: set[tuple[int, str]] = set()
    placed: list[tuple[int, dict[str, str], str, str]] = []
    for pos, bad in enumerate(is_bad):
        if bad:
            r, column, name = next(bad_iter)
            placed.append((pos, r, column, name))
            merged.append(r)
        else:
            merged.append(next(base_iter))
    out = pd.DataFrame(merged, columns=["account", "venue", "kind", "asset", "amount",
                                        "entry_price"])
    keys = out["account"] + "|" + out["venue"] + "|" + out["kind"] + "|" + out["asset"]
    for pos, _r, column, name in placed:
        if name == "duplicate row":  # the later of the two copies is the one reported
            same = np.flatnonzero((keys == keys.iloc[pos]).to_numpy())
            expected.add((int(same.max()) + 1, column))
        else:
            expected.add((pos + 1, column))
    return out, expected, list(kinds)


@pytest.fixture(scope="module")
def bad_file() -> tuple[pd.DataFrame, set[tuple[int, str]], list[str]]:
    base = ContagionModel(get_scenario("default", n_traders=N_BAD), seed=0).positions_frame()
    return _bad_rows(base, np.random.default_rng(9))


def test_200_bad_rows_of_20_kinds_are_each_reported_with_row_and_column(bad_file) -> None:
    frame, expected, kinds = bad_file
    assert len(kinds) == 20 and len(expected) == 200
    with pytest.raises(PositionsError) as info:
        check_positions(frame, get_scenario("default", n_traders=N_BAD))
    err = info.value
    assert isinstance(err, ContagionError)
    assert err.total == 200
    assert {(r, c) for r, c, _ in err.problems} == expected
    rows = [r for r, _, _ in err.problems]
    assert rows == sorted(rows)
    text = str(err)
    assert "200 problems (the first 50 shown); nothing was run" in text
    assert "... and 150 more" in text
    assert "allowed: LendA, LendB, PerpX, CEX, wallet" in text  # the scenario's venues
    assert f"--set n_traders={N_BAD + 20}" in text  # accounts beyond the scenario's traders


def test_the_cli_rejects_the_bad_file_whole_and_writes_nothing(bad_file, tmp_path: Path,
                                                               capsys) -> None:
    frame, expected, _ = bad_file
    path = tmp_path / "books.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["run", "--set", f"n_traders={N_BAD}", "--positions", str(path),
                 "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    shown = [line for line in err.splitlines() if line.startswith("  row ")]
    assert len(shown) == 50
    first = sorted(expected)[:50]
    assert [(int(line.split()[1].rstrip(",")), line.split()[3].rstrip(":")) for line in shown] \
        == first
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["books.csv"]


def _good_rows() -> list[dict[str, object]]:
    return [
        {"account": 0, "venue": "LendA", "kind": "collateral", "asset": "ETH", "amount": 10.0},
        {"account": 0, "venue": "LendA", "kind": "debt", "asset": "USDC", "amount": 5000.0},
        {"account": 1, "venue": "PerpX", "kind": "perp", "asset": "ETH", "amount": 1.0,
         "entry_price": 2000.0},
        {"account": 2, "venue": "CEX", "kind": "deposit", "asset": "USDC", "amount": 2e8},
        {"account": 3, "venue": "wallet", "kind": "wallet", "asset": "USDC", "amount": 10.0},
    ]


@pytest.mark.parametrize(("change", "column", "says"), [
    ({"account": -1}, "account", "the outside world"),
    ({"account": 10}, "account", "firm AlphaFund's id"),
    ({"cross_margined": "true"}, "cross_margined", "only perp rows are cross-margined"),
    ({"tops_up": "sometimes"}, "tops_up", "true, false or empty"),
    ({"tops_up": True}, "tops_up", "set on wallet rows"),
    ({"run_threshold": 0.5}, "run_threshold", "only deposit rows"),
    ({"amount": "inf"}, "amount", "a finite number"),
    ({"venue": "wallet", "kind": "collateral"}, "kind", "not held at wallet rows"),
    ({"venue": ""}, "venue", "empty; allowed: LendA"),
    ({"account": ""}, "account", "empty"),
])
def test_each_check_names_its_column(change: dict, column: str, says: str) -> None:
    rows = _good_rows()
    rows[0] = {**rows[0], **change}
    with pytest.raises(PositionsError) as info:
        check_positions(pd.DataFrame(rows), get_scenario("default", n_traders=10))
    assert [(r, c) for r, c, _ in info.value.problems][:1] == [(1, column)]
    assert says in info.value.problems[0][2]


def test_file_level_checks(tmp_path: Path, monkeypatch) -> None:
    sc = get_scenario("default", n_traders=10)

    def problem(path: Path) -> str:
        with pytest.raises(PositionsError) as info:
            check_positions(read_positions(path), sc)
        return str(info.value)

    (tmp_path / "empty.csv").write_bytes(b"")
    assert "the file is empty" in problem(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("account,venue,kind,asset,amount\n")
    assert "a header but no positions" in problem(tmp_path / "header.csv")
    (tmp_path / "latin.csv").write_bytes(
        "account,venue,kind,asset,amount\n1,LendA,collateral,ETH,1\n2,Caf\xe9,debt,USDC,1\n"
        .encode("latin-1"))
    assert "not UTF-8" in problem(tmp_path / "latin.csv")
    (tmp_path / "books.xlsx").write_bytes(b"PK")
    assert "a positions file is .csv (UTF-8) or .parquet" in problem(tmp_path / "books.xlsx")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    assert "not a readable Parquet file" in problem(tmp_path / "bad.parquet")
    assert "no such file" in problem(tmp_path / "missing.csv")
    (tmp_path / "cols.csv").write_text("account,venue,kind,assets,amount\n1,LendA,debt,USDC,1\n")
    text = problem(tmp_path / "cols.csv")
    assert "column asset: missing column" in text and "column assets: unknown column" in text
    big = tmp_path / "big.csv"
    big.write_text("account,venue,kind,asset,amount\n" + "1,LendA,debt,USDC,1\n" * 100)
    monkeypatch.setattr(positions_module, "MAX_FILE_BYTES", 1000)
    assert "at most" in problem(big)


def test_rows_are_counted_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    # a byte-order mark, a blank line and a bad row after it: the row keeps its number
    path = tmp_path / "books.csv"
    path.write_text("\ufeffaccount,venue,kind,asset,amount\n0,LendA,debt,USDC,1\n\n"
                    "1,LendA,debt,USDC,-1\n", encoding="utf-8")
    with pytest.raises(PositionsError) as info:
        check_positions(read_positions(path), get_scenario("default", n_traders=10))
    assert info.value.problems[0][:2] == (3, "amount")


# ----------------------------------------------------------------------------- balance sheets
def test_deposits_must_match_the_exchanges_balance_sheet() -> None:
    rows = _good_rows()
    rows[3] = {**rows[3], "amount": 1.8e8}
    sc = get_scenario("default", n_traders=10)
    with pytest.raises(PositionsError) as info:
        check_positions(pd.DataFrame(rows), sc)
    assert "--set custodial.CEX.deposits_usd=180000000.00" in str(info.value)
    model = ContagionModel(override(sc, "custodial.CEX.deposits_usd", "1.8e8"), seed=0,
                           positions=pd.DataFrame(rows))
    assert model.custodial[0].deposits_usd() == 1.8e8


def test_imported_debt_beyond_what_suppliers_fund_is_a_parameter_error() -> None:
    rows = _good_rows()
    rows[1] = {**rows[1], "amount": 5e8}
    with pytest.raises(ParameterError, match="retail_supply_usd"):
        ContagionModel(get_scenario("default", n_traders=10), seed=0, positions=pd.DataFrame(rows))


def test_the_venues_balance_sheets_are_built_from_the_file() -> None:
    sc = get_scenario("default", n_traders=10)
    model = ContagionModel(sc, seed=0, positions=pd.DataFrame(_good_rows()))
    lend_a = model.lending[0]
    supplied = sum(lend_a.supply_nominal.values())
    assert lend_a.cash_usd == supplied + sc.lending[0].reserve_usd - 5000.0
    assert lend_a.equity_usd() == pytest.approx(sc.lending[0].reserve_usd)
    perp = model.perps[0]
    b = perp.book
    # size and entry are (accounts, markets); PerpX lists one market
    assert b.owner.tolist() == [-1, 1] and b.size[:, 0].tolist() == [-1.0, 1.0]
    assert b.entry[:, 0].tolist() == [2000.0, 2000.0] and b.collateral[1] == 0.0
    assert perp.holdings()[model.market.numeraire] == pytest.approx(
        float(np.sum(b.collateral - b.size[:, 0] * b.entry[:, 0])))
    # the firm kept the account its scenario gives it
    lend_b = model.lending[1]
    assert lend_b.book.owner.tolist() == [10]
    assert model.population.wallet_usd.tolist() == [0, 0, 0, 10.0, 0, 0, 0, 0, 0, 0]


# ----------------------------------------------------------------------------- own accounts
MINE = """account,venue,kind,asset,amount,entry_price,cross_margined,tops_up
0,LendA,collateral,ETH,100,,,
0,LendA,debt,USDC,150000,,,
1,LendB,collateral,ETH,20,,,
1,LendB,collateral,EXT,3000,,,
1,LendB,debt,USDC,55000,,,
2,LendA,collateral,ETH,100,,,
2,LendA,debt,USDC,50000,,,
3,PerpX,collateral,USDC,2000,,,
3,PerpX,perp,ETH,10,2000,false,
4,PerpX,collateral,USDC,5000,,,
4,PerpX,perp,ETH,-5,2000,false,
5,CEX,deposit,USDC,150000000,,,
6,CEX,deposit,USDC,50000000,,,
0,wallet,wallet,USDC,1000,,,false
1,wallet,wallet,USDC,1000,,,false
2,wallet,wallet,USDC,1000,,,false
3,wallet,wallet,USDC,1000,,,false
4,wallet,wallet,USDC,1000,,,false
"""


@pytest.fixture(scope="module")
def mine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mine") / "mine.csv"
    path.write_text(MINE)
    return path


def test_a_hand_written_file_runs_and_its_accounts_are_liquidated(mine: Path) -> None:
    r = simulate(get_scenario("default", n_traders=10), seed=0, positions=mine,
                 check_conservation=True)
    liq = r.events[r.events["kind"].isin(["liquidation", "perp_liquidation"])]
    hit = set(liq["account"].astype(int))
    assert {0, 1, 3} <= hit <= {0, 1, 3, 10}  # 10 is the firm, kept from the scenario
    assert set(liq.loc[liq["account"] == 1, "venue"]) == {"LendB"}
    assert set(liq.loc[liq["account"] == 3, "kind"]) == {"perp_liquidation"}
    # the file's books are what the run started from
    start = r.positions
    assert start[(start["account"] == 1) & (start["venue"] == "LendB")]["amount"].tolist() == [
        20.0, 3000.0, 55000.0]


def test_a_multi_collateral_account_is_liquidated_with_the_seized_assets_terms(mine: Path) -> None:
    sc = get_scenario("default", n_traders=10)
    model = ContagionModel(sc, seed=0, positions=mine)
    lend_b = model.lending[1]
    p = sc.lending[1]
    row = int(np.flatnonzero(lend_b.book.owner == 1)[0])
    assert lend_b.book.collateral[row].tolist() == [20.0, 3000.0, 0.0]
    checked = 0
    while model.steps < sc.market.steps and checked < 3:
        coll, debt = lend_b.book.collateral[row].copy(), float(lend_b.book.debt[row])
        model.step()
        ev = model.events_frame
        hits = ev[(ev["kind"] == "liquidation") & (ev["step"] == model.steps)
                  & (ev["venue"] == "LendB") & (ev["account"] == 1)]
        if hits.empty:
            continue
        prices = lend_b.prices()  # the oracle prices of the step
        hf = float(health_factor(coll @ (prices * lend_b.lt), 1.0, debt))
        assert hf < 1.0
        j = int(np.argmax(coll * prices))  # the largest collateral is seized
        cf = close_factor(hf, p.close_factor, p.full_close_below_hf)
        bonus = p.collateral[j].liquidation_bonus
        want = liquidation_amounts(debt, coll[j], prices[j], bonus, cf, p.protocol_fee_frac)
        got = hits.iloc[0]
        assert got["asset"] == p.collateral[j].asset
        assert got["bonus_frac"] == bonus
        assert got["debt_repaid_usd"] == pytest.approx(float(want.debt_repaid_usd), rel=1e-12)
        assert got["collateral_seized_units"] == pytest.approx(
            float(want.collateral_seized_units), rel=1e-12)
        # the other collateral asset is untouched
        other = [x for x in range(3) if x != j]
        assert lend_b.book.collateral[row, other].tolist() == coll[other].tolist()
        checked += 1
    assert checked >= 1


# ----------------------------------------------------------------------------- properties
books = st.lists(st.tuples(
    st.integers(0, 19),
    st.sampled_from([("LendA", "collateral", "ETH"), ("LendA", "debt", "USDC"),
                     ("LendB", "collateral", "ETH"), ("LendB", "collateral", "EXT"),
                     ("LendB", "collateral", "LND"), ("LendB", "debt", "USDC"),
                     ("PerpX", "collateral", "USDC"), ("PerpX", "perp", "ETH"),
                     ("wallet", "wallet", "USDC")]),
    st.floats(0.0, 1e4, allow_nan=False, allow_subnormal=False), st.booleans()), max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=books, split=st.floats(0.0, 1.0))
def test_the_model_starts_from_exactly_the_rows_it_was_given(rows: list, split: float) -> None:
    table = [{"account": a, "venue": v, "kind": k, "asset": s,
              "amount": x * (-1 if flip and k == "perp" else 1),
              "entry_price": 1900.0 + x / 100 if k == "perp" else np.nan}
             for a, (v, k, s), x, flip in rows]
    table += [{"account": 0, "venue": "CEX", "kind": "deposit", "asset": "USDC",
               "amount": 2e8 * split, "entry_price": np.nan},
              {"account": 1, "venue": "CEX", "kind": "deposit", "asset": "USDC",
               "amount": 2e8 - 2e8 * split, "entry_price": np.nan}]
    frame = pd.DataFrame(table).drop_duplicates(["account", "venue", "kind", "asset"])
    model = ContagionModel(get_scenario("default", n_traders=20), seed=1, positions=frame)
    out = model.positions_frame().set_index(["account", "venue", "kind", "asset"])
    for r in frame.itertuples(index=False):
        key = (r.account, r.venue, r.kind, r.asset)
        if r.kind == "collateral" and r.venue != "PerpX" and r.amount == 0:
            assert key not in out.index  # zero lending collateral is not written
            continue
        assert out.loc[key, "amount"] == r.amount
        if r.kind == "perp":
            assert out.loc[key, "entry_price"] == r.entry_price
    # and reading the export back is a fixed point
    again = ContagionModel(get_scenario("default", n_traders=20), seed=1,
                           positions=model.positions_frame()).positions_frame()
    assert _parquet(again) == _parquet(model.positions_frame())


def test_option_positions_round_trip_and_rerun_exactly() -> None:
    """Option positions are rows of kind ``option`` named by series (ASSET-<days>D-<strike>-
    C|P): a run of the options example reruns byte for byte from its export, and the rows
    carry each position's size and premium."""
    from contagion.positions import option_labels
    from contagion.scenario_file import load

    scenario = load(Path(__file__).resolve().parent / "data" / "options_pm_run.toml")
    first = simulate(scenario, seed=2)
    exported = first.positions
    opt = exported[exported["kind"] == "option"]
    labels = option_labels(scenario, scenario.perps[0])
    assert labels == ["ETH-1D-1900-P", "ETH-7D-2000-C", "ETH-7D-2000-P"]
    assert set(opt["asset"]) <= set(labels) and len(opt) > 10
    assert (opt["amount"] != 0).all() and (opt["entry_price"] > 0).all()
    nets = opt.groupby("asset")["amount"].sum()  # the outside world's row nets each series
    assert np.allclose(nets.to_numpy(), 0.0, atol=1e-9 * opt["amount"].abs().max())
    again = simulate(scenario, seed=2, positions=_read_back(exported))
    assert _parquet(again.events) == _parquet(first.events)
    assert _parquet(again.series.reset_index()) == _parquet(first.series.reset_index())
    assert _parquet(again.positions) == _parquet(exported)


def test_a_users_option_rows_are_checked() -> None:
    """An option row names a listed series, carries its premium, and an explicit outside
    row must net the series to zero; each problem names its row and column."""
    from contagion.scenario_file import load

    scenario = load(Path(__file__).resolve().parent / "data" / "options_pm_run.toml")
    frame = pd.DataFrame({
        "account": [0, 0, 1, 1, 2, -1],
        "venue": ["OptX"] * 6,
        "kind": ["collateral", "option", "collateral", "option", "option", "option"],
        "asset": ["USDC", "ETH-7D-2100-C", "USDC", "ETH-7D-2000-P", "ETH-7D-2000-C",
                  "ETH-7D-2000-C"],
        "amount": [1e4, 1.0, 1e4, -2.0, 3.0, -2.0],
        "entry_price": [None, 90.0, None, None, 95.0, 95.0],
    })
    with pytest.raises(PositionsError) as err:
        check_positions(frame, scenario)
    text = str(err.value)
    assert "row 2, column asset: 'ETH-7D-2100-C' is not an option series of OptX" in text
    assert "ETH-1D-1900-P, ETH-7D-2000-C, ETH-7D-2000-P" in text
    assert "row 4, column entry_price: empty: an option row needs its entry price (the premium " \
           "paid per unit)" in text
    fixed = frame.assign(asset=frame["asset"].replace("ETH-7D-2100-C", "ETH-7D-2000-C"),
                         entry_price=frame["entry_price"].fillna({3: 80.0}))
    fixed = fixed.drop(index=1)  # account 0 holds margin only
    with pytest.raises(PositionsError) as err:  # the row checks pass, the series totals do not
        check_positions(fixed, scenario)
    assert ("row 5, column amount: the outside world's size at OptX's ETH-7D-2000-C options "
            "must net the traders' positions to zero: -3.0") in str(err.value)
    ok = fixed.assign(amount=fixed["amount"].where(fixed.index != 5, -3.0))
    pos = check_positions(ok, scenario)
    book = pos.perp_book(0, np.array([2000.0]), np.zeros(200, dtype=bool))
    assert book.opt_size[:, 2].tolist() == [2.0, 0.0, -2.0, 0.0]  # the engine nets the put
    assert book.opt_size[:, 1].tolist() == [-3.0, 0.0, 0.0, 3.0]  # the file's outside row
