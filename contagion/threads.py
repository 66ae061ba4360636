"""One BLAS thread per process for the engine's commands and sweep workers.

The engine's matrix products are small (a book's ``collateral @ prices``): OpenBLAS's
thread pool only burns a second core waiting on them (measured by
``experiments/bench/bench_blas.py``), and sweep workers already use every core one
process each. :func:`limit_blas_threads` sets the usual thread-count variables for this
process and the processes it starts (a sweep's fork server and workers inherit them) and,
when numpy is already loaded, limits its running pool with ``threadpoolctl``. A user's own
setting wins: if any of the variables is set, nothing is changed.
"""

from __future__ import annotations

import os
import sys

__all__ = ["BLAS_THREAD_VARIABLES", "limit_blas_threads"]

#: The variables OpenBLAS, OpenMP, MKL, BLIS and Accelerate read for their thread counts.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")

_limited = False


def limit_blas_threads(threads: int = 1) -> bool:
    """Run BLAS with ``threads`` threads in this process and its children, unless the user
    chose a count (any of :data:`BLAS_THREAD_VARIABLES` set). Returns whether it limited.
    Idempotent."""
    global _limited
    if _limited:
        return True
    if any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        return False
    for v in BLAS_THREAD_VARIABLES:
        os.environ[v] = str(threads)
    if "numpy" in sys.modules:  # its BLAS pool started with the old count: limit it live
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    _limited = True
    return True
