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
from contagion.sweep.store import schema_to_json

__all__ = ["build_manifest", "check_resume"]


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


def check_resume(manifest: dict[str, Any], fresh: dict[str, Any], out: Path) -> None:
    """Raise :class:`SpecError` unless the ``fresh`` manifest of the spec being resumed
    describes the same sweep as the stored ``manifest`` (``out`` may differ)."""
    old_spec = {k: v for k, v in manifest["spec"].items() if k != "out"}
    new_spec = {k: v for k, v in fresh["spec"].items() if k != "out"}
    changed = sorted(k for k in old_spec.keys() | new_spec.keys() if old_spec.get(k) != new_spec.get(k))
    if manifest.get("smoke") != fresh["smoke"]:
        changed.append("--smoke")
    if not changed and manifest["points"] != fresh["points"]:
        changed.append("design points")
    if not changed and manifest["runs"] != fresh["runs"]:
        changed.append("run seeds")
    if changed:
        raise SpecError("resume", f"the spec changed since the sweep in {out} started (differs in: "
                                  f"{', '.join(changed)}); restore it or start a new --out")
