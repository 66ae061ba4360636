"""Tests of contagion.mechanics.risk (VaR, ES, EWMA volatility, margin requirements)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from contagion.errors import ParameterError
from contagion.mechanics.risk import (
    dynamic_margin_frac,
    ewma_volatility,
    expected_shortfall,
    parametric_var_margin,
    value_at_risk,
)

LEVELS = [0.5, 0.9, 0.95, 0.975, 0.99]


@pytest.fixture
def normal_losses() -> np.ndarray:
    return np.random.default_rng(42).standard_normal(200_000)


# --- VaR and ES ---------------------------------------------------------------------------


def test_var_is_the_order_statistic_at_ceil_m_level() -> None:
    losses = np.random.default_rng(1).standard_normal(1001)
    ordered = np.sort(losses)
    for level in LEVELS:
        k = math.ceil(len(losses) * level)
        assert value_at_risk(losses, level) == ordered[k - 1]
        assert value_at_risk(losses, level) == np.quantile(losses, level, method="inverted_cdf")


def test_var_and_es_of_a_normal_sample_match_closed_forms(normal_losses: np.ndarray) -> None:
    for level in (0.95, 0.99):
        z = norm.ppf(level)
        assert value_at_risk(normal_losses, level) == pytest.approx(z, rel=0.02)
        assert expected_shortfall(normal_losses, level) == pytest.approx(
            norm.pdf(z) / (1 - level), rel=0.02
        )


def test_es_is_the_mean_of_losses_at_or_beyond_var() -> None:
    losses = np.arange(1.0, 11.0)
    assert value_at_risk(losses, 0.8) == 8.0
    assert expected_shortfall(losses, 0.8) == pytest.approx(9.0)
    assert expected_shortfall([3.0], 0.99) == 3.0


def test_es_is_never_below_var() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        losses = rng.standard_t(3, size=int(rng.integers(1, 500)))
        for level in LEVELS:
            assert expected_shortfall(losses, level) >= value_at_risk(losses, level)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, float("nan"), "0.9", True])
def test_level_outside_open_unit_interval_is_rejected(level) -> None:
    with pytest.raises(ParameterError, match="level"):
        value_at_risk([1.0, 2.0], level)
    with pytest.raises(ParameterError, match="level"):
        expected_shortfall([1.0, 2.0], level)


@pytest.mark.parametrize(
    ("losses", "match"),
    [([], "losses.*at least one"), ([1.0, np.nan], "losses.*finite"), ([[1.0]], "losses.*1-D")],
)
def test_bad_loss_samples_are_rejected(losses, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        value_at_risk(losses)
    with pytest.raises(ParameterError, match=match):
        expected_shortfall(losses)


# --- EWMA volatility ----------------------------------------------------------------------


def test_ewma_matches_hand_recursion_on_three_returns() -> None:
    # halflife 1 => lambda = 0.5; seeded with r0^2.
    var = ewma_volatility([0.01, -0.02, 0.03], halflife_steps=1) ** 2
    np.testing.assert_allclose(var, [1e-4, 2.5e-4, 5.75e-4], rtol=1e-12)


def test_ewma_with_initial_variance_matches_hand_recursion() -> None:
    var = ewma_volatility([0.01, -0.02, 0.03], halflife_steps=1, initial_variance=9e-4) ** 2
    # 0.5*9e-4 + 0.5*1e-4 = 5e-4; 0.5*5e-4 + 0.5*4e-4 = 4.5e-4; 0.5*4.5e-4 + 0.5*9e-4 = 6.75e-4
    np.testing.assert_allclose(var, [5e-4, 4.5e-4, 6.75e-4], rtol=1e-12)


def test_ewma_matches_a_python_loop() -> None:
    returns = np.random.default_rng(5).standard_normal(300) * 0.02
    lam = 0.5 ** (1 / 11.2)
    var, expected = returns[0] ** 2, []
    for r in returns:
        var = lam * var + (1 - lam) * r**2
        expected.append(math.sqrt(var))
    np.testing.assert_allclose(ewma_volatility(returns, 11.2), expected, rtol=1e-10)


def test_ewma_of_constant_magnitude_returns_is_constant() -> None:
    np.testing.assert_allclose(ewma_volatility([0.01, -0.01, 0.01, -0.01], 3.0), 0.01)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([], 5), {}, "log_returns.*at least one"),
        (([0.01], 0), {}, "halflife_steps"),
        (([0.01], -2), {}, "halflife_steps"),
        (([0.01], 5), {"initial_variance": -1e-4}, "initial_variance"),
        (([0.01, np.inf], 5), {}, "log_returns.*finite"),
    ],
)
def test_ewma_bad_input_is_rejected(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        ewma_volatility(*args, **kwargs)


# --- margins ------------------------------------------------------------------------------


MARGIN = {
    "base_frac": 0.05,
    "horizon_steps": 24,
    "confidence": 0.99,
    "floor_frac": 0.02,
    "cap_frac": 0.5,
}


def test_dynamic_margin_is_the_clamped_parametric_var() -> None:
    vol = np.linspace(0.0, 0.2, 101)
    z = norm.ppf(0.99)
    expected = np.clip(np.maximum(0.05, z * vol * math.sqrt(24)), 0.02, 0.5)
    np.testing.assert_allclose(dynamic_margin_frac(vol, **MARGIN), expected)


def test_dynamic_margin_respects_floor_and_cap_and_rises_with_vol() -> None:
    vol = np.sort(np.random.default_rng(9).exponential(0.02, 500))
    margin = dynamic_margin_frac(vol, **MARGIN)
    assert np.all((margin >= MARGIN["floor_frac"]) & (margin <= MARGIN["cap_frac"]))
    assert np.all(np.diff(margin) >= 0)
    assert margin[0] == MARGIN["base_frac"]
    assert margin[-1] == MARGIN["cap_frac"]


def test_dynamic_margin_floor_binds_above_base() -> None:
    margin = dynamic_margin_frac(0.0, base_frac=0.0, horizon_steps=1, floor_frac=0.03, cap_frac=0.1)
    assert float(margin) == 0.03


def test_dynamic_margin_per_unit_notional_equals_parametric_var_margin() -> None:
    vol = np.array([0.001, 0.004])
    frac = dynamic_margin_frac(vol, base_frac=0.0, horizon_steps=9, floor_frac=0.0, cap_frac=1.0)
    np.testing.assert_allclose(frac, parametric_var_margin(1.0, 1.0, vol, 9, 0.99))


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"floor_frac": 0.6}, "floor_frac"),
        ({"base_frac": 0.7}, "base_frac"),
        ({"cap_frac": 1.5}, "cap_frac"),
        ({"confidence": 0.5}, "confidence"),
        ({"confidence": 1.0}, "confidence"),
        ({"horizon_steps": 0}, "horizon_steps"),
    ],
)
def test_dynamic_margin_bad_parameters_are_rejected(override: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        dynamic_margin_frac(0.01, **{**MARGIN, **override})


def test_dynamic_margin_rejects_negative_volatility() -> None:
    with pytest.raises(ParameterError, match=r"volatility_per_step.*>= 0"):
        dynamic_margin_frac([0.01, -0.01], **MARGIN)


def test_parametric_var_margin_formula_and_broadcasting() -> None:
    price = np.array([100.0, 2000.0])
    size = np.array([[1.0, -2.0], [-3.0, 0.0]])
    margin = parametric_var_margin(price, size, 0.02, 16, 0.975)
    expected = np.abs(size) * price * norm.ppf(0.975) * 0.02 * 4
    np.testing.assert_allclose(margin, expected)
    assert margin.shape == (2, 2)


def test_parametric_var_margin_ignores_side_and_scales_with_sqrt_horizon() -> None:
    long = parametric_var_margin(50.0, 10.0, 0.01, 4, 0.99)
    short = parametric_var_margin(50.0, -10.0, 0.01, 4, 0.99)
    assert long == short
    assert parametric_var_margin(50.0, 10.0, 0.01, 16, 0.99) == pytest.approx(2 * long)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1.0, 1.0, 0.01, 1, 0.99), "price"),
        ((1.0, np.nan, 0.01, 1, 0.99), "size"),
        ((1.0, 1.0, -0.01, 1, 0.99), "volatility_per_step"),
        ((1.0, 1.0, 0.01, -1, 0.99), "horizon_steps"),
        ((1.0, 1.0, 0.01, 1, 0.4), "confidence"),
    ],
)
def test_parametric_var_margin_bad_input_is_rejected(args: tuple, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        parametric_var_margin(*args)
