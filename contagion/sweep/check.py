"""Check a sweep spec against its scenario before any run starts.

:func:`check_spec` checks the scenario name, every ``[fixed]`` and ``[swept]`` key (a
keyword parameter of the preset, or a dotted path to a scenario field) and the type of
every value against the parameter's own type, and returns the spec with values normalised
(an integer given for a float parameter becomes a float). :func:`check_points` then builds
the scenario of every design point once (about a millisecond each), so a value the preset
or the scenario rejects, alone or in combination, stops the sweep before it starts.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Executor, Future, as_completed
from typing import Any, TextIO

from contagion.errors import ContagionError, ParameterError, UnknownScenarioError
from contagion.scenario import Scenario
from contagion.sweep.spec import SpecError, SweepSpec, SweptAxis, SweptRange
from contagion.sweep.task import IDENTITY_COLUMNS, blame_key, build_scenario

__all__ = ["CHUNK_POINTS", "PARALLEL_POINTS", "PROGRESS_POINTS", "check_chunk", "check_points",
           "check_spec", "field_value"]


def _labels(items: tuple[Any, ...]) -> list[str]:
    return [str(getattr(x, "name", None) or getattr(x, "asset", None)) for x in items]


def field_value(scenario: Scenario, path: str, *, key: str) -> Any:
    """The current value of the scenario field at dotted ``path`` (its type is the type a
    sweep value must have); :class:`SpecError` naming ``key`` if there is no such field.

    Examples
    --------
    >>> from models import get_scenario
    >>> field_value(get_scenario("default"), "lending.LendA.reserve_usd", key="k") > 0
    True
    >>> field_value(get_scenario("default"), "lending.LendZ.reserve_usd", key="swept.k")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.sweep.spec.SpecError: swept.k: unknown parameter path: no 'LendZ' in lending (known: ...)
    """
    obj: Any = scenario
    done = "the scenario"
    for part in path.split("."):
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = [f.name for f in dataclasses.fields(obj)]
            if part not in names:
                raise SpecError(key, f"unknown parameter path: no field {part!r} in {done} "
                                     f"(known: {', '.join(names)})")
            obj = getattr(obj, part)
        elif isinstance(obj, tuple):
            labels = _labels(obj)
            if part not in labels:
                raise SpecError(key, f"unknown parameter path: no {part!r} in {done} "
                                     f"(known: {', '.join(labels)})")
            obj = obj[labels.index(part)]
        else:
            raise SpecError(key, f"unknown parameter path: {done} is a value, not a group")
        done = part
    if dataclasses.is_dataclass(obj) or isinstance(obj, tuple):
        raise SpecError(key, f"{path} is a group of parameters, not a parameter")
    return obj


def _normalise(key: str, current: Any, value: Any) -> Any:
    """``value`` checked against the type of ``current``, converted int -> float if needed."""
    if isinstance(current, bool):
        kind, ok = "a bool", isinstance(value, bool)
    elif isinstance(current, int):
        kind, ok = "an int", isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        kind, ok = "a number", isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            value = float(value)
    elif isinstance(current, str):
        kind, ok = "a string", isinstance(value, str)
    else:  # None or another type: the scenario's own checks decide
        kind, ok = "", True
    if not ok:
        raise SpecError(key, f"value {value!r} is not {kind}")
    return value


def _check_axis(key: str, current: Any, axis: SweptAxis) -> SweptAxis:
    if not isinstance(axis, SweptRange):
        values = tuple(_normalise(key, current, v) for v in axis)
        if len(set(map(repr, values))) != len(values):
            raise SpecError(key, f"lists a value twice: {list(values)}")
        return values
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise SpecError(key, f"a range needs a numeric parameter (this one is {current!r}); "
                             "give a list of values instead")
    if isinstance(current, int) and not axis.integer:
        raise SpecError(key, "an integer parameter needs integer = true in its range")
    return axis


def _suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def check_spec(spec: SweepSpec) -> SweepSpec:
    """``spec`` checked against its scenario's parameters, with values normalised.

    Raises
    ------
    SpecError
        Naming the key: ``sweep.scenario`` (unknown scenario), ``swept.X`` / ``fixed.X``
        (unknown parameter, value of the wrong type, a range on a non-numeric parameter),
        ``swept.X`` for a name that collides with a result column.

    Examples
    --------
    >>> from contagion.sweep.spec import parse_spec
    >>> spec = parse_spec({"sweep": {"name": "s", "root_seed": 1},
    ...                    "swept": {"mean_levrage": [2.0, 4.0]}})
    >>> try:
    ...     check_spec(spec)
    ... except SpecError as exc:
    ...     print(exc.key)
    ...     print(str(exc).split(" (")[1][:29])
    swept.mean_levrage
    did you mean 'mean_leverage'?
    """
    from models import SCENARIOS, is_scenario_file, scenario_parameters

    if not is_scenario_file(spec.scenario) and spec.scenario not in SCENARIOS:
        raise SpecError("sweep.scenario", f"unknown scenario {spec.scenario!r} "
                                          f"(known: {', '.join(sorted(SCENARIOS))}, or a "
                                          "scenario file's path ending .toml or .json)")
    try:
        preset = scenario_parameters(spec.scenario)
    except ContagionError as exc:  # the scenario file cannot be read
        raise SpecError("sweep.scenario", str(exc)) from None
    sections: list[tuple[str, Mapping[str, Any]]] = [("fixed", spec.fixed), ("swept", spec.swept)]
    for where, table in sections:
        for k in table:
            if "." not in k and k not in preset:
                raise SpecError(f"{where}.{k}", f"unknown parameter of scenario {spec.scenario!r} "
                                                f"({_suggest(k, list(preset))}known: {', '.join(preset)}; "
                                                "or a dotted path such as lending.LendA.reserve_usd)")
    for k in spec.swept:
        if k in IDENTITY_COLUMNS:
            raise SpecError(f"swept.{k}", f"collides with the result column {k!r}")
    fixed: dict[str, Any] = {}
    for k, v in spec.fixed.items():
        if k in preset:
            fixed[k] = _normalise(f"fixed.{k}", preset[k], v)
    try:
        base = build_scenario(spec.scenario, fixed)
    except ParameterError as exc:
        key = blame_key(exc.name, fixed)
        raise SpecError(f"fixed.{key}" if key else "fixed", str(exc)) from None
    for k, v in spec.fixed.items():
        if k not in preset:
            fixed[k] = _normalise(f"fixed.{k}", field_value(base, k, key=f"fixed.{k}"), v)
    swept: dict[str, SweptAxis] = {}
    for k, axis in spec.swept.items():
        current = preset[k] if k in preset else field_value(base, k, key=f"swept.{k}")
        swept[k] = _check_axis(f"swept.{k}", current, axis)
    return dataclasses.replace(spec, fixed=fixed, swept=swept)


#: Designs with more points than this show the progress of their pre-check on stderr.
PROGRESS_POINTS = 2_000
#: Designs with more points than this are checked on the sweep's process pool, if it has one.
PARALLEL_POINTS = 5_000
#: Points per chunk of a parallel check.
CHUNK_POINTS = 2_000


def _first_points(spec: SweepSpec) -> list[tuple[int, dict[str, Any]]]:
    """For a grid: one point per distinct value of each axis (the others at their first
    value), with its index in the design: the point where that value first appears."""
    lists = [(k, a) for k, a in spec.swept.items() if isinstance(a, tuple)]
    sizes = [len(a) for _, a in lists]
    strides = [math.prod(sizes[j + 1:]) for j in range(len(sizes))]
    first = {k: a[0] for k, a in lists}
    out: dict[int, dict[str, Any]] = {}
    for j, (key, axis) in enumerate(lists):
        for i, value in enumerate(axis):
            out.setdefault(i * strides[j], {**first, key: value})
    return sorted(out.items())


def _check_one(spec: SweepSpec, p: int, values: Mapping[str, Any]) -> None:
    params = {**spec.fixed, **values}
    try:
        build_scenario(spec.scenario, params)
    except (ParameterError, UnknownScenarioError) as exc:
        name = exc.name if isinstance(exc, ParameterError) else "sweep.scenario"
        key = blame_key(name, values)
        if key is not None:
            raise SpecError(f"swept.{key}", f"value {values[key]!r} at point {p} is rejected: "
                                            f"{exc}") from None
        fixed_key = blame_key(name, spec.fixed)
        where = f"fixed.{fixed_key}" if fixed_key else "swept"
        raise SpecError(where, f"point {p} ({values}) is rejected: {exc}") from None


def check_points(spec: SweepSpec, points: Sequence[Mapping[str, Any]], *,
                 progress: TextIO | None = None, executor: Executor | None = None,
                 workers: int = 1) -> None:
    """Build the scenario of every design point once; :class:`SpecError` naming the key
    (and the point) whose value the preset or the scenario rejects.

    A grid is checked in two passes: first each distinct value of each axis once (the other
    axes at their first value), so that a value rejected on its own is reported at once,
    whatever the size of the grid; then every combination, because the scenario also checks
    fields against each other (a collateral's ``ltv`` at most its ``liquidation_threshold``,
    ``liquidation_threshold * (1 + liquidation_bonus) < 1``...), so a combination of values
    accepted one by one can still be rejected.
    A design of more than :data:`PROGRESS_POINTS` points reports the progress of the second
    pass on ``progress``; with an ``executor`` (the sweep's process pool, of ``workers``
    processes), a design of more than :data:`PARALLEL_POINTS` points is checked on it in
    chunks of :data:`CHUNK_POINTS`, with the same verdict and message.

    Examples
    --------
    >>> from contagion.sweep.spec import parse_spec
    >>> spec = check_spec(parse_spec({"sweep": {"name": "s", "root_seed": 1},
    ...                               "fixed": {"n_traders": 150},
    ...                               "swept": {"shock_frac": [0.2, 1.5]}}))
    >>> try:
    ...     check_points(spec, [{"shock_frac": 0.2}, {"shock_frac": 1.5}])
    ... except SpecError as exc:
    ...     print(exc.key)
    ...     print(exc.detail)
    swept.shock_frac
    value 1.5 at point 1 is rejected: parameter 'shock_frac' = 1.5 is invalid: allowed 0 <= x < 1
    """
    n = len(points)
    if spec.design == "grid" and n > 1:
        for p, first in _first_points(spec):
            _check_one(spec, p, first)
    show = progress is not None and n > PROGRESS_POINTS
    if show:
        where = f" on {workers} processes" if executor is not None and workers > 1 else ""
        print(f"{spec.name}: checking the scenario of each of the {n:,} design points{where} "
              "before any run", file=progress, flush=True)
    t0 = last = time.monotonic()
    step = max(n // 20, 1)

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if show and (now - last >= 1.0 or done == n):
            left = (now - t0) / done * (n - done)
            print(f"{spec.name}: checking the design: {done:,}/{n:,} points "
                  f"({100 * done // n}%), about {left:.0f} s left", file=progress, flush=True)
            last = now

    if executor is not None and n > PARALLEL_POINTS:
        _check_parallel(spec, points, executor, report)
        return
    for p, values in enumerate(points):
        _check_one(spec, p, values)
        if (p + 1) % step == 0:
            report(p + 1)


def check_chunk(spec: SweepSpec, start: int,
                points: Sequence[Mapping[str, Any]]) -> tuple[int, str, str] | None:
    """Check ``points`` (design points ``start``, ``start + 1``...): ``None`` if every one
    builds, else the first rejected one's ``(point, key, message)`` (a worker function)."""
    for i, values in enumerate(points):
        try:
            _check_one(spec, start + i, values)
        except SpecError as exc:
            return start + i, exc.key, exc.detail
    return None


def _check_parallel(spec: SweepSpec, points: Sequence[Mapping[str, Any]], executor: Executor,
                    report: Callable[[int], None]) -> None:
    """Every point checked on ``executor`` in chunks; the first rejected point (in design
    order, whatever finishes first) is raised."""
    n = len(points)
    size = max(CHUNK_POINTS, 1)
    futures: dict[Future[tuple[int, str, str] | None], int] = {
        executor.submit(check_chunk, spec, start, list(points[start:start + size])): start
        for start in range(0, n, size)}
    done = 0
    first: tuple[int, str, str] | None = None
    try:
        for fut in as_completed(futures):
            start = futures[fut]
            result = fut.result()
            if result is not None and (first is None or result[0] < first[0]):
                first = result
                for other, other_start in futures.items():  # later chunks cannot matter now
                    if other_start > start:
                        other.cancel()
            done += min(size, n - start)
            report(done)
    except CancelledError:  # pragma: no cover - as_completed skips cancelled futures
        pass
    finally:
        for fut in futures:
            fut.cancel()
    if first is not None:
        raise SpecError(first[1], first[2])
