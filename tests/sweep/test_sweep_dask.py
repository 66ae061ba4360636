"""The Dask backend: the same runs on a real distributed scheduler (TCP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from contagion.sweep import BackendError, load_results, load_spec, run_sweep, sweep_command

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       local_directory=str(tmp_path_factory.mktemp("dask")))
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def test_dask_gives_the_same_table_as_serial_and_the_local_pool(
        write_spec: Callable[..., Path], tmp_path: Path, scheduler_address: str) -> None:
    spec = load_spec(write_spec(sweep="replications = 2",
                                swept="mean_leverage = [2.0, 8.0]\nshock_frac = [0.1, 0.4]"))
    assert scheduler_address.startswith("tcp://127.0.0.1:")
    dask = run_sweep(spec, backend="dask", scheduler=scheduler_address, out=tmp_path / "dask")
    run_sweep(spec, backend="serial", out=tmp_path / "serial")
    run_sweep(spec, backend="local", workers=2, out=tmp_path / "local")
    assert (dask.ok, dask.failed, dask.workers) == (8, 0, 2)
    assert 1 <= dask.max_in_flight <= 4
    tables = [load_results(tmp_path / name).drop(columns="elapsed_s") for name in ("serial", "local", "dask")]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def test_dask_records_failing_runs_and_goes_on(
        write_spec: Callable[..., Path], tmp_path: Path, scheduler_address: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(swept='"lending.LendB.retail_supply_usd" = [1000.0, 160e6]')
    assert sweep_command(str(path), workers=None, scheduler=scheduler_address, out=None, resume=False,
                         smoke=False, serial=False) == 0
    assert "2 runs, 1 ok, 1 failed" in capsys.readouterr().out
    df = load_results(tmp_path / "out")
    assert df["status"].tolist() == ["failed", "ok"]


def test_unreachable_scheduler_is_a_backend_error_and_nothing_is_written(
        write_spec: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(swept="shock_frac = [0.1]")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(BackendError, match=r"cannot connect to the Dask scheduler at tcp://127\.0\.0\.1:9"):
            run_sweep(load_spec(path), backend="dask", scheduler="tcp://127.0.0.1:9")
        assert sweep_command(str(path), workers=None, scheduler="tcp://127.0.0.1:9", out=None,
                             resume=False, smoke=False, serial=False) == 1
    assert "cannot connect" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_scheduler_probe_works_from_inside_a_running_event_loop(scheduler_address: str) -> None:
    """The handshake runs in a thread of its own: a caller inside an event loop (a notebook,
    or a test session after Playwright's sync API) got "not a Dask scheduler" from a real one."""
    import asyncio
    import threading

    from contagion.sweep.runner import _probe_scheduler

    async def inside() -> None:
        _probe_scheduler(scheduler_address, 5.0)

    failed: list[BaseException] = []

    def in_a_loop() -> None:  # a thread of the test's own: this one may already run a loop
        try:
            asyncio.run(inside())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=in_a_loop)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and not failed, failed
