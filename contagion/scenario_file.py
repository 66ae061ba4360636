r"""Scenario files: a :class:`~contagion.scenario.Scenario` as TOML (or JSON), and back.

A scenario file maps one-to-one onto the parameter dataclasses: each field of
:class:`Scenario` is a top-level key (``name``, ``description``), a table (``[market]``,
``[traders]``, ``[clearing]``) or an array of tables (``[[assets]]``, ``[[lending]]``, and
inside a lender ``[[lending.collateral]]``); each key of a table is a field of its
dataclass. A field left out takes its default; ``None`` is written by leaving the key out
(TOML has no null). ``(asset, usd)`` pairs are two-element arrays, ``[["ETH", 2e8]]``.

Reading checks everything before anything runs: an unknown key, a missing required key or
a value of the wrong type is a :class:`~contagion.errors.ScenarioFileError` naming the file
and the key path (``lending[LendA].collateral[ETH].liquidation_threshold``); out-of-range
values get the parameter dataclasses' own messages with the same path.

Writing then reading gives an equal scenario (and so byte-identical runs): integers stay
integers and floats keep their exact ``repr``.

Examples
--------
>>> from models import get_scenario
>>> sc = get_scenario("default", n_traders=200)
>>> text = dumps(sc)
>>> print(text[text.index("[market]"):].split("\n\n")[0])
[market]
steps = 144
step_minutes = 5.0
numeraire = "USDC"
record_network_every = 1
>>> loads(text) == sc
True
>>> loads(text.replace("close_factor = 0.5", "close_factor = 5"), source="mine.toml")
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
contagion.errors.ScenarioFileError: mine.toml: parameter 'lending[LendA].close_factor' = 5 is ...
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import tomllib
import types
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from contagion.errors import ParameterError, ScenarioFileError
from contagion.scenario import Scenario

__all__ = [
    "FORMATS",
    "dumps",
    "json_schema",
    "load",
    "loads",
    "save",
    "scenario_from_dict",
    "scenario_to_dict",
]

FORMATS = ("toml", "json")
MAX_FILE_BYTES = 16 * 1024 * 1024  # a scenario is a few kB; refuse anything absurd


# ----------------------------------------------------------------------------- types
@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _optional(tp: Any) -> tuple[bool, Any]:
    """(True, X) for ``X | None``, else (False, tp)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def _label(obj: Mapping[str, Any] | Any, index: int) -> str:
    """How an element of an array of tables is named in a key path."""
    get = obj.get if isinstance(obj, Mapping) else (lambda k: getattr(obj, k, None))
    if get("lender") is not None and get("borrower") is not None:
        return f"{get('lender')}->{get('borrower')}"
    for key in ("name", "asset", "pool", "venue"):
        value = get(key)
        if isinstance(value, str) and value:
            return value
    return str(index)


# ----------------------------------------------------------------------------- to data
def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return scenario_to_dict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if type(value).__module__ == "numpy":  # a preset computed it: np.float64 -> float
        return value.item()
    return value


