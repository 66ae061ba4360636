"""Tests of contagion.report: a small simulated sweep written in the sweep's layout, and
the report's tables, figures, index, errors and command."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.metrics import run_record
from contagion.report import _replace_into, read_sweep_results, report_command, write_report
from contagion.runner import simulate
from models import get_scenario

GRID = {"mean_leverage": [2.0, 8.0], "shock_frac": [0.45, 0.6]}
REPLICATIONS = 3
TABLES = ["run_metrics", "venue_credit_risk", "venue_credit_risk_by_point", "loss_measures",
          "loss_measures_by_point", "cascade_probability", "exposure_profiles",
          "expected_positive_exposure"]
FIGURES = ["cascade_probability", "exposure_profiles", "loss_distributions", "venue_pd"]


def trace_types(page: str) -> list[str]:
    """Types of the traces a Plotly HTML page plots (the data argument of newPlot)."""
    start = page.index("Plotly.newPlot(")
    data_at = page.index("[", page.index(",", start))
    data, _ = json.JSONDecoder().raw_decode(page[data_at:])
    return [trace.get("type", "scatter") for trace in data]


def write_manifest(out: Path, swept: dict[str, list[object]]) -> None:
    spec = {"sweep": {"name": "t", "scenario": "default"}, "swept": swept}
    (out / "manifest.json").write_text(json.dumps({"spec": spec, "runs": []}))


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 grid x 3 replications (seeds 0..11) of the default scenario, plus one failed
    run, written as the sweep writes it: parts/, profiles/, manifest.json."""
    out = tmp_path_factory.mktemp("sweep")
    (out / "parts").mkdir()
    (out / "profiles").mkdir()
    seed = 0
    for point, (lev, shock) in enumerate(itertools.product(*GRID.values())):
        rows, profiles = [], []
        for rep in range(REPLICATIONS):
            run_id = f"p{point:05d}-r{rep:03d}"
            start = time.perf_counter()
            r = simulate(get_scenario("default", n_traders=150, steps=40, mean_leverage=lev,
                                      shock_frac=shock), seed=seed)
            rows.append({"run_id": run_id, "point": point, "replication": rep, "seed": seed,
                         "mean_leverage": lev, "shock_frac": shock, "status": "ok", "error": "",
                         "elapsed_s": time.perf_counter() - start,
                         **run_record(r.events, r.series, r.venues)})
            profiles.append(r.exposures.groupby(["step", "holder", "counterparty"],
                                                as_index=False)["exposure_usd"].sum()
                            .assign(run_id=run_id, point=point))
            seed += 1
        pd.DataFrame(rows).to_parquet(out / "parts" / f"part-{point:05d}.parquet", index=False)
        pd.concat(profiles).to_parquet(out / "profiles" / f"part-{point:05d}.parquet",
                                       index=False)
    failed = {"run_id": "p00000-r003", "point": 0, "replication": 3, "seed": 99,
              "mean_leverage": 2.0, "shock_frac": 0.45, "status": "failed",
              "error": "InvariantError: books do not balance", "elapsed_s": 0.1}
    # named as the sweep names parts (by run id), it is read first: its schema lacks the
    # measures, so the parts' schemas must be unified, not taken from the first file
    pd.DataFrame([failed]).to_parquet(out / "parts" / "p00000-r003.parquet", index=False)
    assert sorted(p.name for p in (out / "parts").iterdir())[0] == "p00000-r003.parquet"
    write_manifest(out, GRID)
    return out


@pytest.fixture(scope="module")
def report_dir(sweep_dir: Path) -> Path:
    return write_report(sweep_dir)


