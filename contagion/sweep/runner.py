"""Run a sweep: check it, write its manifest, farm its runs out, record each as it finishes.

:func:`run_sweep` is the library entry point. Backends: ``serial`` (one process, a plain
loop: the debug mode, breakpoints work), ``local`` (one
:class:`~concurrent.futures.ProcessPoolExecutor` for the whole sweep) and ``dask`` (the
executor of a :class:`dask.distributed.Client` connected to ``scheduler``). All three
call the same worker function, :func:`contagion.sweep.task.execute_run`, and at most
``max_in_flight`` runs (default twice the workers) are submitted at a time, so memory
stays flat however many runs the sweep has. The parent writes each finished run's part
file (workers need not share its disk) and counts completions.

The local pool's workers start from a fork server, not by forking the caller, so, as
with any ``multiprocessing`` code, a script that calls :func:`run_sweep` needs the usual
``if __name__ == "__main__":`` guard (the ``contagion`` command has it). Dask workers
must have the same ``contagion`` (and ``models``) installed.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from contagion.errors import ContagionError
from contagion.sweep.check import PARALLEL_POINTS, check_points, check_spec
from contagion.sweep.design import check_size, design_points, plan_runs
from contagion.sweep.manifest import build_manifest, check_resume, load_manifest
from contagion.sweep.paths import output_dir_problem
from contagion.sweep.progress import ProgressLine, format_duration
from contagion.sweep.spec import SpecError, SweepSpec, apply_smoke
from contagion.sweep.store import (
    MANIFEST,
    PARTS,
    PROFILES,
    ResultStore,
    remove_temp_files,
    results_schema,
    schema_from_json,
    write_json_atomic,
)
from contagion.sweep.task import RunOutcome, RunTask, build_scenario, execute_run, failed_outcome

__all__ = ["BACKENDS", "MAX_WORKERS", "SCHEDULER_SCHEMES", "SCHEDULER_TIMEOUT_S", "BackendError",
           "SweepReport", "check_scheduler", "run_sweep"]

log = logging.getLogger(__name__)

BACKENDS = ("serial", "local", "dask")
#: Most local worker processes (``--workers``); more than the machine's cores only slows it.
MAX_WORKERS = 1024
#: Address schemes of a Dask scheduler that ``--scheduler`` takes.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
#: Longest wait to connect to a Dask scheduler (dask's own setting if shorter).
SCHEDULER_TIMEOUT_S = 10.0
Record = Callable[[RunTask, RunOutcome], None]


class BackendError(ContagionError, RuntimeError):
    """The execution backend failed (e.g. no Dask scheduler at the given address)."""


@dataclass(frozen=True, kw_only=True)
class SweepReport:
    """What a finished sweep did. ``skipped`` runs were already done (``--resume``);
    ``max_in_flight`` is the most runs ever submitted and unfinished at once."""

    name: str
    out: Path
    backend: str
    workers: int
    total: int
    skipped: int
    ok: int
    failed: int
    elapsed_s: float
    max_in_flight: int

    def summary(self) -> str:
        """A short text summary (what ``contagion sweep`` prints)."""
        where = "in-process" if self.backend == "serial" else f"{self.workers} workers"
        lines = [f"sweep {self.name}: {self.total} runs, {self.ok} ok, {self.failed} failed"
                 + (f", {self.skipped} already done" if self.skipped else "")
                 + f" in {format_duration(self.elapsed_s)} ({self.backend}, {where})",
                 f"results: {self.out}/parts/ (pandas.read_parquet or contagion.sweep.load_results), "
                 f"profiles/, {MANIFEST}"]
        if self.failed:
            lines.append("failed runs have status 'failed' and the error in column 'error'")
        return "\n".join(lines)


def _probe_record(spec: SweepSpec, points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The metric record of a one-step run of the first buildable point (to fix the result
    columns and their types before any run), or ``None`` if none of the first three runs."""
    from contagion.metrics import run_record
    from contagion.runner import METRICS, simulate

    for values in points[:3]:
        try:
            result = simulate(build_scenario(spec.scenario, {**spec.fixed, **values}), seed=0, steps=1,
                              record=METRICS)
            return run_record(result.events, result.series, result.venues)
        except Exception as exc:  # the run will fail and be recorded; try the next point
            log.info("probe run of %s failed: %s", values, exc)
    return None


