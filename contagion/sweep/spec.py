"""A sweep spec: what to run, read from a TOML file and checked key by key.

:func:`load_spec` reads the file, :func:`parse_spec` turns its tables into a frozen
:class:`SweepSpec` and :func:`apply_smoke` gives the small variant that ``--smoke`` runs.
These checks need no scenario; the checks against the scenario's own parameters (unknown
key, wrong type, values the model rejects) are in :mod:`contagion.sweep.check`.

Every error is a :class:`SpecError` whose message starts with the offending key, e.g.
``sweep.replications: must be an integer >= 1, got 0``.
"""

from __future__ import annotations

import dataclasses
import math
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contagion.errors import ContagionError

__all__ = [
    "DESIGNS",
    "MAX_NAME_LENGTH",
    "MAX_SPEC_BYTES",
    "SmokeSpec",
    "SpecError",
    "SweepSpec",
    "SweptRange",
    "apply_smoke",
    "check_name",
    "load_spec",
    "parse_spec",
]

DESIGNS = ("grid", "paired", "random", "lhs")
_SWEEP_KEYS = ("name", "scenario", "design", "points", "replications", "root_seed", "out", "metrics")
_SMOKE_KEYS = ("replications", "points", "out", "fixed", "swept")
_RANGE_KEYS = ("low", "high", "log", "integer")
#: The longest sweep name (it names the output folder ``runs/sweeps/<name>``).
MAX_NAME_LENGTH = 100
#: The largest spec file read (a spec is a few hundred bytes; a bigger file is the wrong one).
MAX_SPEC_BYTES = 10_000_000


class SpecError(ContagionError, ValueError):
    """A sweep spec is invalid; ``key`` is the dotted key at fault (``swept.shock_frac``).

    Examples
    --------
    >>> str(SpecError("swept.shock_frac", "empty range"))
    'swept.shock_frac: empty range'
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.detail = message  # the message without the key, for callers that add to it
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True, kw_only=True)
class SweptRange:
    """A continuous (or integer) range sampled by the ``random`` and ``lhs`` designs.

    ``log`` samples uniformly in log space (``low > 0``); ``integer`` draws integers in
    ``[low, high]`` (both included).
    """

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The range as its TOML table."""
        return dataclasses.asdict(self)


SweptAxis = tuple[Any, ...] | SweptRange


