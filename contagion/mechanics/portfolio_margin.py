"""Scenario-based portfolio margin over perps and European options, Deribit-style.

A venue lists instruments (columns: perps and options on one or more underlying assets);
accounts hold signed sizes in units of the underlying, an array of shape
``(accounts, instruments)``. Each account's portfolio is revalued, one asset at a time, on a
grid of underlying moves x implied-volatility moves; the maintenance margin is the worst
loss over the grid plus contingency add-ons, the initial margin a multiple of it. All
accounts go through one matrix product, so a venue with thousands of accounts is one numpy
pass; the per-unit repricing costs ``instruments x scenarios`` option prices, whatever the
number of accounts.

Deribit's documented model (the parameters of :class:`PortfolioMarginParams`):

- underlying moves of up to ``+-price_range_frac`` (e.g. +-16%) in ``price_steps`` evenly
  spaced buckets including zero (9 buckets);
- for each move three volatility regimes: up, same, down. The shock of an option's implied
  vol scales with its time to expiry: ``sigma' = sigma (1 +- f (30 / max(dte, floor))^p)``
  (``f = vol_up_frac`` or ``vol_down_frac``, ``p = vega_power``, ``dte`` in days);
- an optional *extended table* for far out-of-the-money short options: larger moves (e.g.
  -66% ... +500%, :data:`DERIBIT_EXTENDED_MOVES`), vol up only, a fraction of the P&L;
- contingencies: a fraction of the underlying value per net short option per series (call
  and put of one strike and expiry netted), and a fraction of the underlying value of
  offsetting perp positions (long one perp market, short another on the same asset);
  optionally a fraction of the vega offset across expiries (off by default).

Options are repriced with Black-Scholes-Merton (:mod:`contagion.mechanics.options`) at
``rate`` with the carry equal to the rate, i.e. Black-76 on the underlying's price as the
forward (``rate = 0`` by default, as crypto venues quote), sticky strike (the vol of a
strike is read from the surface at the current underlying price), and instantaneous
scenarios (no time decay). Assets are shocked separately and their worst losses summed (as
Deribit's segregated portfolio margin does per settlement currency): no offset across
assets.

References
----------
.. [1] Deribit support, "Portfolio Margin" (Segregated Portfolio Margin components: +-16%
   in 9 buckets, vol range up/same/down, extended table -66% ... +500% on vol up with a
   fraction of P&L), https://support.deribit.com/hc/en-us/articles/25944756247837-Portfolio-Margin
.. [2] Deribit, "Portfolio Margin" (earlier parameters: IV change ``(30/dte)^0.30 x 38%``;
   contingency 0.01 BTC per net short option per strike, e.g. call +10 and put -20 at a
   strike add 10 x 0.01 BTC; 1% of the underlying value of offsetting futures, e.g. long 100
   BTC in future A and short 100 in B add 1 BTC), https://www.deribit.com/pages/docs/portfoliomargin ;
   another version of that page: 25% of vega offset across expiries (net long 10 vega in
   some expiries, net short 10 in others, add 2.5).
.. [3] Paradex, "Portfolio Margin" (the shocked-IV formula with a DTE floor and a vega
   power; MMR = 50% of the IMR), https://docs.paradex.trade/risk/portfolio-margin
.. [4] M. Tasche, "Capital allocation to business units and sub-portfolios: the Euler
   principle", 2008, arXiv:0708.2542 (risk contributions that add up to the total).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.mechanics.options import VolSurface, bsm_greeks, bsm_price
from contagion.validation import check_array, check_choice, check_int, check_real

__all__ = [
    "DERIBIT_EXTENDED_MOVES",
    "AccountGreeks",
    "InstrumentTable",
    "PortfolioMargin",
    "PortfolioMarginParams",
    "Scenarios",
    "account_greeks",
    "instrument_vols",
    "liquidation_order",
    "portfolio_margin",
    "risk_contributions",
    "scenario_pnl_per_unit",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: The extended table's underlying moves in Deribit's documentation (vol up only).
DERIBIT_EXTENDED_MOVES: tuple[float, ...] = (-0.66, -0.33, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)

PERP, CALL, PUT = 0, 1, -1
_KINDS = {"perp": PERP, "call": CALL, "put": PUT}


@dataclass(frozen=True, kw_only=True)
class PortfolioMarginParams:
    """The scenario grid and add-ons of a portfolio margin (defaults: Deribit's docs).

    Parameters
    ----------
    price_range_frac : float, default 0.16
        Largest underlying move of the regular grid, ``0 < x < 1`` (Deribit: e.g. +-16%).
    price_steps : int, default 9
        Evenly spaced moves from ``-range`` to ``+range``; odd, so that 0 is one of them.
    vol_up_frac, vol_down_frac : float, default 0.38
        Relative implied-vol shocks at 30 days to expiry (Deribit: 38%), ``0 <= x``
        (down ``<= 1``).
    vega_power : float, default 0.30
        Term-structure power ``p`` of the vol shock, ``(30 / dte)^p`` (Deribit: 0.30).
    dte_floor_days : float, default 1.0
        Days to expiry below which the vol shock stops growing (Paradex's DTE floor).
    extended_moves : tuple of float, default ()
        Extra underlying moves on vol up only (:data:`DERIBIT_EXTENDED_MOVES`); each > -1.
    extended_pnl_frac : float, default 1.0
        Fraction of the extended scenarios' P&L that counts, ``0 <= x <= 1``.
    short_option_contingency_frac : float, default 0.01
        Add-on per unit of net short option per series, as a fraction of the underlying
        price (Deribit: 0.01 BTC per option = 1% of the underlying).
    offset_perp_contingency_frac : float, default 0.01
        Add-on on offsetting perp positions (``min(long, short)`` across perp markets of an
        asset), as a fraction of their underlying value (Deribit: 1%).
    vega_offset_contingency_frac : float, default 0.0
        Add-on on vega offset across expiries of an asset: the fraction times
        ``min(sum of net long vega, sum of net short vega)`` over expiries, vega per vol
        point (Deribit, one version: 25%, e.g. +10 vega in some expiries and -10 in others
        add 2.5; another version: 0%). Needs ``vols`` in :func:`portfolio_margin`.
    initial_margin_multiple : float, default 2.0
        Initial margin = multiple x maintenance margin, ``>= 1`` (Paradex: MMR = 50% IMR).
    rate : float, default 0.0
        Risk-free rate of the option model (crypto venues: 0).
    """

    price_range_frac: float = 0.16
    price_steps: int = 9
    vol_up_frac: float = 0.38
    vol_down_frac: float = 0.38
    vega_power: float = 0.30
    dte_floor_days: float = 1.0
    extended_moves: tuple[float, ...] = ()
    extended_pnl_frac: float = 1.0
    short_option_contingency_frac: float = 0.01
    offset_perp_contingency_frac: float = 0.01
    vega_offset_contingency_frac: float = 0.0
    initial_margin_multiple: float = 2.0
    rate: float = 0.0

    def __post_init__(self) -> None:
        check_real("price_range_frac", self.price_range_frac, low=0, high=1, low_open=True,
                   high_open=True)
        steps = check_int("price_steps", self.price_steps, low=1, high=1001)
        if steps % 2 == 0:
            raise ParameterError("price_steps", steps, "an odd number",
                                 "the grid must include the zero move")
        check_real("vol_up_frac", self.vol_up_frac, low=0, high=10)
        check_real("vol_down_frac", self.vol_down_frac, low=0, high=1)
        check_real("vega_power", self.vega_power, low=0, high=2)
        check_real("dte_floor_days", self.dte_floor_days, low=0, high=365, low_open=True)
        for i, m in enumerate(self.extended_moves):
            check_real(f"extended_moves[{i}]", m, low=-1, high=100, low_open=True)
        check_real("extended_pnl_frac", self.extended_pnl_frac, low=0, high=1)
        check_real("short_option_contingency_frac", self.short_option_contingency_frac,
                   low=0, high=1)
        check_real("offset_perp_contingency_frac", self.offset_perp_contingency_frac,
                   low=0, high=1)
        check_real("vega_offset_contingency_frac", self.vega_offset_contingency_frac,
                   low=0, high=1)
        check_real("initial_margin_multiple", self.initial_margin_multiple, low=1, high=100)
        check_real("rate", self.rate, low=-1, high=1)

    def scenarios(self) -> Scenarios:
        """The grid: regular moves x (vol up, same, down), then the extended moves.

        Examples
        --------
        >>> s = PortfolioMarginParams(price_range_frac=0.1, price_steps=3).scenarios()
        >>> s.price_move.tolist(), s.vol_regime.tolist()
        ([-0.1, -0.1, -0.1, 0.0, 0.0, 0.0, 0.1, 0.1, 0.1], [1, 0, -1, 1, 0, -1, 1, 0, -1])
        """
        moves = np.linspace(-self.price_range_frac, self.price_range_frac, self.price_steps)
        moves[self.price_steps // 2] = 0.0
        regular = np.repeat(moves, 3)
        regime = np.tile(np.array([1, 0, -1], dtype=np.intp), self.price_steps)
        ext = np.asarray(self.extended_moves, dtype=np.float64)
        return Scenarios(
            price_move=np.concatenate([regular, ext]),
            vol_regime=np.concatenate([regime, np.ones(ext.size, dtype=np.intp)]),
            weight=np.concatenate([np.ones(regular.size), np.full(ext.size,
                                                                  self.extended_pnl_frac)]),
        )


@dataclass(frozen=True, eq=False)
class Scenarios:
    """Scenario ``s``: underlying x ``(1 + price_move[s])``, vol regime ``+1/0/-1``
    (up/same/down), and the ``weight`` of its P&L (the extended table's fraction)."""

    price_move: FloatArray
    vol_regime: IntArray
    weight: FloatArray


@dataclass(frozen=True, kw_only=True, eq=False)
class InstrumentTable:
    """The instruments of a venue, one entry per column of the accounts' size array.

    Parameters
    ----------
    kind : sequence of {"perp", "call", "put"}
    asset : sequence of int
        Index of each instrument's underlying in the ``spot`` array, ``>= 0``.
    strike : sequence of float
        Strike of each option (absolute, ``> 0``); ignored for perps (use 0).
    expiry_yrs : sequence of float
        Time to expiry of each option in years, ``>= 0``; ignored for perps.

    Examples
    --------
    >>> t = InstrumentTable(kind=("perp", "call"), asset=(0, 0), strike=(0, 100.0),
    ...                     expiry_yrs=(0, 0.1))
    >>> t.code.tolist(), t.n_assets
    ([0, 1], 1)
    """

    kind: Sequence[str]
    asset: Sequence[int] | IntArray
    strike: ArrayLike
    expiry_yrs: ArrayLike

    def __post_init__(self) -> None:
        kinds = list(self.kind)
        n = len(kinds)
        for i, k in enumerate(kinds):
            check_choice(f"instruments.kind[{i}]", k, tuple(_KINDS))
        code = np.array([_KINDS[k] for k in kinds], dtype=np.intp)
        asset = np.asarray(self.asset)
        if asset.shape != (n,) or (n and asset.dtype.kind not in "iu"):
            raise ParameterError("instruments.asset", f"array of shape {asset.shape}",
                                 f"{n} integers, one per instrument")
        if n and asset.min() < 0:
            raise ParameterError(f"instruments.asset[{int(np.argmin(asset))}]", int(asset.min()),
                                 "an index >= 0 into spot")
        strike = check_array("instruments.strike", self.strike, low=0, ndim=1)
        expiry = check_array("instruments.expiry_yrs", self.expiry_yrs, low=0, ndim=1)
        for name, arr in (("instruments.strike", strike), ("instruments.expiry_yrs", expiry)):
            if arr.shape != (n,):
                raise ParameterError(name, f"{arr.size} entries", f"{n}, one per instrument")
        bad = np.flatnonzero((code != PERP) & (strike <= 0))
        if bad.size:
            raise ParameterError(f"instruments.strike[{bad[0]}]", float(strike[bad[0]]),
                                 "0 < x for an option")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "asset_index", asset.astype(np.intp))
        object.__setattr__(self, "strike_arr", np.where(code == PERP, 0.0, strike))
        object.__setattr__(self, "expiry_arr", np.where(code == PERP, 0.0, expiry))

    # set in __post_init__ (validated arrays)
    code: IntArray = field(init=False, repr=False)
    asset_index: IntArray = field(init=False, repr=False)
    strike_arr: FloatArray = field(init=False, repr=False)
    expiry_arr: FloatArray = field(init=False, repr=False)

    @property
    def size(self) -> int:
        """Number of instruments."""
        return int(self.code.size)

    @property
    def n_assets(self) -> int:
        """Number of underlying assets referenced (``max(asset) + 1``)."""
        return int(self.asset_index.max()) + 1 if self.size else 0

    @property
    def is_option(self) -> NDArray[np.bool_]:
        """Mask of the options."""
        return self.code != PERP

    def asset_onehot(self, n_assets: int) -> FloatArray:
        """``(instruments, n_assets)`` matrix with a 1 at each instrument's asset."""
        out = np.zeros((self.size, n_assets))
        out[np.arange(self.size), self.asset_index] = 1.0
        return out


def _spot(spot: ArrayLike, instruments: InstrumentTable) -> FloatArray:
    s = check_array("spot", spot, low=0, low_open=True, ndim=1)
    if s.size < instruments.n_assets:
        raise ParameterError("spot", f"{s.size} prices",
                             f"at least {instruments.n_assets}, one per asset of the instruments")
    return s


def instrument_vols(
    instruments: InstrumentTable, spot: ArrayLike, surfaces: Sequence[VolSurface | None],
) -> FloatArray:
    """Implied vol of each option from its asset's surface (0 for perps).

    ``surfaces[u]`` is the surface of asset ``u`` (``None`` for an asset with no option
    listed); a moneyness surface is read at
    ``strike / spot`` (the forward with ``r = 0``). One call per asset, not per account.

    Examples
    --------
    >>> t = InstrumentTable(kind=("perp", "put"), asset=(0, 0), strike=(0, 90.0),
    ...                     expiry_yrs=(0, 0.5))
    >>> instrument_vols(t, [100.0], [VolSurface.flat(0.7)]).tolist()
    [0.0, 0.7]
    """
    s = _spot(spot, instruments)
    if len(surfaces) < instruments.n_assets:
        raise ParameterError("surfaces", f"{len(surfaces)} surfaces",
                             f"at least {instruments.n_assets}, one per asset")
    out = np.zeros(instruments.size)
    opt = instruments.is_option
    for u in range(instruments.n_assets):
        sel = opt & (instruments.asset_index == u)
        if sel.any():
            surface = surfaces[u]
            if surface is None:
                first = int(np.flatnonzero(sel)[0])
                raise ParameterError(f"surfaces[{u}]", None, "a VolSurface",
                                     f"instrument {first} is an option on asset {u}")
            out[sel] = surface.vol(instruments.strike_arr[sel], instruments.expiry_arr[sel],
                                       forward=s[u])
    return out


def _vols_arg(
    instruments: InstrumentTable, spot: FloatArray,
    vols: ArrayLike | Sequence[VolSurface | None],
) -> FloatArray:
    if isinstance(vols, Sequence) and any(isinstance(v, VolSurface) for v in vols):
        return instrument_vols(instruments, spot, vols)  # type: ignore[arg-type]
    v = check_array("vols", vols, low=0, high=10, ndim=1)  # type: ignore[arg-type]
    if v.size != instruments.size:
        raise ParameterError("vols", f"{v.size} vols", f"{instruments.size}, one per instrument")
    return v


def scenario_pnl_per_unit(
    instruments: InstrumentTable, spot: ArrayLike, vols: ArrayLike | Sequence[VolSurface | None],
    params: PortfolioMarginParams | None = None,
) -> FloatArray:
    """P&L of one unit (long) of each instrument in each scenario, weighted, ``(P, S)``.

    Perps gain ``S m``; an option gains ``V(S (1 + m), sigma') - V(S, sigma)``, with
    ``sigma' = max(0, sigma (1 + regime f (30 / max(dte, floor))^p))``. Each scenario's
    P&L is multiplied by its weight (1, or ``extended_pnl_frac`` in the extended table).

    Parameters
    ----------
    instruments : InstrumentTable
    spot : array_like, shape (U,)
        Current price of each underlying asset, ``> 0``.
    vols : array_like of shape (P,), or sequence of VolSurface
        Current implied vol of each instrument (ignored for perps), or one surface per asset.
    params : PortfolioMarginParams, optional
        Defaults to Deribit's documented grid.
    """
    p = params or PortfolioMarginParams()
    s = _spot(spot, instruments)
    sigma = _vols_arg(instruments, s, vols)
    sc = p.scenarios()
    s0 = s[instruments.asset_index]                                    # (P,)
    shocked = s0[:, None] * (1.0 + sc.price_move[None, :])             # (P, S)
    pnl = s0[:, None] * sc.price_move[None, :]                         # perps, exact offsets
    opt = np.flatnonzero(instruments.is_option)
    if opt.size:
        t = instruments.expiry_arr[opt]
        dte = np.maximum(t * 365.0, p.dte_floor_days)
        scale = (30.0 / dte) ** p.vega_power                           # (O,)
        frac = np.where(sc.vol_regime > 0, p.vol_up_frac,
                        np.where(sc.vol_regime < 0, -p.vol_down_frac, 0.0))
        v0 = sigma[opt]
        v1 = np.maximum(v0[:, None] * (1.0 + frac[None, :] * scale[:, None]), 0.0)
        is_call = instruments.code[opt] == CALL
        k = instruments.strike_arr[opt]
        now = bsm_price(is_call, s0[opt], k, t, v0, p.rate, p.rate, validate=False)
        later = bsm_price(is_call[:, None], shocked[opt], k[:, None], t[:, None], v1,
                          p.rate, p.rate, validate=False)
        pnl[opt] = later - now[:, None]
    return pnl * sc.weight[None, :]


@dataclass(frozen=True, eq=False)
class PortfolioMargin:
    """Portfolio margin of each account (``A`` accounts, ``U`` assets, ``S`` scenarios).

    Attributes
    ----------
    maintenance_usd, initial_usd : ndarray, shape (A,)
        Sum over assets of worst loss + contingencies; initial = multiple x maintenance.
    worst_loss_usd : ndarray, shape (A, U)
        ``max(0, max_s -pnl[a, u, s])``.
    worst_scenario : ndarray of int, shape (A, U)
        Index of the worst scenario (into ``PortfolioMarginParams.scenarios()``).
    contingency_usd : ndarray, shape (A, U)
        Short-option plus offsetting-perp add-ons.
    scenario_pnl_usd : ndarray, shape (A, U, S)
        Weighted P&L of each account's positions on each asset in each scenario.
    """

    maintenance_usd: FloatArray
    initial_usd: FloatArray
    worst_loss_usd: FloatArray
    worst_scenario: IntArray
    contingency_usd: FloatArray
    scenario_pnl_usd: FloatArray


def _sizes(sizes: ArrayLike, instruments: InstrumentTable) -> FloatArray:
    q = check_array("sizes", sizes)
    if q.ndim == 1:
        q = q[None, :]
    if q.ndim != 2 or q.shape[1] != instruments.size:
        raise ParameterError("sizes", f"array of shape {q.shape}",
                             f"(accounts, {instruments.size}), one column per instrument")
    return q


def _onehot(index: IntArray, n: int) -> FloatArray:
    out = np.zeros((index.size, n))
    out[np.arange(index.size), index] = 1.0
    return out


def _vega_offset(
    q: FloatArray, instruments: InstrumentTable, s: FloatArray, sigma: FloatArray,
    n_assets: int, p: PortfolioMarginParams,
) -> FloatArray:
    """``frac x min(long, short)`` of the net vega per (asset, expiry), per vol point."""
    opt = np.flatnonzero(instruments.is_option)
    if not p.vega_offset_contingency_frac or opt.size == 0:
        return np.zeros((q.shape[0], n_assets))
    vega = bsm_greeks(instruments.code[opt] == CALL, s[instruments.asset_index[opt]],
                      instruments.strike_arr[opt], instruments.expiry_arr[opt], sigma[opt],
                      p.rate, p.rate, validate=False).vega / 100.0
    keys = np.stack([instruments.asset_index[opt], instruments.expiry_arr[opt]], axis=1)
    _, bucket = np.unique(keys, axis=0, return_inverse=True)
    bucket = bucket.ravel()
    net = q[:, opt] @ (_onehot(bucket, int(bucket.max()) + 1) * vega[:, None])   # (A, B)
    b_asset = np.zeros(int(bucket.max()) + 1, dtype=np.intp)
    b_asset[bucket] = instruments.asset_index[opt]
    to_asset = _onehot(b_asset, n_assets)
    longs, shorts = np.maximum(net, 0.0) @ to_asset, np.maximum(-net, 0.0) @ to_asset
    return p.vega_offset_contingency_frac * np.minimum(longs, shorts)


def _contingency(
    q: FloatArray, instruments: InstrumentTable, s: FloatArray, n_assets: int,
    p: PortfolioMarginParams,
) -> FloatArray:
    out = np.zeros((q.shape[0], n_assets))
    onehot = instruments.asset_onehot(n_assets)
    perp = (~instruments.is_option)[:, None] * onehot                  # (P, U)
    if p.offset_perp_contingency_frac and perp.any():
        longs, shorts = np.maximum(q, 0.0) @ perp, np.maximum(-q, 0.0) @ perp
        out += p.offset_perp_contingency_frac * np.minimum(longs, shorts) * s[:n_assets]
    opt = np.flatnonzero(instruments.is_option)
    if p.short_option_contingency_frac and opt.size:
        keys = np.stack([instruments.asset_index[opt], instruments.expiry_arr[opt],
                         instruments.strike_arr[opt]], axis=1)
        _, series = np.unique(keys, axis=0, return_inverse=True)
        series = series.ravel()
        group = np.zeros((opt.size, int(series.max()) + 1))
        group[np.arange(opt.size), series] = 1.0
        net = q[:, opt] @ group                                        # (A, G)
        g_asset = np.zeros(group.shape[1], dtype=np.intp)
        g_asset[series] = instruments.asset_index[opt]
        per_series = np.maximum(-net, 0.0) * s[g_asset] * p.short_option_contingency_frac
        g_onehot = np.zeros((group.shape[1], n_assets))
        g_onehot[np.arange(group.shape[1]), g_asset] = 1.0
        out += per_series @ g_onehot
    return out


def portfolio_margin(
    sizes: ArrayLike, instruments: InstrumentTable, spot: ArrayLike,
    vols: ArrayLike | Sequence[VolSurface | None] | None, params: PortfolioMarginParams | None = None,
    *, pnl_per_unit: FloatArray | None = None,
) -> PortfolioMargin:
    """Maintenance and initial portfolio margin of every account in one pass.

    Parameters
    ----------
    sizes : array_like, shape (A, P) or (P,)
        Signed size of each account in each instrument, in units of the underlying
        (``+`` long). Perp entry prices do not matter: the margin covers the loss from
        the current marks, entry only enters the account's equity.
    instruments : InstrumentTable
    spot : array_like, shape (U,)
        Current price of each underlying, ``> 0``.
    vols : array_like of shape (P,), sequence of VolSurface, or None
        Implied vols of the instruments, or one surface per asset; ``None`` only with
        ``pnl_per_unit`` (and no vega-offset add-on).
    params : PortfolioMarginParams, optional
    pnl_per_unit : ndarray, shape (P, S), optional
        A precomputed :func:`scenario_pnl_per_unit` (same spot, vols and params), so a
        venue reprices its instruments once per step for all its accounts and rankings.

    Returns
    -------
    PortfolioMargin

    Notes
    -----
    ``L[a, u, s] = -sum_p sizes[a, p] 1[asset_p = u] pnl[p, s]``; worst loss
    ``W[a, u] = max(0, max_s L[a, u, s])``; ``MM[a] = sum_u (W[a, u] + C[a, u])`` with the
    contingencies ``C``; ``IM = multiple x MM``. The scenario part is sub-additive
    (``max_s`` of a sum is at most the sum of the ``max_s``), and so is the short-option
    add-on; the offsetting-perp add-on is not, by design (it charges the offset itself).

    Examples
    --------
    A short perp of 2 units at 100: the worst scenario is +16%, a loss of 32.

    >>> t = InstrumentTable(kind=("perp",), asset=(0,), strike=(0,), expiry_yrs=(0,))
    >>> pm = portfolio_margin([[-2.0]], t, [100.0], [0.0])
    >>> round(float(pm.maintenance_usd[0]), 6), round(float(pm.initial_usd[0]), 6)
    (32.0, 64.0)
    """
    p = params or PortfolioMarginParams()
    s = _spot(spot, instruments)
    q = _sizes(sizes, instruments)
    if pnl_per_unit is None:
        if vols is None:
            raise ParameterError("vols", None, "the instruments' vols or surfaces",
                                 "or pass pnl_per_unit")
        pnl = scenario_pnl_per_unit(instruments, s, vols, p)
    else:
        pnl = check_array("pnl_per_unit", pnl_per_unit, ndim=2)
        n_sc = p.scenarios().price_move.size
        if pnl.shape != (instruments.size, n_sc):
            raise ParameterError("pnl_per_unit", f"array of shape {pnl.shape}",
                                 f"({instruments.size}, {n_sc}): scenario_pnl_per_unit's")
    n_assets, n_sc = instruments.n_assets, pnl.shape[1]
    onehot = instruments.asset_onehot(n_assets)                        # (P, U)
    by_asset = (onehot[:, :, None] * pnl[:, None, :]).reshape(instruments.size, n_assets * n_sc)
    account_pnl = (q @ by_asset).reshape(q.shape[0], n_assets, n_sc)   # (A, U, S)
    worst = np.argmin(account_pnl, axis=2)
    worst_loss = np.maximum(-np.take_along_axis(account_pnl, worst[:, :, None], 2)[:, :, 0], 0.0)
    cont = _contingency(q, instruments, s, n_assets, p)
    if p.vega_offset_contingency_frac:
        if vols is None:
            raise ParameterError("vols", None, "the instruments' vols or surfaces",
                                 "vega_offset_contingency_frac needs the options' vega")
        cont = cont + _vega_offset(q, instruments, s, _vols_arg(instruments, s, vols),
                                   n_assets, p)
    mm = (worst_loss + cont).sum(axis=1)
    return PortfolioMargin(maintenance_usd=mm, initial_usd=p.initial_margin_multiple * mm,
                           worst_loss_usd=worst_loss, worst_scenario=worst,
                           contingency_usd=cont, scenario_pnl_usd=account_pnl)


def risk_contributions(
    sizes: ArrayLike, instruments: InstrumentTable, margin: PortfolioMargin,
    pnl_per_unit: FloatArray, method: Literal["euler", "incremental"] = "euler",
) -> FloatArray:
    """Each position's contribution to its account's worst-case loss, ``(A, P)``.

    ``"euler"``: the position's own loss in its asset's worst scenario,
    ``-sizes[a, p] pnl[p, s*(a, u_p)]``; these add up to the scenario loss of each asset
    (where it is positive), the Euler allocation of a max-loss measure. ``"incremental"``:
    how much the worst loss of the asset falls if the position alone is closed,
    ``W[a, u] - max(0, max_s (L[a, u, s] + sizes[a, p] pnl[p, s]))``. Both are 0 for an
    empty position; a hedge has a negative contribution.

    Examples
    --------
    >>> t = InstrumentTable(kind=("perp", "perp"), asset=(0, 0), strike=(0, 0),
    ...                     expiry_yrs=(0, 0))
    >>> q = [[3.0, -1.0]]
    >>> pnl = scenario_pnl_per_unit(t, [100.0], [0.0, 0.0])
    >>> pm = portfolio_margin(q, t, [100.0], [0.0, 0.0], pnl_per_unit=pnl)
    >>> risk_contributions(q, t, pm, pnl).round(6).tolist()
    [[48.0, -16.0]]
    """
    check_choice("method", method, ("euler", "incremental"))
    q = _sizes(sizes, instruments)
    u = instruments.asset_index
    if method == "euler":
        s_star = margin.worst_scenario[:, u]                           # (A, P)
        at_worst = np.asarray(pnl_per_unit)[np.arange(instruments.size)[None, :], s_star]
        contrib = -q * at_worst
        return np.where(margin.worst_loss_usd[:, u] > 0, contrib, 0.0)
    loss = -margin.scenario_pnl_usd[:, u, :]                           # (A, P, S)
    without = loss + q[:, :, None] * np.asarray(pnl_per_unit)[None, :, :]
    return margin.worst_loss_usd[:, u] - np.maximum(without.max(axis=2), 0.0)


def liquidation_order(contributions: ArrayLike, sizes: ArrayLike) -> IntArray:
    """Instrument indices of each account, riskiest first (largest contribution), ``(A, P)``.

    Empty positions go last; ties keep the instruments' order (stable sort), so the
    order is deterministic.

    Examples
    --------
    >>> liquidation_order([[5.0, -2.0, 9.0, 0.0]], [[1.0, -1.0, 2.0, 0.0]]).tolist()
    [[2, 0, 1, 3]]
    """
    c = check_array("contributions", contributions, ndim=2)
    q = check_array("sizes", sizes, ndim=2)
    key = np.where(q != 0.0, -c, np.inf)
    return np.argsort(key, axis=1, kind="stable")


@dataclass(frozen=True, eq=False)
class AccountGreeks:
    """Net greeks of each account per asset, shape ``(A, U)``: delta in units of the
    underlying (perps count 1 per unit), gamma per unit of price, vega per 1.00 of vol,
    theta per year."""

    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray


def account_greeks(
    sizes: ArrayLike, instruments: InstrumentTable, spot: ArrayLike,
    vols: ArrayLike | Sequence[VolSurface | None], rate: float = 0.0,
) -> AccountGreeks:
    """Aggregate greeks of every account (Black-76 on the underlying, ``carry = rate``).

    Examples
    --------
    >>> t = InstrumentTable(kind=("call", "perp"), asset=(0, 0), strike=(100.0, 0),
    ...                     expiry_yrs=(0.25, 0))
    >>> g = account_greeks([[1.0, -0.5]], t, [100.0], [0.5, 0.0])
    >>> round(float(g.delta[0, 0]), 4)
    0.0497
    """
    s = _spot(spot, instruments)
    q = _sizes(sizes, instruments)
    sigma = _vols_arg(instruments, s, vols)
    r = check_real("rate", rate, low=-1, high=1)
    n = instruments.size
    unit = np.zeros((4, n))
    unit[0] = np.where(instruments.is_option, 0.0, 1.0)
    opt = np.flatnonzero(instruments.is_option)
    if opt.size:
        g = bsm_greeks(instruments.code[opt] == CALL, s[instruments.asset_index[opt]],
                       instruments.strike_arr[opt], instruments.expiry_arr[opt], sigma[opt],
                       r, r, validate=False)
        unit[0, opt], unit[1, opt], unit[2, opt], unit[3, opt] = g.delta, g.gamma, g.vega, g.theta
    onehot = instruments.asset_onehot(instruments.n_assets)
    per = [q @ (onehot * unit[i][:, None]) for i in range(4)]
    return AccountGreeks(delta=per[0], gamma=per[1], vega=per[2], theta=per[3])