def _schema(spec: SweepSpec, points: list[dict[str, Any]]) -> pa.Schema | None:
    record = _probe_record(spec, points)
    if record is None:
        log.warning("the first points' runs fail; result parts are written without a common "
                    "schema (load_results still reads them)")
        return None
    if spec.metrics is not None:
        for m in spec.metrics:
            if m not in record:
                raise SpecError("sweep.metrics", f"unknown metric {m!r} (known: {', '.join(record)})")
        record = {m: record[m] for m in spec.metrics}
    return results_schema({k: [p[k] for p in points] for k in spec.swept}, record)


def _run_serial(tasks: Iterable[RunTask], record: Record) -> int:
    for task in tasks:
        record(task, execute_run(task))
    return 1


def _shutdown(executor: Executor, *, clean: bool) -> None:
    """Shut ``executor`` down, cancelling what is queued unless the sweep ended cleanly."""
    if isinstance(executor, ProcessPoolExecutor):
        executor.shutdown(wait=clean, cancel_futures=True)
    else:  # dask's ClientExecutor: wait=False cancels its futures
        executor.shutdown(wait=clean)


def _submit(executor: Executor, pending: dict[Future[RunOutcome], RunTask], task: RunTask) -> bool:
    """Submit ``task``; ``False`` if the pool is already broken."""
    try:
        pending[executor.submit(execute_run, task)] = task
    except BrokenProcessPool:
        return False
    return True


def _run_pool(make_executor: Callable[[], Executor], tasks: Iterable[RunTask], record: Record, *,
              bound: int, is_run_failure: Callable[[BaseException], bool],
              on_idle: Callable[[], None] = lambda: None) -> int:
    """Submit ``tasks`` with at most ``bound`` in flight; return the most ever in flight.

    If a worker process dies (the pool breaks), the runs that were in flight are rerun one
    at a time on a new pool; one that kills its worker again is recorded as failed. If
    workers die before any run has finished, the pool itself is broken: BackendError.
    """
    executor = make_executor()
    pending: dict[Future[RunOutcome], RunTask] = {}
    suspects: collections.deque[RunTask] = collections.deque()
    isolated: RunTask | None = None  # a suspect running alone
    todo: Iterator[RunTask] = iter(tasks)
    most = completed = 0
    clean = False
    try:
        while True:
            broken: list[RunTask] = []
            if suspects or isolated is not None:
                if not pending:
                    isolated = suspects.popleft()
                    if not _submit(executor, pending, isolated):
                        broken.append(isolated)
            else:
                while not broken and len(pending) < bound and (task := next(todo, None)) is not None:
                    if not _submit(executor, pending, task):
                        broken.append(task)
            most = max(most, len(pending))
            if not pending and not broken:
                break
            finished: set[Future[RunOutcome]] = set()
            if pending and not broken:
                finished, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                if not finished:
                    on_idle()
                    continue
            for fut in finished:
                task = pending.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken.append(task)
                    continue
                except Exception as exc:
                    if not is_run_failure(exc):
                        raise
                    outcome = failed_outcome(task, f"{type(exc).__name__}: {exc}")
                completed += 1
                record(task, outcome)
                if task is isolated:
                    isolated = None
            if broken:
                broken += list(pending.values())
                pending.clear()
                _shutdown(executor, clean=False)
                if not completed:
                    raise BackendError("worker processes died before any run finished: the process "
                                       "pool cannot run this sweep (run it with --serial to see why)")
                if isolated is not None and broken == [isolated]:
                    record(isolated, failed_outcome(isolated, "worker process died during the run "
                                                              "(killed, out of memory or crashed)"))
                else:
                    log.warning("a worker process died; rerunning the %d runs in flight one at a time",
                                len(broken))
                    suspects.extend(broken)
                isolated = None
                executor = make_executor()
        clean = True
    finally:
        _shutdown(executor, clean=clean)
    return most


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _local_executor(workers: int) -> Callable[[], Executor]:
    """A factory of process pools of ``workers`` processes, started by a fork server (or
    spawned), never forked from this process: the parent may hold threads (a Dask client,
    a web server). The fork server imports the engine once, so workers start warm."""
    ctx: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(["contagion.sweep.task", "contagion.runner", "contagion.metrics",
                                    "models"])  # takes effect if the fork server is not yet running
        ctx = server
    else:  # pragma: no cover - not POSIX
        ctx = multiprocessing.get_context("spawn")
    return lambda: ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?)"
