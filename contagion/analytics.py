"""Monte Carlo credit-risk statistics of a parameter sweep, from its tidy tables.

A sweep stores one row per run (``run_id``, the swept parameters, ``status`` and the
measures of :func:`contagion.metrics.run_record`) and, per run, the exposure of each venue
to each other venue over time (``run_id, step, holder, counterparty, exposure_usd``). The
functions here turn those tables into the numbers a credit-risk officer reads:

* per venue, probability of default with a Wilson interval, loss given default, exposure
  at default and expected loss (:func:`venue_credit_risk`);
* system tail risk, Gauntlet-style VaR (insolvencies) and LaR (liquidations) with their
  expected shortfalls (:func:`loss_measures`);
* the probability of a cascade over two swept parameters, the data of a phase diagram
  (:func:`cascade_probability`);
* exposure profiles EE, PFE95, PFE99 per venue pair over the horizon
  (:func:`exposure_profiles`) and their time averages EPE and effective EPE
  (:func:`expected_positive_exposure`).

Every function is pure (DataFrames in, a new tidy DataFrame out) and uses only the runs
whose ``status`` is ``"ok"``: a failed run has no measures, so it is counted by the report
but never enters a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from contagion.errors import ParameterError
from contagion.mechanics.risk import expected_shortfall, value_at_risk
from contagion.validation import check_array, check_real, scalar_or_array

__all__ = [
    "cascade_probability",
    "expected_positive_exposure",
    "exposure_profiles",
    "insolvent_debt_usd",
    "loss_measures",
    "ok_runs",
    "venue_credit_risk",
    "venue_names",
    "wilson_interval",
]

PROFILE_COLUMNS = ["run_id", "step", "holder", "counterparty", "exposure_usd"]
_PROFILE_STATS = ["runs", "ee_usd", "pfe95_usd", "pfe99_usd"]


# ------------------------------------------------------------------------------- helpers
def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(name, f"a table without column(s) {', '.join(missing)}",
                             f"{what} with columns {', '.join(columns)}")


def _numeric(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    try:
        return pd.to_numeric(frame[column]).astype(float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}[{column!r}]", str(frame[column].dtype),
                             "a numeric column") from None


def ok_runs(results: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished: rows whose ``status`` is ``"ok"`` (all rows if no status).

    Examples
    --------
    >>> runs = pd.DataFrame({"run_id": ["a", "b"], "status": ["ok", "failed"]})
    >>> ok_runs(runs)["run_id"].tolist()
    ['a']
    """
    if "status" not in results.columns:
        return results
    return results[results["status"].astype(str) == "ok"]


def venue_names(results: pd.DataFrame) -> list[str]:
    """Venues (and firms) with a ``defaulted__<venue>`` column, in column order.

    Examples
    --------
    >>> venue_names(pd.DataFrame(columns=["defaults", "defaulted__LendA", "ead__LendA",
    ...                                   "defaulted__CEX"]))
    ['LendA', 'CEX']
    """
    prefix = "defaulted__"
    return [str(c)[len(prefix):] for c in results.columns if str(c).startswith(prefix)]


def insolvent_debt_usd(results: pd.DataFrame) -> pd.Series:
    """Insolvent debt of each run: realised bad debt plus debt still underwater at the end.

    ``bad_debt_usd`` (shortfalls already written off) ``+ insolvent_debt_usd`` (accounts
    whose collateral no longer covers their debt at the last step): the loss the system's
    lenders bear or will bear, Gauntlet's "insolvencies".

    Examples
    --------
    >>> insolvent_debt_usd(pd.DataFrame({"bad_debt_usd": [1.0, 0.0],
    ...                                  "insolvent_debt_usd": [2.0, 5.0]})).tolist()
    [3.0, 5.0]
    """
    _require(results, ["bad_debt_usd", "insolvent_debt_usd"], "results", "a sweep results table")
    total = _numeric(results, "bad_debt_usd", "results") + _numeric(results, "insolvent_debt_usd",
                                                                     "results")
    return total.rename("insolvent_debt_usd")