def synthetic_sweep(out: Path, swept: dict[str, list[object]] | None, *, n: int = 40,
                    profiles: bool = False, seed: int = 0) -> Path:
    """A cheap sweep directory with made-up measures (no simulation)."""
    rng = np.random.default_rng(seed)
    (out / "parts").mkdir(parents=True)
    rows = []
    for i in range(n):
        row = {"run_id": f"p{i:05d}-r000", "point": i, "replication": 0, "seed": i,
               "status": "ok", "error": "", "elapsed_s": 0.1,
               "cross_venue": int(rng.random() < 0.3), "defaults": int(rng.integers(0, 3)),
               "bad_debt_usd": float(rng.exponential(1e6)), "insolvent_debt_usd": 0.0,
               "liquidation_volume_usd": float(rng.exponential(1e7)),
               "defaulted__Fund": int(rng.random() < 0.5), "ead__Fund": 1e7,
               "lgd__Fund": 0.4, "kind__Fund": "firm"}
        for key, values in (swept or {}).items():
            row[key] = values[i % len(values)]
        rows.append(row)
    pd.DataFrame(rows).to_parquet(out / "parts" / "part-00000.parquet", index=False)
    if profiles:
        (out / "profiles").mkdir()
        prof = pd.DataFrame({"run_id": np.repeat([r["run_id"] for r in rows], 3),
                             "point": np.repeat(range(n), 3), "step": np.tile([0, 1, 2], n),
                             "holder": "CEX", "counterparty": "Fund",
                             "exposure_usd": rng.exponential(1e6, 3 * n)})
        prof.to_parquet(out / "profiles" / "part-00000.parquet", index=False)
    if swept is not None:
        write_manifest(out, swept)
    return out


# --- the report of a simulated sweep ---------------------------------------------------


def test_write_report_writes_every_table_and_figure(report_dir: Path, sweep_dir: Path) -> None:
    assert report_dir == sweep_dir / "report"
    for name in TABLES:
        csv = pd.read_csv(report_dir / f"{name}.csv")
        parquet = pd.read_parquet(report_dir / f"{name}.parquet")
        assert len(csv) == len(parquet) > 0, name
    for name in FIGURES:
        page = (report_dir / f"{name}.html").read_text()
        assert "plotly" in page and "Plotly.newPlot" in page
        assert "<script src=" not in page  # plotly.js inlined: opens offline
    assert (report_dir / "index.html").is_file() and (report_dir / "summary.json").is_file()
    assert not list(report_dir.glob(".*"))  # no temporary file left behind


def test_report_figures_name_the_swept_parameters(report_dir: Path) -> None:
    heatmap = (report_dir / "cascade_probability.html").read_text()
    assert "mean_leverage" in heatmap and "shock_frac" in heatmap
    assert trace_types(heatmap) == ["heatmap"]
    pd_page = (report_dir / "venue_pd.html").read_text()
    assert "mean_leverage=2" in pd_page and "AlphaFund" in pd_page
    index = (report_dir / "index.html").read_text()
    assert "mean_leverage" in index and "shock_frac" in index
    for name in FIGURES:
        assert f"href='{name}.html'" in index


def test_heatmap_cells_show_p_and_the_wilson_interval(report_dir: Path) -> None:
    table = pd.read_csv(report_dir / "cascade_probability.csv")
    assert table[["mean_leverage", "shock_frac"]].values.tolist() == [
        [2.0, 0.45], [2.0, 0.6], [8.0, 0.45], [8.0, 0.6]]
    assert (table["runs"] == REPLICATIONS).all()
    heatmap = (report_dir / "cascade_probability.html").read_text()
    for _, r in table.iterrows():
        assert f"{r['p']:.2f} [{r['low']:.2f}, {r['high']:.2f}]" in heatmap
    assert "95% CI" in heatmap


def test_report_excludes_failed_runs_from_statistics_but_counts_them(report_dir: Path) -> None:
    runs = pd.read_csv(report_dir / "run_metrics.csv")
    assert len(runs) == 4 * REPLICATIONS + 1
    assert (runs["status"] == "failed").sum() == 1
    credit = pd.read_csv(report_dir / "venue_credit_risk.csv")
    assert (credit["runs"] == 4 * REPLICATIONS).all()
    assert set(credit["venue"]) == {"LendA", "LendB", "PerpX", "CEX", "AlphaFund"}
    losses = pd.read_csv(report_dir / "loss_measures.csv")
    assert (losses["runs"] == 4 * REPLICATIONS).all()
    summary = json.loads((report_dir / "summary.json").read_text())
    assert (summary["runs"], summary["ok"], summary["failed"]) == (13, 12, 1)
    index = (report_dir / "index.html").read_text()
    assert "1 failed" in index and "p00000-r003" in index and "books do not balance" in index