_ADDRESS = re.compile(rf"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>{_HOST}):(?P<port>[0-9]+)")


def check_scheduler(address: str) -> str:
    """``address`` if it is a Dask scheduler address, ``[tcp|tls|ws|wss|ucx://]HOST:PORT``
    (port 1 to 65535); :class:`SpecError` naming ``--scheduler`` otherwise. Nothing is
    connected to.

    Examples
    --------
    >>> check_scheduler("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> check_scheduler("http://x:y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.sweep.spec.SpecError: --scheduler: 'http://x:y' is not a Dask scheduler address: ...
    """
    allowed = ("allowed [" + "|".join(SCHEDULER_SCHEMES) + "://]HOST:PORT, PORT 1 to 65535, "
               "e.g. tcp://10.0.0.5:8786")
    m = _ADDRESS.fullmatch(address) if isinstance(address, str) else None
    if m is None or (m["scheme"] is not None and m["scheme"] not in SCHEDULER_SCHEMES):
        raise SpecError("--scheduler", f"{address!r} is not a Dask scheduler address: {allowed}")
    if not 1 <= int(m["port"]) <= 65535:
        raise SpecError("--scheduler", f"{address!r}: port {int(m['port'])} is out of range: {allowed}")
    return address


def _connect_timeout_s() -> float:
    import dask.config
    from dask.utils import parse_timedelta

    try:
        configured = float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s"))
    except (KeyError, TypeError, ValueError):
        configured = SCHEDULER_TIMEOUT_S
    return min(configured, SCHEDULER_TIMEOUT_S)


