"""Running sweeps: serial and process-pool backends, results, failures, manifest, progress."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest

from contagion.sweep import (
    derive_seeds,
    load_profiles,
    load_results,
    load_spec,
    read_manifest,
    run_sweep,
    sweep_command,
)
from contagion.sweep.progress import ProgressLine
from contagion.sweep.runner import BackendError, _run_pool
from contagion.sweep.task import RunOutcome, RunTask, execute_run

SWEPT = "mean_leverage = [2.0, 8.0]\nshock_frac = [0.1, 0.4]"


def _table(out: Path) -> pd.DataFrame:
    return load_results(out).drop(columns="elapsed_s")


def test_serial_and_local_pool_give_the_same_table(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept=SWEPT))
    serial = run_sweep(spec, backend="serial", out=tmp_path / "serial")
    pooled = run_sweep(spec, backend="local", workers=2, out=tmp_path / "pool")
    assert (serial.total, serial.ok, serial.failed) == (8, 8, 0)
    assert (pooled.ok, pooled.failed) == (8, 0)
    assert 1 <= pooled.max_in_flight <= 4  # bounded: twice the workers
    a, b = _table(tmp_path / "serial"), _table(tmp_path / "pool")
    pd.testing.assert_frame_equal(a, b)
    assert a["run_id"].is_unique and len(a) == 8
    assert a["seed"].tolist() == derive_seeds(20261124, 8)
    assert {"run_id", "point", "replication", "seed", "mean_leverage", "shock_frac", "status", "error",
            "cross_venue", "defaults", "bad_debt_usd", "defaulted__CEX", "lgd__CEX"} <= set(a.columns)
    # the stressed points cascade further than the calm ones
    by_shock = a.groupby("shock_frac")["liquidation_volume_usd"].mean()
    assert by_shock[0.4] > by_shock[0.1]


def test_results_are_one_parquet_part_per_run_readable_with_read_parquet(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep='replications = 2\nmetrics = ["defaults", "bad_debt_usd"]',
                                swept="shock_frac = [0.1, 0.4]"))
    out = tmp_path / "out"
    run_sweep(spec, backend="serial")
    parts = sorted(p.name for p in (out / "parts").iterdir())
    assert parts == [f"p0000{p}-r00{r}.parquet" for p in range(2) for r in range(2)]
    direct = pd.read_parquet(out / "parts").sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(direct, load_results(out))
    assert list(direct.columns) == ["run_id", "point", "replication", "seed", "shock_frac", "status",
                                    "error", "elapsed_s", "defaults", "bad_debt_usd"]
    assert not [p for p in out.rglob(".*")]  # no temporary files left


def test_exposure_profiles_are_summed_over_channels_per_run(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept="shock_frac = [0.4]"))
    run_sweep(spec, backend="serial")
    profiles = load_profiles(tmp_path / "out")
    assert list(profiles.columns) == ["run_id", "point", "replication", "step", "holder", "counterparty",
                                      "exposure_usd"]
    assert set(profiles["run_id"]) == {"p00000-r000", "p00000-r001"}
    assert not profiles.duplicated(["run_id", "step", "holder", "counterparty"]).any()
    assert profiles["step"].max() == 30
    # expected exposure across replications, the input of EE/PFE
    ee = profiles.groupby(["point", "step", "holder", "counterparty"])["exposure_usd"].mean()
    assert (ee >= 0).all() and len(ee) > 0


def test_a_run_that_raises_is_recorded_and_the_others_complete(
        write_spec: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # LendB's retail supply passes the spec check but the model rejects it when it builds
    path = write_spec(sweep="replications = 2",
                      swept='"lending.LendB.retail_supply_usd" = [1000.0, 160e6]')
    rc = sweep_command(str(path), workers=2, scheduler=None, out=None, resume=False, smoke=False,
                       serial=False)
    assert rc == 0
    captured = capsys.readouterr()
    assert "4 runs, 2 ok, 2 failed" in captured.out
    assert "4/4 runs, 2 failed" in captured.err
    df = load_results(tmp_path / "out")
    failed = df[df["status"] == "failed"]
    ok = df[df["status"] == "ok"]
    assert failed["point"].tolist() == [0, 0] and ok["point"].tolist() == [1, 1]
    prefix = "ParameterError: parameter 'lending[LendB].retail_supply_usd'"
    assert failed["error"].str.startswith(prefix).all()
    assert failed["lending.LendB.retail_supply_usd"].tolist() == [1000.0, 1000.0]
    assert failed["seed"].tolist() == derive_seeds(20261124, 4)[:2]
    assert failed["defaults"].isna().all() and ok["defaults"].notna().all()
    assert (ok["error"] == "").all()
    assert set(load_profiles(tmp_path / "out")["run_id"]) == set(ok["run_id"])
    # the failed parts come first, and still one plain read_parquet sees every metric column
    direct = pd.read_parquet(tmp_path / "out" / "parts")
    assert set(df.columns) == set(direct.columns) and len(direct) == 4


def test_when_the_first_points_fail_the_results_still_carry_every_metric(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(swept='"lending.LendB.retail_supply_usd" = [1000.0, 2000.0, 3000.0, 160e6]')
    report = run_sweep(load_spec(path), backend="serial")
    assert (report.ok, report.failed) == (1, 3)
    assert read_manifest(tmp_path / "out")["aligned_schema"] is False  # type: ignore[index]
    df = load_results(tmp_path / "out")
    assert df["status"].tolist() == ["failed"] * 3 + ["ok"]
    assert df["defaults"].notna().tolist() == [False] * 3 + [True]
    assert "defaulted__CEX" in df.columns


def test_manifest_records_spec_seeds_and_versions(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 3", swept="shock_frac = [0.1, 0.4]"))
    run_sweep(spec, backend="serial")
    manifest = read_manifest(tmp_path / "out")
    assert manifest is not None
    assert manifest["spec"]["swept"] == {"shock_frac": [0.1, 0.4]}
    assert manifest["spec"]["root_seed"] == 20261124 and manifest["smoke"] is False
    assert manifest["runs"]["seed"] == derive_seeds(20261124, 6)
    assert manifest["runs"]["run_id"][:2] == ["p00000-r000", "p00000-r001"]
    assert manifest["points"] == [{"shock_frac": 0.1}, {"shock_frac": 0.4}]
    assert manifest["package_version"] == "0.1.0"
    assert len(manifest["git_commit"]) == 40 or manifest["git_commit"] == "unknown"
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest


def test_same_spec_gives_the_same_seeds_and_metrics(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept="shock_frac = [0.4]"))
    run_sweep(spec, backend="serial", out=tmp_path / "a")
    run_sweep(spec, backend="serial", out=tmp_path / "b")
    pd.testing.assert_frame_equal(_table(tmp_path / "a"), _table(tmp_path / "b"))


def test_smoke_runs_the_small_variant_through_the_same_path(
        write_spec: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(sweep="replications = 50", swept="shock_frac = [0.1, 0.2, 0.3, 0.4]",
                      fixed="n_traders = 100000\nsteps = 144",
                      extra="[smoke]\nreplications = 1\nswept.shock_frac = [0.4]\n"
                            "fixed.n_traders = 150\nfixed.steps = 30\n")
    assert sweep_command(str(path), workers=None, scheduler=None, out=None, resume=False, smoke=True,
                         serial=True) == 0
    assert "sweep spec: 1 runs, 1 ok, 0 failed" in capsys.readouterr().out
    smoke_out = Path(str(tmp_path / "out") + "-smoke")
    assert len(load_results(smoke_out)) == 1
    assert read_manifest(smoke_out)["smoke"] is True  # type: ignore[index]
    assert not (tmp_path / "out").exists()


def test_in_flight_runs_never_exceed_the_bound(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 3", swept="shock_frac = [0.1, 0.4]"))
    report = run_sweep(spec, backend="local", workers=2, max_in_flight=2)
    assert report.ok == 6 and report.max_in_flight == 2


def test_progress_prints_lines_every_five_percent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressLine(100, stream=stream, label="s", tty=False)
    for i in range(100):
        bar.advance(failed=i % 10 == 0)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert 20 <= len(lines) <= 22 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("s: 100/100 runs, 10 failed, 100%")


def test_progress_redraws_one_line_on_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressLine(3, done=1, stream=stream, label="s", tty=True, min_interval_s=0.0)
    bar.advance()
    bar.advance(failed=True)
    bar.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.count("\r") >= 3
    assert "3/3 runs, 1 failed, 100% (1 done before)" in text


class _DyingPool(Executor):
    """Runs tasks in-process, except that ``doomed`` runs kill the "worker": their future
    fails with BrokenProcessPool, as a process pool's does when a worker dies."""

    def __init__(self, doomed: set[str]) -> None:
        self.doomed = doomed

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[RunOutcome] = Future()
        task = args[0]
        if task.run_id in self.doomed:
            future.set_exception(BrokenProcessPool("A child process terminated abruptly"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def _tasks(n: int) -> list[RunTask]:
    return [RunTask(scenario="default", params={"n_traders": 150, "steps": 10}, values={},
                    run_id=f"p{i:05d}-r000", point=i, replication=0, seed=i) for i in range(n)]


def test_a_run_that_kills_its_worker_is_isolated_and_recorded_failed() -> None:
    recorded: dict[str, RunOutcome] = {}
    most = _run_pool(lambda: _DyingPool({"p00002-r000"}), _tasks(5),
                     lambda task, outcome: recorded.__setitem__(task.run_id, outcome),
                     bound=2, is_run_failure=lambda exc: True)
    assert most <= 2 and sorted(recorded) == [t.run_id for t in _tasks(5)]
    assert recorded["p00002-r000"].failed
    assert "worker process died" in recorded["p00002-r000"].row["error"]
    assert not any(o.failed for rid, o in recorded.items() if rid != "p00002-r000")
    assert recorded["p00001-r000"].row["defaults"] == execute_run(_tasks(5)[1]).row["defaults"]


def test_a_pool_that_dies_before_any_run_finishes_is_a_backend_error() -> None:
    doomed = {t.run_id for t in _tasks(3)}
    with pytest.raises(BackendError, match="worker processes died before any run finished"):
        _run_pool(lambda: _DyingPool(doomed), _tasks(3), lambda task, outcome: None,
                  bound=2, is_run_failure=lambda exc: True)