def test_report_tables_agree_with_the_runs(report_dir: Path) -> None:
    runs = pd.read_csv(report_dir / "run_metrics.csv")
    ok = runs[runs["status"] == "ok"]
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["cascade"]["successes"] == int(ok["cross_venue"].sum())
    credit = pd.read_csv(report_dir / "venue_credit_risk.csv").set_index("venue")
    assert credit.loc["AlphaFund", "defaults"] == int(ok["defaulted__AlphaFund"].sum())
    by_point = pd.read_csv(report_dir / "venue_credit_risk_by_point.csv")
    assert len(by_point) == 4 * 5 and (by_point["runs"] == REPLICATIONS).all()
    profiles = pd.read_csv(report_dir / "exposure_profiles.csv")
    assert (profiles["runs"] == 4 * REPLICATIONS).all()
    assert (profiles["pfe99_usd"] >= profiles["pfe95_usd"]).all()
    assert (profiles["pfe95_usd"] >= 0).all() and profiles["step"].max() == 40
    epe = pd.read_csv(report_dir / "expected_positive_exposure.csv")
    assert len(epe) == len(profiles.groupby(["holder", "counterparty"]))


def test_report_into_another_directory(sweep_dir: Path, tmp_path: Path) -> None:
    out = write_report(sweep_dir, tmp_path / "r" / "nested")
    assert out == tmp_path / "r" / "nested" and (out / "index.html").is_file()


# --- edge cases on synthetic sweeps ----------------------------------------------------


def test_one_swept_parameter_gives_a_line(tmp_path: Path) -> None:
    out = write_report(synthetic_sweep(tmp_path / "s", {"oracle_delay_steps": [0, 2, 5]}))
    table = pd.read_csv(out / "cascade_probability.csv")
    assert list(table.columns[:2]) == ["oracle_delay_steps", "runs"]
    page = (out / "cascade_probability.html").read_text()
    assert "oracle_delay_steps" in page
    assert trace_types(page) == ["scatter"]
    assert not (out / "exposure_profiles.html").exists()  # no profiles in this sweep
    assert "no profiles" in (out / "index.html").read_text()


def test_random_design_is_binned_for_the_diagram(tmp_path: Path) -> None:
    values = list(np.linspace(1.0, 10.0, 40))
    out = write_report(synthetic_sweep(tmp_path / "s", {"mean_leverage": values,
                                                        "cross_margin": [True, False]},
                                       profiles=True))
    table = pd.read_csv(out / "cascade_probability.csv")
    assert table["mean_leverage"].nunique() == 8 and table["runs"].sum() == 40
    assert "binned" in (out / "index.html").read_text()
    assert (out / "exposure_profiles.html").is_file()


def test_swept_parameters_are_inferred_without_a_manifest(tmp_path: Path) -> None:
    res = read_sweep_results(synthetic_sweep(tmp_path / "s", None))
    assert res.swept == []
    (tmp_path / "t").mkdir()
    frame = pd.read_parquet(res.directory / "parts")
    frame.assign(shock_frac=[0.1, 0.5] * 20).to_parquet(tmp_path / "t" / "x.parquet")
    (tmp_path / "t" / "parts").mkdir()
    (tmp_path / "t" / "x.parquet").rename(tmp_path / "t" / "parts" / "x.parquet")
    assert read_sweep_results(tmp_path / "t").swept == ["shock_frac"]
    out = write_report(tmp_path / "t")
    assert "shock_frac" in (out / "cascade_probability.html").read_text()


def test_a_sweep_whose_runs_all_failed_still_reports(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    pd.DataFrame({"run_id": ["a", "b"], "status": "failed", "error": "boom", "lev": [1, 2],
                  "defaulted__Fund": np.nan, "bad_debt_usd": np.nan,
                  "insolvent_debt_usd": np.nan, "liquidation_volume_usd": np.nan,
                  "cross_venue": np.nan}).to_parquet(tmp_path / "parts" / "p.parquet")
    write_manifest(tmp_path, {"lev": [1, 2]})
    out = write_report(tmp_path)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["ok"], summary["failed"]) == (0, 2)
    assert len(pd.read_csv(out / "loss_measures.csv")) == 0