# --------------------------------------------------------------------------- statistics
def wilson_interval(successes: ArrayLike, n: ArrayLike, level: float = 0.95
                    ) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """Wilson score interval for a binomial proportion (vectorised).

    Parameters
    ----------
    successes : array_like
        Number of successes ``k``, ``0 <= k <= n``.
    n : array_like
        Number of trials, ``>= 0`` (broadcast against ``successes``).
    level : float, default 0.95
        Confidence level, ``0 < level < 1``.

    Returns
    -------
    low, high : float or ndarray
        Bounds in ``[0, 1]``; floats for scalar inputs. ``nan`` where ``n == 0``.

    Notes
    -----
    With ``p = k / n`` and ``z`` the ``(1 + level) / 2`` standard normal quantile,

    ``centre = (p + z^2 / (2 n)) / (1 + z^2 / n)``,
    ``half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))``,

    and the interval is ``centre -+ half``. Unlike the Wald interval ``p -+ z sqrt(p(1-p)/n)``
    it stays inside ``[0, 1]`` and keeps close to nominal coverage for small ``n`` and for
    ``p`` near 0 or 1 (``k = 0`` gives ``low = 0`` and ``high > 0``), which is the usual case
    for default probabilities estimated from a few hundred simulations.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical
       inference", Journal of the American Statistical Association 22(158), 209-212, 1927.
    .. [2] L. D. Brown, T. T. Cai and A. DasGupta, "Interval estimation for a binomial
       proportion", Statistical Science 16(2), 101-133, 2001.

    Examples
    --------
    >>> low, high = wilson_interval(3, 10)
    >>> round(low, 4), round(high, 4)
    (0.1078, 0.6032)
    >>> low, high = wilson_interval([0, 10], [10, 10])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.0, 0.7225], [0.2775, 1.0])
    """
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    k = check_array("successes", successes, low=0.0)
    m = check_array("n", n, low=0.0)
    try:
        k, m = np.broadcast_arrays(k, m)
    except ValueError:
        raise ParameterError("successes", f"shape {k.shape}", f"a shape broadcastable with n's "
                             f"{m.shape}") from None
    if k.size and bool(np.any(k > m)):
        raise ParameterError("successes", float(k[k > m].flat[0]), "0 <= successes <= n")
    z2 = float(norm.ppf(0.5 + level / 2.0)) ** 2
    safe = np.where(m > 0, m, 1.0)
    p = k / safe
    denom = 1.0 + z2 / safe
    centre = (p + z2 / (2.0 * safe)) / denom
    half = np.sqrt(z2) / denom * np.sqrt(p * (1.0 - p) / safe + z2 / (4.0 * safe**2))
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == m, 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(m > 0, low, np.nan)
    high = np.where(m > 0, high, np.nan)
    return scalar_or_array(low), scalar_or_array(high)


