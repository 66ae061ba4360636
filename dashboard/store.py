"""Server-side state of the dashboard: finished runs and runs in progress.

Browsers hold only a run id (in a ``dcc.Store``); the results live here, in a bounded LRU
cache keyed by random ids, so two sessions never see each other's runs and memory stays
bounded. Runs execute in a small thread pool; each reports progress and can be cancelled.
One :class:`RunStore` belongs to one app (made by ``create_app``): no module-level state.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from contagion.errors import ContagionError, RunCancelled
from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario

__all__ = ["Job", "RunStore"]


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


class RunStore:
    """Bounded cache of :class:`RunResult` by run id, plus the jobs that produce them.

    Parameters
    ----------
    max_runs : int
        Finished runs kept (least recently used evicted first).
    workers : int
        Runs computed at once; further runs wait in the queue.
    """

    def __init__(self, *, max_runs: int = 8, workers: int = 2) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, RunResult] = OrderedDict()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pinned: set[str] = set()
        self._positions: dict[str, dict[str, dict[str, float]]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="contagion-run")

    # ------------------------------------------------------------------ results
    def put(self, result: RunResult, *, run_id: str | None = None, pinned: bool = False) -> str:
        """Keep ``result``; return its id. Pinned runs (the default scenario) never expire."""
        rid = run_id or uuid.uuid4().hex
        with self._lock:
            self._runs[rid] = result
            self._runs.move_to_end(rid)
            if pinned:
                self._pinned.add(rid)
            while len(self._runs) - len(self._pinned) > self.max_runs:
                oldest = next(k for k in self._runs if k not in self._pinned)
                del self._runs[oldest]
                self._positions.pop(oldest, None)
        return rid

    def positions(self, run_id: str, compute: Any) -> dict[str, dict[str, float]]:
        """The network view's node positions for ``run_id``, computed once by ``compute()``."""
        with self._lock:
            cached = self._positions.get(run_id)
        if cached is None:
            cached = compute()
            with self._lock:
                if run_id in self._runs:
                    self._positions[run_id] = cached
        return cached

    def get(self, run_id: str | None) -> RunResult | None:
        """The run ``run_id``, or ``None`` if unknown or evicted."""
        if not run_id:
            return None
        with self._lock:
            result = self._runs.get(run_id)
            if result is not None:
                self._runs.move_to_end(run_id)
            return result

    def __len__(self) -> int:
        return len(self._runs)

    # ------------------------------------------------------------------ jobs
    def submit(self, scenario: Scenario, *, seed: int, **kwargs: Any) -> Job:
        """Start computing a run in the background; return its job (poll :meth:`job`)."""
        job = Job(run_id=uuid.uuid4().hex, total=scenario.market.steps)
        with self._lock:
            self._jobs[job.run_id] = job
            while len(self._jobs) > 4 * self.max_runs:
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
                result = simulate(scenario, seed=seed, on_step=progress, **kwargs)
            except RunCancelled:
                job.status = "cancelled"
            except ContagionError as exc:
                job.status, job.error = "failed", str(exc)
            except Exception as exc:  # keep the server up; report the failure to the page
                job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            else:
                self.put(result, run_id=job.run_id)
                job.status = "done"

        self._pool.submit(work)
        return job

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