@dataclass(frozen=True, kw_only=True)
class SmokeSpec:
    """The ``[smoke]`` table: what ``--smoke`` replaces to make the sweep small."""

    replications: int | None = None
    points: int | None = None
    out: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    swept: Mapping[str, SweptAxis] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """A parsed sweep spec (see the package docstring for the TOML format).

    Examples
    --------
    >>> spec = parse_spec({"sweep": {"name": "s", "root_seed": 1, "replications": 2},
    ...                    "swept": {"shock_frac": [0.1, 0.2, 0.3]}})
    >>> spec.design, spec.replications, spec.swept["shock_frac"]
    ('grid', 2, (0.1, 0.2, 0.3))
    """

    name: str
    root_seed: int
    scenario: str = "default"
    design: str = "grid"
    points: int | None = None
    replications: int = 1
    out: str = ""
    metrics: tuple[str, ...] | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    swept: Mapping[str, SweptAxis] = field(default_factory=dict)
    smoke: SmokeSpec | None = None

    @property
    def out_dir(self) -> Path:
        """The output directory: ``out``, or ``runs/sweeps/<name>``."""
        return Path(self.out or f"runs/sweeps/{self.name}")

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-able data (what the manifest stores), without ``[smoke]``."""
        return {
            "name": self.name,
            "scenario": self.scenario,
            "design": self.design,
            "points": self.points,
            "replications": self.replications,
            "root_seed": self.root_seed,
            "out": self.out,
            "metrics": None if self.metrics is None else list(self.metrics),
            "fixed": dict(self.fixed),
            "swept": {k: v.to_dict() if isinstance(v, SweptRange) else list(v)
                      for k, v in self.swept.items()},
        }


def load_spec(path: str | Path) -> SweepSpec:
    """Read and parse the TOML sweep spec at ``path``; ``name`` defaults to the file's stem.

    A ``sweep.scenario`` that is a scenario file's relative path (``mine.toml``) is read
    relative to the spec's own folder, and kept as an absolute path (what workers open).
    """
    if "\x00" in str(path) or not str(path).strip():
        raise SpecError("spec", f"{str(path)!r} is not a file name (a .toml file such as "
                                "experiments/leverage_shock.toml)")
    path = Path(path)
    data = _read_toml(path)
    if not data:
        raise SpecError("spec", f"{path} is empty: a spec needs at least a [sweep] table with "
                                "root_seed = N (see experiments/leverage_shock.toml)")
    try:
        spec = parse_spec(data, default_name=path.stem)
    except SpecError as exc:
        if exc.key == "sweep.name" and "name" not in data.get("sweep", {}):
            raise SpecError("sweep.name", f"{exc.detail}; the name was taken "
                                          f"from the file name {path.name!r}: set name = \"...\" "
                                          "in [sweep]") from None
        raise
    if spec.scenario.lower().endswith((".toml", ".json")) and not Path(spec.scenario).is_absolute():
        spec = dataclasses.replace(spec, scenario=str((path.parent / spec.scenario).resolve()))
    return spec


def _read_toml(path: Path) -> dict[str, Any]:
    """The tables of the TOML file at ``path``; :class:`SpecError` (key ``spec``) naming the
    file if it is missing, not a regular file, too large, unreadable, not UTF-8 or not TOML."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SpecError("spec", f"no such file {str(path)!r}") from None
    except OSError as exc:
        raise SpecError("spec", f"cannot read {str(path)!r}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise SpecError("spec", f"{str(path)!r} is a directory, not a spec file (a .toml file "
                                "such as experiments/leverage_shock.toml)")
    if not stat.S_ISREG(st.st_mode):
        raise SpecError("spec", f"{str(path)!r} is not a regular file (a .toml file such as "
                                "experiments/leverage_shock.toml)")
    if st.st_size > MAX_SPEC_BYTES:
        raise SpecError("spec", f"{str(path)!r} has {st.st_size:,} bytes, more than a spec may "
                                f"have ({MAX_SPEC_BYTES:,}); is it the right file?")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError("spec", f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError("spec", f"{str(path)!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on "
                                f"line {line}); save it as UTF-8, as TOML requires") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("spec", f"{path} is not valid TOML: {exc}") from None


def check_name(name: Any, *, key: str = "sweep.name") -> str:
    """``name`` if it is a usable sweep name: it names the default output folder
    ``runs/sweeps/<name>``, so it must stay one plain folder name.

    Examples
    --------
    >>> check_name("leverage_shock-v2.1")
    'leverage_shock-v2.1'
    >>> check_name("../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.sweep.spec.SpecError: sweep.name: '../x' is not allowed: a name has 1 to 100 letters, ...
    """
    if (not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH
            or name[0] in ". " or name[-1] == " "
            or not all(c.isalnum() or c in "_-. " for c in name)):
        raise SpecError(key, f"{name!r} is not allowed: a name has 1 to {MAX_NAME_LENGTH} letters, "
                             "digits, '_', '-', '.' or spaces, and does not start with '.' or a "
                             "space (it names the folder runs/sweeps/<name>)")
    return name


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _count(key: str, value: Any, low: int) -> int:
    if not _is_int(value) or value < low:
        raise SpecError(key, f"must be an integer >= {low}, got {value!r}")
    return int(value)


def _table(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(key, f"must be a table, got {value!r}")
    return value


def _unknown(where: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for k in data:
        if k not in known:
            raise SpecError(f"{where}.{k}" if where else k,
                            f"unknown key (known: {', '.join(known)})")


def _parse_range(key: str, raw: Mapping[str, Any]) -> SweptRange:
    _unknown(key, raw, _RANGE_KEYS)
    for bound in ("low", "high"):
        if bound not in raw:
            raise SpecError(key, f"a range needs {bound!r} (a table {{low, high, log, integer}})")
        if not _is_real(raw[bound]) or not math.isfinite(raw[bound]):
            raise SpecError(f"{key}.{bound}", f"must be a finite number, got {raw[bound]!r}")
    for flag in ("log", "integer"):
        if not isinstance(raw.get(flag, False), bool):
            raise SpecError(f"{key}.{flag}", f"value {raw[flag]!r} is not a bool")
    rng = SweptRange(low=raw["low"], high=raw["high"], log=raw.get("log", False),
                     integer=raw.get("integer", False))
    if not rng.low < rng.high:
        raise SpecError(key, f"empty range (low {rng.low!r} must be < high {rng.high!r})")
    if rng.log and rng.low <= 0:
        raise SpecError(f"{key}.low", f"a log range needs low > 0, got {rng.low!r}")
    if rng.integer and not (float(rng.low).is_integer() and float(rng.high).is_integer()):
        raise SpecError(key, "an integer range needs integer low and high")
    return rng


def _parse_axis(key: str, raw: Any, design: str) -> SweptAxis:
    if isinstance(raw, list):
        if not raw:
            raise SpecError(key, "empty range (no values)")
        for v in raw:
            if isinstance(v, list | dict):
                raise SpecError(key, f"value {v!r} is not a scalar")
        return tuple(raw)
    if isinstance(raw, Mapping):
        if design in ("grid", "paired"):
            raise SpecError(key, f"a {design} design needs a list of values, got a table "
                                 "(ranges are for design = 'random' or 'lhs')")
        return _parse_range(key, raw)
    raise SpecError(key, f"must be a list of values or a table {{low, high}}, got {raw!r}")


def _parse_fixed(where: str, raw: Any) -> dict[str, Any]:
    out = {}
    for k, v in _table(where, raw).items():
        if isinstance(v, list | dict):
            raise SpecError(f"{where}.{k}", f"value {v!r} is not a scalar")
        out[k] = v
    return out


def _check_design(spec: SweepSpec) -> None:
    if spec.design in ("grid", "paired") and spec.points is not None:
        raise SpecError("sweep.points", f"only for the random and lhs designs, not {spec.design!r}")
    if spec.design in ("random", "lhs") and spec.points is None:
        raise SpecError("sweep.points", f"the {spec.design} design needs points = N")
    if spec.design == "paired":
        lengths = {k: len(v) for k, v in spec.swept.items() if isinstance(v, tuple)}
        if len(set(lengths.values())) > 1:
            first, n = next(iter(lengths.items()))
            for k, m in lengths.items():
                if m != n:
                    raise SpecError(f"swept.{k}", f"a paired design needs lists of equal length "
                                                  f"({first} has {n} values, {k} has {m})")
    for k in spec.fixed:
        if k in spec.swept:
            raise SpecError(f"fixed.{k}", "is also swept; keep it in one of [fixed] and [swept]")


def parse_spec(data: Mapping[str, Any], *, default_name: str | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from the parsed TOML tables, checking every key.

    Raises
    ------
    SpecError
        Naming the key: unknown tables or keys, wrong types, empty ranges, a design without
        ``points``, paired lists of different lengths.

    Examples
    --------
    >>> parse_spec({"sweep": {"name": "s", "root_seed": 1, "design": "sobol"}})
    Traceback (most recent call last):
    ...
    contagion.sweep.spec.SpecError: sweep.design: unknown design 'sobol' (known: grid, paired, random, lhs)
    """
    _unknown("", data, ("sweep", "fixed", "swept", "smoke"))
    sweep = _table("sweep", data.get("sweep", {}))
    _unknown("sweep", sweep, _SWEEP_KEYS)
    name = sweep.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise SpecError("sweep.name", f"must be a non-empty string, got {name!r}")
    name = check_name(name.strip())
    scenario = sweep.get("scenario", "default")
    if not isinstance(scenario, str):
        raise SpecError("sweep.scenario", f"must be a preset name or a scenario file's path, "
                                          f"got {scenario!r}")
    design = sweep.get("design", "grid")
    if design not in DESIGNS:
        raise SpecError("sweep.design", f"unknown design {design!r} (known: {', '.join(DESIGNS)})")
    points = sweep.get("points")
    if points is not None:
        points = _count("sweep.points", points, 1)
    if "root_seed" not in sweep:
        raise SpecError("sweep.root_seed", "missing (a non-negative integer, e.g. 20261124)")
    root_seed = _count("sweep.root_seed", sweep["root_seed"], 0)
    replications = _count("sweep.replications", sweep.get("replications", 1), 1)
    out = sweep.get("out", "")
    if not isinstance(out, str):
        raise SpecError("sweep.out", f"must be a directory path, got {out!r}")
    metrics = sweep.get("metrics")
    if metrics is not None:
        if (not isinstance(metrics, list) or not metrics
                or not all(isinstance(m, str) and m for m in metrics)):
            raise SpecError("sweep.metrics", f"must be a non-empty list of metric names, got {metrics!r}")
        if len(set(metrics)) != len(metrics):
            raise SpecError("sweep.metrics", "lists a metric twice")
        metrics = tuple(metrics)
    fixed = _parse_fixed("fixed", data.get("fixed", {}))
    swept = {k: _parse_axis(f"swept.{k}", v, design)
             for k, v in _table("swept", data.get("swept", {})).items()}
    if not swept and design != "grid":
        raise SpecError("swept", f"the {design} design needs at least one swept parameter")
    smoke = None
    if "smoke" in data:
        raw = _table("smoke", data["smoke"])
        _unknown("smoke", raw, _SMOKE_KEYS)
        smoke_out = raw.get("out")
        if smoke_out is not None and not isinstance(smoke_out, str):
            raise SpecError("smoke.out", f"must be a directory path, got {smoke_out!r}")
        smoke = SmokeSpec(
            replications=(None if "replications" not in raw
                          else _count("smoke.replications", raw["replications"], 1)),
            points=None if "points" not in raw else _count("smoke.points", raw["points"], 1),
            out=smoke_out,
            fixed=_parse_fixed("smoke.fixed", raw.get("fixed", {})),
            swept={k: _parse_axis(f"smoke.swept.{k}", v, design)
                   for k, v in _table("smoke.swept", raw.get("swept", {})).items()},
        )
        for k in smoke.swept:
            if k not in swept:
                raise SpecError(f"smoke.swept.{k}", "is not swept in [swept]; smoke can only "
                                                    "shrink the swept parameters")
        for k in smoke.fixed:
            if k in swept:
                raise SpecError(f"smoke.fixed.{k}", "is swept; shrink it in [smoke.swept]")
        if smoke.points is not None and design not in ("random", "lhs"):
            raise SpecError("smoke.points", f"only for the random and lhs designs, not {design!r}")
    spec = SweepSpec(name=name, scenario=scenario, design=design, points=points,
                     replications=replications, root_seed=root_seed, out=out, metrics=metrics,
                     fixed=fixed, swept=swept, smoke=smoke)
    _check_design(spec)
    return spec


def _shrink(axis: SweptAxis) -> SweptAxis:
    return axis if isinstance(axis, SweptRange) or len(axis) <= 2 else (axis[0], axis[-1])


def apply_smoke(spec: SweepSpec) -> SweepSpec:
    """The small variant of ``spec`` that ``--smoke`` runs (same code path, seconds not hours).

    The ``[smoke]`` table's ``replications``, ``points``, ``fixed.*`` and ``swept.*``
    replace the spec's; without a ``[smoke]`` table: one replication, the first and last
    value of each swept list and at most 3 random/lhs points. The output goes to
    ``smoke.out``, or ``<out>-smoke``, so a smoke run never mixes with the real results.

    Examples
    --------
    >>> spec = parse_spec({"sweep": {"name": "s", "root_seed": 1, "replications": 8},
    ...                    "swept": {"shock_frac": [0.1, 0.2, 0.3]}})
    >>> small = apply_smoke(spec)
    >>> small.replications, small.swept["shock_frac"], str(small.out_dir)
    (1, (0.1, 0.3), 'runs/sweeps/s-smoke')
    """
    smoke = spec.smoke
    out = str(spec.out_dir) + "-smoke"
    if smoke is None:
        small = dataclasses.replace(
            spec, replications=1, out=out, smoke=None,
            points=None if spec.points is None else min(spec.points, 3),
            swept={k: _shrink(v) for k, v in spec.swept.items()})
    else:
        small = dataclasses.replace(
            spec, smoke=None, out=smoke.out or out,
            replications=smoke.replications or spec.replications,
            points=smoke.points or spec.points,
            fixed={**spec.fixed, **smoke.fixed},
            swept={**spec.swept, **smoke.swept})
    _check_design(small)
    return small
