"""Interest: Aave V3's kinked rate curve, linear and compounded interest, index updates.

Integer ports (:mod:`contagion.mechanics.aave`) against Aave's own test vectors, and the
float model the engine uses (:mod:`contagion.mechanics.lending`) against the ports.

Sources (cited by repository, commit and path):
- aave-dao/aave-v3-origin @fd1fbd9150426ca8ace9cee45b4acf912ae84f5b
  ``tests/protocol/libraries/math/MathUtils.t.sol`` (linear and compounded interest),
  ``tests/misc/rates/RateStrategy.calculateRates.t.sol`` (the rate curve: optimal 80%,
  base 1%, slope1 4%, slope2 60%), ``src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol``,
  ``src/contracts/protocol/libraries/math/MathUtils.sol``,
  ``src/contracts/protocol/libraries/logic/ReserveLogic.sol`` (``_updateIndexes``).
- aave/aave-v3-core @782f51917056a53a2c228701058a6c3fb233684a
  ``contracts/protocol/libraries/math/MathUtils.sol`` (the v3.0 binomial compounding).
- Aave docs, "Interest Rate Strategy"
  (https://aave.com/docs/aave-v3/smart-contracts/interest-rate-strategy): the curve
  ``R = base + slope1 U / U*`` below the kink, ``base + slope1 + slope2 (U - U*) / (1 - U*)``
  above.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.aave import (
    RAY,
    SECONDS_PER_YEAR,
    aave_compounded_interest,
    aave_interest_rates,
    aave_linear_interest,
    aave_percent_mul,
    aave_ray_div,
    aave_ray_mul,
    aave_update_indexes,
)
from contagion.mechanics.lending import (
    compounded_interest,
    interest_rates,
    linear_interest,
    update_indexes,
    utilisation,
)

BPS = 10**23  # one basis point in ray (DefaultReserveInterestRateStrategyV2._bpsToRay)
# RateStrategy.calculateRates.t.sol's curve
OPTIMAL, BASE, SLOPE1, SLOPE2 = 8000 * BPS, 100 * BPS, 400 * BPS, 6000 * BPS
RF = 1000  # reserve factor in bps (any value: the tests' expectations are formulas of it)


def _rates(debt: int, liquidity: int, unbacked: int = 0, rf: int = RF) -> tuple[int, int]:
    return aave_interest_rates(debt, liquidity, OPTIMAL, BASE, SLOPE1, SLOPE2, rf, unbacked)


# ------------------------------------------------------------------ MathUtils.t.sol
def test_linear_interest_8pct_7_years() -> None:
    """test_calculateLinearInterest: 8% a year for 7 years is exactly 1.56e27."""
    assert aave_linear_interest(8 * 10**25, 7 * SECONDS_PER_YEAR) == 156 * 10**25


def test_compounded_interest_8pct_7_years_within_0_3pct_of_exp() -> None:
    """test_calculateCompoundInterest_1/_2: within 0.3% of e^(0.08 * 7)."""
    ideal = 1750672500296101082549976435
    for version in ("v3.4", "v3.0"):
        got = aave_compounded_interest(8 * 10**25, 7 * SECONDS_PER_YEAR, version)
        assert abs(got - ideal) <= ideal * 3 // 1000, version
        assert got < ideal  # the approximation undercharges borrowers


def test_compounded_interest_edge_and_no_overflow() -> None:
    """test_calculateCompoundInterest_edge (no time: 1e27) and _shouldNotOverflow."""
    assert aave_compounded_interest(8 * 10**25, 0) == RAY
    assert aave_compounded_interest(1000 * RAY, 10_000 * SECONDS_PER_YEAR) == \
        166666716666676666667666666666666600000000000000


def test_compounded_versions_are_the_two_formulas() -> None:
    """v3.4: 1 + x + x^2/2 + x^3/6 in ray (x = r t); v3.0: the per-second binomial terms."""
    r, n = 5 * 10**25, 12 * 3600
    x = r * n // SECONDS_PER_YEAR
    assert aave_compounded_interest(r, n) == RAY + x + aave_ray_mul(x, x // 2 + aave_ray_mul(x, x // 6))
    b2 = aave_ray_mul(r, r) // SECONDS_PER_YEAR**2
    b3 = aave_ray_mul(b2, r) // SECONDS_PER_YEAR
    assert aave_compounded_interest(r, n, "v3.0") == \
        RAY + r * n // SECONDS_PER_YEAR + n * (n - 1) * b2 // 2 + n * (n - 1) * (n - 2) * b3 // 6
    with pytest.raises(ParameterError, match="version"):
        aave_compounded_interest(r, n, "v2")


# ------------------------------------------------------------------ RateStrategy.calculateRates.t.sol
def test_rates_80_percent_usage() -> None:
    """test_calculate_rates_80_percent_usage: at the kink, base + slope1."""
    liq, borrow = _rates(800000000000000000, 200000000000000000)
    expected = BASE + SLOPE1
    assert borrow == expected
    assert liq == aave_percent_mul(aave_percent_mul(expected, 8000), 10_000 - RF)


def test_rates_100_percent_usage() -> None:
    """test_calculate_rates_100_percent_usage: base + slope1 + slope2."""
    liq, borrow = _rates(1000000000000000000, 0)
    expected = BASE + SLOPE1 + SLOPE2
    assert borrow == expected
    assert liq == aave_percent_mul(expected, 10_000 - RF)


def test_rates_80_percent_usage_50_percent_supply_usage_due_to_unbacked() -> None:
    """test_calculate_rates_80_percent_usage_and_50_percent_supply_usage_due_minted_tokens."""
    liq, borrow = _rates(800000000000000000, 200000000000000000, unbacked=600000000000000000)
    assert borrow == BASE + SLOPE1
    assert liq == aave_percent_mul(aave_percent_mul(BASE + SLOPE1, 5000), 10_000 - RF)


def test_rates_80_bps_usage() -> None:
    """test_calculate_rates_80_bps_usage: below the kink, slope1 * U / U*."""
    liq, borrow = _rates(80000000000000000000, 9920000000000000000000)
    usage = 80 * BPS
    expected = BASE + aave_ray_mul(SLOPE1, aave_ray_div(usage, OPTIMAL))
    assert borrow == expected
    assert liq == aave_percent_mul(aave_percent_mul(expected, 80), 10_000 - RF)


def test_rates_with_nothing_borrowed() -> None:
    """No debt: the base rate, and suppliers earn nothing."""
    assert _rates(0, 10**18) == (0, BASE)


def test_rates_refuse_an_optimal_ratio_of_zero() -> None:
    with pytest.raises(ParameterError, match="optimal_usage_ratio_ray"):
        aave_interest_rates(1, 1, 0, BASE, SLOPE1, SLOPE2, RF)


# ------------------------------------------------------------------ the docs' curve, float
def test_docs_curve_and_its_kink() -> None:
    """The docs' formula on the test curve: slope1 up to U* = 80%, then slope2; continuous at
    the kink, its slope jumping from slope1 / U* to slope2 / (1 - U*)."""
    u = np.array([0.0, 0.2, 0.4, 0.8, 0.85, 0.9, 1.0])
    supply, borrow = interest_rates(u, 0.8, 0.01, 0.04, 0.6, 0.1)
    docs = np.where(u <= 0.8, 0.01 + 0.04 * u / 0.8, 0.01 + 0.04 + 0.6 * (u - 0.8) / 0.2)
    assert np.allclose(borrow, docs, rtol=0, atol=1e-15)
    assert np.allclose(supply, docs * u * 0.9, rtol=0, atol=1e-15)
    eps = 1e-9
    below = (float(interest_rates(0.8, 0.8, 0.01, 0.04, 0.6)[1])
             - float(interest_rates(0.8 - eps, 0.8, 0.01, 0.04, 0.6)[1])) / eps
    above = (float(interest_rates(0.8 + eps, 0.8, 0.01, 0.04, 0.6)[1])
             - float(interest_rates(0.8, 0.8, 0.01, 0.04, 0.6)[1])) / eps
    assert below == pytest.approx(0.05, rel=1e-5)  # slope1 / U*
    assert above == pytest.approx(3.0, rel=1e-5)  # slope2 / (1 - U*): 60x steeper


@settings(max_examples=60, deadline=None, derandomize=True)
@given(debt=st.integers(1, 10**30), liquidity=st.integers(0, 10**30),
       optimal=st.integers(100, 9900), base=st.integers(0, 1000), s1=st.integers(0, 2000),
       s2=st.integers(2000, 30000), rf=st.integers(0, 10_000))
def test_float_rates_match_the_integer_port(debt: int, liquidity: int, optimal: int, base: int,
                                            s1: int, s2: int, rf: int) -> None:
    """The engine's float curve agrees with the contract's integers (ray rounding only)."""
    liq, borrow = aave_interest_rates(debt, liquidity, optimal * BPS, base * BPS, s1 * BPS,
                                      s2 * BPS, rf)
    u = float(utilisation(float(debt), float(liquidity)))
    supply_f, borrow_f = interest_rates(u, optimal / 1e4, base / 1e4, s1 / 1e4, s2 / 1e4, rf / 1e4)
    assert float(borrow_f) == pytest.approx(borrow / RAY, rel=1e-9, abs=1e-18)
    assert float(supply_f) == pytest.approx(liq / RAY, rel=1e-9, abs=1e-18)


# ------------------------------------------------------------------ indices
def test_float_interest_matches_the_integer_port() -> None:
    for rate, seconds in ((0.08, 7 * SECONDS_PER_YEAR), (0.65, 300), (0.05, SECONDS_PER_YEAR),
                          (1000.0, 10_000 * SECONDS_PER_YEAR)):
        r = round(rate * 1e4) * BPS
        assert float(linear_interest(rate, seconds)) == pytest.approx(
            aave_linear_interest(r, seconds) / RAY, rel=1e-12)
        assert float(compounded_interest(rate, seconds)) == pytest.approx(
            aave_compounded_interest(r, seconds) / RAY, rel=1e-12)


def test_update_indexes_over_thirty_days_of_five_minute_steps() -> None:
    """ReserveLogic._updateIndexes applied every 5 minutes for 30 days at the test curve's
    80% point: the float engine's indices track the contract's integers (float rounding over
    8,640 steps only), and the borrow index approaches e^(0.05 t) (compounding each step)
    while the liquidity index gets 3.6% compounded the same way."""
    liq_rate, borrow_rate = _rates(800000000000000000, 200000000000000000)
    dt = 300
    li, bi = RAY, RAY
    lf, bf = 1.0, 1.0
    days = 30
    for _ in range(days * 86_400 // dt):
        li, bi = aave_update_indexes(li, bi, liq_rate, borrow_rate, dt)
        lf, bf = update_indexes(lf, bf, liq_rate / RAY, borrow_rate / RAY, dt)
    assert lf == pytest.approx(li / RAY, rel=1e-11)
    assert bf == pytest.approx(bi / RAY, rel=1e-11)
    years = days * 86_400 / SECONDS_PER_YEAR
    assert bf == pytest.approx(math.exp(0.05 * years), rel=1e-8)
    assert lf == pytest.approx(math.exp(0.036 * years), rel=1e-8)


def test_update_indexes_skips_what_Aave_skips() -> None:
    """No supply income: the liquidity index stays; no variable debt: the borrow index stays."""
    assert aave_update_indexes(RAY, RAY, 0, 5 * 10**25, 3600, scaled_variable_debt=0) == (RAY, RAY)
