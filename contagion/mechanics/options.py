"""European options: Black-Scholes-Merton and Black-76 prices, greeks, a volatility surface.

Vectorised over arrays of options (numpy broadcasting, no Python loop), in USD: a
*linear* option pays ``max(S_T - K, 0)`` (call) or ``max(K - S_T, 0)`` (put) dollars per
unit of the underlying. Times are in years, rates and volatilities annualised and
continuously compounded (``0.6`` is 60% a year).

Which model for crypto? Deribit-style venues mark an option off the *forward* of its expiry
(the future, or the index for perp-settled books) with Black's model and no discounting to
speak of (crypto venues quote ``r = 0``); that is :func:`black76_price` on the forward, which
is also :func:`bsm_price` with ``carry_rate = rate`` (a "dividend" equal to the rate). With
``rate = carry_rate = 0`` the two coincide on the spot: this is what the portfolio margin of
:mod:`contagion.mechanics.portfolio_margin` uses by default. The greeks of
:func:`bsm_greeks` are Hull's: ``vega`` per unit of volatility (1.00 = 100 vol points),
``theta`` per year, ``rho`` per unit of rate; Black-76's are with respect to the forward.

A :class:`VolSurface` is a grid of implied volatilities over expiries x strikes (absolute, or
moneyness ``K / F``), interpolated linearly in vol along strike and linearly in total
variance ``sigma^2 T`` along expiry, flat outside the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from contagion.errors import ParameterError
from contagion.validation import check_array, check_choice, check_int

__all__ = [
    "Greeks",
    "VolSurface",
    "black76_greeks",
    "black76_price",
    "bsm_greeks",
    "bsm_price",
    "forward_price",
    "implied_vol",
]

FloatArray = NDArray[np.float64]
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Greeks(NamedTuple):
    """Sensitivities of one unit of an option (arrays broadcast like the inputs).

    ``delta`` dV/dS, ``gamma`` d2V/dS2, ``vega`` dV/dsigma (per 1.00 of vol), ``theta``
    dV/dt (per year, calendar time passing: ``-dV/dT``), ``rho`` dV/dr (per 1.00 of rate).
    """

    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray


def _sign(is_call: ArrayLike) -> FloatArray:
    arr = np.asarray(is_call)
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
            raise ParameterError("is_call", arr.tolist() if arr.size < 6 else "array",
                                 "booleans (True for a call, False for a put)")
        arr = arr.astype(bool)
    return np.where(arr, 1.0, -1.0)


def _inputs(
    spot: ArrayLike, strike: ArrayLike, expiry_yrs: ArrayLike, vol: ArrayLike,
    rate: ArrayLike, carry_rate: ArrayLike, validate: bool,
) -> tuple[FloatArray, ...]:
    if validate:
        return (check_array("spot", spot, low=0, low_open=True),
                check_array("strike", strike, low=0, low_open=True),
                check_array("expiry_yrs", expiry_yrs, low=0),
                check_array("vol", vol, low=0),
                check_array("rate", rate, low=-1, high=1),
                check_array("carry_rate", carry_rate, low=-1, high=1))
    return tuple(np.asarray(x, dtype=np.float64)
                 for x in (spot, strike, expiry_yrs, vol, rate, carry_rate))


def _d1_d2(
    s: FloatArray, k: FloatArray, t: FloatArray, v: FloatArray, r: FloatArray, q: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``d1, d2, sigma sqrt(T)`` and the degenerate mask (``sigma sqrt(T) == 0``).

    Where ``sigma sqrt(T) = 0`` the option is worth its discounted forward intrinsic value:
    ``d1 = d2 = +inf`` if the forward is above the strike, ``-inf`` otherwise.
    """
    sd = v * np.sqrt(t)
    flat = sd == 0.0
    log_fk = np.log(s / k) + (r - q) * t
    safe = np.where(flat, 1.0, sd)
    d1 = (log_fk + 0.5 * sd * sd) / safe
    d2 = d1 - sd
    limit = np.where(log_fk > 0.0, np.inf, -np.inf)
    return np.where(flat, limit, d1), np.where(flat, limit, d2), sd, flat


