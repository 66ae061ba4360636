"""Collateral auctions (Maker "flip", stylised): who bids, and what a lot clears at.

A Maker vault below its liquidation ratio is closed whole ("bitten"): its collateral goes
to a collateral auction whose ``tab`` is the debt plus the liquidation penalty. Keepers
bid in two phases: in ``tend`` they raise the stablecoin bid for the whole lot up to the
tab; once the tab is reached, in ``dent`` they compete by accepting less collateral for
the tab, and the rest goes back to the vault owner. The auction ends when a bid has
stood for ``ttl`` without a better one. On 12-13 March 2020 ("Black Thursday") gas went
up six-fold, most keepers' bots stopped bidding, and 36% of the auctions were won by a
lone keeper with a bid of 0 DAI: $8.32M of ETH went for nothing and the protocol was left
with 4-6.65M DAI of debt that no collateral covered.

This module is the stylised clearing rule, vectorised over the lots of a step:

* :func:`gas_multiplier` -- the gas price relative to normal (a spike of given size and
  duration);
* :func:`keeper_gas_tolerances` -- how high gas may go before each keeper's bot stops
  bidding (keepers whose scripts did not adapt to high gas drop out);
* :func:`bidders_per_lot` -- how many keepers bid on each lot;
* :func:`clear_auctions` -- what each lot clears at, what goes back to the owner, and the
  uncovered debt.

References
----------
Maker Protocol, "Flipper - Detailed Documentation" (collateral auctions: ``tend``/``dent``,
``tab``, ``beg``, ``ttl``, ``tau``),
https://docs.makerdao.com/miscellaneous/liquidations-1.2-system-deprecated/flipper-detailed-documentation
and the contract ``src/flip.sol`` of makerdao/dss.
WhiteRabbit, "Black Thursday for MakerDAO: $8.32 million was liquidated for 0 DAI" (2020),
https://medium.com/@whiterabbit_hq/black-thursday-for-makerdao-8-32-million-was-liquidated-for-0-dai-36b83cac56b6
Klages-Mundt, A. and Minca, A. (2022). While stability lasts: a stochastic model of
noncustodial stablecoins. Mathematical Finance 32(4), 943-981, doi:10.1111/mafi.12357
(deleveraging spirals on Black Thursday; the zero-bid auctions cost about $8m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.validation import check_array, check_int, check_real

__all__ = [
    "AuctionClearing",
    "bidders_per_lot",
    "clear_auctions",
    "gas_multiplier",
    "keeper_gas_tolerances",
]


def gas_multiplier(step: int, *, spike_multiplier: float, start_step: int,
                   duration_steps: int) -> float:
    """The gas price at ``step`` as a multiple of normal: a flat spike, else 1.

    Notes
    -----
    ``m(t) = spike_multiplier`` for ``start_step <= t < start_step + duration_steps``,
    else ``1``. Black Thursday: mean gas price up about 6x, to ~80 gwei (Glassnode, in
    ``scenario-facts.md`` section 1).

    Examples
    --------
    >>> [gas_multiplier(t, spike_multiplier=6.0, start_step=2, duration_steps=2)
    ...  for t in range(5)]
    [1.0, 1.0, 6.0, 6.0, 1.0]
    """
    check_int("step", step, low=0)
    check_real("spike_multiplier", spike_multiplier, low=1, high=1000)
    check_int("start_step", start_step, low=0)
    check_int("duration_steps", duration_steps, low=0)
    in_spike = start_step <= step < start_step + duration_steps
    return float(spike_multiplier) if in_spike else 1.0


def keeper_gas_tolerances(bidders: int, max_gas_multiple: float) -> NDArray[np.float64]:
    """How high gas may go (as a multiple of normal) before each keeper stops bidding.

    Keepers' bots bid with a gas price their operators set for normal times; when gas
    rises above what a bot is willing to pay, its bids are not mined and the keeper is out
    of the auctions. Tolerances are spread evenly up to ``max_gas_multiple``, the most
    adaptive keeper's.

    Notes
    -----
    ``tol_k = 1 + (max_gas_multiple - 1) * k / K`` for ``k = 1..K`` (``K = bidders``).

    Examples
    --------
    >>> keeper_gas_tolerances(4, 7.0).tolist()
    [2.5, 4.0, 5.5, 7.0]
    """
    check_int("bidders", bidders, low=1, high=1000)
    check_real("max_gas_multiple", max_gas_multiple, low=1, high=1000)
    k = np.arange(1, bidders + 1, dtype=np.float64)
    return 1.0 + (max_gas_multiple - 1.0) * k / bidders


def bidders_per_lot(
    lot_value_usd: ArrayLike, *, tolerances: ArrayLike, gas_multiple: float,
    gas_cost_usd: float, discount_frac: float, capacity: int,
) -> NDArray[np.int64]:
    """Number of keepers bidding on each lot this step.

    A keeper bids when (1) gas is within its tolerance (its bot still gets bids mined) and
    (2) the profit it expects from a competitive auction, ``discount_frac`` of the lot's
    value, covers the gas a bid costs now; (3) each keeper bids on at most ``capacity``
    lots a step, the most valuable first.

    Parameters
    ----------
    lot_value_usd : array_like
        What each lot's collateral would fetch if sold now, USD (``>= 0``).
    tolerances : array_like
        Each keeper's gas tolerance (see :func:`keeper_gas_tolerances`).
    gas_multiple : float
        The gas price now, as a multiple of normal (``>= 0``).
    gas_cost_usd : float
        What one auction's bids cost in gas at the normal gas price, USD.
    discount_frac : float
        A competitive auction's margin below the lot's value, ``0 <= x < 1``.
    capacity : int
        Lots a keeper can bid on per step (``>= 0``).

    Notes
    -----
    ``active = #{k : tol_k >= m}``; lot ``i`` is worth bidding on when
    ``discount_frac * value_i >= gas_cost_usd * m``; among those, the ``capacity`` most
    valuable get ``active`` bidders and the rest none (they wait: liquidation latency).

    Examples
    --------
    >>> tol = keeper_gas_tolerances(4, 7.0)
    >>> bidders_per_lot([1e5, 2e5, 100.0], tolerances=tol, gas_multiple=1.0,
    ...                 gas_cost_usd=20.0, discount_frac=0.03, capacity=10).tolist()
    [4, 4, 0]
    >>> bidders_per_lot([1e5, 2e5], tolerances=tol, gas_multiple=6.0, gas_cost_usd=20.0,
    ...                 discount_frac=0.03, capacity=1).tolist()
    [0, 1]
    """
    value = check_array("lot_value_usd", lot_value_usd, low=0)
    tol = check_array("tolerances", tolerances, low=1)
    check_real("gas_multiple", gas_multiple, low=0)
    check_real("gas_cost_usd", gas_cost_usd, low=0)
    check_real("discount_frac", discount_frac, low=0, high=1, high_open=True)
    check_int("capacity", capacity, low=0)
    active = int(np.count_nonzero(tol >= gas_multiple))
    worth = discount_frac * value >= gas_cost_usd * gas_multiple
    out = np.zeros(value.shape, dtype=np.int64)
    idx = np.flatnonzero(worth)
    if active == 0 or idx.size == 0 or capacity == 0:
        return out
    if idx.size > capacity:
        idx = idx[np.argsort(-value[idx], kind="stable")[:capacity]]
    out[idx] = active
    return out


@dataclass(frozen=True)
class AuctionClearing:
    """Outcome of each lot's auction (arrays of the lots' shape).

    ``sold``: a keeper won the lot this step (unsold lots wait for bidders).
    ``bid_usd``: what the winner paid. ``units_to_winner``/``units_to_owner``: the
    collateral split (the owner gets back what the ``dent`` phase leaves).
    ``bad_debt_usd``: debt the bid did not cover. ``penalty_usd``: what the bid raised
    above the debt (the liquidation penalty collected).
    """

    sold: NDArray[np.bool_]
    bid_usd: NDArray[np.float64]
    units_to_winner: NDArray[np.float64]
    units_to_owner: NDArray[np.float64]
    bad_debt_usd: NDArray[np.float64]
    penalty_usd: NDArray[np.float64]


def clear_auctions(
    lot_units: ArrayLike, lot_value_usd: ArrayLike, debt_usd: ArrayLike, bidders: ArrayLike,
    *, penalty_frac: float = 0.13, discount_frac: float = 0.03, lone_bid_frac: float = 0.0,
) -> AuctionClearing:
    """Clear collateral auctions: the winning bid, the collateral split, the shortfall.

    Parameters
    ----------
    lot_units : array_like
        Collateral units in each lot (``>= 0``).
    lot_value_usd : array_like
        What the lot would fetch if sold now, USD (``>= 0``).
    debt_usd : array_like
        The vault's debt (``>= 0``); the auction's ``tab`` is
        ``debt * (1 + penalty_frac)``.
    bidders : array_like
        Keepers bidding on each lot (integers ``>= 0``; see :func:`bidders_per_lot`).
    penalty_frac : float
        Liquidation penalty, ``0 <= x <= 1`` (Maker's ETH-A: 13%).
    discount_frac : float
        With two or more bidders, competition brings the bid to the lot's value less this
        margin (bid increments, keepers' profit), ``0 <= x < 1``.
    lone_bid_frac : float
        A lone bidder's bid as a fraction of the lot's value, ``0 <= x < 1`` (0: the
        zero-DAI bids of Black Thursday, nobody outbids him before ``ttl``).

    Notes
    -----
    Offer ``o = f * value`` with ``f = 1 - discount_frac`` for two or more bidders,
    ``f = lone_bid_frac`` for one; no bidder: unsold. ``tend``: the winner pays
    ``min(o, tab)``. ``dent``: when ``o > tab`` he pays the tab and takes
    ``units * tab / o``; the rest returns to the owner. Shortfall
    ``max(debt - paid, 0)``; penalty collected ``max(paid - debt, 0)``.

    References
    ----------
    makerdao/dss ``src/flip.sol`` (``tend``, ``dent``, ``deal``); Maker docs, "Flipper -
    Detailed Documentation"; WhiteRabbit (2020) on the 0-DAI bids (see module docstring).

    Examples
    --------
    Two lots worth $150 each with debt $100 (tab $113): competitive (2 bidders) and lone.

    >>> c = clear_auctions([1.0, 1.0], [150.0, 150.0], [100.0, 100.0], [2, 1])
    >>> c.bid_usd.round(6).tolist(), c.bad_debt_usd.tolist()
    ([113.0, 0.0], [0.0, 100.0])
    >>> c.units_to_owner.round(4).tolist(), c.penalty_usd.round(6).tolist()
    ([0.2234, 0.0], [13.0, 0.0])
    """
    units = check_array("lot_units", lot_units, low=0)
    value = check_array("lot_value_usd", lot_value_usd, low=0)
    debt = check_array("debt_usd", debt_usd, low=0)
    n = check_array("bidders", bidders, low=0)
    if not (units.shape == value.shape == debt.shape == n.shape):
        raise ParameterError("lot_units", units.shape, "lot_units, lot_value_usd, debt_usd and "
                             "bidders of one shape", f"got {value.shape}, {debt.shape}, {n.shape}")
    if np.any(n != np.floor(n)):
        raise ParameterError("bidders", n.tolist(), "whole numbers of keepers")
    check_real("penalty_frac", penalty_frac, low=0, high=1)
    check_real("discount_frac", discount_frac, low=0, high=1, high_open=True)
    check_real("lone_bid_frac", lone_bid_frac, low=0, high=1, high_open=True)
    sold = n >= 1
    frac = np.where(n >= 2, 1.0 - discount_frac, lone_bid_frac)
    offer = np.where(sold, frac * value, 0.0)
    tab = debt * (1.0 + penalty_frac)
    paid = np.minimum(offer, tab)
    dent = sold & (offer > tab)
    share = np.divide(tab, offer, out=np.ones_like(offer), where=dent)
    to_winner = np.where(sold, units * share, 0.0)
    to_owner = np.where(sold, units - to_winner, 0.0)
    return AuctionClearing(
        sold=sold, bid_usd=paid, units_to_winner=to_winner, units_to_owner=to_owner,
        bad_debt_usd=np.where(sold, np.maximum(debt - paid, 0.0), 0.0),
        penalty_usd=np.where(sold, np.maximum(paid - debt, 0.0), 0.0))