def venue_credit_risk(results: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                      level: float = 0.95) -> pd.DataFrame:
    """Probability of default, LGD, EAD and expected loss of each venue over the runs.

    Parameters
    ----------
    results : DataFrame
        One row per run with ``defaulted__<v>`` (0/1), ``ead__<v>`` and ``lgd__<v>`` per
        venue ``v`` (as written by :func:`contagion.metrics.run_record`), optionally
        ``kind__<v>`` and ``status``; only ``status == "ok"`` rows are used.
    by : str or list of str, optional
        Columns to group by (swept parameters, e.g. ``["cross_margin"]``).
    level : float, default 0.95
        Confidence level of the PD interval.

    Returns
    -------
    DataFrame
        One row per (group, venue): ``by`` columns, ``venue``, ``kind``, ``runs`` (runs in
        which the venue existed), ``defaults``, ``pd``, ``pd_low``, ``pd_high`` (Wilson
        interval), ``lgd``, ``ead_usd``, ``el_usd`` and ``mean_loss_usd``.

    Notes
    -----
    Over ``N`` runs of which ``D`` end with the venue in default:

    * ``PD = D / N``, with the Wilson interval of :func:`wilson_interval`;
    * ``LGD = mean(lgd | default)``, the share of its creditors' claims they lose;
    * ``EAD = mean(ead | default)``, its liabilities when it defaulted, in USD;
    * ``EL = PD x LGD x EAD``, the Basel expected loss to the venue's creditors (0 when
      ``D = 0``).

    The Basel product assumes that LGD and EAD are independent given default. The direct
    Monte Carlo estimate ``mean_loss_usd = (1 / N) sum_runs 1{default} x lgd x ead`` does
    not; the two differ when large defaults also lose a larger share.

    References
    ----------
    .. [1] Basel Committee on Banking Supervision, *An Explanatory Note on the Basel II IRB
       Risk Weight Functions*, July 2005, Sec. 3 (``EL = PD x EAD x LGD``).
    .. [2] BCBS, *International Convergence of Capital Measurement and Capital Standards*
       (Basel II), June 2006, Part 2, III (IRB approach: PD, LGD, EAD).

    Examples
    --------
    >>> runs = pd.DataFrame({"status": ["ok"] * 4 + ["failed"],
    ...     "cross_margin": [True, True, False, False, False],
    ...     "defaulted__CEX": [1, 0, 1, 1, None], "ead__CEX": [100.0, 0.0, 200.0, 400.0, None],
    ...     "lgd__CEX": [0.5, None, 0.25, 0.75, None]})
    >>> t = venue_credit_risk(runs)
    >>> t[["venue", "runs", "defaults", "pd", "lgd", "ead_usd", "el_usd"]].round(2)
      venue  runs  defaults    pd  lgd  ead_usd  el_usd
    0   CEX     4         3  0.75  0.5   233.33    87.5
    >>> venue_credit_risk(runs, by=["cross_margin"])[["cross_margin", "pd", "el_usd"]]
       cross_margin   pd  el_usd
    0         False  1.0   150.0
    1          True  0.5    25.0
    """
    keys = _by_list(by)
    _require(results, keys, "by", "columns of results")
    venues = venue_names(results)
    if not venues:
        raise ParameterError("results", "a table without defaulted__<venue> columns",
                             "a sweep results table with defaulted__<venue>, ead__<venue> and "
                             "lgd__<venue> columns (contagion.metrics.run_record)")
    ok = ok_runs(results)
    parts = []
    for v in venues:
        kind = ok[f"kind__{v}"] if f"kind__{v}" in ok.columns else pd.Series("", index=ok.index)
        part = pd.DataFrame({
            **{k: ok[k] for k in keys},
            "venue": v,
            "kind": kind.astype(object).where(kind.notna(), ""),
            "defaulted": _numeric(ok, f"defaulted__{v}", "results"),
            "ead": (_numeric(ok, f"ead__{v}", "results") if f"ead__{v}" in ok.columns
                    else np.nan),
            "lgd": (_numeric(ok, f"lgd__{v}", "results") if f"lgd__{v}" in ok.columns
                    else np.nan),
        }, index=ok.index)
        parts.append(part[part["defaulted"].notna()])
    long = pd.concat(parts, ignore_index=True)
    hit = long["defaulted"] > 0
    long = long.assign(hit=hit.astype(int), lgd_d=long["lgd"].where(hit),
                       ead_d=long["ead"].where(hit),
                       loss=(long["ead"] * long["lgd"]).where(hit, 0.0),
                       venue=pd.Categorical(long["venue"], categories=venues, ordered=True))
    table = (long.groupby([*keys, "venue"], dropna=False, sort=True, observed=True)
             .agg(kind=("kind", "first"), runs=("hit", "size"), defaults=("hit", "sum"),
                  lgd=("lgd_d", "mean"), ead_usd=("ead_d", "mean"),
                  mean_loss_usd=("loss", "mean"))
             .reset_index())
    table["venue"] = table["venue"].astype(str)
    table["runs"] = table["runs"].astype(int)
    table["defaults"] = table["defaults"].astype(int)
    pd_ = table["defaults"] / table["runs"]
    low, high = wilson_interval(table["defaults"].to_numpy(), table["runs"].to_numpy(), level)
    table = table.assign(pd=pd_, pd_low=low, pd_high=high,
                         el_usd=(pd_ * table["lgd"] * table["ead_usd"]).where(
                             table["defaults"] > 0, 0.0))
    return table[[*keys, "venue", "kind", "runs", "defaults", "pd", "pd_low", "pd_high", "lgd",
                  "ead_usd", "el_usd", "mean_loss_usd"]]


