"""The manifest of a sweep: what ran, from which code, with which seeds.

``out/manifest.json`` is written atomically before the first run. It lets anyone re-derive
every run (the spec as parsed, the design points, all run ids and seeds) and know which
code produced the results (package version, git commit). ``--resume`` checks the spec
against it, so a sweep is never finished with different settings from those it started
with.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from contagion.sweep.design import PlannedRun
from contagion.sweep.spec import SpecError, SweepSpec
from contagion.sweep.store import MANIFEST, schema_from_json, schema_to_json

#: What ``--resume`` needs of a manifest: key -> (description, test of the value).
_FIELDS: dict[str, tuple[str, Any]] = {
    "format": ("the integer 1", lambda v: v == 1 and type(v) is int),
    "name": ("a string", lambda v: isinstance(v, str)),
    "spec": ("an object (the sweep's spec)", lambda v: isinstance(v, dict)),
    "smoke": ("true or false", lambda v: isinstance(v, bool)),
    "points": ("a list of objects (the design points)",
               lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v)),
    "runs": ("an object of four lists run_id, point, replication, seed",
             lambda v: isinstance(v, dict) and all(isinstance(v.get(k), list) for k in
                                                   ("run_id", "point", "replication", "seed"))),
    "aligned_schema": ("true or false", lambda v: isinstance(v, bool)),
    "schema": ("null or a list of [name, type] pairs",
               lambda v: v is None or (isinstance(v, list) and all(
                   isinstance(x, list) and len(x) == 2 and all(isinstance(y, str) for y in x)
                   for x in v))),
}

__all__ = ["build_manifest", "check_resume", "load_manifest"]


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, allow_nan=True))


def _git_commit() -> tuple[str, bool | None]:
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=here, capture_output=True, text=True, timeout=10, check=True)
        return head or "unknown", bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("contagion")
    except PackageNotFoundError:
        return "unknown"


def build_manifest(spec: SweepSpec, *, smoke: bool, out: Path, points: list[dict[str, Any]],
                   runs: list[PlannedRun], schema: pa.Schema | None) -> dict[str, Any]:
    """The manifest of a sweep (plain JSON data): the spec as parsed, the design points,
    every run's id, point, replication and seed, the result schema, the package version,
    the git commit of the code (and whether the work tree had changes), the creation time."""
    commit, dirty = _git_commit()
    return _jsonable({
        "format": 1,
        "name": spec.name,
        "spec": spec.to_dict(),
        "smoke": smoke,
        "out": str(out),
        "points": points,
        "runs": {"run_id": [r.run_id for r in runs], "point": [r.point for r in runs],
                 "replication": [r.replication for r in runs], "seed": [r.seed for r in runs]},
        "aligned_schema": schema is not None,
        "schema": None if schema is None else schema_to_json(schema),
        "package_version": _package_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": sys.version.split()[0],
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })


def load_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the sweep in ``out``, checked for what ``--resume`` needs.

    Raises :class:`SpecError` (key ``resume``) naming the file and the key at fault if there
    is no manifest, or it is not UTF-8 JSON, not an object, lacks a key or has a wrong type.
    """
    path = out / MANIFEST
    hint = ("it was not written by `contagion sweep`, or was damaged: restore it, or start the "
            "sweep again with another --out")
    if not out.is_dir():
        raise SpecError("resume", f"no sweep to resume in {out} (no such folder)")
    if not path.exists():
        raise SpecError("resume", f"no sweep to resume in {out} (no {MANIFEST})")
    if not path.is_file():
        raise SpecError("resume", f"{path} is not a file; {hint}")
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise SpecError("resume", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SpecError("resume", f"{path} is not UTF-8 text (byte at offset {exc.start}); "
                                  f"{hint}") from None
    except ValueError as exc:  # json.JSONDecodeError, or a number too long to convert
        raise SpecError("resume", f"{path} is not valid JSON ({exc}); {hint}") from None
    if not isinstance(data, dict):
        raise SpecError("resume", f"{path} holds {type(data).__name__} {_short(data)}, not an "
                                  f"object; {hint}")
    for key, (what, ok) in _FIELDS.items():
        if key not in data:
            raise SpecError("resume", f"{path} has no key {key!r} ({what}); {hint}")
        if not ok(data[key]):
            raise SpecError("resume", f"{path}: key {key!r} must be {what}, got "
                                      f"{_short(data[key])}; {hint}")
    runs = data["runs"]
    if len({len(runs[k]) for k in ("run_id", "point", "replication", "seed")}) != 1:
        raise SpecError("resume", f"{path}: the lists of key 'runs' differ in length; {hint}")
    if data["aligned_schema"]:
        if data["schema"] is None:
            raise SpecError("resume", f"{path}: key 'schema' is null but 'aligned_schema' is true; "
                                      f"{hint}")
        try:
            schema_from_json(data["schema"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SpecError("resume", f"{path}: key 'schema' has an unknown type ({exc}); "
                                      f"{hint}") from None
    return data


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_resume(manifest: dict[str, Any], fresh: dict[str, Any], out: Path) -> None:
    """Raise :class:`SpecError` unless the ``fresh`` manifest of the spec being resumed
    describes the same sweep as the stored ``manifest`` (``out`` may differ)."""
    old_spec = {k: v for k, v in dict(manifest.get("spec") or {}).items() if k != "out"}
    new_spec = {k: v for k, v in fresh["spec"].items() if k != "out"}
    changed = sorted(k for k in old_spec.keys() | new_spec.keys() if old_spec.get(k) != new_spec.get(k))
    if manifest.get("smoke") != fresh["smoke"]:
        changed.append("--smoke")
    if not changed and manifest.get("points") != fresh["points"]:
        changed.append("design points")
    if not changed and manifest.get("runs") != fresh["runs"]:
        changed.append("run seeds")
    if changed:
        raise SpecError("resume", f"the spec changed since the sweep in {out} started (differs in: "
                                  f"{', '.join(changed)}); restore it or start a new --out")
