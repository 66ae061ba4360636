"""Durability: a sweep killed with SIGKILL loses only its runs in flight; --resume finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from contagion.sweep import SpecError, load_profiles, load_results, load_spec, run_sweep

SWEPT = "shock_frac = [0.1, 0.2, 0.3, 0.4]\nmean_leverage = [2.0, 8.0]"  # 8 points
FIXED = "n_traders = 150\nsteps = 40\n"
TOTAL = 8 * 2


def _parts(out: Path) -> list[Path]:
    parts = out / "parts"
    return [p for p in parts.glob("*.parquet") if not p.name.startswith(".")] if parts.is_dir() else []


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (read from /proc)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(stat.parent.name))
    return alive


def _wait_gone(pgid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _alive_in_group(pgid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {_alive_in_group(pgid)} of group {pgid} still alive")
        time.sleep(0.05)


def test_killed_sweep_resumes_to_the_uninterrupted_result(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(sweep="replications = 2", swept=SWEPT, fixed=FIXED)
    out = tmp_path / "out"
    code = ("import sys\nfrom contagion.sweep import sweep_command\n"
            f"sys.exit(sweep_command({str(path)!r}, workers=2, scheduler=None, out=None, resume=False, "
            "smoke=False, serial=False))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(_parts(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool's processes
        proc.wait()
        _wait_gone(proc.pid)
    done_before = len(_parts(out))
    assert 3 <= done_before < TOTAL, f"the sweep was not killed part way ({done_before} of {TOTAL} done)"

    spec = load_spec(path)
    report = run_sweep(spec, backend="local", workers=2, resume=True)
    assert report.skipped == done_before
    assert report.ok + report.failed == TOTAL - done_before
    reference = run_sweep(spec, backend="local", workers=2, out=tmp_path / "reference")
    assert reference.ok == TOTAL

    resumed = load_results(out)
    assert resumed["run_id"].is_unique and len(resumed) == TOTAL
    pd.testing.assert_frame_equal(resumed.drop(columns="elapsed_s"),
                                  load_results(tmp_path / "reference").drop(columns="elapsed_s"))
    pd.testing.assert_frame_equal(load_profiles(out), load_profiles(tmp_path / "reference"))
    assert [p for p in out.rglob(".*")] == []  # no temporary files remain


def test_resume_of_a_finished_sweep_runs_nothing(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept="shock_frac = [0.4]"))
    run_sweep(spec, backend="serial")
    before = {p.name: p.stat().st_mtime_ns for p in _parts(tmp_path / "out")}
    report = run_sweep(spec, backend="serial", resume=True)
    assert (report.skipped, report.ok, report.failed) == (2, 0, 0)
    assert {p.name: p.stat().st_mtime_ns for p in _parts(tmp_path / "out")} == before


def test_resume_reruns_a_run_whose_part_is_missing_and_cleans_temp_files(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept="shock_frac = [0.1, 0.4]"))
    run_sweep(spec, backend="serial")
    out = tmp_path / "out"
    full = load_results(out)
    (out / "parts" / "p00001-r000.parquet").unlink()
    (out / "parts" / ".p00001-r000.parquet.123.tmp").write_bytes(b"half a file")
    report = run_sweep(spec, backend="serial", resume=True)
    assert (report.skipped, report.ok) == (3, 1)
    pd.testing.assert_frame_equal(load_results(out).drop(columns="elapsed_s"), full.drop(columns="elapsed_s"))
    assert [p for p in out.rglob(".*")] == []


def test_resume_refuses_a_changed_spec_or_a_missing_sweep(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = load_spec(write_spec(sweep="replications = 2", swept="shock_frac = [0.4]"))
    with pytest.raises(SpecError, match=r"^resume: no sweep to resume in"):
        run_sweep(spec, backend="serial", resume=True)
    run_sweep(spec, backend="serial")
    changed = load_spec(write_spec(sweep='name = "spec"\nreplications = 3', swept="shock_frac = [0.4]",
                                   name="changed"))
    with pytest.raises(SpecError, match=r"^resume: the spec changed since .* \(differs in: replications\)"):
        run_sweep(changed, backend="serial", resume=True)
    with pytest.raises(SpecError, match=r"differs in: replications, --smoke"):
        run_sweep(spec, backend="serial", resume=True, smoke=True, out=tmp_path / "out")
