"""Exogenous price paths: a stylised crash, geometric Brownian motion with jumps, a replay.

Pure functions of their parameters and a passed-in :class:`numpy.random.Generator`; the
same generator state gives the same path. :func:`replay_path` replays a user's price
history (CSV or Parquet of timestamped prices), resampled to the model's step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from contagion.errors import PriceFileError
from contagion.validation import check_int, check_real, check_utc_timestamp

__all__ = ["PATH_RANGE", "crash_path", "gbm_jump_path", "read_price_history", "replay_path"]

#: A replayed price file is read only up to this size (a year of minute prices is ~20 MB).
MAX_PRICE_FILE_BYTES = 64 * 1024 * 1024

#: A path stays within ``PATH_RANGE`` times and ``1 / PATH_RANGE`` of its initial price:
#: beyond that it is flat. Forty orders of magnitude in all, so no crash path (the deepest
#: falls to ``1 - shock_frac >= 1.1e-16`` of its start) and no ordinary random path gets
#: there; a GBM path at the edges of its parameters' ranges (drift and jumps of -1 a step)
#: would otherwise underflow to a price of 0 within a few hundred steps, or overflow to inf.
PATH_RANGE = 1e20
_LOG_RANGE = float(np.log(PATH_RANGE))


def _exp_bounded(log_p: NDArray[np.float64], log_p0: float) -> NDArray[np.float64]:
    """``exp(log_p)``, the log-price first held within ``PATH_RANGE`` of ``log_p0``."""
    np.clip(log_p, log_p0 - _LOG_RANGE, log_p0 + _LOG_RANGE, out=log_p)
    return np.exp(log_p)


def _noise(innovations: NDArray[np.float64], variance: NDArray[np.float64] | None,
           vol: float, steps: int) -> NDArray[np.float64]:
    """``sigma z_t - sigma^2 h_t / 2``: given draws as a step's log noise (``h`` default 1)."""
    z = np.asarray(innovations, dtype=np.float64)
    if z.shape != (steps,):
        raise ValueError(f"innovations must have shape ({steps},), got {z.shape}")
    h = np.ones(steps) if variance is None else np.asarray(variance, dtype=np.float64)
    if h.shape != (steps,):
        raise ValueError(f"variance must have shape ({steps},), got {h.shape}")
    return vol * z - 0.5 * vol**2 * h


