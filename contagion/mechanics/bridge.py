"""Bridges: a claim on one chain backed by collateral locked on another.

A lock-and-mint bridge holds ``locked`` units of an asset (ETH on Ethereum) in a contract and
mints as many claims on another chain (wETH on Solana, ``ETH.b`` here). A claim is worth what
it redeems for: its share of the locked collateral, at most one unit of the underlying. An
exploit that drains part of the locked collateral (Ronin, Nomad, Multichain), or one that mints
claims with nothing locked behind them (Wormhole), leaves every claim under-backed by the same
ratio; a backer that refills the contract (Jump Crypto for Wormhole) restores it.

Sources (numbers used in ``tests/mechanics/test_bridge.py``):

- Wormhole, 2 February 2022: the attacker minted 120,000 wETH on Solana with no ETH
  deposited and redeemed 93,750 of them for ETH locked on Ethereum; "without [Jump's]
  move to replace the missing funds, the existing wETH circulating in Solana's DeFi ecosystem
  would have remained unbacked" (Forkast, https://forkast.news/headlines/solana-defi-meltdown-
  wormhole-loss-replaced; CoinDesk, 3 Feb 2022, "Jump Trading Backstops Wormhole's $320M
  Exploit Loss"). Jump put back 120,000 ETH the next day.
- Multichain, July 2023: $126M moved out of its Fantom bridge's addresses; Geist Finance
  (an Aave fork on Fantom) closed with "irreversible losses", Multichain-bridged assets
  trading "at just 22% of their true value", and "because Chainlink oracles track the real
  value of USDC, USDT, WBTC or ETH, they are not aware of the real value of Multichain
  assets" (0xScope and Geist's statement, as reported by BeInCrypto/fillcoin, July 2023).
  While the bridge was frozen and before the loss was confirmed, Fantom stablecoins traded
  near $0.7 (0xScope): a discount for doubt, not yet for a known hole.

The price rule the engine uses (:func:`claim_price_factor`): once an exploit is public the
market prices a claim at its redemption value, ``min(1, locked / minted)`` units of the
underlying; while the bridge is halted it takes a further ``halt_discount`` off (redemptions
are frozen, the hole may be larger than announced). This is the arbitrage bound of a fully
informed market, not a forecast of the spot (Wormhole's wETH fell only ~$200 below ETH on
Mango because a bailout was expected; Multichain's never recovered).

Examples
--------
>>> backing_ratio(locked_units=80_000.0, minted_units=200_000.0)
0.4
>>> claim_price_factor(0.4, halted=False, halt_discount_frac=0.3)
0.4
>>> round(claim_price_factor(1.0, halted=True, halt_discount_frac=0.3), 12)
0.7
>>> stolen_units(locked_units=200_000.0, exploit_frac=0.6)
120000.0
"""

from __future__ import annotations

__all__ = ["backing_ratio", "claim_price_factor", "redeemable_units", "refill_units",
           "stolen_units"]


def backing_ratio(*, locked_units: float, minted_units: float) -> float:
    """Locked collateral per claim outstanding (1 when nothing is minted).

    >>> backing_ratio(locked_units=1.0, minted_units=0.0)
    1.0
    """
    if minted_units < 0 or locked_units < 0:
        raise ValueError("locked and minted units must be >= 0")
    if minted_units == 0:
        return 1.0
    return locked_units / minted_units


def redeemable_units(claims: float, ratio: float) -> float:
    """Units of the underlying ``claims`` redeem for: pro rata to the backing, at most one
    each (a bridge pays no more than one unit per claim however much it holds).

    >>> redeemable_units(1_000.0, 0.4), redeemable_units(1_000.0, 1.2)
    (400.0, 1000.0)
    """
    return claims * min(1.0, max(ratio, 0.0))


def claim_price_factor(ratio: float, *, halted: bool, halt_discount_frac: float) -> float:
    """The claim's price as a fraction of its underlying's: its redemption value
    ``min(1, ratio)``, less ``halt_discount_frac`` of it while the bridge is halted."""
    if not 0.0 <= halt_discount_frac <= 1.0:
        raise ValueError("halt_discount_frac must be in [0, 1]")
    value = min(1.0, max(ratio, 0.0))
    return value * (1.0 - halt_discount_frac) if halted else value


def stolen_units(*, locked_units: float, exploit_frac: float) -> float:
    """What an exploit of ``exploit_frac`` of the locked collateral takes out of the contract
    (a drain: Ronin, Nomad, Multichain; Wormhole's unbacked mint of 120,000 wETH against
    the contract's ETH is the same hole seen from the other side)."""
    if not 0.0 <= exploit_frac <= 1.0:
        raise ValueError("exploit_frac must be in [0, 1]")
    return locked_units * exploit_frac


def refill_units(*, locked_units: float, minted_units: float) -> float:
    """What a backer must put back to make every claim whole again (0 if it is)."""
    return max(minted_units - locked_units, 0.0)
