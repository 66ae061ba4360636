"""Uploads: a user's own scenario file and positions file, checked like the CLI checks them.

A browser sends a file as a base64 data URL (``dcc.Upload``). Each upload is bounded in size,
must have the right extension, and is parsed as data only (TOML/JSON, CSV/Parquet: nothing is
executed); the error is the CLI's own message (file, key path or row and column, allowed
range). An accepted file is written to the app's own upload directory under a fresh random
folder, so the rest of the dashboard reads it like a file given on the command line
(``models.get_scenario(path)``; ``contagion.positions.read_positions(path)``).
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import tempfile
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

from contagion.errors import ContagionError
from contagion.positions import Positions, check_positions, read_positions
from contagion.scenario import Scenario
from contagion.scenario_file import loads

__all__ = ["POSITIONS_LIMIT", "SCENARIO_LIMIT", "Accepted", "UploadDir", "positions_upload",
           "scenario_upload"]

#: Largest scenario file accepted (a scenario is a few kB).
SCENARIO_LIMIT = 256 * 1024
#: Largest positions file accepted through the browser (about 300,000 rows of CSV; the CLI
#: reads larger books).
POSITIONS_LIMIT = 20 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Accepted:
    """A checked upload: where it was saved and what to tell the user."""

    path: str
    message: str


class UploadDir:
    """A temporary directory the app owns for accepted uploads; removed at exit (or when the
    object is collected). Nothing outside it is ever written or deleted."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="contagion-uploads-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def holds(self, path: str | None) -> bool:
        """Whether ``path`` is a file this directory holds (an accepted upload)."""
        if not path:
            return False
        p = Path(path).resolve()
        return p.is_file() and p.is_relative_to(self.root.resolve())

    def save(self, filename: str, data: bytes) -> Path:
        """Write ``data`` as ``filename`` (made safe) in a new folder of its own."""
        folder = self.root / uuid.uuid4().hex
        folder.mkdir()
        path = folder / (_SAFE.sub("_", Path(filename).name).lstrip(".") or "upload")
        path.write_bytes(data)
        return path


def _decode(contents: str | None, filename: str | None, *, what: str, limit: int,
            suffixes: tuple[str, ...]) -> tuple[str, bytes]:
    """The upload's name and bytes, or a ContagionError saying why it is refused."""
    name = Path(filename or "").name
    if not contents or not name:
        raise ContagionError(f"{what}: no file received")
    if not name.lower().endswith(suffixes):
        raise ContagionError(f"{what} {name}: a {' or '.join(suffixes)} file is needed")
    _, _, b64 = contents.partition(",")
    if len(b64) * 3 // 4 > limit + 3:
        raise ContagionError(f"{what} {name}: about {len(b64) * 3 // 4:,} bytes; at most "
                             f"{limit:,} bytes are accepted here")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ContagionError(f"{what} {name}: the upload is damaged (not base64)") from None
    if len(data) > limit:
        raise ContagionError(f"{what} {name}: {len(data):,} bytes; at most {limit:,} bytes "
                             "are accepted here")
    return name, data


def scenario_upload(contents: str | None, filename: str | None, uploads: UploadDir
                    ) -> tuple[Accepted, Scenario]:
    """Check an uploaded scenario file (TOML or JSON) and keep it; ContagionError (a
    :class:`~contagion.errors.ScenarioFileError` naming the file and key path) if it is
    refused."""
    name, data = _decode(contents, filename, what="scenario file", limit=SCENARIO_LIMIT,
                         suffixes=(".toml", ".json"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContagionError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    scenario = loads(text, source=name, fmt=name.lower().rsplit(".", 1)[-1], allow_files=False)
    path = uploads.save(name, data)
    return Accepted(str(path), f"{name}: scenario {scenario.name!r} read and checked"), scenario


def positions_upload(contents: str | None, filename: str | None, scenario: Scenario,
                     uploads: UploadDir) -> tuple[Accepted, Positions]:
    """Check an uploaded positions file (CSV or Parquet) against ``scenario`` and keep it;
    ContagionError (a :class:`~contagion.errors.PositionsError` naming rows and columns) if it
    is refused. The file is removed again when refused."""
    name, data = _decode(contents, filename, what="positions file", limit=POSITIONS_LIMIT,
                         suffixes=(".csv", ".parquet"))
    path = uploads.save(name, data)
    try:
        positions = check_positions(read_positions(path), scenario, source=name)
    except ContagionError as exc:  # say the user's file name, not the server's path
        shutil.rmtree(path.parent, ignore_errors=True)
        raise ContagionError(str(exc).replace(str(path), name)) from None
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return (Accepted(str(path), f"{name}: {len(positions):,} rows checked against "
                                f"{scenario.name}; Run starts from these books"), positions)
