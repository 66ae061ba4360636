"""Risk measures for margin engines and metrics: VaR, expected shortfall, EWMA volatility.

Losses are positive numbers (a gain is a negative loss). Volatilities are per simulation
step, of log returns; horizons are in steps, so ``vol * sqrt(horizon_steps)`` is the
horizon volatility under the square-root-of-time rule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from contagion.errors import ParameterError
from contagion.validation import check_array, check_real, check_vector

__all__ = [
    "dynamic_margin_frac",
    "ewma_volatility",
    "expected_shortfall",
    "parametric_var_margin",
    "value_at_risk",
]


def _losses(losses: Any) -> NDArray[np.float64]:
    arr = check_vector("losses", losses)
    if arr.size == 0:
        raise ParameterError("losses", "empty array", "at least one observation")
    return arr


def _z_score(confidence: Any) -> float:
    conf = check_real("confidence", confidence, low=0.5, high=1.0, low_open=True, high_open=True)
    from scipy.stats import norm  # here, not at import: scipy.stats costs ~0.6 s to load

    return float(norm.ppf(conf))


def _finite(name: str, value: Any, *, nonneg: bool) -> NDArray[np.float64]:
    """A scalar or array of finite numbers (``>= 0`` if ``nonneg``), any shape."""
    arr = check_array(name, value)
    if nonneg and arr.size and arr.min() < 0:
        raise ParameterError(name, f"min entry {arr.min():g}", "entries >= 0")
    return arr


def value_at_risk(losses: Any, level: float = 0.95) -> float:
    """Empirical value at risk: the ``level`` quantile of the loss sample.

    Parameters
    ----------
    losses : array_like, shape (m,)
        Sample of losses (positive = loss), at least one finite value.
    level : float, default 0.95
        Confidence level, ``0 < level < 1``.

    Returns
    -------
    float
        ``VaR_level``, an observed loss.

    Notes
    -----
    ``VaR_a = inf{x : F_m(x) >= a} = L_(ceil(m a))``, the lower ``a``-quantile of the
    empirical distribution ``F_m`` (order statistic ``L_(k)``, 1-based). Computed with
    ``numpy.quantile(..., method="inverted_cdf")`` (Hyndman & Fan type 1): no interpolation,
    so VaR is always one of the observed losses.

    References
    ----------
    .. [1] A. J. McNeil, R. Frey and P. Embrechts, *Quantitative Risk Management*, 2nd ed.,
       Princeton University Press, 2015, Sec. 2.3.
    .. [2] R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", The
       American Statistician 50(4), 361-365, 1996.

    Examples
    --------
    >>> value_at_risk([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], level=0.9)
    9.0
    >>> value_at_risk([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], level=0.91)
    10.0
    """
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    return float(np.quantile(_losses(losses), level, method="inverted_cdf"))


def expected_shortfall(losses: Any, level: float = 0.95) -> float:
    """Empirical expected shortfall: the mean of the losses at or beyond VaR.

    Parameters
    ----------
    losses : array_like, shape (m,)
        Sample of losses (positive = loss).
    level : float, default 0.95
        Confidence level, ``0 < level < 1``.

    Returns
    -------
    float
        ``ES_level >= VaR_level``.

    Notes
    -----
    ``ES_a = mean{L_k : L_k >= VaR_a}`` with :func:`value_at_risk`. This is the tail
    conditional expectation; it equals the expected shortfall of Acerbi & Tasche (2002)
    for continuous loss distributions and is at least ``VaR_a`` by construction.

    References
    ----------
    .. [1] C. Acerbi and D. Tasche, "On the coherence of expected shortfall", Journal of
       Banking & Finance 26(7), 1487-1503, 2002.
    .. [2] A. J. McNeil, R. Frey and P. Embrechts, *Quantitative Risk Management*, 2nd ed.,
       Princeton University Press, 2015, Sec. 2.3.

    Examples
    --------
    >>> expected_shortfall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], level=0.8)
    9.0
    """
    level = check_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    arr = _losses(losses)
    var = np.quantile(arr, level, method="inverted_cdf")
    return float(arr[arr >= var].mean())


def ewma_volatility(
    log_returns: Any, halflife_steps: float, *, initial_variance: float | None = None
) -> NDArray[np.float64]:
    """RiskMetrics-style exponentially weighted volatility, one value per step.

    Parameters
    ----------
    log_returns : array_like, shape (m,)
        Per-step log returns, ``m >= 1``.
    halflife_steps : float
        Half-life of the weights in steps, ``> 0``; ``lambda = 0.5 ** (1 / halflife)``.
        RiskMetrics' daily ``lambda = 0.94`` is a half-life of about 11.2 steps.
    initial_variance : float, optional
        Variance before the first return, ``sigma^2_{-1} >= 0``. Default: the first
        return's square, which makes ``sigma^2_0 = r_0^2``.

    Returns
    -------
    ndarray of float, shape (m,)
        ``sigma_t``, the volatility after observing ``r_t`` (zero mean assumed).

    Notes
    -----
    ``sigma^2_t = lambda sigma^2_{t-1} + (1 - lambda) r_t^2`` for ``t = 0..m-1`` (run with
    ``scipy.signal.lfilter``). ``sigma_t`` includes the return of step ``t``, so a margin
    engine can react to it at the end of that step.

    References
    ----------
    .. [1] J.P. Morgan/Reuters, *RiskMetrics - Technical Document*, 4th ed., 1996,
       Sec. 5.2.1.

    Examples
    --------
    Half-life 1 step gives ``lambda = 0.5``: variances ``1e-4``, ``0.5e-4 + 0.5 * 4e-4 =
    2.5e-4`` and ``1.25e-4 + 0.5 * 9e-4 = 5.75e-4``.

    >>> (ewma_volatility([0.01, -0.02, 0.03], halflife_steps=1) ** 2).round(8).tolist()
    [0.0001, 0.00025, 0.000575]
    """
    r = check_vector("log_returns", log_returns)
    if r.size == 0:
        raise ParameterError("log_returns", "empty array", "at least one return")
    halflife = check_real("halflife_steps", halflife_steps, low=0.0, low_open=True)
    lam = 0.5 ** (1.0 / halflife)
    if initial_variance is None:
        var0 = float(r[0] ** 2)
    else:
        var0 = check_real("initial_variance", initial_variance, low=0.0)
    from scipy.signal import lfilter  # here, not at import: scipy.signal costs ~1 s to load

    variance, _ = lfilter([1.0 - lam], [1.0, -lam], r**2, zi=[lam * var0])
    return np.sqrt(np.maximum(variance, 0.0))


def parametric_var_margin(
    price: Any,
    size: Any,
    volatility_per_step: Any,
    horizon_steps: float,
    confidence: float,
) -> NDArray[np.float64]:
    """Margin (in quote currency) covering a normal parametric VaR of a position.

    Parameters
    ----------
    price : array_like
        Mark price, ``>= 0``.
    size : array_like
        Position size in base units; the sign (long/short) is ignored.
    volatility_per_step : array_like
        Per-step volatility of log returns, ``>= 0``.
    horizon_steps : float
        Margin period of risk in steps, ``> 0``.
    confidence : float
        One-sided confidence level, ``0.5 < confidence < 1``.

    Returns
    -------
    ndarray of float
        ``|size| * price * z * vol * sqrt(horizon)``, broadcast over the inputs.

    Notes
    -----
    ``z = Phi^{-1}(confidence)`` (``scipy.stats.norm.ppf``): the delta-normal VaR of the
    position over the horizon, with volatility scaled by the square root of time.

    References
    ----------
    .. [1] J.P. Morgan/Reuters, *RiskMetrics - Technical Document*, 4th ed., 1996, Ch. 6.

    Examples
    --------
    >>> z = 2.3263478740408408  # norm.ppf(0.99)
    >>> m = parametric_var_margin(2000.0, -3.0, 0.01, 4, 0.99)
    >>> bool(np.isclose(m, 3 * 2000 * z * 0.01 * 2))
    True
    """
    z = _z_score(confidence)
    h = check_real("horizon_steps", horizon_steps, low=0.0, low_open=True)
    px = _finite("price", price, nonneg=True)
    vol = _finite("volatility_per_step", volatility_per_step, nonneg=True)
    qty = _finite("size", size, nonneg=False)
    return np.asarray(np.abs(qty) * px * z * vol * math.sqrt(h), dtype=np.float64)


def dynamic_margin_frac(
    volatility_per_step: Any,
    *,
    base_frac: float,
    horizon_steps: float,
    confidence: float = 0.99,
    floor_frac: float,
    cap_frac: float,
) -> NDArray[np.float64]:
    """Margin requirement (fraction of notional) that moves with realised volatility.

    Parameters
    ----------
    volatility_per_step : array_like
        Per-step volatility of log returns, ``>= 0`` (e.g. from :func:`ewma_volatility`).
    base_frac : float
        Static requirement used when it exceeds the volatility-based one, ``0 <= x <= cap``.
    horizon_steps : float
        Margin period of risk in steps, ``> 0``.
    confidence : float, default 0.99
        One-sided confidence level, ``0.5 < confidence < 1``.
    floor_frac, cap_frac : float
        Bounds of the requirement, ``0 <= floor_frac <= cap_frac <= 1``.

    Returns
    -------
    ndarray of float
        The requirement, same shape as ``volatility_per_step``; non-decreasing in it.

    Raises
    ------
    ParameterError
        If a fraction is outside ``[0, 1]``, ``floor_frac > cap_frac`` or
        ``base_frac > cap_frac``, or ``volatility_per_step`` is negative.

    Notes
    -----
    ``m = max(floor, min(cap, max(base, z * vol * sqrt(horizon))))`` with
    ``z = Phi^{-1}(confidence)``: a parametric VaR-based margin per unit notional (as in
    :func:`parametric_var_margin`), in the spirit of CME SPAN scanning ranges that are
    recalibrated to volatility and of dYdX-style dynamic initial-margin fractions, bounded
    so that it neither vanishes in calm markets nor exceeds full collateralisation.

    References
    ----------
    .. [1] CME Group, *CME SPAN: Standard Portfolio Analysis of Risk*, methodology overview.
    .. [2] J.P. Morgan/Reuters, *RiskMetrics - Technical Document*, 4th ed., 1996, Ch. 6.

    Examples
    --------
    ``z(0.99) * sqrt(4) = 4.65``: a 0.1% per-step vol stays at the base 2%, a 1% vol needs
    4.65%, and a 10% vol (46.5%) is capped at 30%:

    >>> dynamic_margin_frac([0.001, 0.01, 0.1], base_frac=0.02, horizon_steps=4,
    ...                     floor_frac=0.01, cap_frac=0.3).round(4).tolist()
    [0.02, 0.0465, 0.3]
    """
    z = _z_score(confidence)
    h = check_real("horizon_steps", horizon_steps, low=0.0, low_open=True)
    cap = check_real("cap_frac", cap_frac, low=0.0, high=1.0)
    floor = check_real("floor_frac", floor_frac, low=0.0, high=cap)
    base = check_real("base_frac", base_frac, low=0.0, high=cap)
    vol = _finite("volatility_per_step", volatility_per_step, nonneg=True)
    required = np.maximum(base, z * vol * math.sqrt(h))
    return np.asarray(np.maximum(floor, np.minimum(cap, required)), dtype=np.float64)
