"""The broad-market-downturn regime (issue 12): the majors fall together, with joint fat tails.

A stylised regime, not a history (models/regimes.py): what it must show is that the three
majors' noise is correlated and fat-tailed around their own crashes, and that every kind of
collateral is liquidated, so spreading collateral over the majors buys nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.runner import simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.regimes import MAJORS, broad_downturn

N = 300


@pytest.fixture(scope="module")
def run() -> object:
    return simulate(get_scenario("broad_downturn", n_traders=N), seed=1, check_conservation=True)


def _noise_corr(**kw: object) -> np.ndarray:
    """Correlation of the majors' log returns minus their deterministic crash."""
    sc = get_scenario("broad_downturn", n_traders=N, steps=1500, **kw)
    path = ContagionModel(sc, seed=3).market.path[1:4]
    calm = get_scenario("broad_downturn", n_traders=N, steps=1500, **kw)
    crash = np.array([np.log1p(-p.shock_frac) * np.clip(
        (np.arange(1501) - p.shock_start_step) / p.shock_duration_steps, 0, 1)
        for p in calm.paths])
    r = np.diff(np.log(path) - crash, axis=1)
    return np.corrcoef(r)


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["broad_downturn"] is broad_downturn
    assert PRESET_INFO["broad_downturn"].date == "13 June 2022"
    sc = get_scenario("broad_downturn")
    assert sc.price_model is not None and sc.price_model.assets == MAJORS
    assert sc.price_model.innovations == "student_t" and sc.price_model.dof == 4.0


def test_the_majors_noise_is_correlated_and_independent_without_it() -> None:
    on = _noise_corr()
    assert on[0, 1] > 0.8 and on[0, 2] > 0.7 and on[1, 2] > 0.7  # 0.9 / 0.85 / 0.85
    off = _noise_corr(correlation=0.0)
    assert np.abs(off[np.triu_indices(3, 1)]).max() < 0.1


def test_fat_tails_are_student_t_and_garch_and_can_be_switched_off() -> None:
    sc = get_scenario("broad_downturn", n_traders=N, steps=3000)
    r = np.diff(np.log(ContagionModel(sc, seed=2).market.path[1]))
    r = r[60:] - r[60:].mean()  # after the crash: noise only
    kurt = float((r**4).mean() / (r**2).mean() ** 2 - 3)
    assert kurt > 1.0  # t(4) with GARCH: heavy tails (a normal's excess kurtosis is 0)
    plain = get_scenario("broad_downturn", n_traders=N, steps=3000, fat_tails=False)
    assert plain.price_model is not None and plain.price_model.innovations == "normal"
    assert plain.price_model.garch_alpha == plain.price_model.garch_beta == 0.0
    q = np.diff(np.log(ContagionModel(plain, seed=2).market.path[1]))[60:]
    q = q - q.mean()
    assert abs(float((q**4).mean() / (q**2).mean() ** 2 - 3)) < 0.5


def test_every_major_falls_and_every_collateral_is_liquidated(run: object) -> None:
    s, ev = run.series, run.events  # type: ignore[attr-defined]
    for asset, fall in (("ETH", 0.30), ("BTC", 0.25), ("SOL", 0.40)):
        # its crash, give or take the noise (SOL: 1.2% a step, fat-tailed, over 144 steps)
        assert s[f"price_{asset}"].iloc[-1] / s[f"price_{asset}"].iloc[0] - 1 < -fall / 2
    liq = ev[ev["kind"] == "liquidation"]
    assert set(liq["asset"]) == set(MAJORS)
    assert set(ev.loc[ev["kind"] == "perp_liquidation", "asset"]) == set(MAJORS)


def test_same_seed_same_run() -> None:
    a = simulate(get_scenario("broad_downturn", n_traders=N, steps=40), seed=4)
    b = simulate(get_scenario("broad_downturn", n_traders=N, steps=40), seed=4)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.series, b.series)


@pytest.mark.parametrize(("kw", "match"), [
    ({"correlation": 1.5}, r"'correlation' = 1.5"),
    ({"shock_frac": 0.95}, r"'shock_frac' = 0.95"),
    ({"n_traders": 0}, r"'n_traders' = 0"),
])
def test_bad_knobs_are_named(kw: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        broad_downturn(**kw)
