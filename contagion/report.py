"""A sweep's report: tidy tables (Parquet and CSV) and offline Plotly HTML figures.

``contagion report RESULTS_DIR [--out DIR]`` calls :func:`report_command`, which calls
:func:`write_report`. The report reads what ``contagion sweep`` writes under
``RESULTS_DIR``: ``parts/*.parquet`` (one row per run), ``profiles/*.parquet`` (venue-pair
exposure over time, optional) and ``manifest.json`` (the spec, with the swept parameters
in order), and writes into ``RESULTS_DIR/report``:

* tables ``run_metrics``, ``venue_credit_risk`` (pooled over the runs) and
  ``venue_credit_risk_by_point``, ``loss_measures`` and ``loss_measures_by_point``,
  ``cascade_probability``, ``exposure_profiles`` and ``expected_positive_exposure``, each
  as ``.parquet`` and ``.csv``;
* figures ``cascade_probability.html`` (heatmap over the first two swept parameters with
  Wilson intervals, or a line for one), ``exposure_profiles.html`` (EE, PFE95, PFE99 per
  venue pair), ``loss_distributions.html`` (insolvent debt and liquidation volume with
  VaR/ES) and ``venue_pd.html`` (PD per venue with its interval), with plotly.js inlined
  so they open offline;
* ``summary.json`` (headline numbers) and ``index.html`` linking everything.

Tables and figures whose inputs the sweep did not record (a spec's ``metrics`` list can
leave out the venue or loss columns) are skipped with a note in the index. Every file is
written under a temporary name and renamed into place, so an interrupted report never
leaves a half-written file. Failed runs are listed and counted but enter no
statistic. Plotly is imported inside the figure builders only.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contagion.analytics import (
    cascade_probability,
    expected_positive_exposure,
    exposure_profiles,
    insolvent_debt_usd,
    loss_measures,
    ok_runs,
    venue_credit_risk,
    venue_names,
)
from contagion.errors import ParameterError

__all__ = [
    "SweepResults",
    "cascade_figure",
    "check_report_dir",
    "exposure_figure",
    "loss_figure",
    "pd_figure",
    "read_sweep_results",
    "report_command",
    "write_report",
]

log = logging.getLogger(__name__)

LEVEL = 0.95
MAX_AXIS_VALUES = 12  # a numeric swept parameter with more values (random design) is binned
AXIS_BINS = 8
_RUN_COLUMNS = {"run_id", "point", "replication", "seed", "status", "error", "elapsed_s"}
_METRIC_COLUMNS = {
    "steps", "defaults", "defaults_share", "venues_defaulted", "venues_hit", "cross_venue",
    "cascade_depth", "liquidations", "liquidation_volume_usd", "worst_pool_impact_frac",
    "bad_debt_usd", "insolvent_debt_usd", "fund_depletion_frac", "fund_used_usd",
    "socialised_usd", "adl_usd", "worst_oracle_gap_frac",
}
_VENUE_PREFIXES = ("defaulted__", "exhausted__", "ead__", "lgd__", "kind__")
_LOSS_COLUMNS = ("bad_debt_usd", "insolvent_debt_usd", "liquidation_volume_usd")
_NUMERIC_PREFIXES = ("defaulted__", "ead__", "lgd__")
_PART_COLUMNS = ("run_id", "status")
_PROFILE_COLUMNS = ("run_id", "step", "holder", "counterparty", "exposure_usd")
_EXPECTED = ("a sweep output directory (written by `contagion sweep`) containing "
             "parts/*.parquet, and optionally profiles/*.parquet and manifest.json")


# -------------------------------------------------------------------------------- loading
@dataclass(frozen=True, kw_only=True)
class SweepResults:
    """What a sweep wrote: every run (failed ones too), the exposure profiles, the manifest.

    ``swept`` lists the swept parameters in the spec's order (columns of ``runs``).
    """

    directory: Path
    runs: pd.DataFrame
    profiles: pd.DataFrame | None
    manifest: dict[str, Any] = field(default_factory=dict)
    swept: list[str] = field(default_factory=list)


def _parquet_files(folder: Path) -> list[Path]:
    """Finished Parquet files (hidden temporary files of a running sweep are skipped)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def _bad_file(results_dir: Path, f: Path, why: str) -> ParameterError:
    return ParameterError("results_dir", str(results_dir), _EXPECTED,
                          f"{f.relative_to(results_dir)} {why}; if the sweep wrote it, delete it "
                          "and finish the sweep with --resume, otherwise move it out")