def scenario_to_dict(obj: Any) -> dict[str, Any]:
    """A scenario (or any parameter dataclass) as plain data: dicts, lists, scalars.

    Every field is written, ``None`` fields are left out (a file's missing key means the
    default, and every optional field's default is ``None``).
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            if f.default is not None:  # pragma: no cover - guarded by a test over all params
                raise ScenarioFileError(f"{type(obj).__name__}.{f.name} is None but its default "
                                        "is not: a file cannot say so")
            continue
        out[f.name] = _plain(value)
    return out


# ----------------------------------------------------------------------------- from data
class _Reader:
    """Builds dataclasses from plain data, naming the key path of every problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> ScenarioFileError:
        where = f" key '{path}'" if path else " the file"
        return ScenarioFileError(f"{self.source}:{where} {message}")

    def build(self, cls: type, data: Any, path: str) -> Any:
        if not isinstance(data, Mapping):
            raise self.fail(path, f"must be a table of {cls.__name__} fields, got "
                                  f"{_kind(data)}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = [k for k in data if k not in fields]
        if unknown:
            raise self.fail(_join(path, unknown[0]),
                            f"is not a field of {cls.__name__}; allowed: " + ", ".join(fields))
        missing = [n for n, f in fields.items() if n not in data and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise self.fail(path, "is missing required key(s): " + ", ".join(missing))
        hints = _hints(cls)
        kwargs = {name: self.value(hints[name], value, _join(path, name))
                  for name, value in data.items()}
        try:
            return cls(**kwargs)
        except ParameterError as exc:
            raise self.located(exc, path) from None

    def located(self, exc: ParameterError, path: str) -> ScenarioFileError:
        """The dataclass's own message, with its parameter named by the file's key path."""
        name = exc.name
        head, sep, rest = name.partition("]")
        if sep and "[" in head and path.endswith("]"):
            # 'collateral[ETH].ltv' -> 'lending[LendA].collateral[ETH].ltv'
            name = path + rest
        return ScenarioFileError(f"{self.source}: " + str(ParameterError(name, exc.value, exc.allowed,
                                                                         exc.hint)))

    def value(self, tp: Any, value: Any, path: str) -> Any:
        optional, tp = _optional(tp)
        if optional and value is None:
            return None
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self.build(tp, value, path)
        if origin is tuple:
            args = typing.get_args(tp)
            if not isinstance(value, list | tuple):
                raise self.fail(path, f"must be an array, got {_kind(value)}")
            if len(args) == 2 and args[1] is Ellipsis:
                item = args[0]
                out = []
                for i, v in enumerate(value):
                    label = _label(v, i) if dataclasses.is_dataclass(item) else str(i)
                    out.append(self.value(item, v, f"{path}[{label}]"))
                return tuple(out)
            if len(value) != len(args):
                raise self.fail(path, f"must be an array of {len(args)} items "
                                      f"({', '.join(_type_name(a) for a in args)}), got {len(value)}")
            return tuple(self.value(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value,
                                                                                         strict=True)))
        if tp is bool:
            if not isinstance(value, bool):
                raise self.fail(path, f"must be true or false, got {_kind(value)}")
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(path, f"must be an integer, got {_kind(value)}")
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.fail(path, f"must be a number, got {_kind(value)}")
            return value
        if tp is str:
            if not isinstance(value, str):
                raise self.fail(path, f"must be a string, got {_kind(value)}")
            return value
        raise self.fail(path, f"has a type the reader does not know: {tp!r}")  # pragma: no cover


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "an array", tuple: "an array", dict: "a table"}
    for t, n in names.items():
        if isinstance(value, t):
            return f"{n} ({_short(value)})"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def scenario_from_dict(data: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """Build and validate a :class:`Scenario` from plain data (a parsed TOML/JSON file).

    Raises :class:`~contagion.errors.ScenarioFileError` naming ``source`` and the key path.
    """
    reader = _Reader(source)
    scenario = reader.build(Scenario, data, "")
    return typing.cast(Scenario, scenario)


# ----------------------------------------------------------------------------- TOML text
def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    raise ScenarioFileError(f"cannot write {value!r} to TOML")  # pragma: no cover


def _key(name: str) -> str:
    ok = name and all(c.isalnum() or c in "-_" for c in name)
    return name if ok else json.dumps(name)


def _summary(cls: type) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0].strip() if doc else ""


def _emit_table(lines: list[str], obj: Any, header: str) -> None:
    """Scalar keys of ``obj`` under ``header``, then its arrays of tables."""
    nested: list[tuple[str, tuple[Any, ...]]] = []
    tables: list[tuple[str, Any]] = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            nested.append((f.name, value))
            continue
        if dataclasses.is_dataclass(value):  # a sub-table (e.g. a lending venue's rates)
            tables.append((f.name, value))
            continue
        lines.append(f"{_key(f.name)} = {_toml_scalar(_plain(value))}")
    for name, table in tables:
        lines += ["", f"[{header}.{_key(name)}]"]
        _emit_table(lines, table, f"{header}.{_key(name)}")
    for name, items in nested:
        for item in items:
            lines += ["", f"[[{header}.{_key(name)}]]"]
            _emit_table(lines, item, f"{header}.{_key(name)}")


def dumps(scenario: Scenario) -> str:
    """The scenario as a TOML scenario file (every field written, with a comment per section)."""
    lines = [
        "# A contagion scenario file: one key per field of contagion.scenario.Scenario and its",
        "# parameter dataclasses (see `contagion scenarios schema` for the JSON Schema).",
        "# Run it with `contagion run FILE`; a key left out takes its default. Editors check it",
        "# against models/scenarios/scenario.schema.json (Taplo: add '#:schema PATH' on line 1).",
        "",
    ]
    sections: list[tuple[dataclasses.Field[Any], Any]] = []
    for f in dataclasses.fields(scenario):
        value = getattr(scenario, f.name)
        if dataclasses.is_dataclass(value) or (isinstance(value, tuple) and value):
            sections.append((f, value))
        elif value is not None:  # scalars and empty arrays: before any table header
            lines.append(f"{_key(f.name)} = {_toml_scalar(_plain(value))}")
    hints = _hints(Scenario)
    for f, value in sections:
        if dataclasses.is_dataclass(value):
            lines += ["", f"# {_summary(type(value))}", f"[{_key(f.name)}]"]
            _emit_table(lines, value, _key(f.name))
            continue
        lines += ["", f"# {_summary(typing.get_args(hints[f.name])[0])}"]
        for item in value:
            lines += [f"[[{_key(f.name)}]]"]
            _emit_table(lines, item, _key(f.name))
            lines.append("")
        lines.pop()
    return "\n".join(lines) + "\n"


