"""A thin pool manipulated by an attacker moves the oracle that reads it (Mango-style)."""

from __future__ import annotations

import dataclasses

import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import PoolManipulationParams
from models import get_scenario


def _run(manipulations: tuple) -> ContagionModel:
    sc = get_scenario("default", n_traders=200, steps=30, shock_frac=0.0)
    model = ContagionModel(dataclasses.replace(sc, manipulations=manipulations), seed=2,
                           check_conservation=True)
    model.run()
    return model


def test_dumping_a_thin_pool_moves_its_spot_oracle_not_the_market() -> None:
    calm = _run(())
    attacked = _run((PoolManipulationParams(pool="EXT/USDC", start_step=5, duration_steps=3,
                                            notional_usd_per_step=3e6, direction="dump"),))
    s_calm = calm.datacollector.get_model_vars_dataframe()
    s_att = attacked.datacollector.get_model_vars_dataframe()
    assert s_att["oracle_EXT-spot"].min() < 0.6 * s_calm["oracle_EXT-spot"].min()
    # the external market barely moves: the oracle, not the asset, was attacked
    assert s_att["price_EXT"].min() > 0.8 * s_calm["price_EXT"].min()
    # LendB trusts that oracle: EXT-backed accounts fall below HF 1 at the venue
    v = attacked.venue_frame()
    assert v[v["venue"] == "LendB"]["at_risk"].max() > v[v["venue"] == "LendB"]["at_risk"].iloc[0]
    ev = attacked.events_frame
    assert (ev["kind"] == "pool_manipulation").sum() == 3
    # the oracle update that published the bad price traces back to the manipulation
    from contagion.events import trace_cause

    upd = ev[(ev["kind"] == "oracle_update") & (ev["agent"] == "EXT-spot") & (ev["step"] == 5)]
    root = trace_cause(ev, int(upd["event_id"].iloc[0]))[-1]
    assert ev.set_index("event_id").loc[root, "kind"] == "pool_manipulation"


def test_pumping_a_pool_inflates_the_oracle_while_arbitrage_pulls_it_back() -> None:
    attacked = _run((PoolManipulationParams(pool="EXT/USDC", start_step=5, duration_steps=2,
                                            notional_usd_per_step=2e6, direction="pump"),))
    s = attacked.datacollector.get_model_vars_dataframe()
    assert s["oracle_EXT-spot"].iloc[6] > 1.3 * s["price_EXT"].iloc[6]
    # once the attacker stops, arbitrage repairs the pool at its capacity per step
    assert abs(s["pool_EXT/USDC"].iloc[-1] / s["price_EXT"].iloc[-1] - 1) < \
        abs(s["pool_EXT/USDC"].iloc[6] / s["price_EXT"].iloc[6] - 1)


def test_manipulation_of_an_unknown_pool_is_rejected() -> None:
    sc = get_scenario("default", n_traders=50)
    bad = PoolManipulationParams(pool="DOGE/USDC", start_step=1, duration_steps=1,
                                 notional_usd_per_step=1e6)
    with pytest.raises(ParameterError, match=r"manipulations\[DOGE/USDC\].pool"):
        dataclasses.replace(sc, manipulations=(bad,))
    with pytest.raises(ParameterError, match=r"direction' = 'sideways'"):
        PoolManipulationParams(pool="EXT/USDC", start_step=1, duration_steps=1,
                               notional_usd_per_step=1e6, direction="sideways")