def forward_price(
    spot: ArrayLike, expiry_yrs: ArrayLike, rate: ArrayLike = 0.0, carry_rate: ArrayLike = 0.0,
) -> FloatArray:
    """Forward of the underlying: ``F = S exp((r - q) T)``.

    Examples
    --------
    >>> float(forward_price(100.0, 1.0, 0.05, 0.05))
    100.0
    """
    s = check_array("spot", spot, low=0, low_open=True)
    t = check_array("expiry_yrs", expiry_yrs, low=0)
    return s * np.exp((check_array("rate", rate) - check_array("carry_rate", carry_rate)) * t)


def bsm_price(
    is_call: ArrayLike, spot: ArrayLike, strike: ArrayLike, expiry_yrs: ArrayLike,
    vol: ArrayLike, rate: ArrayLike = 0.0, carry_rate: ArrayLike = 0.0, *, validate: bool = True,
) -> FloatArray:
    """Black-Scholes-Merton price of European calls and puts (per unit of underlying).

    Parameters
    ----------
    is_call : array_like of bool
        ``True`` for a call, ``False`` for a put.
    spot, strike : array_like
        Underlying price and strike, ``> 0``.
    expiry_yrs : array_like
        Time to expiry in years, ``>= 0`` (at 0 the price is the intrinsic value).
    vol : array_like
        Implied volatility per year, ``>= 0``.
    rate, carry_rate : array_like, default 0
        Risk-free rate ``r`` and continuous dividend/carry yield ``q``, ``-1 <= x <= 1``.
    validate : bool, default True
        ``False`` skips the range checks (hot path, inputs already checked).

    Returns
    -------
    ndarray
        Prices, broadcast over the inputs.

    Notes
    -----
    ``d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt T)``, ``d2 = d1 - sigma sqrt T``;
    ``c = S e^{-qT} N(d1) - K e^{-rT} N(d2)``, ``p = K e^{-rT} N(-d2) - S e^{-qT} N(-d1)``.
    Put-call parity: ``c - p = S e^{-qT} - K e^{-rT}``.

    References
    ----------
    .. [1] J. C. Hull, *Options, Futures, and Other Derivatives*, 9th ed., Pearson, 2015,
       ch. 15 (the Black-Scholes-Merton formulas and their worked example S=42, K=40,
       r=10%, sigma=20%, T=0.5: c = 4.76, p = 0.81) and ch. 17 (a known dividend yield).

    Examples
    --------
    >>> round(float(bsm_price(True, 42.0, 40.0, 0.5, 0.2, 0.1)), 2)
    4.76
    >>> round(float(bsm_price(False, 42.0, 40.0, 0.5, 0.2, 0.1)), 2)
    0.81
    """
    phi = _sign(is_call)
    s, k, t, v, r, q = _inputs(spot, strike, expiry_yrs, vol, rate, carry_rate, validate)
    d1, d2, _, _ = _d1_d2(s, k, t, v, r, q)
    price = phi * (s * np.exp(-q * t) * ndtr(phi * d1) - k * np.exp(-r * t) * ndtr(phi * d2))
    return np.maximum(price, 0.0)  # rounding can leave -1e-16 deep out of the money


