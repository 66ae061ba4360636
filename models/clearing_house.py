"""A clearing member's default runs through the waterfall into the survivors' fund.

Stylised on Nasdaq Clearing's default of Einar Aas (September 2018): one member's large
one-way position (a Nordic-German power spread) met a move "17 times larger than the normal
observed daily spread changes"; he could not meet the intraday margin call, the house
declared him in default on 11 September and closed his portfolio out in an auction, at a
loss that "exceeded the defaulting member's collateral and default fund contribution"
(https://business.nasdaq.com/updates-on-the-Nasdaq-Clearing-Member-Default/index.html).
Nasdaq's junior capital paid EUR 7M and the other members' default fund EUR 107M
(https://rss.globenewswire.com/news-release/2018/09/13/1570629/0/en/Statement-from-Nasdaq-Clearing.html);
the members were then asked to replenish the fund.

The run (preset ``clearing_house``): the default market's venues, with ETH falling 30% in
two steps (a flash crash) and two firms instead of one. ``CCP`` clears ETH positions marked
to the ``ETH-feed`` oracle for three members: ``Aas``, a firm long $220M of ETH with little
else (the one-way bet); ``BetaFund``, a firm short $20M at the house to hedge a leveraged
ETH position at LendB, financed by a $40M loan from CEX; and ``CEX``, short $100M. Margins
are a 99% parametric VaR over an hour (12 steps) at 0.5% volatility a step; the default
fund is a fixed $20M split pro rata to margin; the house's skin in the game is $2M;
assessments go up to twice a survivor's contribution; the close-out costs 5% of the
position. In the crash Aas cannot pay its variation margin, the house closes it out and the
waterfall takes its margin, its contribution, the $2M, the survivors' contributions and
part of their assessments. BetaFund, thin after its fund loss and assessment, fails at its
own venue the next step (its assets fall below its loans as ETH keeps falling), and CEX's
loan to it is impaired: the default crossed the graph. With ``skin_in_the_game_usd=6e7``
the house pays the rest itself and BetaFund survives the same crash.

Stylised, not a replay: crypto, not power; the sizes are round numbers and the members few.
"""

from __future__ import annotations

import dataclasses

from contagion.params import (
    ClearingHouseParams,
    ClearingMemberParams,
    CreditLinkParams,
    FirmParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real
from models.default import default_market

__all__ = ["clearing_house"]


def clearing_house(*, n_traders: int = 1000, steps: int = 144, shock_frac: float = 0.3,
                   aas_notional_usd: float = 2.2e8, skin_in_the_game_usd: float = 2e6,
                   default_fund_usd: float = 2e7, assessment_multiple: float = 2.0,
                   beta_cash_usd: float = 2.4e7) -> Scenario:
    """A flash crash in which one clearing member's default eats into the others' fund.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Five-minute steps (15 to 1,000,000: the crash is at steps 12-13).
    shock_frac : float
        ETH's fall over the two steps of the crash, 0 <= x < 1.
    aas_notional_usd : float
        The defaulter's long ETH position at the house (1e6 to 1e10).
    skin_in_the_game_usd : float
        The house's own capital ahead of the survivors' fund (0 to 1e10).
    default_fund_usd : float
        The default fund, split among members pro rata to their margins (0 to 1e10).
    assessment_multiple : float
        Assessments up to this multiple of a survivor's contribution (0 to 100).
    beta_cash_usd : float
        BetaFund's cash before it posts margin and contribution (1e6 to 1e10).
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=15, high=1_000_000)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_real("aas_notional_usd", aas_notional_usd, low=1e6, high=1e10)
    check_real("skin_in_the_game_usd", skin_in_the_game_usd, low=0, high=1e10)
    check_real("default_fund_usd", default_fund_usd, low=0, high=1e10)
    check_real("assessment_multiple", assessment_multiple, low=0, high=100)
    check_real("beta_cash_usd", beta_cash_usd, low=1e6, high=1e10)
    base = default_market(n_traders=n_traders, steps=steps, shock_frac=shock_frac,
                          shock_duration_steps=2)
    house = ClearingHouseParams(
        name="CCP", asset="ETH", oracle="ETH-feed",
        members=(ClearingMemberParams(name="Aas", notional_usd=aas_notional_usd),
                 ClearingMemberParams(name="BetaFund", notional_usd=-2e7),
                 ClearingMemberParams(name="CEX", notional_usd=-1e8)),
        margin_z_score=2.326, margin_vol_per_step=0.005, margin_period_steps=12,
        default_fund_rule="fixed", default_fund_usd=default_fund_usd,
        skin_in_the_game_usd=skin_in_the_game_usd, assessment_multiple=assessment_multiple,
        closeout_cost_frac=0.05)
    return dataclasses.replace(
        base, name="clearing_house",
        description=f"ETH falls {shock_frac:.0%} in ten minutes: a clearing member's default "
                    "runs through the waterfall into the other members' default fund, and "
                    "a thin survivor fails.",
        firms=(FirmParams(name="Aas", lending="LendA", collateral_usd=(("ETH", 1e6),),
                          health_factor=3.0, cash_usd=3e7),
               FirmParams(name="BetaFund", lending="LendB", collateral_usd=(("ETH", 6e7),),
                          health_factor=1.6, cash_usd=beta_cash_usd)),
        credit_links=(CreditLinkParams(lender="CEX", borrower="BetaFund", amount_usd=4e7),),
        clearing_houses=(house,))
