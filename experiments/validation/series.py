"""History as a series: the model's price path against the sources' dated prices.

Each :class:`History` is a small CSV under ``experiments/validation/history/`` (its header
comment cites the source of every row) and the map from model steps to time that the preset
defines (the UTC time of step 0 and the minutes per step). Rows are scored by the gap in
log10 price between the model and the history at the history's times:

- ``at``: the model at that time (linear interpolation between steps);
- ``day_low`` / ``day_mean``: the model's lowest / mean price over that UTC day;
- ``min_by``: the model's lowest price up to that time; ``min``: over its whole run;
- a name in :attr:`History.anchors`: the model at that step (an event of the preset, where
  the source gives a level but no time).

Rows of ``quality`` ``source`` (figures of the shared sources) decide the verdict; ``approx``
rows (approximate figures, flagged in the file) are plotted and reported for information;
``input`` rows (the preset's starting price) are plotted only. Rows outside the model's
horizon are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["HISTORIES", "Gap", "History", "PathFit", "gaps", "load", "path_fit"]

HISTORY_DIR = Path(__file__).parent / "history"


@dataclass(frozen=True)
class History:
    """A dated price series of the history and how the preset maps steps to time."""

    label: str
    file: str
    column: str  # the model's series column
    t0: str  # UTC time of step 0
    step_minutes: float
    anchors: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return HISTORY_DIR / self.file

    def step_of(self, t: pd.Timestamp) -> float:
        return float((t - pd.Timestamp(self.t0)) / pd.Timedelta(minutes=self.step_minutes))

    def time_of(self, steps: np.ndarray | pd.Index) -> pd.DatetimeIndex:
        return pd.Timestamp(self.t0) + pd.to_timedelta(np.asarray(steps, float)
                                                       * self.step_minutes, unit="min")


HISTORIES: dict[str, History] = {
    "ust": History("UST, 7-16 May 2022", "ust_may2022.csv", "price_UST",
                   "2022-05-07T00:00:00Z", 60.0),
    "luna": History("LUNA, 7-16 May 2022", "luna_may2022.csv", "price_LUNA",
                    "2022-05-07T00:00:00Z", 60.0),
    "ftt": History("FTT, 6-14 November 2022", "ftt_nov2022.csv", "price_FTT",
                   "2022-11-06T00:00:00Z", 30.0, anchors={"after_sale": 28}),
    "eth_2020": History("ETH, 12-13 March 2020", "eth_mar2020.csv", "price_ETH",
                        "2020-03-12T00:00:00Z", 15.0),
}

STATS = ("at", "day_low", "day_mean", "min_by", "min")


def load(h: History) -> pd.DataFrame:
    """The history's rows (``time_utc`` parsed), checked for known ``stat`` and ``quality``."""
    df = pd.read_csv(h.path, comment="#")
    df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True)
    bad = set(df["stat"]) - set(STATS) - set(h.anchors)
    if bad or not set(df["quality"]) <= {"source", "approx", "input"}:
        raise ValueError(f"{h.file}: unknown stat {sorted(bad)} or quality")
    if (df["price_usd"] <= 0).any():
        raise ValueError(f"{h.file}: prices must be positive")
    return df


@dataclass(frozen=True)
class Gap:
    """One history row against the model: the model's figure and the log10 gap."""

    time: pd.Timestamp
    history: float
    model: float
    quality: str
    note: str

    @property
    def log_gap(self) -> float:
        return float(np.log10(self.model / self.history))


def _model_figure(series: pd.Series, h: History, t: pd.Timestamp, stat: str) -> float | None:
    steps = series.index.to_numpy(dtype=float)
    values = series.to_numpy(dtype=float)
    last = steps[-1]
    if stat in h.anchors:
        s = float(h.anchors[stat])
        return float(np.interp(s, steps, values)) if s <= last else None
    if stat == "min":
        return float(values.min())
    s = h.step_of(t)
    if stat == "at":
        return float(np.interp(s, steps, values)) if 0 <= s <= last else None
    if stat == "min_by":
        return float(values[steps <= s].min()) if 0 <= s <= last else None
    day = (steps >= s) & (steps <= s + 24 * 60 / h.step_minutes)
    if s < 0 or s + 24 * 60 / h.step_minutes > last:
        return None
    return float(values[day].min() if stat == "day_low" else values[day].mean())


def gaps(series: pd.Series, h: History, rows: pd.DataFrame | None = None
         ) -> tuple[list[Gap], int]:
    """Every row of the history inside the model's horizon against the model, and the number
    of rows left out (outside the horizon)."""
    rows = load(h) if rows is None else rows
    out, skipped = [], 0
    for r in rows.itertuples(index=False):
        m = _model_figure(series, h, r.time_utc, r.stat)
        if m is None or not np.isfinite(m) or m <= 0:
            skipped += 1
            continue
        out.append(Gap(r.time_utc, float(r.price_usd), m, r.quality, r.note))
    return out, skipped


@dataclass(frozen=True)
class PathFit:
    """The path metric over one quality of rows: RMSE and largest |gap| of log10 price."""

    rmse: float
    max_gap: float
    n: int
    skipped: int


def path_fit(series: pd.Series, h: History, quality: str = "source") -> PathFit:
    """RMSE and the largest absolute gap, in log10 price (decades), over the rows of
    ``quality`` inside the model's horizon."""
    rows = load(h)
    rows = rows[rows["quality"] == quality]
    g, skipped = gaps(series, h, rows)
    if not g:
        return PathFit(float("nan"), float("nan"), 0, skipped)
    lg = np.array([x.log_gap for x in g])
    return PathFit(float(np.sqrt(np.mean(lg ** 2))), float(np.abs(lg).max()), len(g), skipped)