def bsm_greeks(
    is_call: ArrayLike, spot: ArrayLike, strike: ArrayLike, expiry_yrs: ArrayLike,
    vol: ArrayLike, rate: ArrayLike = 0.0, carry_rate: ArrayLike = 0.0, *, validate: bool = True,
) -> Greeks:
    """Black-Scholes-Merton greeks of European calls and puts (per unit of underlying).

    Parameters are those of :func:`bsm_price`. Where ``sigma sqrt(T) = 0`` gamma and vega
    are 0 and delta is the step ``+-e^{-qT}`` of the in-the-money side.

    Notes
    -----
    With ``phi = +1`` (call) or ``-1`` (put) and ``n`` the normal density:
    ``delta = phi e^{-qT} N(phi d1)``; ``gamma = e^{-qT} n(d1) / (S sigma sqrt T)``;
    ``vega = S e^{-qT} n(d1) sqrt T``;
    ``theta = -S e^{-qT} n(d1) sigma / (2 sqrt T) + phi q S e^{-qT} N(phi d1)
    - phi r K e^{-rT} N(phi d2)``; ``rho = phi K T e^{-rT} N(phi d2)``.

    References
    ----------
    .. [1] J. C. Hull, *Options, Futures, and Other Derivatives*, 9th ed., ch. 19 "The Greek
       Letters" (table of greeks for a dividend yield q, and the worked examples with S=49,
       K=50, r=5%, sigma=20%, T=20/52: delta 0.522, gamma 0.066, vega 12.1, theta -4.31 per
       year, rho 8.91).

    Examples
    --------
    >>> g = bsm_greeks(True, 49.0, 50.0, 20 / 52, 0.2, 0.05)
    >>> [round(float(x), 3) for x in (g.delta, g.gamma, g.vega, g.theta, g.rho)]
    [0.522, 0.066, 12.105, -4.305, 8.907]
    """
    phi = _sign(is_call)
    s, k, t, v, r, q = _inputs(spot, strike, expiry_yrs, vol, rate, carry_rate, validate)
    d1, d2, sd, flat = _d1_d2(s, k, t, v, r, q)
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    density = _INV_SQRT_2PI * np.exp(-0.5 * np.where(flat, 0.0, d1) ** 2)
    density = np.where(flat, 0.0, density)
    n1, n2 = ndtr(phi * d1), ndtr(phi * d2)
    sqrt_t = np.sqrt(t)
    delta = phi * dq * n1
    gamma = np.where(flat, 0.0, dq * density / (s * np.where(flat, 1.0, sd)))
    vega = s * dq * density * sqrt_t
    decay = np.where(flat, 0.0, s * dq * density * v / (2.0 * np.where(t > 0, sqrt_t, 1.0)))
    theta = -decay + phi * q * s * dq * n1 - phi * r * k * dr * n2
    rho = phi * k * t * dr * n2
    return Greeks(*np.broadcast_arrays(delta, gamma, vega, theta, rho))


def black76_price(
    is_call: ArrayLike, forward: ArrayLike, strike: ArrayLike, expiry_yrs: ArrayLike,
    vol: ArrayLike, rate: ArrayLike = 0.0, *, validate: bool = True,
) -> FloatArray:
    """Black's (1976) price of European options on a forward or future ``F``.

    ``c = e^{-rT} (F N(d1) - K N(d2))``, ``p = e^{-rT} (K N(-d2) - F N(-d1))``,
    ``d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T)``: :func:`bsm_price` with
    ``spot = F`` and ``carry_rate = rate``. Crypto venues mark options this way off the
    future of the option's expiry, with ``r = 0``.

    References
    ----------
    .. [1] F. Black, "The pricing of commodity contracts", *Journal of Financial Economics*
       3, 167-179, 1976.
    .. [2] Hull, 9th ed., ch. 18 (Black's model for futures options): the worked example of
       a 4-month put with F = K = 20, r = 9%, sigma = 25% is worth 1.12 (call = put at
       the money).
    .. [3] MathWorks Financial Toolbox, ``blkimpv``: the same option at 1.1166 has implied
       volatility 0.25 (https://www.mathworks.com/help/finance/blkimpv.html).

    Examples
    --------
    >>> round(float(black76_price(False, 20.0, 20.0, 4 / 12, 0.25, 0.09)), 4)
    1.1166
    """
    return bsm_price(is_call, forward, strike, expiry_yrs, vol, rate, rate, validate=validate)


def black76_greeks(
    is_call: ArrayLike, forward: ArrayLike, strike: ArrayLike, expiry_yrs: ArrayLike,
    vol: ArrayLike, rate: ArrayLike = 0.0, *, validate: bool = True,
) -> Greeks:
    """Greeks of :func:`black76_price`, delta and gamma with respect to the forward.

    ``rho`` is the derivative at a fixed forward, ``-T V``; ``theta`` at a fixed forward.

    Examples
    --------
    >>> g = black76_greeks(True, 100.0, 100.0, 0.25, 0.5)
    >>> round(float(g.delta), 4), round(float(g.rho), 4)
    (0.5497, -2.4869)
    """
    g = bsm_greeks(is_call, forward, strike, expiry_yrs, vol, rate, rate, validate=validate)
    price = black76_price(is_call, forward, strike, expiry_yrs, vol, rate, validate=False)
    t = np.asarray(expiry_yrs, dtype=np.float64)
    # bsm_greeks' rho moves r with q fixed; on a forward both move: d/dr e^{-rT}(...) = -T V.
    return g._replace(rho=np.broadcast_to(-t * price, g.rho.shape).copy())


