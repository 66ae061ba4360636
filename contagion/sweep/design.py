"""The points of a sweep and its runs: which parameter values, which seeds, which ids.

Points are enumerated deterministically from the spec: ``grid`` takes every combination
(the first swept key varies slowest), ``paired`` takes the i-th value of every list,
``random`` draws ``points`` independent uniform points, ``lhs`` a Latin hypercube of
``points``. Run ``i`` is (point ``p``, replication ``r``) with ``i = p * replications + r``;
its seed comes from ``numpy.random.SeedSequence(root_seed).spawn(n_points * replications)[i]``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from contagion.sweep.spec import SpecError, SweepSpec, SweptAxis, SweptRange

__all__ = [
    "DESIGN_SEED_TAG",
    "MAX_RUNS",
    "PlannedRun",
    "check_size",
    "count_points",
    "derive_seeds",
    "design_points",
    "plan_runs",
    "run_id",
]

#: The most runs (design points x replications) one sweep may have. Its manifest lists every
#: run and point, and its pre-check builds the scenario of every point (about half a
#: millisecond each): measured at the limit with a million points, planning takes ~30 s and
#: ~1.3 GB of memory, the manifest is ~90 MB, and the check ~8 minutes on one core. Split a
#: bigger study into several sweeps (different ``out``).
MAX_RUNS = 1_000_000

#: Mixed into the root seed for the random and lhs designs' draws, so that sampling the
#: design never shares a stream with the runs' seeds.
DESIGN_SEED_TAG = 0x64657369


@dataclass(frozen=True, kw_only=True)
class PlannedRun:
    """One run of a sweep: its id, design point, replication and seed."""

    run_id: str
    point: int
    replication: int
    seed: int


def derive_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent per-run seeds: ``SeedSequence(root_seed).spawn(n)``, each child's
    first 32-bit word.

    Examples
    --------
    >>> derive_seeds(20261124, 3) == derive_seeds(20261124, 3)
    True
    >>> len(set(derive_seeds(0, 1000)))
    1000
    """
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def run_id(point: int, replication: int, *, n_points: int = 0) -> str:
    """The stable id of run (``point``, ``replication``), e.g. ``p00012-r003``.

    Examples
    --------
    >>> run_id(12, 3)
    'p00012-r003'
    """
    width = max(5, len(str(max(n_points - 1, 0))))
    return f"p{point:0{width}d}-r{replication:03d}"


def count_points(spec: SweepSpec) -> int:
    """The number of design points of ``spec``, computed arithmetically (nothing expanded).

    Examples
    --------
    >>> from contagion.sweep.spec import parse_spec
    >>> count_points(parse_spec({"sweep": {"name": "s", "root_seed": 1},
    ...                          "swept": {"a": list(range(1000)), "b": list(range(1000)),
    ...                                    "c": list(range(1000))}}))
    1000000000
    """
    lists = [len(a) for a in spec.swept.values() if isinstance(a, tuple)]
    if spec.design == "grid":
        return math.prod(lists)
    if spec.design == "paired":
        return min(lists) if lists else 1
    return int(spec.points or 0)


def check_size(spec: SweepSpec, *, limit: int = MAX_RUNS) -> int:
    """The number of runs of ``spec`` (points x replications); :class:`SpecError` naming the
    axes and their sizes if it exceeds ``limit`` (:data:`MAX_RUNS`). Arithmetic only, so a
    10^9-run design is refused at once, without using memory.

    Examples
    --------
    >>> from contagion.sweep.spec import parse_spec
    >>> check_size(parse_spec({"sweep": {"name": "s", "root_seed": 1, "replications": 10**9}}))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.sweep.spec.SpecError: sweep.replications: the sweep has 1,000,000,000 runs (1 point x ...
    """
    n_points = count_points(spec)
    total = n_points * spec.replications
    if total <= limit:
        return total
    if spec.design == "grid" and spec.swept:
        sizes = " x ".join(f"{k} {len(a):,}" for k, a in spec.swept.items() if isinstance(a, tuple))
        what = f"a grid of {sizes} = {n_points:,} point{'s' if n_points != 1 else ''}"
    elif spec.design == "paired":
        what = f"{n_points:,} paired points"
    else:
        what = f"{n_points:,} point{'s' if n_points != 1 else ''}"
    key = "sweep.replications" if n_points <= limit else (
        "sweep.points" if spec.design in ("random", "lhs") else "swept")
    how = ("fewer replications" if key == "sweep.replications" else
           "fewer points" if key == "sweep.points" else "fewer values on the longest axes")
    raise SpecError(key, f"the sweep has {total:,} runs ({what} x {spec.replications:,} "
                         f"replication{'s' if spec.replications != 1 else ''}), more than the limit "
                         f"of {limit:,} runs (contagion.sweep.MAX_RUNS); narrow it: {how}, or split "
                         "it into several sweeps with different out folders")


