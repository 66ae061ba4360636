"""Auto-deleveraging (ADL): ranking profitable counterparties and closing them in turn.

When a bankrupt position cannot be closed in the market and the insurance fund is spent,
a perpetuals venue closes opposite-side positions at the bankruptcy price, highest-ranked
first. Longs and shorts are ranked apart: call these functions on one side's accounts.
All functions are vectorised over accounts (1-D arrays); none loops in Python.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError
from contagion.validation import check_array, scalar_or_array

__all__ = [
    "adl_pnl_frac",
    "adl_queue_order",
    "adl_ranking",
    "allocate_adl",
    "effective_leverage",
    "hyperliquid_sorting_index",
]



def effective_leverage(
    mark_value: ArrayLike, bankrupt_value: ArrayLike,
) -> float | NDArray[np.float64]:
    """BitMEX effective leverage ``|mark_value| / (mark_value - bankrupt_value)``.

    Values are signed position values (a short's are negative, its bankrupt value below its
    mark value). ``inf`` where the position is at or beyond bankruptcy
    (``mark_value <= bankrupt_value``).

    Notes
    -----
    ``EffectiveLeverage = abs(MarkValue) / (MarkValue - BankruptValue)``.

    References
    ----------
    BitMEX, "Auto-Deleveraging", https://www.bitmex.com/app/autoDeleveraging

    Examples
    --------
    >>> effective_leverage([1000.0, -1000.0, 500.0], [900.0, -1100.0, 500.0]).tolist()
    [10.0, 10.0, inf]
    """
    mark = check_array("mark_value", mark_value)
    bankrupt = check_array("bankrupt_value", bankrupt_value)
    cushion = mark - bankrupt
    with np.errstate(divide="ignore", invalid="ignore"):
        lev = np.where(cushion > 0, np.abs(mark) / np.where(cushion > 0, cushion, 1.0), np.inf)
    return scalar_or_array(np.asarray(lev, dtype=np.float64))


def adl_pnl_frac(
    mark_value: ArrayLike, avg_entry_value: ArrayLike,
) -> float | NDArray[np.float64]:
    """BitMEX ``PNL% = (MarkValue - AvgEntryValue) / abs(AvgEntryValue)``.

    References
    ----------
    BitMEX, "Auto-Deleveraging", https://www.bitmex.com/app/autoDeleveraging

    Examples
    --------
    >>> adl_pnl_frac([1100.0, -900.0], [1000.0, -1000.0]).tolist()
    [0.1, 0.1]
    """
    mark = check_array("mark_value", mark_value)
    entry = check_array("avg_entry_value", avg_entry_value)
    if (entry == 0).any():
        raise ParameterError("avg_entry_value", 0.0, "x != 0")
    return scalar_or_array((mark - entry) / np.abs(entry))


def adl_ranking(
    pnl_frac: ArrayLike, effective_leverage: ArrayLike,
) -> float | NDArray[np.float64]:
    """BitMEX ADL ranking: ``PNL% * lev`` if profitable, else ``PNL% / lev``.

    Parameters
    ----------
    pnl_frac : array_like
        ``PNL%`` as a fraction (:func:`adl_pnl_frac`).
    effective_leverage : array_like
        ``> 0``, may be ``inf`` (:func:`effective_leverage`).

    Notes
    -----
    ``rank = PNL% * EffectiveLeverage`` where ``PNL% > 0``, else
    ``PNL% / EffectiveLeverage``. Highest rank is deleveraged first.

    References
    ----------
    BitMEX, "Auto-Deleveraging", https://www.bitmex.com/app/autoDeleveraging and
    https://support.bitmex.com/hc/en-gb/articles/18589621443357-What-is-Auto-Deleveraging

    Examples
    --------
    >>> adl_ranking([0.1, -0.1], [5.0, 5.0]).tolist()
    [0.5, -0.02]
    """
    pnl = check_array("pnl_frac", pnl_frac)
    lev = check_array("effective_leverage", effective_leverage, low=0, low_open=True,
                      allow_inf=True)
    with np.errstate(invalid="ignore"):  # 0 * inf in the branch np.where discards
        rank = np.where(pnl > 0, pnl * lev, pnl / lev)
    return scalar_or_array(np.asarray(rank, dtype=np.float64))


def hyperliquid_sorting_index(
    mark_price: ArrayLike, entry_price: ArrayLike, notional: ArrayLike,
    account_value: ArrayLike,
) -> float | NDArray[np.float64]:
    """Hyperliquid ADL sorting index, ``(mark / entry) * (notional / account_value)``.

    Only accounts with positive value are ADL counterparties; others raise.

    Notes
    -----
    ``sorting_index = (mark_price / entry_price) * (notional_position / account_value)``;
    opposite-side users in profit are closed highest index first, at the previous mark price.

    References
    ----------
    Hyperliquid docs, https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging

    Examples
    --------
    >>> hyperliquid_sorting_index(110.0, 100.0, [1100.0, 2200.0], [500.0, 2000.0]).round(4).tolist()
    [2.42, 1.21]
    """
    mark = check_array("mark_price", mark_price, low=0, low_open=True)
    entry = check_array("entry_price", entry_price, low=0, low_open=True)
    notional_usd = check_array("notional", notional, low=0)
    value = check_array("account_value", account_value, low=0, low_open=True)
    return scalar_or_array(mark / entry * (notional_usd / value))


def adl_queue_order(ranking: ArrayLike) -> NDArray[np.intp]:
    """Indices of accounts in deleveraging order: highest ranking first, ties by index.

    Notes
    -----
    A stable descending sort of ``ranking``; ``nan`` is rejected.

    References
    ----------
    BitMEX, "Auto-Deleveraging Further Information",
    https://www.bitmex.com/app/autoDeleveragingExamples

    Examples
    --------
    >>> adl_queue_order([3.0, 6.0, 1.0, 6.0]).tolist()
    [1, 3, 0, 2]
    """
    rank = check_array("ranking", ranking, allow_inf=True)
    if rank.ndim != 1:
        raise ParameterError("ranking", rank.shape, "a 1-D array, one value per account")
    return np.argsort(-rank, kind="stable")


def allocate_adl(
    quantity: ArrayLike, ranking: ArrayLike, amount_to_close: float,
) -> NDArray[np.float64]:
    """Quantity closed per account by a greedy fill down the ADL queue.

    Parameters
    ----------
    quantity : array_like
        Each account's position size on the deleveraged side, ``>= 0``, 1-D.
    ranking : array_like
        Same shape; higher is closed first, ties by lower index.
    amount_to_close : float
        Size of the bankrupt position to offset, ``>= 0``.

    Returns
    -------
    ndarray
        Same shape as ``quantity``, ``0 <= closed <= quantity``, summing to
        ``min(amount_to_close, quantity.sum())``.

    Notes
    -----
    With accounts sorted by :func:`adl_queue_order` and ``before_i`` the quantity ahead of
    account ``i``: ``closed_i = clip(amount - before_i, 0, quantity_i)``. Fills are at the
    bankruptcy price of the liquidated position.

    References
    ----------
    BitMEX, "Auto-Deleveraging Further Information",
    https://www.bitmex.com/app/autoDeleveragingExamples

    Examples
    --------
    >>> allocate_adl([10, 10, 20, 30, 20, 10], [3, 6, 1, 4, 5, 2], 20).tolist()
    [0.0, 10.0, 0.0, 0.0, 10.0, 0.0]
    """
    qty = check_array("quantity", quantity, low=0)
    amount = float(check_array("amount_to_close", amount_to_close, low=0))
    order = adl_queue_order(ranking)
    if qty.shape != order.shape:
        raise ParameterError("ranking", order.shape, f"the shape of quantity {qty.shape}")
    queued = qty[order]
    before = np.cumsum(queued) - queued
    closed = np.empty_like(qty)
    closed[order] = np.clip(amount - before, 0.0, queued)
    return closed