def implied_vol(
    price: ArrayLike, is_call: ArrayLike, spot: ArrayLike, strike: ArrayLike,
    expiry_yrs: ArrayLike, rate: ArrayLike = 0.0, carry_rate: ArrayLike = 0.0,
    *, max_vol: float = 10.0, iterations: int = 80,
) -> FloatArray:
    """Black-Scholes-Merton implied volatility of each price, by vectorised bisection.

    The price is increasing in the vol, so bisection on ``[0, max_vol]`` converges for every
    option at once (``max_vol / 2^iterations``, about ``1e-23`` by default). A price outside
    the no-arbitrage range ``(intrinsic, upper bound)`` has no implied vol: the error names
    the first such entry. For Black-76 pass the forward as ``spot`` and ``carry_rate = rate``.

    References
    ----------
    .. [1] MathWorks Financial Toolbox, ``blkimpv``: a 4-month call on a future at 20,
       strike 20, r = 9%, worth 1.1166, has implied vol 0.25.

    Examples
    --------
    >>> round(float(implied_vol(1.1166, True, 20.0, 20.0, 4 / 12, 0.09, 0.09)), 4)
    0.25
    """
    target = check_array("price", price, low=0)
    phi = _sign(is_call)
    s, k, t, _, r, q = _inputs(spot, strike, expiry_yrs, 0.0, rate, carry_rate, True)
    hi_vol = check_array("max_vol", max_vol, low=0, low_open=True)
    target, phi, s, k, t, r, q = np.broadcast_arrays(target, phi, s, k, t, r, q)
    floor = bsm_price(phi > 0, s, k, t, 0.0, r, q, validate=False)
    cap = bsm_price(phi > 0, s, k, t, hi_vol, r, q, validate=False)
    bad = (target < floor - 1e-12 * s) | (target > cap)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ParameterError("price", float(target.flat[i]),
                             f"{float(floor.flat[i]):g} <= x <= {float(cap.flat[i]):g}",
                             "between the intrinsic value and the price at max_vol")
    lo = np.zeros(target.shape)
    hi = np.broadcast_to(hi_vol, target.shape).astype(np.float64)
    for _ in range(check_int("iterations", iterations, low=1, high=200)):
        mid = 0.5 * (lo + hi)
        above = bsm_price(phi > 0, s, k, t, mid, r, q, validate=False) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- surface


def _axis(name: str, values: tuple[float, ...]) -> FloatArray:
    if len(values) == 0:
        raise ParameterError(name, "()", "at least one entry")
    arr = np.asarray(values, dtype=np.float64)
    for i, x in enumerate(arr):
        if not (math.isfinite(x) and x > 0):
            raise ParameterError(f"{name}[{i}]", float(x), "0 < x, finite")
        if i and x <= arr[i - 1]:
            raise ParameterError(f"{name}[{i}]", float(x), f"> {name}[{i - 1}] = {arr[i - 1]:g}",
                                 "the axis must be strictly increasing")
    return arr