_LOSSES = (("VaR", "insolvent_debt_usd"), ("LaR", "liquidation_volume_usd"))


def loss_measures(results: pd.DataFrame, *, level: float = 0.95,
                  by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Tail risk of the system over the runs: VaR of insolvencies, LaR of liquidations.

    Parameters
    ----------
    results : DataFrame
        One row per run with ``bad_debt_usd``, ``insolvent_debt_usd`` and
        ``liquidation_volume_usd``; only ``status == "ok"`` rows are used.
    level : float, default 0.95
        Confidence level of the quantiles, ``0 < level < 1``.
    by : str or list of str, optional
        Columns to group by (swept parameters).

    Returns
    -------
    DataFrame
        Two rows per group: ``measure`` ``"VaR"`` (loss ``insolvent_debt_usd``) and
        ``"LaR"`` (loss ``liquidation_volume_usd``), with ``runs``, ``level``,
        ``mean_usd``, ``at_risk_usd`` (the quantile), ``es_usd`` (expected shortfall) and
        ``max_usd``.

    Notes
    -----
    Following Gauntlet's risk dashboards, *Value at Risk* is the ``level`` quantile of the
    insolvent debt of a run, here ``bad_debt_usd + insolvent_debt_usd`` (debt written off
    plus debt still under water at the end, see :func:`insolvent_debt_usd`), and
    *Liquidations at Risk* the ``level`` quantile of the liquidated volume: liquidations are
    losses to borrowers, absorbed by the market, not to lenders. Quantiles are empirical
    (:func:`contagion.mechanics.risk.value_at_risk`, an observed value); the expected
    shortfall is the mean of the runs at or beyond the quantile
    (:func:`contagion.mechanics.risk.expected_shortfall`):
    ``ES_a = mean{L_k : L_k >= VaR_a}``.

    References
    ----------
    .. [1] S. Varia, "VaR Deepdive", Gauntlet, 28 January 2022,
       https://medium.com/gauntlet-networks/var-deepdive-b4a9b6097e9f (VaR = insolvencies,
       LaR = liquidations at risk).
    .. [2] C. Acerbi and D. Tasche, "On the coherence of expected shortfall", Journal of
       Banking & Finance 26(7), 1487-1503, 2002.

    Examples
    --------
    >>> runs = pd.DataFrame({"bad_debt_usd": [0.0] * 10, "insolvent_debt_usd": range(1, 11),
    ...                      "liquidation_volume_usd": [10.0 * i for i in range(10)]})
    >>> loss_measures(runs, level=0.8)[["measure", "runs", "at_risk_usd", "es_usd"]]
      measure  runs  at_risk_usd  es_usd
    0     VaR    10          8.0     9.0
    1     LaR    10         70.0    80.0
    """
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    keys = _by_list(by)
    _require(results, keys, "by", "columns of results")
    _require(results, ["bad_debt_usd", "insolvent_debt_usd", "liquidation_volume_usd"],
             "results", "a sweep results table")
    ok = ok_runs(results)
    samples = pd.DataFrame({**{k: ok[k] for k in keys}, "VaR": insolvent_debt_usd(ok),
                            "LaR": _numeric(ok, "liquidation_volume_usd", "results")},
                           index=ok.index)
    groups = (samples.groupby(keys, dropna=False, sort=True) if keys
              else [((), samples)])
    rows: list[dict[str, Any]] = []
    for key, group in groups:
        for measure, loss in _LOSSES:
            x = group[measure].dropna().to_numpy(dtype=float)
            if x.size == 0:
                continue
            rows.append({**dict(zip(keys, key, strict=True)), "measure": measure, "loss": loss,
                         "runs": int(x.size), "level": level, "mean_usd": float(x.mean()),
                         "at_risk_usd": value_at_risk(x, level),
                         "es_usd": expected_shortfall(x, level), "max_usd": float(x.max())})
    columns = [*keys, "measure", "loss", "runs", "level", "mean_usd", "at_risk_usd", "es_usd",
               "max_usd"]
    return pd.DataFrame(rows, columns=columns)


def cascade_probability(results: pd.DataFrame, x: str, y: str | None = None, *,
                        metric: str = "cross_venue", level: float = 0.95) -> pd.DataFrame:
    """Probability of a cascade at each point of one or two swept parameters.

    Parameters
    ----------
    results : DataFrame
        One row per run with columns ``x``, ``y`` and ``metric``; only ``status == "ok"``
        rows are used.
    x, y : str
        The parameters (columns) spanning the diagram; ``y=None`` for a line over ``x``.
    metric : str, default "cross_venue"
        A run counts as a success when ``metric > 0``: for the 0/1 ``cross_venue`` (two or
        more venues hit) that is its value; ``"defaults"`` gives P(at least one default),
        ``"bad_debt_usd"`` P(any bad debt).
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row per point, sorted: ``x``, ``y``, ``runs``, ``successes``, ``p`` and the
        Wilson interval ``low``, ``high``: the data of a phase diagram.

    Notes
    -----
    ``p = successes / runs``, the Monte Carlo estimate of ``P(metric > 0 | x, y)`` over the
    replications of the point; ``[low, high]`` is its Wilson score interval (see
    :func:`wilson_interval`), which is informative even when ``p`` is 0 or 1.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical
       inference", JASA 22(158), 209-212, 1927.

    Examples
    --------
    >>> runs = pd.DataFrame({"lev": [2, 2, 5, 5], "shock": [0.3] * 4,
    ...                      "cross_venue": [0, 0, 1, 0]})
    >>> cascade_probability(runs, "lev", "shock").round(3)
       lev  shock  runs  successes    p    low   high
    0    2    0.3     2          0  0.0  0.000  0.658
    1    5    0.3     2          1  0.5  0.095  0.905
    """
    keys = [x] if y is None else [x, y]
    _require(results, [*keys, metric], "results", "a sweep results table")
    ok = ok_runs(results)
    value = _numeric(ok, metric, "results")
    success = (value > 0).astype(float).where(value.notna())
    data = ok[keys].assign(_success=success)
    data = data[data["_success"].notna()]
    table = (data.groupby(keys, dropna=False, sort=True)["_success"]
             .agg(runs="size", successes="sum").reset_index())
    table["runs"] = table["runs"].astype(int)
    table["successes"] = table["successes"].astype(int)
    table["p"] = table["successes"] / table["runs"]
    low, high = wilson_interval(table["successes"].to_numpy(), table["runs"].to_numpy(), level)
    table["low"] = low
    table["high"] = high
    return table


# ---------------------------------------------------------------------- exposure profiles
def exposure_profiles(profiles: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                      results: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected exposure and potential future exposure of each venue pair over time.

    Parameters
    ----------
    profiles : DataFrame
        Per run, the exposure of ``holder`` to ``counterparty`` at each ``step``: columns
        ``run_id, step, holder, counterparty, exposure_usd`` (several rows of one pair and
        step, e.g. one per channel, are summed). A pair absent from a run at a step is an
        exposure of 0.
    by : str or list of str, optional
        Columns to group by; taken from ``profiles`` if there, else from ``results``
        (joined on ``run_id``).
    results : DataFrame, optional
        The runs table: needed for ``by`` columns not in ``profiles``; when given, only the
        profiles of its ``status == "ok"`` runs are used.

    Returns
    -------
    DataFrame
        One row per (holder, counterparty, group, step): ``holder``, ``counterparty``,
        ``by`` columns, ``step``, ``runs``, ``ee_usd``, ``pfe95_usd``, ``pfe99_usd``.

    Notes
    -----
    Over the ``N`` runs of a group (the runs with a profile), with ``E_r(t)`` the exposure
    of the pair in run ``r`` at step ``t``:

    * expected exposure ``EE(t) = (1 / N) sum_r max(E_r(t), 0)``;
    * potential future exposure ``PFE_q(t)`` = the ``q`` quantile of ``max(E_r(t), 0)``
      over the runs, empirical as in :func:`~contagion.mechanics.risk.value_at_risk` (an
      observed exposure; ``numpy.quantile(..., method="inverted_cdf")``), for ``q = 0.95``
      and ``0.99``.

    With few runs PFE99 is the largest exposure observed; it needs ``N >= 100`` to differ
    from the maximum.

    References
    ----------
    .. [1] Basel Committee on Banking Supervision, *The Application of Basel II to Trading
       Activities and the Treatment of Double Default Effects*, July 2005, Annex 4, Sec. I
       (definitions of expected exposure, EPE, effective EE and PFE).
    .. [2] J. Gregory, *The xVA Challenge: Counterparty Risk, Funding, Collateral, Capital
       and Initial Margin*, 4th ed., Wiley, 2020, Ch. 11 (exposure metrics).

    Examples
    --------
    Two runs; in run ``b`` the pair has no exposure at step 1 (no row):

    >>> prof = pd.DataFrame({"run_id": ["a", "a", "b"], "step": [0, 1, 0],
    ...     "holder": "CEX", "counterparty": "Fund", "exposure_usd": [10.0, 30.0, 20.0]})
    >>> exposure_profiles(prof)
      holder counterparty  step  runs  ee_usd  pfe95_usd  pfe99_usd
    0    CEX         Fund     0     2    15.0       20.0       20.0
    1    CEX         Fund     1     2    15.0       30.0       30.0
    """
    keys = _by_list(by)
    _require(profiles, PROFILE_COLUMNS, "profiles", "an exposure profile table")
    prof = profiles
    joined = [k for k in keys if k not in prof.columns]
    if results is not None:
        _require(results, ["run_id", *joined], "results", "a sweep results table")
        runs = ok_runs(results)[["run_id", *joined]].drop_duplicates("run_id")
        prof = prof[[c for c in prof.columns if c not in joined]].merge(runs, on="run_id",
                                                                         how="inner")
    elif joined:
        raise ParameterError("by", joined, "columns of profiles, or pass results= to join them "
                             "on run_id")
    prof = prof.assign(exposure_usd=_numeric(prof, "exposure_usd", "profiles"))
    groups = prof.groupby(keys, dropna=False, sort=True) if keys else [((), prof)]
    out = []
    for key, group in groups:
        run_ids = pd.unique(group["run_id"])
        wide = (group.groupby(["holder", "counterparty", "run_id", "step"], sort=True)
                ["exposure_usd"].sum().clip(lower=0.0).unstack("step", fill_value=0.0))
        steps = wide.columns.to_numpy()
        pairs = list(dict.fromkeys(zip(wide.index.get_level_values(0),
                                       wide.index.get_level_values(1), strict=True)))
        full = pd.MultiIndex.from_tuples([(h, c, r) for h, c in pairs for r in run_ids])
        arr = wide.reindex(full, fill_value=0.0).to_numpy(dtype=float).reshape(
            len(pairs), len(run_ids), len(steps))
        ee = arr.mean(axis=1)
        pfe95 = np.quantile(arr, 0.95, axis=1, method="inverted_cdf")
        pfe99 = np.quantile(arr, 0.99, axis=1, method="inverted_cdf")
        n_steps = len(steps)
        frame = pd.DataFrame({
            "holder": np.repeat([h for h, _ in pairs], n_steps),
            "counterparty": np.repeat([c for _, c in pairs], n_steps),
            **{k: v for k, v in zip(keys, key, strict=True)},
            "step": np.tile(steps, len(pairs)),
            "runs": len(run_ids),
            "ee_usd": ee.ravel(), "pfe95_usd": pfe95.ravel(), "pfe99_usd": pfe99.ravel(),
        })
        out.append(frame)
    columns = ["holder", "counterparty", *keys, "step", *_PROFILE_STATS]
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns]


