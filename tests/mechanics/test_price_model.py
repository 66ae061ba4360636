"""Joint price innovations (issue 12): correlation, Student-t tails, GARCH(1,1).

Statistical checks use fixed seeds and two-sided bounds at the 0.1% level (|z| < 3.29), so
they are deterministic and would fail on a wrong formula, not on bad luck.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.mechanics.price_model import (
    correlation_factor,
    factor_factor,
    garch_filter,
    joint_innovations,
)
from contagion.mechanics.price_path import crash_path, gbm_jump_path

Z_999 = 3.2905  # two-sided 0.1% critical value of the standard normal


def _fisher_z_ok(r: float, rho: float, n: int) -> bool:
    """Whether a sample correlation ``r`` of ``n`` normal pairs is consistent with ``rho``:
    ``atanh(r) - atanh(rho)`` is ~N(0, 1 / (n - 3)) (Fisher 1921)."""
    return abs(math.atanh(r) - math.atanh(rho)) < Z_999 / math.sqrt(n - 3)


# ---------------------------------------------------------------------- correlation
def test_correlation_is_recovered_within_sampling_error() -> None:
    c = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, -0.2], [0.3, -0.2, 1.0]])
    n = 20_000
    z = joint_innovations(correlation_factor(c.tolist()), n, rng=np.random.default_rng(7))
    r = np.corrcoef(z.T)
    for i in range(3):
        for j in range(i + 1, 3):
            assert _fisher_z_ok(r[i, j], c[i, j], n), (i, j, r[i, j])
    assert np.allclose(z.var(axis=0), 1.0, atol=0.05)


def test_factor_loadings_give_their_implied_correlation() -> None:
    b = [[0.9], [0.7], [0.0]]  # two assets on one factor, a third independent
    m = factor_factor(b)
    implied = m @ m.T
    np.testing.assert_allclose(implied, [[1, 0.63, 0], [0.63, 1, 0], [0, 0, 1]], atol=1e-12)
    n = 20_000
    z = joint_innovations(m, n, rng=np.random.default_rng(8))
    r = np.corrcoef(z.T)
    assert _fisher_z_ok(r[0, 1], 0.63, n) and _fisher_z_ok(r[0, 2], 0.0, n)


def test_a_singular_but_valid_matrix_is_accepted() -> None:
    m = correlation_factor([[1.0, 1.0], [1.0, 1.0]])  # perfectly correlated
    np.testing.assert_allclose(m @ m.T, [[1, 1], [1, 1]], atol=1e-12)
    z = joint_innovations(m, 100, rng=np.random.default_rng(0))
    np.testing.assert_allclose(z[:, 0], z[:, 1], atol=1e-12)


@pytest.mark.parametrize(("matrix", "match"), [
    ([[1.0, 0.5], [0.5, 0.9]], r"'correlation\[1\]\[1\]' = 0.9 .* exactly 1"),
    ([[1.0, 0.5], [0.4, 1.0]], r"'correlation\[1\]\[0\]' = 0.4 .* equal to correlation\[0\]\[1\]"),
    ([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]],
     r"'correlation\[\d\]\[\d\]' .* positive semi-definite .* smallest eigenvalue is -0.8"),
    ([[1.0, 1.5], [1.5, 1.0]], r"'correlation\[0\]\[1\]' = 1.5 .* -1 <= x <= 1"),
    ([[1.0, 0.5, 0.1], [0.5, 1.0, 0.1]], r"'correlation' .* square"),
    ([[1.0, 0.5], [0.5]], r"'correlation\[1\]' .* a row of 2 numbers"),
    ([[1.0, float("nan")], [float("nan"), 1.0]], r"'correlation\[0\]\[1\]' = nan"),
])
def test_a_bad_correlation_matrix_is_refused_naming_the_entry(matrix: list, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        correlation_factor(matrix)


def test_loadings_beyond_unit_variance_are_refused() -> None:
    with pytest.raises(ParameterError, match=r"'factor_loadings\[1\]' .* sum to 1.13"):
        factor_factor([[0.5, 0.5], [0.8, 0.7]])


# ---------------------------------------------------------------------- Student-t
@pytest.mark.parametrize("dof", [6.0, 10.0])
def test_student_t_has_unit_variance_and_the_theoretical_kurtosis(dof: float) -> None:
    n = 400_000
    z = joint_innovations(np.eye(1), n, rng=np.random.default_rng(11), innovations="student_t",
                          dof=dof)[:, 0]
    assert z.var() == pytest.approx(1.0, abs=0.02)
    excess = float(((z - z.mean()) ** 4).mean() / z.var() ** 2 - 3.0)
    theory = 6.0 / (dof - 4.0)  # a Student-t margin's excess kurtosis
    assert excess == pytest.approx(theory, rel=0.25), (excess, theory)
    normal = joint_innovations(np.eye(1), n, rng=np.random.default_rng(11))[:, 0]
    assert abs(float((normal**4).mean() / normal.var() ** 2 - 3.0)) < 0.05


def test_student_t_keeps_the_correlation_and_makes_tails_joint() -> None:
    c = correlation_factor([[1.0, 0.5], [0.5, 1.0]])
    n = 200_000
    t = joint_innovations(c, n, rng=np.random.default_rng(3), innovations="student_t", dof=4.5)
    g = joint_innovations(c, n, rng=np.random.default_rng(3))
    assert np.corrcoef(t.T)[0, 1] == pytest.approx(0.5, abs=0.02)
    # joint extremes: both below their own 0.5% quantile, far more often with t tails
    both_t = np.mean((t[:, 0] < np.quantile(t[:, 0], 0.005)) & (t[:, 1] < np.quantile(t[:, 1], 0.005)))
    both_g = np.mean((g[:, 0] < np.quantile(g[:, 0], 0.005)) & (g[:, 1] < np.quantile(g[:, 1], 0.005)))
    assert both_t > 1.5 * both_g


def test_dof_must_exceed_two() -> None:
    with pytest.raises(ParameterError, match=r"'dof' = 2"):
        joint_innovations(np.eye(1), 10, rng=np.random.default_rng(0), innovations="student_t",
                          dof=2.0)


# ---------------------------------------------------------------------- GARCH
def test_garch_recursion_by_hand() -> None:
    # omega 0.1, alpha 0.2, beta 0.7: h0 = 0.1 / 0.1 = 1
    z = np.array([[1.0, 0.5], [-2.0, 1.0], [0.5, -1.0]])
    eps, h = garch_filter(z, omega=0.1, alpha=0.2, beta=0.7)
    # column 0: h1 = 0.1 + 0.2 * 1 + 0.7 * 1 = 1.0; h2 = 0.1 + 0.2 * 4 + 0.7 = 1.6
    # column 1: h1 = 0.1 + 0.2 * 0.25 + 0.7 = 0.85; eps1 = sqrt(0.85);
    #           h2 = 0.1 + 0.2 * 0.85 + 0.7 * 0.85 = 0.865
    np.testing.assert_allclose(h, [[1.0, 1.0], [1.0, 0.85], [1.6, 0.865]], rtol=1e-15)
    np.testing.assert_allclose(eps, [[1.0, 0.5], [-2.0, math.sqrt(0.85)],
                                     [0.5 * math.sqrt(1.6), -math.sqrt(0.865)]], rtol=1e-15)


def test_garch_unconditional_variance_and_volatility_clustering() -> None:
    omega, alpha, beta = 2e-6, 0.1, 0.8
    steps, paths = 20_000, 20
    z = joint_innovations(np.eye(paths), steps, rng=np.random.default_rng(5))
    eps, h = garch_filter(z, omega=omega, alpha=alpha, beta=beta)
    uncond = omega / (1 - alpha - beta)
    assert h[0, 0] == uncond
    assert (eps**2).mean() == pytest.approx(uncond, rel=0.05)
    sq = eps**2 - (eps**2).mean(axis=0)
    acf1 = float((sq[1:] * sq[:-1]).mean() / (sq**2).mean())
    # Bollerslev (1988): rho_1 = alpha (1 - alpha beta - beta^2) / (1 - 2 alpha beta - beta^2)
    theory = alpha * (1 - alpha * beta - beta**2) / (1 - 2 * alpha * beta - beta**2)
    assert acf1 > 0.05 and acf1 == pytest.approx(theory, abs=0.04), (acf1, theory)
    z_sq = z**2 - (z**2).mean(axis=0)
    assert abs(float((z_sq[1:] * z_sq[:-1]).mean() / (z_sq**2).mean())) < 0.01  # none without


def test_garch_refuses_a_nonstationary_process() -> None:
    with pytest.raises(ParameterError, match=r"alpha \+ beta"):
        garch_filter(np.zeros(3), omega=0.1, alpha=0.3, beta=0.7)


# ---------------------------------------------------------------------- determinism, paths
def test_same_seed_same_innovations_and_paths() -> None:
    c = correlation_factor([[1.0, 0.6], [0.6, 1.0]])
    a = joint_innovations(c, 500, rng=np.random.default_rng(42), innovations="student_t", dof=5)
    b = joint_innovations(c, 500, rng=np.random.default_rng(42), innovations="student_t", dof=5)
    assert np.array_equal(a, b)
    c2 = joint_innovations(c, 500, rng=np.random.default_rng(43), innovations="student_t", dof=5)
    assert not np.array_equal(a, c2)


def test_given_innovations_drive_a_paths_noise_and_keep_its_crash() -> None:
    z = np.random.default_rng(1).standard_normal(10)
    p = crash_path(100.0, 10, shock_frac=0.5, start_step=2, duration_steps=4, vol_per_step=0.01,
                   innovations=z)
    flat = crash_path(100.0, 10, shock_frac=0.5, start_step=2, duration_steps=4)
    noise = np.log(p / flat)
    np.testing.assert_allclose(noise[1:], np.cumsum(0.01 * z - 0.5 * 0.01**2), rtol=1e-12)
    # without innovations the path draws its own, exactly as before
    a = gbm_jump_path(100.0, 50, vol_per_step=0.01, jump_rate_per_step=0.1,
                      rng=np.random.default_rng(2))
    b = gbm_jump_path(100.0, 50, vol_per_step=0.01, jump_rate_per_step=0.1,
                      rng=np.random.default_rng(2), innovations=None)
    assert np.array_equal(a, b)


def test_without_joint_tails_each_asset_has_its_own_t() -> None:
    n = 200_000
    z = joint_innovations(np.eye(2), n, rng=np.random.default_rng(9), innovations="student_t",
                          dof=6.0, joint_tails=False)
    joint = joint_innovations(np.eye(2), n, rng=np.random.default_rng(9),
                              innovations="student_t", dof=6.0)
    for x in (z, joint):  # the same margins: unit variance, the t's kurtosis
        assert np.allclose(x.var(axis=0), 1.0, atol=0.03)
        k = (x**4).mean(axis=0) / x.var(axis=0) ** 2 - 3.0
        assert np.allclose(k, 3.0, rtol=0.3)
    # squares are correlated only with a shared mixing variable (tail dependence)
    assert abs(np.corrcoef(z[:, 0] ** 2, z[:, 1] ** 2)[0, 1]) < 0.02
    assert np.corrcoef(joint[:, 0] ** 2, joint[:, 1] ** 2)[0, 1] > 0.1
