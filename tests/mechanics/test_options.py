"""Tests of contagion.mechanics.options (Black-Scholes-Merton, Black-76, the vol surface).

Published numbers: J. C. Hull, *Options, Futures, and Other Derivatives*, 9th ed. (ch. 15
BSM example, ch. 18 Black's model example, ch. 19 greeks examples) and MathWorks' ``blkimpv``
example (https://www.mathworks.com/help/finance/blkimpv.html).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.options import (
    VolSurface,
    black76_greeks,
    black76_price,
    bsm_greeks,
    bsm_price,
    forward_price,
    implied_vol,
)

# --- published numbers -------------------------------------------------------------------


def test_hull_bsm_example_call_476_put_081() -> None:
    # Hull ch. 15: S=42, K=40, r=10%, sigma=20%, T=0.5 -> c = 4.76, p = 0.81.
    c, p = bsm_price([True, False], 42.0, 40.0, 0.5, 0.2, 0.1)
    assert round(float(c), 2) == 4.76
    assert round(float(p), 2) == 0.81


def test_hull_greeks_example_s49_k50() -> None:
    # Hull ch. 19: S=49, K=50, r=5%, sigma=20%, T=20/52 (a call).
    g = bsm_greeks(True, 49.0, 50.0, 20 / 52, 0.2, 0.05)
    assert round(float(g.delta), 3) == 0.522
    assert round(float(g.gamma), 3) == 0.066
    assert round(float(g.vega), 1) == 12.1
    assert round(float(g.theta), 2) == -4.31
    assert round(float(g.rho), 2) == 8.91


def test_hull_black76_futures_option_112_and_mathworks_11166() -> None:
    # Hull ch. 18: put on a future, F = K = 20, r = 9%, sigma = 25%, T = 4 months -> 1.12;
    # MathWorks blkimpv: the call at 1.1166 has implied vol 0.25 (at the money call = put).
    c, p = black76_price([True, False], 20.0, 20.0, 4 / 12, 0.25, 0.09)
    assert round(float(p), 2) == 1.12
    assert round(float(c), 4) == 1.1166
    assert float(c) == pytest.approx(float(p), abs=1e-12)


def test_mathworks_blkimpv_example_implied_vol_025() -> None:
    # blkimpv(20, 20, 0.09, 4/12, 1.1166) = 0.25 (Black-76: spot = forward, carry = rate)
    iv = implied_vol(1.1166, True, 20.0, 20.0, 4 / 12, 0.09, 0.09)
    assert float(iv) == pytest.approx(0.25, abs=1e-4)


def test_implied_vol_refuses_a_price_below_intrinsic() -> None:
    with pytest.raises(ParameterError, match=r"'price' = 5.0 .*intrinsic"):
        implied_vol([20.0, 5.0], True, 110.0, 100.0, 0.5)


def test_black76_is_bsm_on_the_forward_with_carry_equal_rate() -> None:
    s, k, t, v, r = 100.0, np.array([80.0, 100.0, 130.0]), 0.7, 0.65, 0.04
    f = forward_price(s, t, r, 0.0)
    np.testing.assert_allclose(black76_price(True, f, k, t, v, r), bsm_price(True, s, k, t, v, r),
                               rtol=1e-12)


def test_black76_delta_is_with_respect_to_the_forward() -> None:
    f, k, t, v, r, h = 100.0, 95.0, 0.5, 0.7, 0.03, 1e-4
    g = black76_greeks(True, f, k, t, v, r)
    up, dn = black76_price(True, [f + h, f - h], k, t, v, r)
    assert float(g.delta) == pytest.approx(float((up - dn) / (2 * h)), rel=1e-7)
    bump = (black76_price(True, f, k, t, v, r + h) - black76_price(True, f, k, t, v, r - h)) / (2 * h)
    assert float(g.rho) == pytest.approx(float(bump), rel=1e-6)


# --- limits ------------------------------------------------------------------------------


def test_at_expiry_the_price_is_intrinsic_and_gamma_vega_vanish() -> None:
    k = np.array([90.0, 100.0, 110.0])
    np.testing.assert_array_equal(bsm_price(True, 100.0, k, 0.0, 0.5), [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(bsm_price(False, 100.0, k, 0.0, 0.5), [0.0, 0.0, 10.0])
    g = bsm_greeks(True, 100.0, k, 0.0, 0.5)
    np.testing.assert_array_equal(g.delta, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.gamma, 0.0)
    np.testing.assert_array_equal(g.vega, 0.0)


def test_zero_vol_is_discounted_forward_intrinsic() -> None:
    s, k, t, r, q = 100.0, 95.0, 1.0, 0.05, 0.02
    want = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert float(bsm_price(True, s, k, t, 0.0, r, q)) == pytest.approx(want, rel=1e-12)
    assert float(bsm_price(False, s, k, t, 0.0, r, q)) == 0.0


def test_bad_inputs_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match="'vol'"):
        bsm_price(True, 100.0, 100.0, 1.0, -0.1)
    with pytest.raises(ParameterError, match="'strike'"):
        bsm_price(True, 100.0, 0.0, 1.0, 0.5)
    with pytest.raises(ParameterError, match="'expiry_yrs'"):
        bsm_greeks(True, 100.0, 100.0, -1.0, 0.5)
    with pytest.raises(ParameterError, match="'is_call'"):
        bsm_price([2, 0], 100.0, 100.0, 1.0, 0.5)


# --- invariants (hypothesis) -------------------------------------------------------------

spots = st.floats(1.0, 1e5)
moneyness = st.floats(0.3, 3.0)
expiries = st.floats(1 / 365, 3.0)
vols = st.floats(0.05, 2.0)
rates = st.floats(-0.05, 0.2)
carries = st.floats(0.0, 0.1)


@settings(max_examples=150, deadline=None)
@given(spots, moneyness, expiries, vols, rates, carries)
def test_put_call_parity(s: float, m: float, t: float, v: float, r: float, q: float) -> None:
    k = s * m
    c, p = bsm_price([True, False], s, k, t, v, r, q)
    parity = s * math.exp(-q * t) - k * math.exp(-r * t)
    assert float(c - p) == pytest.approx(parity, abs=1e-9 * max(s, k))


@settings(max_examples=100, deadline=None)
@given(spots, expiries, vols, rates, carries)
def test_prices_are_monotone_in_strike_and_within_no_arbitrage_bounds(
    s: float, t: float, v: float, r: float, q: float,
) -> None:
    k = s * np.linspace(0.3, 3.0, 40)
    c = bsm_price(True, s, k, t, v, r, q)
    p = bsm_price(False, s, k, t, v, r, q)
    tol = 1e-9 * s
    assert (np.diff(c) <= tol).all()
    assert (np.diff(p) >= -tol).all()
    fwd_s, pv_k = s * math.exp(-q * t), k * math.exp(-r * t)
    assert (c >= np.maximum(fwd_s - pv_k, 0.0) - tol).all() and (c <= fwd_s + tol).all()
    assert (p >= np.maximum(pv_k - fwd_s, 0.0) - tol).all() and (p <= pv_k + tol).all()


@settings(max_examples=150, deadline=None)
@given(st.booleans(), st.floats(0.5, 2.0), st.floats(0.05, 2.0), st.floats(0.1, 1.5),
       rates, carries)
def test_greeks_match_finite_differences(
    is_call: bool, m: float, t: float, v: float, r: float, q: float,
) -> None:
    s, k = 100.0, 100.0 * m
    g = bsm_greeks(is_call, s, k, t, v, r, q)

    def price(**kw: float) -> float:
        args = {"spot": s, "strike": k, "expiry_yrs": t, "vol": v, "rate": r, "carry_rate": q} | kw
        return float(bsm_price(is_call, **args))

    hs, hv, ht, hr = 1e-3 * s * min(1.0, v * math.sqrt(t)), 1e-5, 1e-6, 1e-6
    delta = (price(spot=s + hs) - price(spot=s - hs)) / (2 * hs)
    gamma = (price(spot=s + hs) - 2 * price() + price(spot=s - hs)) / hs**2
    vega = (price(vol=v + hv) - price(vol=v - hv)) / (2 * hv)
    theta = -(price(expiry_yrs=t + ht) - price(expiry_yrs=t - ht)) / (2 * ht)
    rho = (price(rate=r + hr) - price(rate=r - hr)) / (2 * hr)
    assert float(g.delta) == pytest.approx(delta, rel=1e-4, abs=1e-6)
    assert float(g.gamma) == pytest.approx(gamma, rel=1e-3, abs=1e-7)
    assert float(g.vega) == pytest.approx(vega, rel=1e-5, abs=1e-6 * s)
    assert float(g.theta) == pytest.approx(theta, rel=1e-4, abs=1e-5 * s)
    assert float(g.rho) == pytest.approx(rho, rel=1e-5, abs=1e-6 * s)


@settings(max_examples=100, deadline=None)
@given(st.booleans(), moneyness, expiries, vols, rates, carries)
def test_implied_vol_inverts_the_price(
    is_call: bool, m: float, t: float, v: float, r: float, q: float,
) -> None:
    s = 100.0
    price = bsm_price(is_call, s, s * m, t, v, r, q)
    vega = float(bsm_greeks(is_call, s, s * m, t, v, r, q).vega)
    if vega < 1e-3:  # the price barely depends on the vol: nothing to invert
        return
    assert float(implied_vol(price, is_call, s, s * m, t, r, q)) == pytest.approx(v, abs=1e-7)


# --- the surface -------------------------------------------------------------------------

SURFACE = VolSurface(expiries_yrs=(7 / 365, 30 / 365, 90 / 365), strikes=(0.8, 1.0, 1.25),
                     vols=((0.9, 0.7, 0.8), (0.8, 0.6, 0.7), (0.7, 0.55, 0.6)))


def test_surface_returns_its_grid_at_the_nodes() -> None:
    t, k = np.meshgrid(SURFACE.expiries_yrs, SURFACE.strikes, indexing="ij")
    np.testing.assert_allclose(SURFACE.vol(k, t), np.asarray(SURFACE.vols), rtol=1e-12)


def test_surface_is_linear_in_vol_along_strike_and_in_total_variance_along_expiry() -> None:
    t0, t1 = SURFACE.expiries_yrs[:2]
    assert float(SURFACE.vol(0.9, t0)) == pytest.approx(0.8)
    tm = 0.25 * t0 + 0.75 * t1
    w = 0.25 * 0.7**2 * t0 + 0.75 * 0.6**2 * t1
    assert float(SURFACE.vol(1.0, tm)) == pytest.approx(math.sqrt(w / tm), rel=1e-12)


def test_surface_extrapolates_flat() -> None:
    assert float(SURFACE.vol(0.1, 30 / 365)) == pytest.approx(0.8)
    assert float(SURFACE.vol(9.0, 30 / 365)) == pytest.approx(0.7)
    assert float(SURFACE.vol(1.0, 1 / 365)) == pytest.approx(0.7)
    assert float(SURFACE.vol(1.0, 0.0)) == pytest.approx(0.7)
    assert float(SURFACE.vol(1.0, 5.0)) == pytest.approx(0.55)


def test_moneyness_surface_reads_absolute_strikes_through_the_forward() -> None:
    got = SURFACE.vol([40_000.0, 50_000.0], 30 / 365, forward=50_000.0)
    np.testing.assert_allclose(got, [0.8, 0.6])
    absolute = VolSurface(expiries_yrs=(1.0,), strikes=(40_000.0, 60_000.0), vols=((0.8, 0.6),),
                          strike_kind="absolute")
    assert float(absolute.vol(50_000.0, 1.0, forward=1.0)) == pytest.approx(0.7)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"expiries_yrs": (0.5, 0.1)}, r"'vol_surface.expiries_yrs\[1\]' = 0.1 .*> vol_surface"),
    ({"expiries_yrs": (0.0, 0.1)}, r"'vol_surface.expiries_yrs\[0\]' = 0.0"),
    ({"strikes": (1.0, 1.0)}, r"'vol_surface.strikes\[1\]'"),
    ({"strikes": ()}, r"'vol_surface.strikes'.*at least one"),
    ({"vols": ((0.5, 0.4),)}, r"'vol_surface.vols' = '1 rows'"),
    ({"vols": ((0.5, 0.4), (0.5,))}, r"'vol_surface.vols\[1\]' = '1 entries'"),
    ({"vols": ((0.5, 0.4), (0.5, -0.2))}, r"'vol_surface.vols\[1\]\[1\]' = -0.2"),
    ({"vols": ((0.5, math.nan), (0.5, 0.2))}, r"'vol_surface.vols\[0\]\[1\]' = nan"),
    ({"strike_kind": "delta"}, r"'vol_surface.strike_kind'"),
])
def test_surface_validation_names_the_entry(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"expiries_yrs": (0.1, 0.5), "strikes": (0.9, 1.1),
                               "vols": ((0.5, 0.4), (0.5, 0.4))}
    with pytest.raises(ParameterError, match=match):
        VolSurface(**(base | kwargs))  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 10.0), st.floats(0.0, 3.0))
def test_surface_stays_within_its_grid_range(k: float, t: float) -> None:
    v = float(SURFACE.vol(k, t))
    grid = np.asarray(SURFACE.vols)
    assert grid.min() - 1e-12 <= v <= grid.max() + 1e-12
