"""Compound V2 liquidation arithmetic, exact: the protocol's integer maths ported to Python.

Seize-token calculation, the end-to-end ``liquidateBorrow`` with its close-factor check and
the reserves' share of the seizure, and account liquidity, with the truncating ``Exp``
maths of the contracts (mantissas scaled by ``1e18``). They pin the float model of
:mod:`contagion.mechanics.lending` to the protocol's own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from contagion.errors import ParameterError
from contagion.validation import check_int

__all__ = [
    "CompoundLiquidation",
    "compound_account_liquidity",
    "compound_liquidation",
    "compound_seize_tokens",
]

EXP_SCALE = 10**18


def compound_seize_tokens(
    repay_amount: int, price_borrowed_mantissa: int, price_collateral_mantissa: int,
    exchange_rate_mantissa: int, liquidation_incentive_mantissa: int,
) -> int:
    """cTokens seized for repaying ``repay_amount`` of the borrowed asset (exact).

    Notes
    -----
    ``Exp`` maths with truncation at each step: ``num = LI * pB // 1e18``;
    ``den = pC * ER // 1e18``; ``ratio = num * 1e18 // den``;
    ``seize = ratio * repay // 1e18``.

    References
    ----------
    compound-finance/compound-protocol @a3214f6
    ``Comptroller.liquidateCalculateSeizeTokens``.

    Examples
    --------
    >>> compound_seize_tokens(2 * 10**18, 10**18, 10**18, 4 * 10**27, 11 * 10**17)
    550000000
    """
    repay = check_int("repay_amount", repay_amount, low=0)
    p_borrowed = check_int("price_borrowed_mantissa", price_borrowed_mantissa, low=1)
    p_collateral = check_int("price_collateral_mantissa", price_collateral_mantissa, low=1)
    rate = check_int("exchange_rate_mantissa", exchange_rate_mantissa, low=1)
    incentive = check_int("liquidation_incentive_mantissa", liquidation_incentive_mantissa, low=0)
    numerator = incentive * p_borrowed // EXP_SCALE
    denominator = p_collateral * rate // EXP_SCALE
    if denominator == 0:
        raise ParameterError("exchange_rate_mantissa", rate,
                             "price_collateral * exchange_rate >= 1e18")
    ratio = numerator * EXP_SCALE // denominator
    return ratio * repay // EXP_SCALE


@dataclass(frozen=True)
class CompoundLiquidation:
    """Exact outcome of a Compound V2 liquidation (cTokens and underlying wei)."""

    seize_tokens: int
    liquidator_tokens: int
    protocol_tokens: int
    borrower_tokens_after: int
    borrow_balance_after: int


def compound_liquidation(
    repay_amount: int, borrow_balance: int, borrower_ctokens: int,
    price_borrowed_mantissa: int, price_collateral_mantissa: int,
    exchange_rate_mantissa: int, liquidation_incentive_mantissa: int,
    close_factor_mantissa: int, protocol_seize_share_mantissa: int = 28 * 10**15,
) -> CompoundLiquidation:
    """End-to-end ``liquidateBorrow``: close-factor check, seizure and the reserves' share.

    Raises
    ------
    ParameterError
        ``'repay_amount'`` if it exceeds ``closeFactor * borrow`` (``TOO_MUCH_REPAY``);
        ``'borrower_ctokens'`` if the seizure exceeds them (``LIQUIDATE_SEIZE_TOO_MUCH``).

    Notes
    -----
    ``maxClose = cf * borrow // 1e18``; ``seize`` from :func:`compound_seize_tokens`;
    ``protocol = seize * share // 1e18`` goes to reserves, the liquidator gets the rest.

    References
    ----------
    compound-finance/compound-protocol @a3214f6 ``Comptroller.liquidateBorrowAllowed``,
    ``CToken.liquidateBorrowFresh``/``seizeInternal`` (``protocolSeizeShareMantissa =
    2.8e16``); ``spec/scenario/InKindLiquidation.scen``.

    Examples
    --------
    >>> r = compound_liquidation(2 * 10**18, 101 * 10**18, 50 * 10**9, 10**18, 10**18,
    ...                          4 * 10**27, 11 * 10**17, 10**17)
    >>> r.liquidator_tokens, r.borrower_tokens_after
    (534600000, 49450000000)
    """
    repay = check_int("repay_amount", repay_amount, low=0)
    borrow = check_int("borrow_balance", borrow_balance, low=0)
    tokens = check_int("borrower_ctokens", borrower_ctokens, low=0)
    cf = check_int("close_factor_mantissa", close_factor_mantissa, low=0, high=EXP_SCALE)
    share = check_int("protocol_seize_share_mantissa", protocol_seize_share_mantissa,
                      low=0, high=EXP_SCALE)
    max_close = cf * borrow // EXP_SCALE
    if repay > max_close:
        raise ParameterError("repay_amount", repay, f"0 <= x <= closeFactor * borrow = "
                             f"{max_close}", "Compound rejects it with TOO_MUCH_REPAY")
    seize = compound_seize_tokens(repay, price_borrowed_mantissa, price_collateral_mantissa,
                                  exchange_rate_mantissa, liquidation_incentive_mantissa)
    if seize > tokens:
        raise ParameterError("borrower_ctokens", tokens, f"x >= seizeTokens = {seize}",
                             "Compound reverts with LIQUIDATE_SEIZE_TOO_MUCH")
    protocol = seize * share // EXP_SCALE
    return CompoundLiquidation(seize, seize - protocol, protocol, tokens - seize,
                               borrow - repay)


def compound_account_liquidity(
    ctoken_balance: int, exchange_rate_mantissa: int, collateral_factor_mantissa: int,
    price_collateral_mantissa: int, borrow_balance: int, price_borrowed_mantissa: int,
) -> int:
    """Signed account liquidity (USD mantissa): collateral capacity minus borrows.

    Notes
    -----
    ``tokensToDenom = CF * ER // 1e18 * pC // 1e18``;
    ``liquidity = tokensToDenom * tokens // 1e18 - pB * borrow // 1e18``; negative means the
    account is liquidatable.

    References
    ----------
    compound-finance/compound-protocol @a3214f6
    ``Comptroller.getHypotheticalAccountLiquidityInternal``.

    Examples
    --------
    >>> compound_account_liquidity(49_450_000_000, 4 * 10**27, 5 * 10**17, 10**18,
    ...                            99 * 10**18, 10**18)
    -100000000000000000
    """
    tokens = check_int("ctoken_balance", ctoken_balance, low=0)
    rate = check_int("exchange_rate_mantissa", exchange_rate_mantissa, low=0)
    cf = check_int("collateral_factor_mantissa", collateral_factor_mantissa, low=0,
                   high=EXP_SCALE)
    p_collateral = check_int("price_collateral_mantissa", price_collateral_mantissa, low=0)
    borrow = check_int("borrow_balance", borrow_balance, low=0)
    p_borrowed = check_int("price_borrowed_mantissa", price_borrowed_mantissa, low=0)
    tokens_to_denom = cf * rate // EXP_SCALE * p_collateral // EXP_SCALE
    return tokens_to_denom * tokens // EXP_SCALE - p_borrowed * borrow // EXP_SCALE