def expected_positive_exposure(profile_table: pd.DataFrame) -> pd.DataFrame:
    """EPE, effective EPE and peak exposures of each pair over the horizon.

    Parameters
    ----------
    profile_table : DataFrame
        The output of :func:`exposure_profiles` (columns ``holder``, ``counterparty``,
        ``step``, ``ee_usd``, ``pfe95_usd``, ``pfe99_usd``; any other columns, such as
        ``by`` groups, identify the profile along with the pair).

    Returns
    -------
    DataFrame
        One row per profile: the identifying columns, ``steps`` (number of time points),
        ``epe_usd``, ``effective_epe_usd``, ``peak_ee_usd``, ``peak_pfe95_usd``,
        ``peak_pfe99_usd``.

    Notes
    -----
    On the time grid ``t_0 < t_1 < ... < t_K`` of the profile, with ``dt_k = t_k - t_{k-1}``:

    * ``EPE = sum_{k=1..K} EE(t_k) dt_k / (t_K - t_0)``, the time-weighted average of the
      expected exposure over the horizon (``EE(t_0)`` if there is one time point);
    * effective EE is non-decreasing, ``EffEE(t_0) = EE(t_0)``,
      ``EffEE(t_k) = max(EffEE(t_{k-1}), EE(t_k))``, and effective EPE is its average
      ``sum_{k=1..K} EffEE(t_k) dt_k / (t_K - t_0)`` (it accounts for roll-over of
      short-dated exposure).

    Basel averages over the first year; here over the whole simulated horizon.

    References
    ----------
    .. [1] Basel Committee on Banking Supervision, *The Application of Basel II to Trading
       Activities and the Treatment of Double Default Effects*, July 2005, Annex 4, Sec. I
       and paragraphs 30-31 (effective EE and effective EPE).
    .. [2] BCBS, *The Basel Framework*, CRE53.15-53.17 (internal models method: EE,
       effective EE, effective EPE).

    Examples
    --------
    >>> table = pd.DataFrame({"holder": "CEX", "counterparty": "Fund", "step": [0, 1, 2, 3],
    ...     "runs": 10, "ee_usd": [5.0, 10.0, 4.0, 7.0], "pfe95_usd": [6.0, 20.0, 9.0, 9.0],
    ...     "pfe99_usd": [6.0, 25.0, 9.0, 9.0]})
    >>> epe = expected_positive_exposure(table).iloc[0]
    >>> float(epe["epe_usd"]), float(epe["effective_epe_usd"]), float(epe["peak_pfe99_usd"])
    (7.0, 10.0, 25.0)
    """
    stats = ["step", "runs", "ee_usd", "pfe95_usd", "pfe99_usd"]
    _require(profile_table, ["holder", "counterparty", *stats[:1], *stats[2:]], "profile_table",
             "an exposure_profiles table")
    keys = ["holder", "counterparty"] + [c for c in profile_table.columns
                                         if c not in stats and c not in ("holder", "counterparty")]
    rows = []
    for key, group in profile_table.groupby(keys, dropna=False, sort=False):
        g = group.sort_values("step")
        t = g["step"].to_numpy(dtype=float)
        ee = g["ee_usd"].to_numpy(dtype=float)
        eff = np.maximum.accumulate(ee)
        if len(t) > 1 and t[-1] > t[0]:
            dt = np.diff(t)
            epe = float(np.dot(ee[1:], dt) / (t[-1] - t[0]))
            eff_epe = float(np.dot(eff[1:], dt) / (t[-1] - t[0]))
        else:
            epe = eff_epe = float(ee[0])
        rows.append({**dict(zip(keys, key, strict=True)), "steps": len(t), "epe_usd": epe,
                     "effective_epe_usd": eff_epe, "peak_ee_usd": float(ee.max()),
                     "peak_pfe95_usd": float(g["pfe95_usd"].max()),
                     "peak_pfe99_usd": float(g["pfe99_usd"].max())})
    return pd.DataFrame(rows, columns=[*keys, "steps", "epe_usd", "effective_epe_usd",
                                       "peak_ee_usd", "peak_pfe95_usd", "peak_pfe99_usd"])