def _read_parts(files: list[Path], results_dir: Path,
                required: tuple[str, ...] = ("run_id",)) -> pd.DataFrame:
    """All the files as one table, their schemas unified: a column missing from a file (a
    failed run's row has no measures) is null there, ``int`` and ``float`` become ``float``.
    Falls back to reading file by file (pandas' concatenation) if the schemas conflict.
    Every file must be readable Parquet holding the ``required`` columns; a file that is not
    is named in the :class:`ParameterError`."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    schemas = []
    for f in files:
        try:
            schema = pq.read_schema(f)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise _bad_file(results_dir, f, f"is not readable Parquet ({exc})") from None
        missing = [c for c in required if c not in schema.names]
        if missing:
            raise _bad_file(results_dir, f, f"has no column {', '.join(map(repr, missing))} (its "
                                            f"columns: {', '.join(schema.names[:8])}"
                                            f"{', ...' if len(schema.names) > 8 else ''}): it is "
                                            "not a file of this kind that `contagion sweep` writes")
        schemas.append(schema)
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()
        table = ds.dataset([str(f) for f in files], schema=schema, format="parquet").to_table()
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError, OSError) as exc:
        log.info("schemas of %d files conflict (%s): concatenating them", len(files), exc)
        frames = []
        for f in files:
            try:
                frames.append(pd.read_parquet(f))
            except (OSError, ValueError, TypeError, pa.ArrowException) as err:
                raise _bad_file(results_dir, f, f"is not readable Parquet ({err})") from None
        try:
            frame = pd.concat(frames, ignore_index=True)
        except (ValueError, TypeError) as err:
            raise ParameterError("results_dir", str(results_dir), _EXPECTED,
                                 f"the files cannot be read as one table ({err})") from None
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith("__index_level_")])


def _check_columns(runs: pd.DataFrame, results_dir: Path) -> None:
    """Measure columns the report computes with must hold numbers (or true/false)."""
    for c in runs.columns:
        name = str(c)
        if name in ("cross_venue", "defaults", *_LOSS_COLUMNS) or name.startswith(_NUMERIC_PREFIXES):
            col = runs[c]
            if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
                    or col.isna().all()):
                raise ParameterError("results_dir", str(results_dir), _EXPECTED,
                                     f"column {name!r} of parts/*.parquet holds {col.dtype} values, "
                                     "not numbers: these parts were not written by `contagion sweep`")


def _infer_swept(runs: pd.DataFrame) -> list[str]:
    """Parameter columns when there is no manifest: not an id, metric or venue column."""
    return [c for c in runs.columns
            if c not in _RUN_COLUMNS and c not in _METRIC_COLUMNS
            and not str(c).startswith(_VENUE_PREFIXES) and runs[c].nunique(dropna=True) > 1]


def read_sweep_results(results_dir: str | Path) -> SweepResults:
    """Read a sweep's output directory.

    Raises :class:`~contagion.errors.ParameterError` naming ``results_dir`` if it is not a
    directory, has no ``parts/*.parquet`` or a part is unreadable. A missing or unreadable
    manifest is not fatal: the swept parameters are then inferred from the columns.
    """
    directory = Path(results_dir)
    if not directory.is_dir():
        raise ParameterError("results_dir", str(directory), _EXPECTED,
                             "it does not exist or is not a directory")
    parts = _parquet_files(directory / "parts")
    if not parts:
        raise ParameterError("results_dir", str(directory), _EXPECTED,
                             "no parts/*.parquet found: has the sweep finished any run?")
    runs = _read_parts(parts, directory, required=_PART_COLUMNS)
    if "run_id" not in runs.columns:
        raise ParameterError("results_dir", str(directory), _EXPECTED,
                             "the parts have no run_id column")
    if not len(runs):
        raise ParameterError("results_dir", str(directory), _EXPECTED,
                             "the parts hold no rows: has the sweep finished any run?")
    _check_columns(runs, directory)
    runs = runs.sort_values("run_id", kind="stable", ignore_index=True)
    profile_files = _parquet_files(directory / "profiles")
    profiles = (_read_parts(profile_files, directory, required=_PROFILE_COLUMNS)
                if profile_files else None)
    if profiles is not None:
        for c in ("step", "exposure_usd"):
            if not pd.api.types.is_numeric_dtype(profiles[c]):
                raise ParameterError("results_dir", str(directory), _EXPECTED,
                                     f"column {c!r} of profiles/*.parquet holds {profiles[c].dtype} "
                                     "values, not numbers: these profiles were not written by "
                                     "`contagion sweep`")
    manifest: dict[str, Any] = {}
    manifest_path = directory / "manifest.json"
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("manifest.json unreadable (%s): swept parameters inferred", exc)
    spec = manifest.get("spec", {}) if isinstance(manifest, dict) else {}
    swept_table = spec.get("swept") if isinstance(spec, dict) else None
    declared = [str(k) for k in swept_table] if isinstance(swept_table, dict) else []
    swept = [k for k in declared if k in runs.columns]
    if declared and len(swept) < len(declared):
        log.warning("swept parameters without a column: %s", sorted(set(declared) - set(swept)))
    if not declared:
        swept = _infer_swept(runs)
    for k in swept:
        if runs[k].map(lambda v: isinstance(v, list | tuple | dict | np.ndarray)).any():
            raise ParameterError("results_dir", str(directory), _EXPECTED,
                                 f"column {k!r} of parts/*.parquet holds lists or tables, not "
                                 "the values of a swept parameter")
    return SweepResults(directory=directory, runs=runs, profiles=profiles,
                        manifest=manifest if isinstance(manifest, dict) else {}, swept=swept)


# ------------------------------------------------------------------------------- writing
def _replace_into(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(tmp)`` on a hidden temporary sibling, then rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_table(table: pd.DataFrame, out: Path, name: str) -> list[str]:
    _replace_into(out / f"{name}.parquet", lambda p: table.to_parquet(p, index=False))
    _replace_into(out / f"{name}.csv", lambda p: table.to_csv(p, index=False))
    return [f"{name}.parquet", f"{name}.csv"]


def _write_figure(fig: Any, out: Path, name: str) -> str:
    _replace_into(out / f"{name}.html",
                  lambda p: fig.write_html(p, include_plotlyjs=True, full_html=True))
    return f"{name}.html"


# ------------------------------------------------------------------------------- figures
def _label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def _ci_text(p: float, low: float, high: float) -> str:
    return f"{p:.2f} [{low:.2f}, {high:.2f}]"


def cascade_figure(table: pd.DataFrame, x: str, y: str | None = None, *,
                   metric: str = "cross_venue") -> Any:
    """Heatmap of ``p`` over ``(x, y)`` from :func:`~contagion.analytics.cascade_probability`,
    each cell annotated ``p [low, high]`` (Wilson interval, also in the hover); a line
    with error bars when ``y`` is None.

    Examples
    --------
    >>> from contagion.analytics import cascade_probability
    >>> runs = pd.DataFrame({"lev": [2, 2, 8, 8], "shock": [0.3] * 4,
    ...                      "cross_venue": [0, 0, 1, 1]})
    >>> fig = cascade_figure(cascade_probability(runs, "lev", "shock"), "lev", "shock")
    >>> fig.data[0].type, fig.data[0].text[0][1]
    ('heatmap', '1.00 [0.34, 1.00]')
    """
    import plotly.graph_objects as go

    title = f"P({metric} > 0) with 95% Wilson intervals"
    if y is None:
        fig = go.Figure(go.Scatter(
            x=[_label(v) for v in table[x]], y=table["p"], mode="lines+markers",
            error_y={"type": "data", "symmetric": False, "array": table["high"] - table["p"],
                     "arrayminus": table["p"] - table["low"]},
            customdata=table[["runs", "successes", "low", "high"]].to_numpy(),
            hovertemplate=(f"{x}=%{{x}}<br>p=%{{y:.3f}} [%{{customdata[2]:.3f}}, "
                           "%{customdata[3]:.3f}]<br>%{customdata[1]} of %{customdata[0]} runs"
                           "<extra></extra>")))
        fig.update_layout(title=title, xaxis_title=x, yaxis_title="probability",
                          yaxis_range=[0, 1], template="plotly_white")
        fig.update_xaxes(type="category")
        return fig
    xs = list(dict.fromkeys(table.sort_values(x)[x]))
    ys = list(dict.fromkeys(table.sort_values(y)[y]))
    grid = {name: table.pivot_table(index=y, columns=x, values=name, aggfunc="first",
                                    dropna=False).reindex(index=ys, columns=xs).to_numpy(float)
            for name in ("p", "low", "high", "runs", "successes")}
    text = [[_ci_text(p, lo, hi) if not math.isnan(p) else ""
             for p, lo, hi in zip(*rows, strict=True)]
            for rows in zip(grid["p"], grid["low"], grid["high"], strict=True)]
    custom = np.stack([grid["runs"], grid["successes"], grid["low"], grid["high"]], axis=-1)
    fig = go.Figure(go.Heatmap(
        z=grid["p"], x=[_label(v) for v in xs], y=[_label(v) for v in ys], zmin=0, zmax=1,
        colorscale="Reds", colorbar={"title": "p"}, text=text, texttemplate="%{text}",
        customdata=custom,
        hovertemplate=(f"{x}=%{{x}}<br>{y}=%{{y}}<br>p=%{{z:.3f}}<br>95% CI "
                       "[%{customdata[2]:.3f}, %{customdata[3]:.3f}]<br>"
                       "%{customdata[1]} of %{customdata[0]} runs<extra></extra>")))
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white")
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def exposure_figure(profile_table: pd.DataFrame) -> Any:
    """EE, PFE95 and PFE99 over steps, one panel per (holder, counterparty) pair, from
    :func:`~contagion.analytics.exposure_profiles` (without ``by``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    peak = profile_table.groupby(["holder", "counterparty"], sort=False)["ee_usd"].max()
    pairs = list(peak.sort_values(ascending=False).index)
    if not pairs:
        return go.Figure().update_layout(title="no exposure profiles")
    cols = min(3, len(pairs))
    rows = math.ceil(len(pairs) / cols)
    height = 330 * rows + 120
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=False,
                        vertical_spacing=min(110 / height, 0.9 / max(rows - 1, 1)),
                        subplot_titles=[f"{h} exposed to {c}" for h, c in pairs])
    styles = {"ee_usd": ("EE", "#1f77b4", "solid"), "pfe95_usd": ("PFE 95%", "#ff7f0e", "dash"),
              "pfe99_usd": ("PFE 99%", "#d62728", "dot")}
    for i, (holder, counterparty) in enumerate(pairs):
        sel = profile_table[(profile_table["holder"] == holder)
                            & (profile_table["counterparty"] == counterparty)].sort_values("step")
        for column, (name, colour, dash) in styles.items():
            fig.add_trace(go.Scatter(
                x=sel["step"], y=sel[column], name=name, legendgroup=name, showlegend=i == 0,
                line={"color": colour, "dash": dash},
                hovertemplate=f"{holder} -> {counterparty}<br>step %{{x}}<br>{name} "
                              "$%{y:,.0f}<extra></extra>"),
                row=i // cols + 1, col=i % cols + 1)
    fig.update_layout(title="Exposure profiles: expected exposure and potential future exposure "
                            "(USD) over the horizon", height=height, template="plotly_white")
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(rangemode="tozero", tickprefix="$", exponentformat="B")
    return fig


def loss_figure(runs: pd.DataFrame, measures: pd.DataFrame) -> Any:
    """Histograms of insolvent debt and liquidation volume over the finished runs, with
    dashed lines at VaR/LaR and dotted lines at their expected shortfall."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ok = ok_runs(runs)
    panels = [("VaR", "insolvent debt (bad debt + underwater debt), USD", insolvent_debt_usd(ok)),
              ("LaR", "liquidation volume, USD", ok["liquidation_volume_usd"].astype(float))]
    fig = make_subplots(rows=1, cols=2, subplot_titles=[p[1] for p in panels])
    for col, (measure, label, values) in enumerate(panels, start=1):
        fig.add_trace(go.Histogram(x=values.dropna(), name=label, nbinsx=40, showlegend=False,
                                   marker_color="#1f77b4" if col == 1 else "#2ca02c"),
                      row=1, col=col)
        row = measures[measures["measure"] == measure]
        if len(row):
            r = row.iloc[0]
            level = f"{r['level']:.0%}"
            fig.add_vline(x=float(r["at_risk_usd"]), line_dash="dash", line_color="#d62728",
                          annotation_text=f"{measure} {level} ${r['at_risk_usd']:,.0f}",
                          row=1, col=col)
            fig.add_vline(x=float(r["es_usd"]), line_dash="dot", line_color="#9467bd",
                          annotation_text=f"ES ${r['es_usd']:,.0f}",
                          annotation_position="bottom right", row=1, col=col)
        fig.update_xaxes(title_text=label, tickprefix="$", exponentformat="B", row=1, col=col)
        fig.update_yaxes(title_text="runs", row=1, col=col)
    fig.update_layout(title="Loss distributions over the runs", template="plotly_white")
    return fig


def pd_figure(credit: pd.DataFrame, credit_by: pd.DataFrame | None = None,
              by: str | None = None) -> Any:
    """Probability of default per venue with its Wilson interval as error bars: pooled over
    the runs, and per value of ``by`` when ``credit_by`` (grouped by it) is given."""
    import plotly.graph_objects as go

    def bars(table: pd.DataFrame, name: str) -> Any:
        return go.Bar(
            x=table["venue"], y=table["pd"], name=name,
            error_y={"type": "data", "symmetric": False, "array": table["pd_high"] - table["pd"],
                     "arrayminus": table["pd"] - table["pd_low"]},
            customdata=table[["defaults", "runs", "pd_low", "pd_high", "el_usd"]].to_numpy(),
            hovertemplate=("%{x}: PD %{y:.3f} [%{customdata[2]:.3f}, %{customdata[3]:.3f}]<br>"
                           "%{customdata[0]} defaults in %{customdata[1]} runs<br>"
                           "EL $%{customdata[4]:,.0f}<extra>" + html.escape(name) + "</extra>"))

    fig = go.Figure(bars(credit, "all runs"))
    if credit_by is not None and by is not None:
        for value, table in credit_by.groupby(by, sort=True, dropna=False):
            fig.add_trace(bars(table, f"{by}={_label(value)}"))
    fig.update_layout(title="Probability of default by venue (95% Wilson intervals)",
                      xaxis_title="venue", yaxis_title="PD", yaxis_range=[0, 1],
                      barmode="group", template="plotly_white")
    return fig


# --------------------------------------------------------------------------------- report
def _axes(runs: pd.DataFrame, swept: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``runs`` with numeric swept columns of many values (a random design) binned to the
    midpoints of equal-width bins; and a note per binned column."""
    notes: dict[str, str] = {}
    binned = {}
    for name in swept:
        col = runs[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if numeric and col.nunique(dropna=True) > MAX_AXIS_VALUES:
            cut = pd.cut(col.astype(float), bins=AXIS_BINS)
            binned[name] = cut.map(lambda iv: float(f"{iv.mid:.6g}")).astype(float)
            notes[name] = (f"{name} has {col.nunique()} distinct values (a random design): "
                           f"binned into {AXIS_BINS} equal-width bins, labelled by their "
                           "midpoints, in the cascade diagram and the by-point tables")
    return (runs.assign(**binned) if binned else runs), notes


def _sweep_meta(manifest: dict[str, Any]) -> dict[str, Any]:
    """Name, scenario, design and replications of the sweep, from its manifest: the spec
    as ``contagion sweep`` stores it (flat) or with a ``[sweep]`` table (as in TOML)."""
    spec: dict[str, Any] = manifest.get("spec") or {}
    if not isinstance(spec, dict):
        spec = {}
    table: dict[str, Any] = spec["sweep"] if isinstance(spec.get("sweep"), dict) else spec
    meta = {k: table[k] for k in ("name", "scenario", "design", "replications")
            if table.get(k) is not None}
    if "name" not in meta and isinstance(manifest.get("name"), str):
        meta["name"] = manifest["name"]
    return meta


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _headlines(runs: pd.DataFrame, ok: pd.DataFrame, swept: list[str],
               tables: dict[str, pd.DataFrame], metric: str) -> dict[str, Any]:
    failed = runs[runs["status"].astype(str) != "ok"] if "status" in runs.columns else runs[:0]
    out: dict[str, Any] = {"runs": len(runs), "ok": len(ok), "failed": len(failed),
                           "swept": swept, "level": LEVEL, "cascade_metric": metric}
    if metric in ok.columns and len(ok):
        pooled = cascade_probability(ok.assign(_all="all"), "_all", metric=metric).iloc[0]
        out["cascade"] = {k: pooled[k] for k in ("runs", "successes", "p", "low", "high")}
    cascade = tables.get("cascade_probability")
    if cascade is not None and len(cascade) and cascade["p"].max() > 0:
        worst = cascade.sort_values(["p", "low"], ascending=False).iloc[0]
        out["worst_point"] = {k: worst[k] for k in [*swept[:2], "p", "low", "high"]}
        out["worst_point"]["runs"] = int(worst["runs"])
    for _, r in tables.get("loss_measures", pd.DataFrame()).iterrows():
        out[r["measure"]] = {"loss": r["loss"], "at_risk_usd": r["at_risk_usd"],
                             "es_usd": r["es_usd"], "mean_usd": r["mean_usd"]}
    credit = tables.get("venue_credit_risk")
    if credit is not None and len(credit):
        top = credit.sort_values(["pd", "el_usd"], ascending=False).iloc[0]
        out["riskiest_venue"] = {k: top[k] for k in ("venue", "pd", "pd_low", "pd_high", "lgd",
                                                      "ead_usd", "el_usd")}
    return dict(_jsonable(out))


def _html_table(table: pd.DataFrame, max_rows: int = 60) -> str:
    def fmt(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    shown = table.head(max_rows)
    more = (f"<p class='note'>first {max_rows} of {len(table)} rows; see the CSV.</p>"
            if len(table) > max_rows else "")
    return shown.to_html(index=False, border=0, classes="t", float_format=fmt, na_rep="-") + more


def _index_html(meta: dict[str, Any], head: dict[str, Any], tables: dict[str, pd.DataFrame],
                figures: list[tuple[str, str]], files: list[str], notes: list[str],
                failed: pd.DataFrame) -> str:
    e = html.escape
    sweep = meta.get("name") or "sweep"
    lines = [f"<li>{e(k)}: {e(str(v))}</li>" for k, v in meta.items() if k != "name"]
    lines.append(f"<li>runs: {head['runs']} ({head['ok']} ok, {head['failed']} failed; failed "
                 "runs are listed below and excluded from every statistic)</li>")
    lines.append("<li>swept parameters: " + (e(", ".join(head["swept"])) or "none") + "</li>")
    if "cascade" in head:
        c = head["cascade"]
        lines.append(f"<li>P({e(head['cascade_metric'])} &gt; 0) over all runs: "
                     f"{_ci_text(c['p'], c['low'], c['high'])} ({c['successes']} of {c['runs']})"
                     "</li>")
    if "worst_point" in head:
        w = head["worst_point"]
        where = ", ".join(f"{e(k)}={e(_label(w[k]))}" for k in head["swept"][:2] if k in w)
        lines.append(f"<li>highest cascade probability at {where}: "
                     f"{_ci_text(w['p'], w['low'], w['high'])}</li>")
    for m in ("VaR", "LaR"):
        if m in head:
            lines.append(f"<li>{m} {LEVEL:.0%} ({e(head[m]['loss'])}): "
                         f"${head[m]['at_risk_usd']:,.0f}, expected shortfall "
                         f"${head[m]['es_usd']:,.0f}</li>")
    lines += [f"<li class='note'>{e(n)}</li>" for n in notes]
    body = [f"<h1>Sweep report: {e(str(sweep))}</h1>", "<ul>", *lines, "</ul>",
            "<h2>Figures</h2><ul>",
            *[f"<li><a href='{e(f)}'>{e(t)}</a></li>" for f, t in figures], "</ul>"]
    sections = [("loss_measures", "Loss measures (VaR: insolvent debt = bad debt + underwater "
                 "debt; LaR: liquidation volume; ES: mean of the runs at or beyond)"),
                ("venue_credit_risk", "Venue credit risk (PD with 95% Wilson interval, LGD, "
                 "EAD, EL = PD x LGD x EAD)"),
                ("cascade_probability", "Cascade probability by point"),
                ("expected_positive_exposure", "Exposure by venue pair (EPE, effective EPE, "
                 "peaks)")]
    for name, title in sections:
        if name in tables:
            body += [f"<h2>{e(title)}</h2>", _html_table(tables[name])]
    if len(failed):
        cols = [c for c in ("run_id", *head["swept"], "error") if c in failed.columns]
        body += ["<h2>Failed runs</h2>", _html_table(failed[cols])]
    body += ["<h2>Tables</h2><ul>",
             *[f"<li><a href='{e(f)}'>{e(f)}</a></li>" for f in files], "</ul>"]
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
             "table.t{border-collapse:collapse;font-size:13px}"
             "table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
             ".note{color:#666}")
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>Sweep report: {e(str(sweep))}</title><style>{style}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


_OUT_ALLOWED = "a new or empty folder, or the folder of an earlier report (it holds summary.json)"


def check_report_dir(results_dir: str | Path, out_dir: str | Path | None, *,
                     name: str = "out_dir") -> Path:
    """The folder the report of ``results_dir`` goes to (``out_dir``, default
    ``results_dir/report``), checked without writing: :class:`ParameterError` naming
    ``name`` if it is the root, the home, the current folder or a parent of it, a file,
    not writable, or a folder of other files (the report would replace some of them)."""
    from contagion.sweep.paths import output_dir_problem

    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "report"
    problem = output_dir_problem(out)
    if problem is not None:
        raise ParameterError(name, str(out), _OUT_ALLOWED, problem)
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise ParameterError(name, str(out), _OUT_ALLOWED,
                             "it holds other files and no earlier report; the report would "
                             "replace files there: choose a new folder")
    return out


def write_report(results_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write the tables, figures and index of a sweep's results; return the report directory.

    Parameters
    ----------
    results_dir : str or Path
        A sweep's output directory: ``parts/*.parquet``, optionally ``profiles/*.parquet``
        and ``manifest.json``.
    out_dir : str or Path, optional
        Where to write; default ``results_dir/report``. Created if needed; files already
        there are replaced one by one, each atomically.

    Returns
    -------
    Path
        The report directory (open its ``index.html``).

    Raises
    ------
    ParameterError
        Naming ``results_dir`` if it is missing or has no readable parts, ``out_dir`` if it
        is a file.
    """
    if "\x00" in str(results_dir) or not Path(results_dir).is_dir():
        raise ParameterError("results_dir", str(results_dir), _EXPECTED,
                             "it does not exist or is not a directory")
    out = check_report_dir(results_dir, out_dir)
    res = read_sweep_results(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs, swept = res.runs, res.swept
    if "status" not in runs.columns:
        runs = runs.assign(status="ok")
    ok = ok_runs(runs)
    axes, binned = _axes(ok, swept)
    notes = [f"{k}: {v}" for k, v in binned.items()]
    metric = next((m for m in ("cross_venue", "defaults") if m in runs.columns), None)
    has_venues = bool(venue_names(runs))
    has_losses = all(c in runs.columns for c in _LOSS_COLUMNS)
    log.info("report on %d runs (%d ok) in %s", len(runs), len(ok), res.directory)

    tables: dict[str, pd.DataFrame] = {"run_metrics": runs}
    if has_venues:
        tables["venue_credit_risk"] = venue_credit_risk(ok, level=LEVEL)
    else:
        notes.append("no defaulted__<venue> columns in the results: no venue credit risk")
    if has_losses:
        tables["loss_measures"] = loss_measures(ok, level=LEVEL)
    else:
        notes.append("results without " + ", ".join(_LOSS_COLUMNS) + ": no VaR/LaR")
    if swept and has_venues:
        tables["venue_credit_risk_by_point"] = venue_credit_risk(axes, by=swept, level=LEVEL)
    if swept and has_losses:
        tables["loss_measures_by_point"] = loss_measures(axes, level=LEVEL, by=swept)
    y = swept[1] if len(swept) >= 2 else None
    if swept and metric is not None:
        tables["cascade_probability"] = cascade_probability(axes, swept[0], y, metric=metric,
                                                            level=LEVEL)
    elif not swept:
        notes.append("no swept parameter: no cascade-probability diagram")
    else:
        notes.append("results without cross_venue or defaults: no cascade probability")
    profile_table = None
    if res.profiles is not None and len(res.profiles):
        profile_table = exposure_profiles(res.profiles, results=runs)
        tables["exposure_profiles"] = profile_table
        tables["expected_positive_exposure"] = expected_positive_exposure(profile_table)
    else:
        notes.append("no profiles/*.parquet: no exposure profiles")

    files: list[str] = []
    for name, table in tables.items():
        log.info("writing table %s (%d rows)", name, len(table))
        files += _write_table(table, out, name)

    figures: list[tuple[str, str]] = []
    if "cascade_probability" in tables:
        fig = cascade_figure(tables["cascade_probability"], swept[0], y, metric=str(metric))
        what = f"over {swept[0]} x {y} (heatmap" if y else f"over {swept[0]} (line"
        figures.append((_write_figure(fig, out, "cascade_probability"),
                        f"Cascade probability {what} with Wilson intervals)"))
    if profile_table is not None:
        figures.append((_write_figure(exposure_figure(profile_table), out, "exposure_profiles"),
                        "Exposure profiles per venue pair (EE, PFE95, PFE99)"))
    if "loss_measures" in tables:
        figures.append((_write_figure(loss_figure(ok, tables["loss_measures"]), out,
                                      "loss_distributions"),
                        "Loss distributions (insolvent debt, liquidation volume) with VaR and ES"))
    if "venue_credit_risk" in tables:
        by = swept[0] if swept and axes[swept[0]].nunique(dropna=False) <= 6 else None
        credit_by = venue_credit_risk(axes, by=[by], level=LEVEL) if by else None
        figures.append((_write_figure(pd_figure(tables["venue_credit_risk"], credit_by, by),
                                      out, "venue_pd"),
                        "Probability of default by venue with 95% Wilson intervals"))

    meta = _sweep_meta(res.manifest)
    head = _headlines(runs, ok, swept, tables, metric or "cross_venue")
    head.update(results_dir=str(res.directory), report_dir=str(out),
                sweep=meta.get("name"), scenario=meta.get("scenario"),
                files=[*files, *(f for f, _ in figures), "summary.json", "index.html"])
    _replace_into(out / "summary.json", lambda p: p.write_text(json.dumps(head, indent=2)))
    failed = runs[runs["status"].astype(str) != "ok"]
    page = _index_html(meta, head, tables, figures, files, notes, failed)
    _replace_into(out / "index.html", lambda p: p.write_text(page, encoding="utf-8"))
    log.info("report written to %s", out)
    return out


def report_command(results_dir: str, *, out: str | None) -> int:
    """``contagion report RESULTS_DIR [--out DIR]``: write the report, print where it is and
    the headline numbers; 0 on success, 2 (message on stderr) on a bad directory."""
    try:
        if out is not None and "\x00" not in results_dir and Path(results_dir).is_dir():
            check_report_dir(results_dir, out, name="--out")
        report_dir = write_report(results_dir, out)
    except ParameterError as exc:
        print(f"contagion: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a disk fault while writing: one line, exit 1
        from contagion.sweep.paths import describe_os_error

        hint = "files written so far are whole; run the report again once fixed"
        print(f"contagion: error: {describe_os_error(exc, hint)}", file=sys.stderr)
        return 1
    head = json.loads((report_dir / "summary.json").read_text())
    lines = [f"report written to {report_dir / 'index.html'}",
             f"runs: {head['runs']} ({head['ok']} ok, {head['failed']} failed); swept: "
             + (", ".join(head["swept"]) or "none")]
    if "cascade" in head:
        c = head["cascade"]
        lines.append(f"P({head['cascade_metric']} > 0) over all runs: "
                     f"{_ci_text(c['p'], c['low'], c['high'])}")
    if "worst_point" in head:
        w = head["worst_point"]
        where = ", ".join(f"{k}={_label(w[k])}" for k in head["swept"][:2] if k in w)
        lines.append(f"highest at {where}: {_ci_text(w['p'], w['low'], w['high'])}")
    for m in ("VaR", "LaR"):
        if m in head:
            lines.append(f"{m} {head['level']:.0%}: ${head[m]['at_risk_usd']:,.0f} "
                         f"(expected shortfall ${head[m]['es_usd']:,.0f})")
    if "riskiest_venue" in head:
        r = head["riskiest_venue"]
        lines.append(f"highest PD: {r['venue']} {_ci_text(r['pd'], r['pd_low'], r['pd_high'])}")
    print("\n".join(lines))
    return 0
