"""Server-side state of the dashboard: finished runs and runs in progress.

Browsers hold only a run id (in a ``dcc.Store``); the results live here, keyed by random
ids, so two sessions never see each other's runs. At most ``max_runs`` finished runs stay
in memory (least recently used first out); a run that leaves memory is written to a
bounded cache directory (Parquet and JSON, :func:`contagion.output.write_run`) and read
back transparently by :meth:`RunStore.get`. When the disk budget is spent the least
recently used spilled runs are deleted: such a run is *expired* (:meth:`RunStore.status`),
and :meth:`RunStore.rerun` recomputes it under the same id from its recipe (scenario, seed,
options: runs are deterministic), so the page's stores stay valid.

Runs execute in a small thread pool; each reports progress and can be cancelled. Spills run
in one background thread of their own, so no callback waits for a write. One
:class:`RunStore` belongs to one app (made by ``create_app``): no module-level state.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from contagion.errors import ContagionError, ParameterError, RunCancelled
from contagion.output import read_run, writable_dir, write_run
from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario

__all__ = ["Job", "Recipe", "RunStatus", "RunStore", "run_dirname"]

log = logging.getLogger(__name__)

RunStatus = Literal["memory", "disk", "expired", "unknown", "running"]
Positions = dict[str, dict[str, float]]

POSITIONS_FILE = "node_positions.json"  # the network view's layout, next to the run's files
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def run_dirname(run_id: str) -> str:
    """The name of run ``run_id``'s directory in the cache: the id itself when it is a safe
    file name (the store's own ids are), else ``h-`` and a hash of it (ids such as
    ``preset-/path/to/mine.toml-0`` never name a path outside the cache)."""
    if _SAFE_NAME.fullmatch(run_id):
        return run_id
    return "h-" + hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:40]


@dataclass
class Job:
    """A run in progress (or finished): progress, status and its cancel switch."""

    run_id: str
    total: int
    done: int = 0
    status: str = "queued"  # queued | running | done | cancelled | failed
    error: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")


@dataclass(frozen=True)
class Recipe:
    """What a run was computed from: ``simulate(scenario, seed=seed, **kwargs)``."""

    scenario: Scenario
    seed: int | None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, result: RunResult) -> Recipe:
        """The recipe of a finished run handed to :meth:`RunStore.put` without one: its
        scenario and seed, and its step count when it stopped before the horizon."""
        steps = result.summary.get("steps")
        kwargs = {"steps": int(steps)} if isinstance(steps, int) and \
            steps != result.scenario.market.steps else {}
        return cls(result.scenario, result.seed, kwargs)

    @property
    def steps(self) -> int:
        steps = self.kwargs.get("steps")
        return int(steps) if steps is not None else self.scenario.market.steps


@dataclass
class _Issued:
    recipe: Recipe
    computed: bool = False  # a result existed once (so a missing one has expired)


def _dir_bytes(path: Path) -> int:
    total = 0
    with os.scandir(path) as it:
        for entry in it:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def _remove_owned(root: Path, owned: set[str], owns_root: bool) -> None:
    """Delete the run directories the store wrote (``owned``) and, if the store made the
    cache directory itself, the directory when nothing else is left in it."""
    for rid in list(owned):
        shutil.rmtree(root / run_dirname(rid), ignore_errors=True)
        owned.discard(rid)
    if owns_root:
        try:
            root.rmdir()
        except OSError:  # something not ours is in it: leave it
            pass


class RunStore:
    """Finished runs by id (memory, then disk), plus the jobs that produce them.

    Parameters
    ----------
    max_runs : int
        Finished runs kept in memory (least recently used leave first, to disk). Pinned
        runs do not count and never leave.
    workers : int
        Runs computed at once; further runs wait in the queue.
    cache_dir : path, optional
        Where runs that leave memory are written, one directory ``<run_id>/`` each
        (:func:`run_dirname`). The
        store deletes only directories it wrote there (never anything else), and deletes
        them all at :meth:`close` (or when it is garbage-collected, or at exit). ``None``:
        a fresh temporary directory of the store's own, removed at close.
    max_disk_bytes : int
        The cache's budget; past it the least recently used spilled runs are deleted
        (they become "expired"; :meth:`rerun` recomputes one).
    max_recipes : int
        Recipes remembered (one per id issued, ~13 kB each in memory); past it the oldest
        ids that have neither a result nor a job are forgotten ("unknown").

    Thread safety: every method may be called from any thread. One lock guards the
    tables; no file is read or written while it is held.
    """

    def __init__(self, *, max_runs: int = 8, workers: int = 2,
                 cache_dir: str | os.PathLike[str] | None = None,
                 max_disk_bytes: int = 2 * 1024**3, max_recipes: int = 10_000) -> None:
        if max_runs < 0:
            raise ParameterError("max_runs", max_runs, "an integer >= 0")
        if max_disk_bytes < 0:
            raise ParameterError("max_disk_bytes", max_disk_bytes, "an integer >= 0")
        self.max_runs = max_runs
        self.max_disk_bytes = max_disk_bytes
        self.max_recipes = max_recipes
        self._owns_root = cache_dir is None
        self.cache_dir = (Path(tempfile.mkdtemp(prefix="contagion-runs-")) if cache_dir is None
                          else writable_dir(cache_dir, name="cache_dir"))
        self._runs: OrderedDict[str, RunResult] = OrderedDict()  # in memory, LRU first
        self._spilling: dict[str, RunResult] = {}  # left memory, being written
        self._loading: dict[str, Future[RunResult | None]] = {}  # being read back
        self._disk: OrderedDict[str, int] = OrderedDict()  # on disk: bytes, LRU first
        self._owned: set[str] = set()  # run directories this store wrote (may delete)
        self._positions_saved: set[str] = set()  # disk copies that hold node positions
        self._issued: OrderedDict[str, _Issued] = OrderedDict()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pinned: set[str] = set()
        self._positions: dict[str, Positions] = {}
        self._io_futures: set[Future[None]] = set()
        self._closed = False
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="contagion-run")
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contagion-spill")
        self._finalizer = weakref.finalize(self, _remove_owned, self.cache_dir, self._owned,
                                           self._owns_root)

    # ------------------------------------------------------------------ results
    def put(self, result: RunResult, *, run_id: str | None = None, pinned: bool = False,
            recipe: Recipe | None = None) -> str:
        """Keep ``result``; return its id. Pinned runs (the default scenario) never leave
        memory. ``recipe``: how to compute it again (default :meth:`Recipe.of`)."""
        rid = run_id or uuid.uuid4().hex
        with self._lock:
            issued = self._issued.get(rid)
            if issued is None:
                issued = self._issued[rid] = _Issued(recipe or Recipe.of(result))
                self._forget_recipes_locked()
            elif recipe is not None:
                issued.recipe = recipe
            issued.computed = True
            if self._runs.get(rid, self._spilling.get(rid)) is not result:
                self._spilling.pop(rid, None)  # replaced: an older copy must not come back
                self._positions.pop(rid, None)
                if rid in self._disk:
                    self._drop_disk_locked(rid)
            self._runs[rid] = result
            self._runs.move_to_end(rid)
            if pinned:
                self._pinned.add(rid)
            self._trim_locked()
        return rid

    def get(self, run_id: str | None) -> RunResult | None:
        """The run ``run_id`` (read back from disk if it was spilled), or ``None`` if it is
        unknown, expired or still running (see :meth:`status`)."""
        if not run_id:
            return None
        with self._lock:
            result = self._runs.get(run_id)
            if result is not None:
                self._runs.move_to_end(run_id)
                if run_id in self._disk:
                    self._disk.move_to_end(run_id)
                return result
            result = self._spilling.get(run_id)
            if result is not None:  # still being written: back into memory as it is
                self._runs[run_id] = result
                self._trim_locked()
                return result
            loading = self._loading.get(run_id)
            if loading is None:
                if run_id not in self._disk:
                    return None
                self._disk.move_to_end(run_id)
                loading = self._loading[run_id] = Future()
                mine = True
            else:
                mine = False
        if not mine:  # another thread is reading it: wait for that read
            return loading.result()
        result, positions = None, None
        path = self.cache_dir / run_dirname(run_id)
        try:
            result = read_run(path)
            if (path / POSITIONS_FILE).is_file():
                positions = json.loads((path / POSITIONS_FILE).read_text(encoding="utf-8"))
        except Exception:  # a damaged or vanished copy: the run has expired
            log.warning("cannot read spilled run %s back from %s", run_id, path, exc_info=True)
            result = None
        finally:  # whatever happened, waiting readers are released
            with self._lock:
                del self._loading[run_id]
                if run_id in self._runs:  # put again while it was being read: that one wins
                    result = self._runs[run_id]
                elif result is None:
                    self._drop_disk_locked(run_id)
                else:
                    self._runs[run_id] = result
                    if positions is not None:
                        self._positions.setdefault(run_id, positions)
                    self._trim_locked()
            loading.set_result(result)
        return result

    def positions(self, run_id: str, compute: Callable[[], Positions]) -> Positions:
        """The network view's node positions for ``run_id``, computed once by ``compute()``
        (kept with the run when it is spilled, read back with it)."""
        with self._lock:
            cached = self._positions.get(run_id)
        if cached is None:
            cached = compute()
            with self._lock:
                if run_id in self._runs or run_id in self._spilling:
                    cached = self._positions.setdefault(run_id, cached)
        return cached

    def status(self, run_id: str | None) -> RunStatus:
        """Where run ``run_id`` is: ``"memory"`` or ``"disk"`` (:meth:`get` returns it),
        ``"running"`` (its job is queued or computing it), ``"expired"`` (it was computed,
        its copy has been deleted: :meth:`rerun` brings it back), ``"unknown"`` (never
        issued here, forgotten, or its job failed or was cancelled: see :meth:`job`)."""
        if not run_id:
            return "unknown"
        with self._lock:
            return self._status_locked(run_id)

    def issued(self) -> list[str]:
        """Every run id this store has issued and still remembers, oldest first."""
        with self._lock:
            return list(self._issued)

    def rerun(self, run_id: str) -> Job:
        """Compute expired run ``run_id`` again from its recipe, under the same id; return the
        job (poll it with :meth:`job`). A run that is there or being computed is not started
        twice: its job (or a finished one) is returned. Raises ``KeyError`` for an id this
        store does not know."""
        with self._lock:
            state = self._status_locked(run_id)
            if state == "running":
                return self._jobs[run_id]
            if state in ("memory", "disk"):
                job = self._jobs.get(run_id)
                if job is not None and job.status == "done":
                    return job
                steps = self._issued[run_id].recipe.steps if run_id in self._issued else 0
                return Job(run_id=run_id, total=steps, done=steps, status="done")
            if state != "expired":
                raise KeyError(f"unknown run id {run_id!r}")
            return self._start_locked(run_id, self._issued[run_id].recipe)

    def disk_bytes(self) -> int:
        """Bytes of the runs now on disk."""
        with self._lock:
            return sum(self._disk.values())

    def __len__(self) -> int:
        return len(self._runs)

    # ------------------------------------------------------------------ jobs
    def submit(self, scenario: Scenario, *, seed: int, **kwargs: Any) -> Job:
        """Start computing a run in the background; return its job (poll :meth:`job`)."""
        recipe = Recipe(scenario, seed, dict(kwargs))
        with self._lock:
            rid = uuid.uuid4().hex
            self._issued[rid] = _Issued(recipe)
            self._forget_recipes_locked()
            return self._start_locked(rid, recipe)

    def job(self, run_id: str | None) -> Job | None:
        """The job computing ``run_id``."""
        if not run_id:
            return None
        with self._lock:
            return self._jobs.get(run_id)

    def cancel(self, run_id: str | None) -> bool:
        """Ask a queued or running job to stop; return whether there was one to stop."""
        job = self.job(run_id)
        if job is None or job.finished:
            return False
        job.cancel.set()
        return True

    # ------------------------------------------------------------------ lifecycle
    def flush(self, timeout: float | None = None) -> None:
        """Wait until every spill started so far is on disk (tests, orderly shutdown)."""
        while True:
            with self._lock:
                pending = self._io_futures = {f for f in self._io_futures if not f.done()}
            if not pending:
                return
            wait(set(pending), timeout=timeout)
            if timeout is not None:
                return

    def close(self) -> None:
        """Cancel the jobs, stop the threads and delete every run directory the store wrote
        (and the cache directory if the store made it). Runs in memory stay readable."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in self._jobs.values():
                job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._io.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._disk.clear()
            self._positions_saved.clear()
            self._spilling.clear()
        self._finalizer()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _status_locked(self, rid: str) -> RunStatus:
        job = self._jobs.get(rid)
        if job is not None and not job.finished:
            return "running"
        if rid in self._runs or rid in self._spilling:
            return "memory"
        if rid in self._disk or rid in self._loading:
            return "disk"
        issued = self._issued.get(rid)
        if issued is not None and issued.computed:
            return "expired"
        return "unknown"

    def _start_locked(self, rid: str, recipe: Recipe) -> Job:
        if self._closed:
            raise RuntimeError("the run store is closed")
        job = Job(run_id=rid, total=recipe.steps)
        self._jobs[rid] = job
        self._jobs.move_to_end(rid)
        while len(self._jobs) > 4 * max(self.max_runs, 1):
            oldest, old = next(iter(self._jobs.items()))
            if not old.finished:
                break
            del self._jobs[oldest]

        def progress(done: int, total: int) -> bool:
            job.done, job.total = done, total
            return not job.cancel.is_set()

        def work() -> None:
            if job.cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
            try:
                result = simulate(recipe.scenario, seed=recipe.seed, on_step=progress,
                                  **recipe.kwargs)
            except RunCancelled:
                job.status = "cancelled"
            except ContagionError as exc:
                job.status, job.error = "failed", str(exc)
            except Exception as exc:  # keep the server up; report the failure to the page
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            else:
                self.put(result, run_id=rid)
                job.status = "done"

        self._pool.submit(work)
        return job

    def _forget_recipes_locked(self) -> None:
        excess = len(self._issued) - self.max_recipes
        if excess <= 0:
            return
        for rid in list(self._issued):
            if excess <= 0:
                break
            if self._status_locked(rid) in ("expired", "unknown") and rid not in self._jobs:
                del self._issued[rid]
                excess -= 1

    def _trim_locked(self) -> None:
        """Move least recently used runs out of memory until ``max_runs`` are left."""
        while len(self._runs) - len(self._pinned & self._runs.keys()) > self.max_runs:
            rid = next(k for k in self._runs if k not in self._pinned)
            result = self._runs.pop(rid)
            settled = rid in self._disk and (rid not in self._positions
                                             or rid in self._positions_saved)
            if settled or self._closed:
                self._positions.pop(rid, None)  # its disk copy has everything (or none will)
                continue
            self._spilling[rid] = result
            self._io_submit(self._spill, rid, result)

    def _io_submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue ``fn(*args)`` on the spill thread (lock held: the store is not closed)."""
        self._io_futures = {f for f in self._io_futures if not f.done()}
        self._io_futures.add(self._io.submit(fn, *args))

    def _spill(self, rid: str, result: RunResult) -> None:
        """(Spill thread) Write ``result`` (and its node positions) to ``cache_dir/rid``,
        then delete least recently used runs past the disk budget."""
        path = self.cache_dir / run_dirname(rid)
        wrote = False
        try:
            with self._lock:
                on_disk = rid in self._disk
                saved = rid in self._positions_saved
                positions = self._positions.get(rid)
            if not on_disk:
                if os.path.lexists(path):  # not ours: never written over, never deleted
                    log.warning("cannot spill run %s: %s exists", rid, path)
                else:
                    write_run(result, path, csv=False)
                    wrote = True
                    with self._lock:
                        self._owned.add(rid)
            if positions is not None and (wrote or (on_disk and not saved)):
                tmp = path / f".{POSITIONS_FILE}.part"
                tmp.write_text(json.dumps(positions), encoding="utf-8")
                os.replace(tmp, path / POSITIONS_FILE)
                saved = True
            size = _dir_bytes(path) if (wrote or on_disk) else 0
        except Exception:  # disk full, permissions...: the run expires (rerun recomputes it)
            log.warning("cannot spill run %s to %s", rid, path, exc_info=True)
            if wrote:
                with self._lock:
                    self._owned.discard(rid)
                shutil.rmtree(path, ignore_errors=True)
            wrote = on_disk = False
        with self._lock:
            current = self._spilling.get(rid) is result or self._runs.get(rid) is result
            if current and (wrote or (on_disk and rid in self._disk)):
                self._disk[rid] = size
                if saved:
                    self._positions_saved.add(rid)
            if self._spilling.get(rid) is result:
                del self._spilling[rid]
                if rid not in self._runs:
                    self._positions.pop(rid, None)
            victims = self._disk_victims_locked()
            if wrote and not current:  # put again under its id meanwhile: this copy is stale
                victims.append(rid)
        for victim in victims:
            self._remove(victim)

    def _disk_victims_locked(self) -> list[str]:
        """Runs to delete from disk to fit the budget, taken out of the tables: copies of
        runs also in memory first (nothing is lost), then the least recently used. A run
        being read back is spared."""
        total = sum(self._disk.values())
        if total <= self.max_disk_bytes:
            return []
        held = [r for r in self._disk if r in self._runs or r in self._spilling]
        rest = [r for r in self._disk if r not in self._runs and r not in self._spilling]
        victims = []
        for rid in held + rest:
            if total <= self.max_disk_bytes:
                break
            if rid in self._loading:
                continue
            total -= self._disk.pop(rid)
            self._positions_saved.discard(rid)
            victims.append(rid)
        return victims

    def _drop_disk_locked(self, rid: str) -> None:
        """Forget a disk copy that cannot be read; delete it (later, in the spill thread)."""
        self._disk.pop(rid, None)
        self._positions_saved.discard(rid)
        if rid in self._owned and not self._closed:
            self._io_submit(self._remove, rid)

    def _remove(self, rid: str) -> None:
        """(Spill thread) Delete run directory ``rid``, which this store wrote."""
        with self._lock:
            if rid in self._disk or rid not in self._owned:  # written again since: keep it
                return
        shutil.rmtree(self.cache_dir / run_dirname(rid), ignore_errors=True)
        with self._lock:
            self._owned.discard(rid)
