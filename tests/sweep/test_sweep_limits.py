"""Issue 11: limits and checks that run before any work: the size of a design, the pre-check's
progress, part files verified on --resume, output folders, scheduler addresses."""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import contagion.sweep.check as check_module
from contagion.sweep import (
    MAX_RUNS,
    SpecError,
    check_points,
    check_scheduler,
    check_size,
    check_spec,
    count_points,
    design_points,
    load_results,
    load_spec,
    parse_spec,
    run_sweep,
)


def _grid(n_axes: int, size: int, replications: int = 1) -> dict[str, object]:
    return {"sweep": {"name": "g", "root_seed": 1, "replications": replications},
            "swept": {f"k{i}": list(range(size)) for i in range(n_axes)}}


def test_a_billion_run_design_is_refused_arithmetically_without_memory() -> None:
    spec = parse_spec(_grid(9, 10))
    assert count_points(spec) == 10**9
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(SpecError, match=r"^swept: the sweep has 1,000,000,000 runs \(a grid of k0 10 x k1"):
        check_size(spec)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.1 and peak < 1_000_000
    with pytest.raises(SpecError, match=r"^sweep\.replications: .*1,000,000,000 replications"):
        check_size(parse_spec({"sweep": {"name": "s", "root_seed": 1, "replications": 10**9}}))
    with pytest.raises(SpecError, match=r"^sweep\.points: "):
        check_size(parse_spec({"sweep": {"name": "s", "root_seed": 1, "design": "lhs", "points": 10**9},
                               "swept": {"x": {"low": 0.0, "high": 1.0}}}))
    assert check_size(parse_spec(_grid(2, 1000))) == MAX_RUNS  # the limit itself is allowed


def test_a_value_rejected_alone_is_found_before_the_combinations(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = check_spec(parse_spec({"sweep": {"name": "s", "root_seed": 1},
                                  "fixed": {"n_traders": 150},
                                  "swept": {"mean_leverage": [2.0, 4.0, 6.0],
                                            "shock_frac": [0.1, 0.2, 1.5]}}))
    points = design_points(spec)
    built: list[dict[str, object]] = []
    real = check_module.build_scenario

    def counting(name: str, params: dict[str, object]) -> object:
        built.append(dict(params))
        return real(name, params)

    monkeypatch.setattr(check_module, "build_scenario", counting)
    with pytest.raises(SpecError, match=r"^swept\.shock_frac: value 1\.5 at point 2 is rejected"):
        check_points(spec, points)
    assert len(built) <= 6  # one point per distinct value, not the 9 combinations


def test_a_large_design_shows_the_progress_of_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_module, "PROGRESS_POINTS", 10)
    spec = check_spec(parse_spec({"sweep": {"name": "s", "root_seed": 1},
                                  "fixed": {"n_traders": 150},
                                  "swept": {"shock_frac": [round(0.02 * i, 2) for i in range(40)]}}))
    err = io.StringIO()
    check_points(spec, design_points(spec), progress=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "s: checking the scenario of each of the 40 design points before any run"


def test_a_truncated_part_is_rerun_on_resume_and_said(write_spec: Callable[..., Path],
                                                       tmp_path: Path) -> None:
    spec = load_spec(write_spec(swept="shock_frac = [0.1, 0.4]"))
    run_sweep(spec, backend="serial")
    out = tmp_path / "out"
    full = load_results(out)
    part = out / "parts" / "p00001-r000.parquet"
    part.write_bytes(part.read_bytes()[:100])
    other = out / "parts" / "p00000-r000.parquet"
    other.write_bytes(b"not parquet")
    err = io.StringIO()
    report = run_sweep(spec, backend="serial", resume=True, progress=err)
    assert (report.skipped, report.ok) == (0, 2)
    assert "2 part files in" in err.getvalue() and "p00000-r000, p00001-r000" in err.getvalue()
    assert load_results(out).drop(columns="elapsed_s").equals(full.drop(columns="elapsed_s"))


def test_scheduler_addresses() -> None:
    for good in ("tcp://10.0.0.5:8786", "127.0.0.1:8786", "tls://sched.example.org:8786", "tcp://[::1]:8786"):
        assert check_scheduler(good) == good
    for bad in ("foo", "tcp://", "http://x:y", "tcp://h:0", "tcp://h:65536", "", "tcp://h:1/x"):
        with pytest.raises(SpecError, match=r"^--scheduler: "):
            check_scheduler(bad)


def test_output_folders_refused_before_anything(write_spec: Callable[..., Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec(write_spec(swept="shock_frac = [0.1]"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("mine")
    for out, message in ((".", "current folder"), ("..", "parent"), ("/", "root"),
                         ("f.txt", "is a file"), ("f.txt/x", "is a file")):
        with pytest.raises(SpecError, match=rf"^--out: .*{message}"):
            run_sweep(spec, backend="serial", out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "spec.toml"]


def test_a_disk_fault_while_writing_is_one_line_exit_1_and_resume_finishes(
        write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import contagion.sweep.store as store_module
    from contagion.sweep import sweep_command

    path = write_spec(swept="shock_frac = [0.1, 0.4]")
    real = store_module.ResultStore.write
    calls = {"n": 0}

    def full_disk(self: store_module.ResultStore, outcome: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device", str(self.parts / "p00001-r000.parquet"))
        real(self, outcome)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.ResultStore, "write", full_disk)
    assert sweep_command(str(path), workers=None, scheduler=None, out=None, resume=False,
                         smoke=False, serial=True) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("contagion: error: cannot write or read ")
    assert "No space left on device" in err.splitlines()[-1]
    monkeypatch.setattr(store_module.ResultStore, "write", real)
    report = run_sweep(load_spec(path), backend="serial", resume=True)
    assert (report.skipped, report.ok) == (1, 1)


def test_a_combination_rejected_together_is_found_serially_and_on_a_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # each value builds with the other axes' first values; only ltv 0.7 with threshold 0.65 fails
    eth = "lending.LendB.collateral.ETH"
    spec = check_spec(parse_spec({"sweep": {"name": "b", "root_seed": 1}, "fixed": {"n_traders": 150},
                                  "swept": {"mean_leverage": [2.0, 3.0, 4.0], f"{eth}.ltv": [0.5, 0.7],
                                            f"{eth}.liquidation_threshold": [0.8, 0.65]}}))
    points = design_points(spec)
    message = r"^swept: point 3 \(.*\) is rejected: .*ltv <= liquidation_threshold = 0\.65"
    with pytest.raises(SpecError, match=message):
        check_points(spec, points)
    monkeypatch.setattr(check_module, "PARALLEL_POINTS", 2)
    monkeypatch.setattr(check_module, "CHUNK_POINTS", 2)
    err = io.StringIO()
    with ThreadPoolExecutor(2) as pool, pytest.raises(SpecError, match=message):
        check_points(spec, points, executor=pool, workers=2, progress=err)