def _sample(axis: SweptAxis, u: np.ndarray) -> list[Any]:
    """Map uniforms ``u`` in [0, 1) to values of ``axis`` (a list of choices or a range)."""
    if not isinstance(axis, SweptRange):
        idx = np.minimum((u * len(axis)).astype(np.int64), len(axis) - 1)
        return [axis[i] for i in idx]
    low, high = float(axis.low), float(axis.high)
    if axis.integer:
        if axis.log:
            x = np.exp(np.log(low) + u * (np.log(high + 1) - np.log(low)))
        else:
            x = low + u * (high - low + 1)
        return [int(v) for v in np.minimum(np.floor(x), high)]
    if axis.log:
        return [float(v) for v in np.exp(np.log(low) + u * (np.log(high) - np.log(low)))]
    return [float(v) for v in low + u * (high - low)]


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The design points of ``spec``: one ``{swept key: value}`` dict per point.

    A spec with nothing swept has one point (``{}``), run ``replications`` times.

    Examples
    --------
    >>> from contagion.sweep.spec import parse_spec
    >>> spec = parse_spec({"sweep": {"name": "s", "root_seed": 1},
    ...                    "swept": {"a": [1, 2], "b": [True, False]}})
    >>> design_points(spec)
    [{'a': 1, 'b': True}, {'a': 1, 'b': False}, {'a': 2, 'b': True}, {'a': 2, 'b': False}]
    >>> spec = parse_spec({"sweep": {"name": "s", "root_seed": 1, "design": "lhs", "points": 4},
    ...                    "swept": {"x": {"low": 0.0, "high": 1.0}}})
    >>> sorted(int(p["x"] * 4) for p in design_points(spec))   # one point per stratum
    [0, 1, 2, 3]
    """
    keys = list(spec.swept)
    axes = [spec.swept[k] for k in keys]
    if spec.design == "grid":
        lists = [a for a in axes if isinstance(a, tuple)]
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*lists)]
    if spec.design == "paired":
        lists = [a for a in axes if isinstance(a, tuple)]
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*lists, strict=True)]
    n = int(spec.points or 0)
    rng = np.random.default_rng(np.random.SeedSequence([spec.root_seed, DESIGN_SEED_TAG]))
    if spec.design == "random":
        u = rng.random((n, len(keys)))
    else:  # lhs: one point in each of n strata per dimension, strata shuffled per dimension
        u = np.empty((n, len(keys)))
        for j in range(len(keys)):
            u[:, j] = (rng.permutation(n) + rng.random(n)) / n
    columns = [_sample(axis, u[:, j]) for j, axis in enumerate(axes)]
    return [{k: columns[j][i] for j, k in enumerate(keys)} for i in range(n)]


def plan_runs(n_points: int, replications: int, root_seed: int) -> list[PlannedRun]:
    """Every run of the sweep, in order: point-major, then replication.

    Examples
    --------
    >>> runs = plan_runs(2, 2, root_seed=7)
    >>> [r.run_id for r in runs]
    ['p00000-r000', 'p00000-r001', 'p00001-r000', 'p00001-r001']
    >>> [r.seed for r in runs] == derive_seeds(7, 4)
    True
    """
    seeds = derive_seeds(root_seed, n_points * replications)
    return [PlannedRun(run_id=run_id(p, r, n_points=n_points), point=p, replication=r,
                       seed=seeds[p * replications + r])
            for p in range(n_points) for r in range(replications)]
