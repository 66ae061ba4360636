"""Bridge backing and the claim's price (contagion/mechanics/bridge.py).

Numbers from incidents (sources in the module docstring):
- Wormhole, 2 Feb 2022: 120,000 wETH minted on Solana with no ETH locked; Jump Crypto put
  back 120,000 ETH, which made every wETH whole again (Forkast; CoinDesk 3 Feb 2022).
- Multichain, July 2023: Fantom's bridged assets at "just 22% of their true value" after the
  drain (Geist Finance's closing statement); ~$0.7 for Fantom stablecoins while the bridge
  was frozen and the loss not yet confirmed (0xScope).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.mechanics.bridge import (
    backing_ratio,
    claim_price_factor,
    redeemable_units,
    refill_units,
    stolen_units,
)

WORMHOLE_UNBACKED_MINT = 120_000.0


@pytest.mark.parametrize("locked", [80_000.0, 250_000.0, 1_000_000.0])
def test_wormhole_refill_equals_the_unbacked_mint(locked: float) -> None:
    # an unbacked mint of 120,000 claims on top of a fully backed supply
    minted = locked + WORMHOLE_UNBACKED_MINT
    assert backing_ratio(locked_units=locked, minted_units=minted) < 1
    assert refill_units(locked_units=locked, minted_units=minted) == WORMHOLE_UNBACKED_MINT
    after = locked + refill_units(locked_units=locked, minted_units=minted)
    assert backing_ratio(locked_units=after, minted_units=minted) == 1.0
    assert claim_price_factor(backing_ratio(locked_units=after, minted_units=minted),
                              halted=False, halt_discount_frac=0.0) == 1.0


def test_multichain_claims_at_22_percent_redeem_for_22_percent() -> None:
    ratio = backing_ratio(locked_units=22.0, minted_units=100.0)
    assert ratio == pytest.approx(0.22)
    assert claim_price_factor(ratio, halted=False, halt_discount_frac=0.0) == pytest.approx(0.22)
    assert redeemable_units(1_000_000.0, ratio) == pytest.approx(220_000.0)
    # a drain of 78% of the locked collateral leaves the same ratio
    left = 100.0 - stolen_units(locked_units=100.0, exploit_frac=0.78)
    assert backing_ratio(locked_units=left, minted_units=100.0) == pytest.approx(0.22)


def test_a_frozen_but_whole_bridge_trades_at_its_halt_discount() -> None:
    # Fantom stablecoins ~$0.7 while Multichain was frozen, before the loss was known
    assert claim_price_factor(1.0, halted=True, halt_discount_frac=0.3) == pytest.approx(0.7)
    assert claim_price_factor(1.0, halted=False, halt_discount_frac=0.3) == 1.0


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(locked=st.floats(0, 1e9), minted=st.floats(1e-3, 1e9), frac=st.floats(0, 1),
       disc=st.floats(0, 1), halted=st.booleans())
def test_a_claim_is_never_worth_more_than_its_underlying_nor_less_than_zero(
        locked: float, minted: float, frac: float, disc: float, halted: bool) -> None:
    left = locked - stolen_units(locked_units=locked, exploit_frac=frac)
    ratio = backing_ratio(locked_units=left, minted_units=minted)
    f = claim_price_factor(ratio, halted=halted, halt_discount_frac=disc)
    assert 0.0 <= f <= 1.0
    assert f <= min(1.0, ratio) + 1e-15
    assert redeemable_units(minted, ratio) <= minted * (1 + 1e-12)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        backing_ratio(locked_units=-1.0, minted_units=1.0)
    with pytest.raises(ValueError):
        stolen_units(locked_units=1.0, exploit_frac=1.5)
    with pytest.raises(ValueError):
        claim_price_factor(1.0, halted=True, halt_discount_frac=-0.1)