def _resolve_files(data: dict[str, Any], base: Path | None) -> None:
    """Make the relative ``file`` of every replayed price path relative to ``base`` (the
    scenario file's folder), in place, so a scenario and its price history travel together."""
    if base is None or not isinstance(data.get("paths"), list):
        return
    for path in data["paths"]:
        if isinstance(path, dict) and isinstance(path.get("file"), str) and path["file"]:
            f = Path(path["file"]).expanduser()
            path["file"] = str(f if f.is_absolute() else (base / f).absolute())


def loads(text: str, *, source: str = "scenario.toml", fmt: str = "toml",
          base: Path | None = None, allow_files: bool = True) -> Scenario:
    """Parse a TOML (or JSON) scenario file's text and build the validated scenario.

    ``base``: the folder a relative price-history ``file`` (a ``replay`` path) is relative
    to (:func:`load` passes the scenario file's folder; default: the working directory).
    ``allow_files=False`` refuses any ``file`` key before anything is read: a scenario
    uploaded to a server must not make it read (and quote) the server's own files."""
    if fmt not in FORMATS:
        raise ParameterError("format", fmt, " or ".join(FORMATS))
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(f"{source}: not valid TOML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} "
                                f"column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{source}: a scenario must be a table (object) of keys")
    if not allow_files:
        for i, path in enumerate(data.get("paths") or []):
            if isinstance(path, dict) and path.get("file") is not None:
                label = path.get("asset") if isinstance(path.get("asset"), str) else i
                raise ScenarioFileError(
                    f"{source}: key 'paths[{label}].file' names a file to read; an uploaded "
                    "scenario cannot replay a price history (run it with `contagion run`)")
    _resolve_files(data, base)
    return scenario_from_dict(data, source=source)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ParameterError("scenario file", str(path), "a .toml or .json file")
    return suffix


def load(path: str | os.PathLike[str], *, shown_as: str | None = None) -> Scenario:
    """Read and validate the scenario file at ``path`` (``.toml`` or ``.json``); errors name
    it ``shown_as`` (default: ``path``), e.g. the path as the user typed it."""
    p = Path(path)
    name = shown_as if shown_as is not None else str(p)
    fmt = _format_of(p)
    if not p.is_file():
        raise ScenarioFileError(f"{name}: no such scenario file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioFileError(f"{name}: {p.stat().st_size:,} bytes; a scenario file is at "
                                f"most {MAX_FILE_BYTES:,} bytes")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioFileError(f"{name}: cannot be read: {exc.strerror}") from None
    return loads(text, source=name, fmt=fmt, base=p.parent)


def dump_json(scenario: Scenario) -> str:
    """The scenario as a JSON scenario file (infinity as the literal ``Infinity``)."""
    return json.dumps(scenario_to_dict(scenario), indent=2, ensure_ascii=False) + "\n"


def save(scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write ``scenario`` to ``path`` (format from the suffix), atomically."""
    p = Path(path)
    text = dumps(scenario) if _format_of(p) == "toml" else dump_json(scenario)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


# ----------------------------------------------------------------------------- JSON Schema
def _tidy_schema(node: Any) -> Any:
    """Make pydantic's schema describe files: no nulls (a missing key is None), no
    non-finite defaults (JSON has none), and no keys beyond a dataclass's fields."""
    if isinstance(node, list):
        return [_tidy_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tidy_schema(v) for k, v in node.items()}
    any_of = out.get("anyOf")
    if isinstance(any_of, list):
        kept = [s for s in any_of if s != {"type": "null"}]
        if len(kept) < len(any_of):
            out.pop("anyOf")
            if len(kept) == 1:
                out.update(kept[0])
            else:
                out["anyOf"] = kept
            if out.get("default", 0) is None:
                out.pop("default")
    default = out.get("default")
    if isinstance(default, float) and not math.isfinite(default):
        out.pop("default")
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file, generated from the dataclasses.

    Generated with pydantic from the type hints and docstrings of
    :class:`~contagion.scenario.Scenario` and :mod:`contagion.params`, so it cannot drift
    from the code. Editors (VS Code's Even Better TOML / Taplo, any JSON editor) use it to
    complete keys and check types.
    """
    from pydantic import TypeAdapter  # only this function needs pydantic

    schema = _tidy_schema(TypeAdapter(Scenario).json_schema(mode="validation"))
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "contagion scenario file",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    return schema
