"""One BLAS thread in the CLI and sweep workers (issue 14), unless the user chose a count."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import os, sys
from contagion.threads import limit_blas_threads
before = 'numpy' in sys.modules
print(limit_blas_threads(), before, os.environ.get('OPENBLAS_NUM_THREADS'))
import numpy
from threadpoolctl import threadpool_info
print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))
"""

LATE = """
import numpy
from threadpoolctl import threadpool_info
from contagion.threads import limit_blas_threads
print(limit_blas_threads())
print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))
"""


def _run(code: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_NUM_THREADS",
                                                                     "MAXIMUM_THREADS"))}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, check=True,
                         capture_output=True, text=True)
    return out.stdout.splitlines()


def test_the_engine_runs_blas_on_one_thread() -> None:
    assert _run(CHECK) == ["True False 1", "[1]"]


def test_numpy_loaded_first_is_limited_live() -> None:
    assert _run(LATE) == ["True", "[1]"]


def test_a_users_own_count_wins() -> None:
    first, pools = _run(CHECK, OPENBLAS_NUM_THREADS="2")
    assert first == "False False 2"
    assert pools in ("[2]", "[1]")  # 2, or 1 on a one-core machine: never limited by us