def test_a_sweep_with_few_metrics_reports_what_it_can(tmp_path: Path) -> None:
    out = synthetic_sweep(tmp_path / "s", None)
    frame = pd.read_parquet(out / "parts")
    frame[["run_id", "point", "status", "defaults", "bad_debt_usd"]].assign(
        shock_frac=[0.1, 0.4] * 20).to_parquet(out / "parts" / "part-00000.parquet")
    # the manifest as contagion sweep writes it: the spec flat, not under a [sweep] table
    spec = {"name": "demo", "scenario": "default", "design": "grid",
            "swept": {"shock_frac": [0.1, 0.4]}}
    (out / "manifest.json").write_text(json.dumps({"name": "demo", "spec": spec}))
    report = write_report(out)
    table = pd.read_csv(report / "cascade_probability.csv")  # P(defaults > 0)
    assert table["successes"].sum() == int((frame["defaults"] > 0).sum())
    assert not (report / "venue_pd.html").exists()
    assert not (report / "loss_distributions.html").exists()
    index = (report / "index.html").read_text()
    assert "Sweep report: demo" in index and "no venue credit risk" in index
    assert "no VaR/LaR" in index


# --- errors and the command ------------------------------------------------------------


def test_missing_results_dir_is_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"results_dir.*parts/\*\.parquet.*not exist"):
        write_report(tmp_path / "nowhere")


def test_results_dir_without_parts_is_a_parameter_error(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / ".part-0.parquet.tmp").write_text("half")
    with pytest.raises(ParameterError, match=r"results_dir.*no parts/\*\.parquet found"):
        write_report(tmp_path)


def test_unreadable_part_is_a_parameter_error(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part-0.parquet").write_bytes(b"not parquet")
    with pytest.raises(ParameterError, match=r"results_dir.*part-0\.parquet is not readable"):
        write_report(tmp_path)


def test_out_dir_that_is_a_file_is_a_parameter_error(tmp_path: Path) -> None:
    sweep = synthetic_sweep(tmp_path / "s", {"lev": [1, 2]})
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="out_dir"):
        write_report(sweep, tmp_path / "file")


def test_an_interrupted_write_leaves_no_file(tmp_path: Path) -> None:
    def crash(path: Path) -> None:
        path.write_text("half")
        raise KeyboardInterrupt

    target = tmp_path / "table.csv"
    with pytest.raises(KeyboardInterrupt):
        _replace_into(target, crash)
    assert list(tmp_path.iterdir()) == []
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        _replace_into(target, crash)
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_report_command_prints_where_and_headlines(sweep_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert report_command(str(sweep_dir), out=str(tmp_path / "rep")) == 0
    printed = capsys.readouterr().out
    assert str(tmp_path / "rep" / "index.html") in printed
    assert "13 (12 ok, 1 failed)" in printed and "VaR 95%" in printed
    assert "highest at mean_leverage=" in printed and "highest PD:" in printed


def test_report_command_on_a_bad_dir_exits_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert report_command(str(tmp_path / "nowhere"), out=None) == 2
    err = capsys.readouterr().err
    assert err.startswith("contagion: error: ") and "results_dir" in err


def test_cli_report_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from contagion.cli import main

    sweep = synthetic_sweep(tmp_path / "s", {"lev": [1, 2]})
    assert main(["report", str(sweep), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "index.html").is_file()
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_without_a_manifest_per_fund_and_per_venue_columns_are_not_taken_for_parameters() -> None:
    import pandas as pd

    from contagion.report import _infer_swept

    runs = pd.DataFrame({"shock_frac": [0.1, 0.4], "exhausted__PerpX-Insurance": [0, 1],
                         "defaulted__CEX": [0, 1], "bad_debt_usd": [0.0, 5.0]})
    assert _infer_swept(runs) == ["shock_frac"]


def test_a_report_goes_again_into_its_own_folder_but_not_into_other_files(sweep_dir: Path,
                                                                          tmp_path: Path) -> None:
    out = write_report(sweep_dir, tmp_path / "r")
    assert write_report(sweep_dir, out) == out  # an earlier report is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ParameterError, match=r"out_dir.*holds other files"):
        write_report(sweep_dir, tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_parts_of_another_kind_are_named(tmp_path: Path) -> None:
    res = synthetic_sweep(tmp_path / "s", {"lev": [1, 2]})
    pd.DataFrame({"step": [0], "holder": ["A"]}).to_parquet(res / "parts" / "zz.parquet")
    with pytest.raises(ParameterError, match=r"parts/zz\.parquet has no column 'run_id', 'status'"):
        write_report(res)
    (res / "parts" / "zz.parquet").write_text("run_id,status\n")
    with pytest.raises(ParameterError, match=r"parts/zz\.parquet is not readable Parquet"):
        write_report(res)
    assert not (res / "report").exists()