def crash_path(
    initial_price: float,
    steps: int,
    *,
    shock_frac: float,
    start_step: int,
    duration_steps: int,
    vol_per_step: float = 0.0,
    rng: np.random.Generator | None = None,
    innovations: NDArray[np.float64] | None = None,
    variance: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """A price that falls by ``shock_frac`` linearly in log over ``duration_steps``.

    Returns ``steps + 1`` prices (index 0 is the initial price). Noise, if any, is GBM
    with ``vol_per_step`` around the deterministic crash: drawn from ``rng``, or given as
    ``innovations`` (``steps`` draws of unit variance, e.g. one column of
    :func:`contagion.mechanics.price_model.joint_innovations`) with their conditional
    variances ``variance`` (default 1; a GARCH filter's ``h``), so the step's log noise is
    ``sigma z_t - sigma^2 h_t / 2``.

    Notes
    -----
    ``log p_t = log p_0 + log(1 - shock) * clip((t - start) / duration, 0, 1) + sigma W_t``,
    held within :data:`PATH_RANGE` of ``p_0`` (either way).

    Examples
    --------
    >>> p = crash_path(100.0, 4, shock_frac=0.5, start_step=1, duration_steps=2)
    >>> [round(float(x), 2) for x in p]
    [100.0, 100.0, 70.71, 50.0, 50.0]
    """
    check_real("initial_price", initial_price, low=0, low_open=True)
    check_int("steps", steps, low=0)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_int("start_step", start_step, low=0)
    check_int("duration_steps", duration_steps, low=1)
    check_real("vol_per_step", vol_per_step, low=0)
    t = np.arange(steps + 1, dtype=np.float64)
    progress = np.clip((t - start_step) / duration_steps, 0.0, 1.0)
    log_p = np.log(initial_price) + np.log1p(-shock_frac) * progress
    if vol_per_step > 0 and innovations is not None:
        log_p[1:] += np.cumsum(_noise(innovations, variance, vol_per_step, steps))
    elif vol_per_step > 0:
        if rng is None:
            raise ValueError("rng is required when vol_per_step > 0")
        shocks = rng.normal(0.0, vol_per_step, size=steps)
        log_p[1:] += np.cumsum(shocks - 0.5 * vol_per_step**2)
    return _exp_bounded(log_p, float(np.log(initial_price)))


def gbm_jump_path(
    initial_price: float,
    steps: int,
    *,
    vol_per_step: float,
    drift_per_step: float = 0.0,
    jump_rate_per_step: float = 0.0,
    jump_mean: float = -0.05,
    jump_std: float = 0.03,
    rng: np.random.Generator,
    innovations: NDArray[np.float64] | None = None,
    variance: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Merton jump-diffusion: GBM plus compound-Poisson log-normal jumps.

    The diffusion's draws come from ``rng`` or, given, from ``innovations`` (unit variance,
    conditional variances ``variance``, as in :func:`crash_path`); the jumps always come
    from ``rng``.

    Notes
    -----
    ``log p_{t+1} = log p_t + (mu - sigma^2/2) + sigma Z + sum_{k=1}^{N} J_k`` with
    ``N ~ Poisson(lambda)`` and ``J_k ~ Normal(jump_mean, jump_std)``; ``p_t`` is held
    within :data:`PATH_RANGE` of ``p_0`` (either way), so it never underflows to 0 or
    overflows to inf.

    References
    ----------
    Merton, R. C. (1976). Option pricing when underlying stock returns are discontinuous.
    Journal of Financial Economics 3, 125-144.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = gbm_jump_path(100.0, 3, vol_per_step=0.01, rng=rng)
    >>> len(p), round(float(p[0]), 6)
    (4, 100.0)
    """
    check_real("initial_price", initial_price, low=0, low_open=True)
    check_int("steps", steps, low=0)
    check_real("vol_per_step", vol_per_step, low=0)
    check_real("jump_rate_per_step", jump_rate_per_step, low=0)
    check_real("jump_std", jump_std, low=0)
    if innovations is None:
        diffusion = (drift_per_step - 0.5 * vol_per_step**2) + vol_per_step * rng.normal(size=steps)
    else:
        diffusion = drift_per_step + _noise(innovations, variance, vol_per_step, steps)
    n_jumps = rng.poisson(jump_rate_per_step, size=steps)
    jumps = n_jumps * jump_mean + np.sqrt(n_jumps) * jump_std * rng.normal(size=steps)
    log_p = np.concatenate([[np.log(initial_price)], np.log(initial_price) + np.cumsum(diffusion + jumps)])
    return _exp_bounded(log_p, float(np.log(initial_price)))


def _history_problem(file: str, message: str, row: int | None = None,
                     column: str | None = None) -> PriceFileError:
    where = ", ".join(x for x in (f"row {row}" if row is not None else "",
                                  f"column {column!r}" if column else "") if x)
    return PriceFileError(f"price file {file}: " + (f"{where}: " if where else "") + message)


@lru_cache(maxsize=16)
def _read_history(file: str, mtime_ns: int, size: int, column: str, time_column: str
                  ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    import pandas as pd  # only a replay needs pandas here

    path = Path(file)
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        else:
            frame = pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise _history_problem(file, f"not UTF-8 text (byte {exc.start})") from None
    except Exception as exc:  # pandas/pyarrow raise many types for an unreadable file
        raise _history_problem(file, f"cannot be read: {exc}") from None
    for col in (time_column, column):
        if col not in frame.columns:
            raise _history_problem(file, "no such column; the file has: "
                                   + ", ".join(map(str, frame.columns)), column=col)
    if len(frame) == 0:
        raise _history_problem(file, "no rows below the header")
    times = pd.to_datetime(frame[time_column], errors="coerce", utc=True)
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise _history_problem(file, f"{frame[time_column].iloc[bad[0]]!r} is not a timestamp "
                               "(e.g. 2022-06-13T00:00:00Z)", row=int(bad[0]) + 1,
                               column=time_column)
    raw = frame[column]
    prices = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(prices))
    if bad.size:
        raise _history_problem(file, f"{raw.iloc[bad[0]]!r} is not a finite number",
                               row=int(bad[0]) + 1, column=column)
    bad = np.flatnonzero(prices <= 0)
    if bad.size:
        raise _history_problem(file, f"{float(prices[bad[0]]):g}: a price must be positive",
                               row=int(bad[0]) + 1, column=column)
    ns = times.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)
    bad = np.flatnonzero(np.diff(ns) <= 0)
    if bad.size:
        r = int(bad[0]) + 2
        raise _history_problem(file, f"{frame[time_column].iloc[r - 1]!r} does not come after "
                               f"row {r - 1}'s {frame[time_column].iloc[r - 2]!r}: timestamps "
                               "must increase strictly (sort the file, drop duplicates)",
                               row=r, column=time_column)
    return ns, prices


def read_price_history(file: str | Path, *, column: str, time_column: str = "timestamp"
                       ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """A price history: its timestamps (UTC, int64 nanoseconds) and its prices.

    ``file`` is a CSV (UTF-8, with a header) or Parquet table; ``time_column`` holds
    timestamps pandas can parse (ISO 8601; no zone means UTC), ``column`` the prices. Every
    price must be a finite positive number and the timestamps must increase strictly;
    otherwise a :class:`~contagion.errors.PriceFileError` names the file, the row (1-based,
    header excluded) and the column. Read once per file version (cached on its
    modification time and size).
    """
    path = Path(file)
    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise _history_problem(str(file), f"unknown file type {path.suffix or '(none)'!r}: a "
                               "price history is .csv (UTF-8) or .parquet")
    if not path.is_file():
        raise _history_problem(str(file), "no such file (a relative path in a scenario file "
                               "is relative to the scenario file's folder)")
    st = path.stat()
    if st.st_size > MAX_PRICE_FILE_BYTES:
        raise _history_problem(str(file), f"{st.st_size:,} bytes; at most "
                               f"{MAX_PRICE_FILE_BYTES:,} are read")
    ns, prices = _read_history(str(file), st.st_mtime_ns, st.st_size, column, time_column)
    return ns.copy(), prices.copy()


def _utc_text(ns: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC text (for messages)."""
    return str(np.datetime64(ns, "ns").astype("datetime64[s]")) + "Z"


def replay_path(file: str | Path, steps: int, *, step_minutes: float, column: str,
                time_column: str = "timestamp", initial_price: float,
                start: str | None = None) -> NDArray[np.float64]:
    r"""A recorded price history, resampled to the step and rescaled to ``initial_price``.

    Returns ``steps + 1`` prices: step ``k`` takes the last recorded price at or before
    ``t_0 + k * step_minutes`` (``t_0`` is ``start``, an ISO 8601 time, no zone meaning UTC,
    by default the first timestamp; as-of, no interpolation, no look-ahead), times
    ``initial_price / price_0`` (``price_0`` the price at ``t_0``), so the path starts at the
    asset's initial price and replays the history's *relative* moves. A ``start`` before the
    first timestamp, or a history that ends before ``t_0 + steps * step_minutes``, is
    refused (the run would need prices that were never recorded; pass fewer ``steps`` or a
    longer file) rather than held flat.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> f = os.path.join(d, "p.csv")
    >>> _ = open(f, "w").write("timestamp,ETH\n2022-06-13 00:00,100\n2022-06-13 00:07,90\n"
    ...                        "2022-06-13 00:10,80\n")
    >>> replay_path(f, 2, step_minutes=5, column="ETH", initial_price=2000.0).tolist()
    [2000.0, 2000.0, 1600.0]
    >>> replay_path(f, 1, step_minutes=3, column="ETH", initial_price=2000.0,
    ...             start="2022-06-13 00:04").tolist()  # 00:04 reads 00:00's price
    [2000.0, 1800.0]
    """
    check_int("steps", steps, low=0)
    step_minutes = check_real("step_minutes", step_minutes, low=0, low_open=True)
    check_real("initial_price", initial_price, low=0, low_open=True)
    ns, prices = read_price_history(file, column=column, time_column=time_column)
    t0 = ns[0]
    if start is not None:
        t0 = np.int64(check_utc_timestamp("start", start))
        if t0 < ns[0]:
            raise _history_problem(str(file), f"start {start!r} is before the first "
                                   f"timestamp, {_utc_text(int(ns[0]))}: a replay starts at "
                                   "a recorded price", column=column)
    step_ns = step_minutes * 60e9
    needed = t0 + steps * step_ns
    if ns[-1] < needed - 0.5:  # half a nanosecond: the float product's rounding
        span = (ns[-1] - t0) / 60e9
        rows = int(np.count_nonzero(ns >= t0))
        raise _history_problem(str(file), f"{rows:,} rows span {span:,.4g} minutes"
                               + (f" from start {start!r}" if start is not None else "")
                               + f", {int(span // step_minutes):,} steps of {step_minutes:g} "
                               f"minutes (the last timestamp is {_utc_text(int(ns[-1]))}); "
                               f"the run needs {steps:,} steps ({steps * step_minutes:,.4g} "
                               "minutes): run fewer steps or give a longer history",
                               column=column)
    grid = t0 + np.round(np.arange(steps + 1) * step_ns).astype(np.int64)
    at = np.searchsorted(ns, grid, side="right") - 1
    path = initial_price * (prices[at] / prices[at[0]])
    return np.clip(path, initial_price / PATH_RANGE, initial_price * PATH_RANGE)