@dataclass(frozen=True, kw_only=True)
class VolSurface:
    """Implied volatilities on a grid of expiries x strikes.

    Parameters
    ----------
    expiries_yrs : tuple of float
        Strictly increasing expiries in years, ``> 0``.
    strikes : tuple of float
        Strictly increasing strikes, ``> 0``: moneyness ``K / F`` (``strike_kind =
        "moneyness"``, so the surface moves with the underlying) or absolute prices.
    vols : tuple of tuple of float
        ``vols[i][j]`` the implied vol at ``expiries_yrs[i]`` and ``strikes[j]``, ``> 0``.
    strike_kind : {"moneyness", "absolute"}, default "moneyness"
    name : str, default "vol_surface"
        Prefix of the names in error messages (e.g. the scenario path of the surface).

    Notes
    -----
    At a query ``(K, T)``: at each grid expiry the vol is linear in strike between the two
    neighbouring strikes (flat beyond the first/last); between two grid expiries the total
    variance ``w = sigma^2 T`` is linear in ``T`` and ``sigma = sqrt(w / T)`` (on a
    moneyness grid whose total variance rises with expiry, it keeps rising between the
    nodes); before the first expiry and after the last the vol is flat. Linear total
    variance in time is the usual choice, see J. Gatheral, *The Volatility Surface*, Wiley,
    2006.

    Examples
    --------
    >>> s = VolSurface(expiries_yrs=(0.1, 0.5), strikes=(0.9, 1.1),
    ...                vols=((0.6, 0.5), (0.5, 0.4)))
    >>> [round(float(x), 4) for x in s.vol([1.0, 1.0, 2.0], [0.1, 0.3, 1.0])]
    [0.55, 0.4682, 0.4]
    """

    expiries_yrs: tuple[float, ...]
    strikes: tuple[float, ...]
    vols: tuple[tuple[float, ...], ...]
    strike_kind: Literal["moneyness", "absolute"] = "moneyness"
    name: str = "vol_surface"
    _t: FloatArray = field(init=False, repr=False, compare=False)
    _k: FloatArray = field(init=False, repr=False, compare=False)
    _v: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.name
        check_choice(f"{n}.strike_kind", self.strike_kind, ("moneyness", "absolute"))
        t = _axis(f"{n}.expiries_yrs", tuple(self.expiries_yrs))
        k = _axis(f"{n}.strikes", tuple(self.strikes))
        if len(self.vols) != t.size:
            raise ParameterError(f"{n}.vols", f"{len(self.vols)} rows",
                                 f"{t.size} rows, one per expiry")
        for i, row in enumerate(self.vols):
            if len(row) != k.size:
                raise ParameterError(f"{n}.vols[{i}]", f"{len(row)} entries",
                                     f"{k.size} entries, one per strike")
            for j, x in enumerate(row):
                if not (isinstance(x, int | float) and math.isfinite(x) and 0 < x <= 10):
                    raise ParameterError(f"{n}.vols[{i}][{j}]", x, "0 < x <= 10, finite",
                                         "an annual implied volatility, 0.6 for 60%")
        object.__setattr__(self, "_t", t)
        object.__setattr__(self, "_k", k)
        object.__setattr__(self, "_v", np.asarray(self.vols, dtype=np.float64))

    @classmethod
    def flat(cls, vol: float, *, name: str = "vol_surface") -> VolSurface:
        """A surface with the same vol everywhere.

        Examples
        --------
        >>> float(VolSurface.flat(0.8).vol(123.0, 2.0))
        0.8
        """
        return cls(expiries_yrs=(1.0,), strikes=(1.0,), vols=((vol,),), name=name)

    def vol(
        self, strike: ArrayLike, expiry_yrs: ArrayLike, forward: ArrayLike | None = None,
    ) -> FloatArray:
        """Implied vol at each ``(strike, expiry_yrs)``, broadcast together.

        ``forward`` (broadcastable, ``> 0``) is required for a moneyness surface queried
        with absolute strikes: the moneyness is ``strike / forward``. Without it the
        strikes are read in the surface's own units.
        """
        x = check_array("strike", strike, low=0, low_open=True)
        if forward is not None and self.strike_kind == "moneyness":
            x = x / check_array("forward", forward, low=0, low_open=True)
        t = check_array("expiry_yrs", expiry_yrs, low=0)
        x, t = np.broadcast_arrays(x, t)
        # along strike: linear in vol, flat outside; vols at every grid expiry, (n_exp, N)
        k = self._k
        xc = np.clip(x, k[0], k[-1]).ravel()
        j = np.clip(np.searchsorted(k, xc, side="right") - 1, 0, max(k.size - 2, 0))
        if k.size == 1:
            at_nodes = np.repeat(self._v[:, :1], xc.size, axis=1)
        else:
            wk = (xc - k[j]) / (k[j + 1] - k[j])
            at_nodes = self._v[:, j] * (1.0 - wk) + self._v[:, j + 1] * wk
        # along expiry: linear in total variance, flat vol outside
        tt = self._t
        tc = np.clip(t.ravel(), tt[0], tt[-1])
        i = np.clip(np.searchsorted(tt, tc, side="right") - 1, 0, max(tt.size - 2, 0))
        cols = np.arange(xc.size)
        if tt.size == 1:
            return at_nodes[0].reshape(x.shape)
        wt = (tc - tt[i]) / (tt[i + 1] - tt[i])
        w = (at_nodes[i, cols] ** 2 * tt[i] * (1.0 - wt) + at_nodes[i + 1, cols] ** 2 * tt[i + 1] * wt)
        return np.sqrt(w / tc).reshape(x.shape)
