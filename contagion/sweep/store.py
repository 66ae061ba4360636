"""A sweep's results on disk: one Parquet part file per finished run, written atomically.

Layout of an output directory::

    out/manifest.json               spec, design points, run ids and seeds, versions
    out/parts/<run_id>.parquet      one row per run: identity, swept values, status, metrics
    out/profiles/<run_id>.parquet   the run's exposure profile (step x venue pair)

Every file is written to a temporary name starting with ``.`` in its own directory,
flushed to disk and renamed into place (``os.replace``), so a reader, or a sweep killed at
any moment, sees each file whole or not at all; Parquet readers skip the ``.`` names. A
run is done when its part file exists: that is what ``--resume`` reads. All parts share
one schema (recorded in the manifest), so ``pandas.read_parquet(out / "parts")`` reads the
whole table.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from contagion.sweep.task import RunOutcome

__all__ = [
    "MANIFEST",
    "PARTS",
    "PROFILES",
    "PROFILE_SCHEMA",
    "ResultStore",
    "arrow_type",
    "load_profiles",
    "load_results",
    "read_manifest",
    "remove_temp_files",
    "results_schema",
    "schema_from_json",
    "schema_to_json",
    "write_json_atomic",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PARTS = "parts"
PROFILES = "profiles"
_TMP_SUFFIX = ".tmp"

PROFILE_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("point", pa.int64()), ("replication", pa.int64()),
    ("step", pa.int64()), ("holder", pa.string()), ("counterparty", pa.string()),
    ("exposure_usd", pa.float64()),
])


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_atomic(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{_TMP_SUFFIX}")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a flushed temporary file and a rename."""
    tmp = _tmp_name(path)
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, allow_nan=True)
            fh.flush()
            os.fsync(fh.fileno())
        _replace_atomic(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_table_atomic(table: pa.Table, path: Path) -> None:
    tmp = _tmp_name(path)
    try:
        with tmp.open("wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _replace_atomic(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_manifest(out: str | Path) -> dict[str, Any] | None:
    """The manifest of the sweep in ``out``, or ``None`` if there is none."""
    path = Path(out) / MANIFEST
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def remove_temp_files(out: str | Path) -> int:
    """Delete temporary files left by a killed sweep in ``out``; return how many."""
    n = 0
    for sub in (Path(out), Path(out) / PARTS, Path(out) / PROFILES):
        if sub.is_dir():
            for f in sub.glob(f".*{_TMP_SUFFIX}"):
                f.unlink(missing_ok=True)
                n += 1
    return n


def arrow_type(values: list[Any]) -> pa.DataType:
    """The Arrow type of a column holding ``values`` (float64 where nothing better is known).

    Examples
    --------
    >>> str(arrow_type([1, 2])), str(arrow_type([1, 2.5])), str(arrow_type([None]))
    ('int64', 'double', 'double')
    """
    t = pa.array(values).type
    return pa.float64() if pa.types.is_null(t) else t


def _cell(name: str, value: Any, type_: pa.DataType) -> pa.Array:
    try:
        return pa.array([value], type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        try:
            return pa.array([value]).cast(type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            log.warning("column %s: value %r is not %s; stored as null", name, value, type_)
            return pa.nulls(1, type=type_)


def results_schema(swept: Mapping[str, list[Any]], metrics: Mapping[str, Any]) -> pa.Schema:
    """The schema of a result row: identity columns, one column per swept key (typed by
    its values), status, error, elapsed time, then the metrics (typed by example values).

    Examples
    --------
    >>> schema = results_schema({"shock_frac": [0.1, 0.2]}, {"defaults": 1, "kind__A": "x"})
    >>> [f"{f.name}:{f.type}" for f in schema][:5]
    ['run_id:string', 'point:int64', 'replication:int64', 'seed:int64', 'shock_frac:double']
    >>> schema.names[-2:]
    ['defaults', 'kind__A']
    """
    fields = [("run_id", pa.string()), ("point", pa.int64()), ("replication", pa.int64()),
              ("seed", pa.int64())]
    fields += [(k, arrow_type(list(v))) for k, v in swept.items()]
    fields += [("status", pa.string()), ("error", pa.string()), ("elapsed_s", pa.float64())]
    taken = {name for name, _ in fields}
    fields += [(k, arrow_type([v])) for k, v in metrics.items() if k not in taken]
    return pa.schema(fields)


def schema_to_json(schema: pa.Schema) -> list[list[str]]:
    """``[[name, type], ...]``, as the manifest stores a schema."""
    return [[f.name, str(f.type)] for f in schema]


def schema_from_json(data: list[list[str]]) -> pa.Schema:
    """The inverse of :func:`schema_to_json`."""
    return pa.schema([(name, pa.type_for_alias(t)) for name, t in data])


class ResultStore:
    """The part and profile files of one output directory.

    ``schema`` is the Arrow schema of a result row (see :func:`results_schema`); a row is
    written with exactly those columns (missing ones null, extra ones dropped), so every
    part file has the same schema. With ``schema=None`` each row keeps its own columns and
    :func:`load_results` unifies them.
    """

    def __init__(self, out: str | Path, schema: pa.Schema | None) -> None:
        self.out = Path(out)
        self.schema = schema
        self.parts = self.out / PARTS
        self.profiles = self.out / PROFILES
        self._dropped: set[str] = set()

    def create_dirs(self) -> None:
        """Create ``parts/`` and ``profiles/``."""
        self.parts.mkdir(parents=True, exist_ok=True)
        self.profiles.mkdir(parents=True, exist_ok=True)

    def done_run_ids(self) -> set[str]:
        """The run ids with a part file: the runs that are finished."""
        if not self.parts.is_dir():
            return set()
        return {f.name[: -len(".parquet")] for f in self.parts.glob("*.parquet")
                if not f.name.startswith(".")}

    def verified_done(self, planned: set[str]) -> tuple[set[str], list[str]]:
        """The planned runs whose part file is whole, and those whose part file is not.

        A part file counts as done only if its Parquet footer reads, it holds exactly one row,
        its ``run_id`` (from the column statistics) is its file name and, when the sweep has
        a common schema, its columns are that schema's. Anything else (a truncated or
        foreign file) is reported so that the run is run again (its file is then replaced).
        """
        done: set[str] = set()
        bad: list[str] = []
        names = None if self.schema is None else self.schema.names
        for run in sorted(self.done_run_ids() & planned):
            if _part_is_whole(self.parts / f"{run}.parquet", run, names):
                done.add(run)
            else:
                bad.append(run)
        return done, bad

    def _row_table(self, row: Mapping[str, Any]) -> pa.Table:
        if self.schema is None:
            return pa.Table.from_pylist([dict(row)])
        extra = set(row) - set(self.schema.names) - self._dropped
        if extra:
            log.warning("columns %s are not in the sweep's schema; dropped", sorted(extra))
            self._dropped |= extra
        arrays = [_cell(f.name, row.get(f.name), f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def write(self, outcome: RunOutcome) -> None:
        """Write one run: its profile first, then its part (the part marks it done)."""
        run = str(outcome.row["run_id"])
        if outcome.profile is not None:
            table = pa.Table.from_pandas(outcome.profile, schema=PROFILE_SCHEMA,
                                         preserve_index=False)
            _write_table_atomic(table, self.profiles / f"{run}.parquet")
        _write_table_atomic(self._row_table(outcome.row), self.parts / f"{run}.parquet")


def _part_is_whole(path: Path, run: str, names: list[str] | None) -> bool:
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (OSError, ValueError, pa.ArrowException):
        return False
    if meta.num_rows != 1 or "run_id" not in schema.names:
        return False
    if names is not None and schema.names != names:
        return False
    if meta.num_row_groups:
        column = meta.row_group(0).column(schema.names.index("run_id"))
        stats = column.statistics
        if stats is not None and stats.has_min_max and (stats.min != run or stats.max != run):
            return False
    return True


def _read_dir(path: Path, *, unify: bool) -> pd.DataFrame:
    files = sorted(f for f in path.glob("*.parquet") if not f.name.startswith(".")) \
        if path.is_dir() else []
    if not files:
        return pd.DataFrame()
    if not unify:
        return pd.read_parquet(path)
    dataset = ds.dataset([str(f) for f in files], format="parquet")
    schemas = [frag.physical_schema for frag in dataset.get_fragments()]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    return ds.dataset([str(f) for f in files], format="parquet", schema=schema).to_table().to_pandas()


def load_results(out: str | Path) -> pd.DataFrame:
    """The results table of the sweep in ``out``: one row per finished run, sorted by run id.

    Equivalent to ``pandas.read_parquet(out / "parts")`` (sorted); when the parts were
    written without a common schema, their schemas are unified. Empty if no run finished.
    """
    manifest = read_manifest(out) or {}
    df = _read_dir(Path(out) / PARTS, unify=not manifest.get("aligned_schema", False))
    if "run_id" in df.columns:
        df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    return df


def load_profiles(out: str | Path) -> pd.DataFrame:
    """The exposure profiles of the sweep in ``out``: ``run_id``, ``point``,
    ``replication``, ``step``, ``holder``, ``counterparty``, ``exposure_usd`` (summed over
    channels), sorted by run, step and pair. Failed runs have no profile.
    """
    df = _read_dir(Path(out) / PROFILES, unify=False)
    if len(df):
        df = df.sort_values(["run_id", "step", "holder", "counterparty"], kind="stable")
        df = df.reset_index(drop=True)
    return df
