"""Issue 12's market mechanisms in the engine against their sources' own formulas.

Two checks, each a figure of the engine's run against the source's exact rule (a band of
zero width, or a rounding tolerance): the per-unit fire sale against Caccioli et al.'s
``p = exp(-alpha x)`` cascade, and the lending venue's interest (rate curve and indices,
accrued step by step) against Aave V3's own integer arithmetic on the engine's utilisation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from experiments.validation.checks import FS_SOURCE, Band, Check, Scale, Section, verdict

__all__ = ["AAVE_SOURCE", "market_mechanics_section"]

AAVE_SOURCE = ("Aave V3 (aave-dao/aave-v3-origin @fd1fbd9): DefaultReserveInterestRateStrategyV2."
               "calculateInterestRates, MathUtils.calculateCompoundedInterest / "
               "calculateLinearInterest, ReserveLogic._updateIndexes")

#: The fire-sale draws (diversification, leverage, portfolio seed, shocked bank).
_FS_DRAWS_SMALL = [(3, 10.0, 0, 0), (2, 8.0, 2, 2), (3, 8.0, 7, 7), (2, 2.4, 0, 0)]
_FS_DRAWS_FULL = _FS_DRAWS_SMALL + [(mu, lam, g, g) for g in range(4) for mu in (2, 3, 4)
                                    for lam in (6.0, 12.0)]


def _fire_sale_check(scale: Scale) -> Check:
    from contagion.model import ContagionModel
    from models.classic.fire_sales import ALPHA_10PCT, fire_sale_cascade
    from models.classic.fire_sales_preset import SHOCK_STEP, fire_sale_portfolios, fire_sales_demo

    draws = _FS_DRAWS_FULL if scale.name == "full" else _FS_DRAWS_SMALL
    exact = {"per_unit": 0, "per_dollar": 0}
    for mu, lam, g, b in draws:
        failed = np.arange(20) == b
        pure = fire_sale_cascade(fire_sale_portfolios(20, 20, mu, g), lam, alpha=ALPHA_10PCT,
                                 initially_failed=failed)
        base = fire_sales_demo(n_traders=200, diversification=mu, leverage=lam, seed_graph=g,
                               shocked_bank=b)
        for model_kind in exact:
            sc = dataclasses.replace(base, assets=tuple(
                dataclasses.replace(a, impact_model=model_kind) for a in base.assets))
            m = ContagionModel(sc, seed=1)
            m.run()
            rounds = np.array([ex.default_step - SHOCK_STEP if ex.defaulted else -1
                               for ex in m.custodial])
            same = (np.array_equal(rounds, pure.failure_round)
                    and np.allclose(m.market.price[1:], pure.prices, rtol=1e-12, atol=0))
            exact[model_kind] += bool(same)
    share = exact["per_unit"] / len(draws)
    return Check.banded(
        "With per-unit impact (`AssetParams.impact_model = \"per_unit\"`) the engine's fire sale "
        "is the paper's: the same banks fail in the same rounds and every price is "
        "exp(-alpha x) to 1e-12", FS_SOURCE,
        [verdict("share of draws exact", [share], Band(
            1.0, 1.0, "Caccioli et al.: p = exp(-alpha x), exactly", "{:.2f}"))],
        f"{exact['per_unit']} of {len(draws)} draws (per-dollar impact, the default: "
        f"{exact['per_dollar']} of {len(draws)})")


def _interest_check(scale: Scale) -> Check:
    from contagion.mechanics.aave import RAY, aave_interest_rates, aave_update_indexes
    from contagion.model import ContagionModel
    from contagion.params import InterestRateParams
    from models import get_scenario

    sc = get_scenario("default", n_traders=scale.preset_traders, steps=144)
    sc = dataclasses.replace(sc, lending=tuple(
        dataclasses.replace(v, rates=InterestRateParams()) for v in sc.lending))
    m = ContagionModel(sc, seed=scale.preset_seeds[0])
    m.run()
    s = m.datacollector.get_model_vars_dataframe()
    rate_gap = index_gap = 0.0
    for v in m.lending:
        p = v.params.rates
        assert p is not None
        curve = (round(p.optimal_utilisation * RAY), round(p.base_rate * RAY),
                 round(p.slope1 * RAY), round(p.slope2 * RAY), round(p.reserve_factor * 10_000))
        li = bi = RAY
        for t in range(1, len(s)):
            # the rate of step t is set by the utilisation step t - 1 ended with
            debt = round(float(s[f"utilisation_{v.name}"].iloc[t - 1]) * 10**18)
            _, borrow = aave_interest_rates(debt, 10**18 - debt, *curve)
            engine = float(s[f"borrow_rate_{v.name}"].iloc[t])
            rate_gap = max(rate_gap, abs(engine - borrow / RAY) / max(borrow / RAY, 1e-18))
            supply = round(float(s[f"supply_rate_{v.name}"].iloc[t]) * RAY)
            li, bi = aave_update_indexes(li, bi, supply, round(engine * RAY),
                                         round(v.step_seconds))
        index_gap = max(index_gap, abs(v.borrow_index[0] / (bi / RAY) - 1),
                        abs(v.liquidity_index[0] / (li / RAY) - 1))
    band = Band(0.0, 1e-9, "Aave's integer arithmetic; float rounding only", "{:.1e}")
    return Check.banded(
        "A lending venue's rates follow Aave's kinked utilisation curve and its borrow and "
        "liquidity indices accrue as Aave's do, step by step through a crash", AAVE_SOURCE,
        [verdict("largest relative gap of the borrow rate", [rate_gap], band),
         verdict("largest relative gap of the indices after 144 steps", [index_gap], band)],
        f"`default` with `lending.*.rates` on, {len(m.lending)} venues, seed "
        f"{scale.preset_seeds[0]}")


def market_mechanics_section(scale: Scale) -> Section:
    """Issue 12's engine mechanics against their sources' exact rules."""
    return Section(
        "Market mechanisms against their sources (issue 12)",
        "The engine's per-unit price impact and its lending interest, each against the rule "
        "the source states exactly (the other mechanisms are checked against protocol test "
        "vectors in the test suite: Uniswap v3-core's 338 cases, dYdX v4's funding).",
        [_fire_sale_check(scale), _interest_check(scale)], {})