def _resolve(host: str, port: int, timeout: float) -> list[Any]:
    """``socket.getaddrinfo`` bounded by ``timeout`` (a resolver can hang far longer)."""
    result: list[Any] = []
    error: list[BaseException] = []

    def look_up() -> None:
        try:
            result.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller
            error.append(exc)

    thread = threading.Thread(target=look_up, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer from the name resolver for {host!r} within {timeout:g} s")
    if error:
        raise error[0]
    return result


def _probe_scheduler(scheduler: str, timeout: float) -> None:
    """Fail fast, with one line, if nothing listens at ``scheduler`` or it does not answer as a
    Dask scheduler: a TCP connection first (refused at once, unreachable within ``timeout``),
    then dask's own handshake, so that :class:`distributed.Client` never half-starts."""
    import asyncio

    m = _ADDRESS.fullmatch(scheduler)
    assert m is not None  # check_scheduler passed
    scheme = m["scheme"] or "tcp"
    if scheme == "ucx":  # not plain TCP: left to distributed
        return
    host, port = m["host"].strip("[]"), int(m["port"])
    where = f"cannot connect to the Dask scheduler at {scheduler}"
    try:
        infos = _resolve(host, port, timeout)
        family, kind, proto, _, sockaddr = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
    except socket.gaierror as exc:
        raise BackendError(f"{where}: unknown host {host!r} ({exc.strerror})") from None
    except (OSError, TimeoutError, IndexError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise BackendError(f"{where}: {why}") from None

    async def handshake() -> None:
        from distributed.comm import connect

        comm = await connect(scheduler, timeout=timeout)
        await comm.close()

    failed: list[BaseException] = []

    def in_own_loop() -> None:  # a thread of its own: the caller may be inside an event loop
        try:
            asyncio.run(asyncio.wait_for(handshake(), timeout + 1))
        except BaseException as exc:  # reported to the caller below
            failed.append(exc)

    thread = threading.Thread(target=in_own_loop, daemon=True)
    thread.start()
    thread.join(timeout + 2)
    try:
        if thread.is_alive():
            raise TimeoutError(f"no handshake within {timeout + 1:g} s")
        if failed:
            raise failed[0]
    except Exception as exc:  # a peer that is not a Dask scheduler fails in many ways
        raise BackendError(f"{where}: something answers there but not as a Dask scheduler "
                           f"({type(exc).__name__}: {exc})") from None


def _dask_client(scheduler: str) -> Any:
    from distributed import Client

    timeout = _connect_timeout_s()
    _probe_scheduler(scheduler, timeout)
    try:
        return Client(scheduler, set_as_default=False, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise BackendError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from exc
    except Exception as exc:  # distributed raises assorted errors for a host it cannot use
        raise BackendError(f"cannot connect to the Dask scheduler at {scheduler} within "
                           f"{timeout:g} s: {type(exc).__name__}: {exc}") from exc


def _is_killed_worker(exc: BaseException) -> bool:
    from distributed import KilledWorker

    return isinstance(exc, KilledWorker)


def _check_points(spec: SweepSpec, points: list[dict[str, Any]], *, backend: str,
                  workers: int | None, progress: TextIO | None) -> None:
    """:func:`check_points`, on a process pool of the sweep's local workers when the design
    is large (a pool that is shut down before the runs start)."""
    n_workers = workers or _default_workers()
    if backend != "local" or n_workers < 2 or len(points) <= PARALLEL_POINTS:
        check_points(spec, points, progress=progress)
        return
    executor = _local_executor(n_workers)()
    try:
        check_points(spec, points, progress=progress, executor=executor, workers=n_workers)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def run_sweep(spec: SweepSpec, *, backend: str = "local", workers: int | None = None,
              scheduler: str | None = None, out: str | Path | None = None, resume: bool = False,
              smoke: bool = False, progress: TextIO | None = None,
              max_in_flight: int | None = None) -> SweepReport:
    """Run every run of ``spec`` not yet done in ``out`` and record each as it finishes.

    Parameters
    ----------
    spec : the parsed spec (:func:`~contagion.sweep.spec.load_spec`).
    backend : ``"serial"``, ``"local"`` (process pool) or ``"dask"`` (needs ``scheduler``).
    workers : processes of the local pool (default: the usable CPUs); for Dask, only sizes
        the in-flight bound (default: the cluster's threads).
    scheduler : address of a Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    out : output directory (default: the spec's ``out``).
    resume : finish the sweep already in ``out``: its manifest must match the spec; runs
        with a part file are not run again.
    smoke : run the spec's small ``[smoke]`` variant instead.
    progress : stream for the progress line (``None``: no progress display).
    max_in_flight : most runs submitted and unfinished at once (default twice the workers).

    Raises
    ------
    SpecError
        A bad spec or ``out`` (before any run starts and before anything is written).
    BackendError
        The Dask scheduler cannot be reached.
    """
    if backend not in BACKENDS:
        raise SpecError("backend", f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    if backend == "dask" and not scheduler:
        raise SpecError("--scheduler", "the dask backend needs a scheduler address")
    if backend == "dask":
        check_scheduler(str(scheduler))
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise SpecError("--workers", f"must be an integer from 1 to {MAX_WORKERS}, got {workers!r}")
    if max_in_flight is not None and max_in_flight < 1:
        raise SpecError("max_in_flight", f"must be an integer >= 1, got {max_in_flight!r}")
    t0 = time.monotonic()
    smoke_out = spec.smoke.out if smoke and spec.smoke is not None else None
    if smoke:
        spec = apply_smoke(spec)
    check_size(spec)  # arithmetic: a huge design is refused before it is expanded
    spec = check_spec(spec)
    out_dir = Path(out) if out is not None else spec.out_dir
    out_key = "--out" if out is not None else ("smoke.out" if smoke_out else "sweep.out")
    problem = output_dir_problem(out_dir)
    if problem is not None:
        raise SpecError(out_key, problem)
    manifest = load_manifest(out_dir) if resume else None
    for sub in (PARTS, PROFILES):
        if resume and (out_dir / sub).exists() and not (out_dir / sub).is_dir():
            raise SpecError("resume", f"{out_dir / sub} is a file, not the folder of the sweep's "
                                      f"{sub}: move it away, then resume")
    if not resume and out_dir.exists() and any(out_dir.iterdir()):
        raise SpecError(out_key, f"{out_dir} is not empty; pass --resume to finish the sweep there "
                                 "or choose another output directory")
    points = design_points(spec)
    _check_points(spec, points, backend=backend, workers=workers, progress=progress)
    runs = plan_runs(len(points), spec.replications, spec.root_seed)
    if manifest is not None:
        check_resume(manifest, build_manifest(spec, smoke=smoke, out=out_dir, points=points, runs=runs,
                                          schema=None), out_dir)
        schema = schema_from_json(manifest["schema"]) if manifest.get("aligned_schema") else None
    client = _dask_client(str(scheduler)) if backend == "dask" else None  # before writing anything
    try:
        if manifest is None:
            schema = _schema(spec, points)
        if resume:
            removed = remove_temp_files(out_dir)
            if removed:
                log.info("removed %d temporary files left by an interrupted sweep", removed)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            manifest = build_manifest(spec, smoke=smoke, out=out_dir, points=points, runs=runs,
                                      schema=schema)
            write_json_atomic(out_dir / MANIFEST, manifest)
        store = ResultStore(out_dir, schema)
        store.create_dirs()
        done, bad = store.verified_done({r.run_id for r in runs}) if resume else (set(), [])
        if bad:
            shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            message = (f"{len(bad)} part file{'s' if len(bad) != 1 else ''} in {store.parts} "
                       f"{'are' if len(bad) != 1 else 'is'} unreadable or incomplete ({shown}): "
                       "running those runs again")
            if progress is not None:
                print(f"{spec.name}: {message}", file=progress, flush=True)
            else:
                log.warning(message)
        todo = [r for r in runs if r.run_id not in done]
        swept = list(spec.swept)

        def tasks() -> Iterator[RunTask]:
            for r in todo:
                values = {k: points[r.point][k] for k in swept}
                yield RunTask(scenario=spec.scenario, params={**spec.fixed, **values}, values=values,
                              run_id=r.run_id, point=r.point, replication=r.replication, seed=r.seed,
                              metrics=spec.metrics)

        bar = ProgressLine(len(runs), done=len(runs) - len(todo), stream=progress, label=spec.name)
        counts = {"ok": 0, "failed": 0}

        def record(task: RunTask, outcome: RunOutcome) -> None:
            store.write(outcome)
            counts["failed" if outcome.failed else "ok"] += 1
            if outcome.failed:
                log.info("run %s failed: %s", task.run_id, outcome.row["error"])
                if outcome.traceback:
                    log.debug("run %s traceback:\n%s", task.run_id, outcome.traceback)
            bar.advance(failed=outcome.failed)

        log.info("sweep %s: %d runs, %d to do, backend %s, output %s", spec.name, len(runs), len(todo),
                 backend, out_dir)
        n_workers = 1
        try:
            if client is None and backend == "serial":
                most = _run_serial(tasks(), record)
            elif client is None:
                n_workers = workers or _default_workers()
                most = _run_pool(_local_executor(n_workers), tasks(), record, on_idle=bar.tick,
                                 bound=max_in_flight or 2 * n_workers, is_run_failure=lambda exc: True)
            else:
                threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
                n_workers = workers or max(threads, 1)
                most = _run_pool(lambda: client.get_executor(pure=False), tasks(), record, on_idle=bar.tick,
                                 bound=max_in_flight or 2 * n_workers, is_run_failure=_is_killed_worker)
        finally:
            bar.close()
    finally:
        if client is not None:
            client.close()
    return SweepReport(name=spec.name, out=out_dir, backend=backend, workers=n_workers,
                       total=len(runs), skipped=len(runs) - len(todo), ok=counts["ok"],
                       failed=counts["failed"], elapsed_s=time.monotonic() - t0, max_in_flight=most)

