"""Issue 12's market mechanisms in the engine against their sources' own formulas.

Each check is a figure of the engine's run against the source's exact rule (a band of zero
width, or a rounding tolerance): the per-unit fire sale against Caccioli et al.'s
``p = exp(-alpha x)`` cascade; the lending venue's interest (rate curve and indices, accrued
step by step) against Aave V3's own integer arithmetic on the engine's utilisation; perp
funding, every account's payment at every funding time, against dYdX v4's rule on the
engine's premium samples; and Uniswap V3 pools against v3-core: a full-range pool against
the V2 pool of the same value, and a sale across initialized ticks against
``computeSwapStep`` chained by hand with v3-core's own tick search.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from experiments.validation.checks import FS_SOURCE, Band, Check, Scale, Section, verdict

__all__ = ["AAVE_SOURCE", "DYDX_SOURCE", "V3_SOURCE", "market_mechanics_section"]

AAVE_SOURCE = ("Aave V3 (aave-dao/aave-v3-origin @fd1fbd9): DefaultReserveInterestRateStrategyV2."
               "calculateInterestRates, MathUtils.calculateCompoundedInterest / "
               "calculateLinearInterest, ReserveLogic._updateIndexes")

DYDX_SOURCE = ("dYdX v4 (dydxprotocol/v4-chain @84d4664b): protocol/x/perpetuals/keeper "
               "funding (F = P + clamp(I - P, +-0.05%) per 8 hours from the time-weighted "
               "premium, paid pro rata), liquidity_tier.go GetMaxAbsFundingClampPpm "
               "(|F| <= 6 (IMF - MMF))")
V3_SOURCE = ("Uniswap v3-core (Uniswap/v3-core @d8b1c635): UniswapV3Pool.swap, "
             "SwapMath.computeSwapStep, TickBitmap.nextInitializedTickWithinOneWord, "
             "Tick.cross; Uniswap V2 (x y = k) for the full-range comparison")

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


def _funding_rule(premium: float, interest: float, clamp: float, cap: float) -> float:
    """dYdX v4's 8-hour funding rate from the interval's mean premium, written out from the
    source (not the engine's :mod:`contagion.mechanics.funding`)."""
    rate = premium + min(max(interest - premium, -clamp), clamp)
    return min(max(rate, -cap), cap)


def _funding_run(scale: Scale, **perp: Any) -> tuple[float, float, float, int, int]:
    """Run ``crowded_longs`` (PerpF's parameters changed by ``perp``) and check every
    funding time: (largest relative gap of an account's payment from ``size * index * F *
    minutes / 480`` with ``F`` from the engine's own premium samples, largest ledger
    residual over the payments, largest ``|F| / cap``, funding times, times at the cap)."""
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("crowded_longs", n_traders=scale.preset_traders)
    sc = dataclasses.replace(sc, perps=tuple(dataclasses.replace(v, **perp) for v in sc.perps))
    m = ContagionModel(sc, seed=scale.preset_seeds[0])
    (venue,) = m.perps
    p = venue.params
    samples: list[float] = []
    gap = ledger = cap_use = 0.0
    times = at_cap = 0
    original = venue.pay_funding

    def watched() -> None:
        nonlocal gap, ledger, cap_use, times, at_cap
        size = venue.book.size[:, 0].copy()
        index = float(np.asarray(venue.marks(), dtype=np.float64)[0])
        before = venue.book.collateral.copy()
        original()
        samples.append(float(venue.premium_frac[0]))
        if m.steps % p.funding_interval_steps:
            return
        premium = sum(samples) / len(samples)
        minutes = len(samples) * sc.market.step_minutes
        samples.clear()
        rate = _funding_rule(premium, p.interest_rate_frac, p.funding_clamp_frac,
                             p.funding_cap_frac)
        after = venue.book.collateral
        paid = before - after  # > 0: the account paid
        expected = size[1:] * index * rate * minutes / (60.0 * p.funding_period_hours)
        gap = max(gap, float(np.abs(paid[1:] - expected).max()) / max(
            float(np.abs(expected).max()), 1e-9))
        # zero-sum: the book's collateral is unchanged (to the rounding of its balances)
        ledger = max(ledger, abs(float(after.sum()) - float(before.sum()))
                     / float(np.abs(before).sum()))
        cap_use = max(cap_use, abs(rate) / p.funding_cap_frac)
        times += 1
        at_cap += abs(rate) == p.funding_cap_frac

    venue.pay_funding = watched  # type: ignore[method-assign]
    m.run()
    return gap, ledger, cap_use, times, at_cap


def _funding_check(scale: Scale) -> Check:
    hourly = _funding_run(scale)
    capped = _funding_run(scale, funding_interval_steps=8, funding_cap_frac=0.002)
    exact = Band(0.0, 1e-9, "dYdX v4's rule; float rounding only", "{:.1e}")
    return Check.banded(
        "A perp venue's funding is dYdX v4's: at each funding time every account pays "
        "size x index x F pro rata, F = P + clamp(I - P, +-0.05%) from the interval's mean "
        "premium, capped at 6 (IMF - MMF); the payments add to zero", DYDX_SOURCE,
        [verdict("largest relative gap of an account's payment",
                 [max(hourly[0], capped[0])], exact),
         verdict("largest change of the book's collateral at a funding time (share of it)",
                 [max(hourly[1], capped[1])], Band(
                     0.0, 1e-12, "zero-sum; float rounding of the balances only", "{:.1e}")),
         verdict("largest |F| / cap with a 0.2% cap", [capped[2]], Band(
             1.0, 1.0, "dYdX: the rate is clamped to the cap, never past it", "{:.3f}"))],
        f"`crowded_longs` at {scale.preset_traders} traders, seed {scale.preset_seeds[0]}: "
        f"{hourly[3]} hourly funding times; with 8-hour funding and a 0.2% cap, {capped[3]} "
        f"times, {capped[4]} at the cap. No cited historical funding band was found, so "
        "none is checked")


def _v3_pool(scale: Scale, **pool: Any) -> Any:
    """The ETH/USDC pool of ``lp_flight`` (its parameters changed by ``pool``), built."""
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("lp_flight", n_traders=scale.preset_traders)
    sc = dataclasses.replace(sc, pools=tuple(dataclasses.replace(p, **pool) for p in sc.pools))
    return ContagionModel(sc, seed=scale.preset_seeds[0]).pools["ETH/USDC"]


#: The trades both pools take in turn: ("sell", ETH units) or ("buy", USD).
_V2_V3_TRADES = (("sell", 50.0), ("buy", 3e5), ("sell", 800.0), ("buy", 2e6), ("sell", 3000.0),
                 ("buy", 9e6), ("sell", 10.0))


def _full_range_gap(scale: Scale) -> float:
    """Largest relative gap between a full-range V3 pool and the V2 pool of the same value
    (fee 0) over :data:`_V2_V3_TRADES`: every amount out and every spot after."""
    import math

    v3 = _v3_pool(scale, kind="v3", v3_ranges=((math.inf, 1.0),), fee_frac=0.0,
                  lp_withdraw_frac_per_step=0.0, lp_withdraw_below_frac=1.0)
    v2 = _v3_pool(scale, kind="v2", v3_ranges=((math.inf, 1.0),), fee_frac=0.0,
                  lp_withdraw_frac_per_step=0.0, lp_withdraw_below_frac=1.0)
    gap = abs(v3.spot / v2.spot - 1)
    for side, amount in _V2_V3_TRADES:
        outs = [pool.sell_base(amount) if side == "sell" else pool.buy_base(amount)
                for pool in (v3, v2)]
        gap = max(gap, abs(outs[0] / outs[1] - 1), abs(v3.spot / v2.spot - 1))
    return gap


def _word_search(initialized: list[int], tick: int, spacing: int) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord, lte (a sale of token0), as v3-core
    writes it: the compressed tick's 256-bit word, the next initialized tick at or below
    it in that word, else the word's first tick, uninitialized."""
    compressed = int(tick / spacing)  # Solidity's division truncates toward zero
    if tick < 0 and tick % spacing != 0:
        compressed -= 1
    bit_pos = compressed % 256
    word_first = compressed - bit_pos
    inside = [t for t in initialized if word_first * spacing <= t <= compressed * spacing]
    if inside:
        return max(inside), True
    return word_first * spacing, False


def _swap_by_hand(pool: Any, amount: int) -> tuple[int, int, int, int, int, int]:
    """Sell ``amount`` raw units of token0 into ``pool`` with v3-core's swap loop written out:
    computeSwapStep to the next initialized tick (or word end), cross it (liquidityNet
    subtracted going left), repeat. Returns (amount out, sqrt price, tick, liquidity, ticks
    crossed, steps)."""
    from contagion.mechanics.uniswap_v3 import (
        MIN_SQRT_RATIO,
        MIN_TICK,
        compute_swap_step,
        get_sqrt_ratio_at_tick,
        get_tick_at_sqrt_ratio,
    )

    sqrt_p, tick, liquidity = pool.sqrt_price, pool.tick, pool.liquidity
    initialized = sorted(t for t, net in pool.ticks.items() if net != 0)
    limit = MIN_SQRT_RATIO + 1
    remaining, out, crossed, steps = amount, 0, 0, 0
    while remaining != 0 and sqrt_p != limit:
        start = sqrt_p
        steps += 1
        nxt, is_init = _word_search(initialized, tick, pool.tick_spacing)
        nxt = max(nxt, MIN_TICK)
        target = max(get_sqrt_ratio_at_tick(nxt), limit)
        sqrt_p, amount_in, amount_out, fee = compute_swap_step(sqrt_p, target, liquidity,
                                                               remaining, pool.fee_pips)
        remaining -= amount_in + fee
        out += amount_out
        if sqrt_p == target:
            if is_init:
                liquidity -= pool.ticks[nxt]
                crossed += 1
            tick = nxt - 1
        elif sqrt_p != start:
            tick = get_tick_at_sqrt_ratio(sqrt_p)
    return out, sqrt_p, tick, liquidity, crossed, steps


def _v3_check(scale: Scale) -> Check:
    full_gap = _full_range_gap(scale)
    pool = _v3_pool(scale)  # lp_flight's pool: 80% within -33%/+50%, 20% full range
    units = 10_000.0  # enough ETH to push the price out of the concentrated range
    raw = int(units * 10**18)
    out, sqrt_p, tick, liquidity, crossed, steps = _swap_by_hand(pool, raw)
    got = pool.sell_base(units)
    state_same = (pool.sqrt_price, pool.tick, pool.liquidity) == (sqrt_p, tick, liquidity)
    out_gap = abs(got / (out / 10**18) - 1)
    return Check.banded(
        "A Uniswap V3 pool in the engine is v3-core's: a single full-range position trades "
        "as the V2 pool of the same value, and a sale across initialized ticks equals "
        "computeSwapStep chained by hand with v3-core's tick search", V3_SOURCE,
        [verdict("largest relative gap, full-range V3 vs V2 (fee 0, 7 trades)", [full_gap],
                 Band(0.0, 1e-9, "x y = k; integer rounding at 18 decimals only", "{:.1e}")),
         verdict("relative gap of the sale's USD out, engine vs by hand", [out_gap], Band(
             0.0, 1e-15, "computeSwapStep's integers; one float conversion", "{:.1e}")),
         verdict("pool state after the sale equal (sqrt price, tick, liquidity)",
                 [float(state_same)], Band(1.0, 1.0, "v3-core: exact integers", "{:.0f}"))],
        f"`lp_flight`'s ETH/USDC pool: {units:,.0f} ETH sold for ${got / 1e6:,.2f}M, "
        f"{steps} computeSwapStep calls, {crossed} initialized tick(s) crossed, the price "
        f"{pool.start_price:,.0f} -> {pool.spot:,.0f}")


def _numeraire_check(scale: Scale) -> Check:
    """In ``broken_correlation`` (USDC depegs 12%), every lending account's health factor
    after each step against the rule: collateral at its USD oracle price, USDC debt at the
    venue's USDC oracle price."""
    from contagion.mechanics.lending import health_factor
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("broken_correlation", n_traders=scale.preset_traders)
    m = ContagionModel(sc, seed=scale.preset_seeds[0])
    hf_gap, low, depegged, accounts = 0.0, 1.0, 0, 0
    for _ in range(sc.market.steps):
        m.step()
        for v in m.lending:
            if v.num_feed is None:
                continue
            q = float(v.num_feed.price)
            low = min(low, q)
            usd = np.array([o.price for o in v.oracles])
            rows = np.flatnonzero(v.book.debt > 0)
            rule = np.asarray(health_factor(v.book.collateral[rows] * usd, v.lt,
                                            v.book.debt[rows] * q))
            engine = v.health()[rows]
            finite = np.isfinite(rule) & np.isfinite(engine)
            if finite.any():
                hf_gap = max(hf_gap, float(np.max(np.abs(engine[finite] / rule[finite] - 1))))
            depegged += int(q < 0.999)
            accounts = max(accounts, int(finite.sum()))
    exact = Band(0.0, 1e-9, "the rule; float rounding only", "{:.1e}")
    return Check.banded(
        "When the numeraire depegs, a lender values its USDC debt at its USDC oracle: a "
        "borrower's health factor is its collateral at USD prices over its debt at the "
        "USDC feed's price (it rises by 1/q)", "aave/aave-v3-core @782f519 "
        "GenericLogic.calculateUserAccountData: every reserve, the stablecoin debt included, "
        "is valued at the AaveOracle's USD price; docs/stablecoin-risk.md",
        [verdict("largest relative gap of a health factor, engine vs the rule", [hf_gap], exact)],
        f"`broken_correlation` at {scale.preset_traders} traders, seed "
        f"{scale.preset_seeds[0]}: {depegged} venue-steps with USDC below $0.999 (low "
        f"${low:.3f}), up to {accounts} borrowers checked a step")


def market_mechanics_section(scale: Scale) -> Section:
    """Issue 12's engine mechanics against their sources' exact rules."""
    return Section(
        "Market mechanisms against their sources (issue 12)",
        "The engine's per-unit price impact, its lending interest, perp funding, Uniswap V3 "
        "pools and venues' valuation of a depegged numeraire, each in a run against the rule "
        "the source states exactly (the pure functions are also checked against the "
        "protocols' own test vectors in the test suite: Uniswap v3-core's 338 cases, dYdX "
        "v4's funding).",
        [_fire_sale_check(scale), _interest_check(scale), _funding_check(scale),
         _v3_check(scale), _numeraire_check(scale)], {})
