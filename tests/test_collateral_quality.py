"""Collateral quality in the engine (issue 13): thresholds derived from liquidity (set-up and
every step, against the pure maths of contagion.mechanics.collateral), supply and borrow
caps, isolation mode's debt ceiling and the LTV bounding traders' new borrowing (loops);
conservation on, same seed same events, bad parameters refused naming the field."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from contagion.agents.collateral_quality import derived_risk_parameters
from contagion.errors import ParameterError
from contagion.mechanics.collateral import liquidity_adjusted_threshold, split_sale_slippage
from contagion.model import ContagionModel
from contagion.params import CollateralParams, LendingParams, LiquidityShockParams
from contagion.scenario import Scenario, override
from models import get_scenario

N = 200


def _small(steps: int = 30) -> Scenario:
    sc = override(get_scenario("default"), "traders.n_traders", N)
    return override(sc, "market.steps", steps)


def _with_lendb(sc: Scenario, **changes: object) -> Scenario:
    lending = tuple(dataclasses.replace(v, **changes) if v.name == "LendB" else v
                    for v in sc.lending)
    return dataclasses.replace(sc, lending=lending)


def _collateral(sc: Scenario, venue: str, asset: str, **changes: object) -> Scenario:
    def edit(v: LendingParams) -> LendingParams:
        if v.name != venue:
            return v
        return dataclasses.replace(v, collateral=tuple(
            dataclasses.replace(c, **changes) if c.asset == asset else c for c in v.collateral))
    return dataclasses.replace(sc, lending=tuple(edit(v) for v in sc.lending))


def _rising(sc: Scenario, asset: str = "ETH") -> Scenario:
    sc = override(sc, f"paths.{asset}.kind", "gbm_jump")
    return override(sc, f"paths.{asset}.drift_per_step", 0.01)


def _thin_ext(sc: Scenario) -> Scenario:
    """LendB's EXT follows liquidity, with a thin external market."""
    sc = _collateral(sc, "LendB", "EXT", threshold_from_liquidity=True,
                     volatility_margin_frac=0.05, stress_sale_frac=0.5)
    assets = tuple(dataclasses.replace(a, external_depth_usd=2e6) if a.name == "EXT" else a
                   for a in sc.assets)
    return dataclasses.replace(sc, assets=assets)


def test_setup_threshold_is_the_pure_function_of_the_route_and_books_draw_with_it() -> None:
    sc = _thin_ext(_small(1))
    m = ContagionModel(sc, seed=0)
    v = m.lending[1]
    a = v.asset_names.index("EXT")
    c = sc.lending[1].collateral[a]
    pool = m.pools["EXT/USDC"]
    units = float(v.book.collateral[:, a].sum()) * c.stress_sale_frac
    s = split_sale_slippage(units, pool.reserve_base, pool.params.fee_frac,
                            float(m.market.depth_usd[m.market.index["EXT"]]),
                            float(m.market.price[m.market.index["EXT"]]))
    raw = float(liquidity_adjusted_threshold(s, c.liquidation_bonus, c.volatility_margin_frac))
    assert raw < c.liquidation_threshold  # thin: the derivation binds
    assert v.lt[a] == math.floor(raw * 1e4 + 1e-9) / 1e4
    assert v.ltv[a] == pytest.approx(v.lt[a] - (c.liquidation_threshold - c.ltv), abs=1e-4)
    assert v.ltv[a] <= v.lt[a] - (c.liquidation_threshold - c.ltv) + 1e-12
    # the other assets keep their hand-set values exactly
    others = [j for j in range(len(v.asset_names)) if j != a]
    assert list(v.lt[others]) == [sc.lending[1].collateral[j].liquidation_threshold
                                  for j in others]
    # members holding EXT drew their debt at the derived LT, never above its LTV
    rows = np.flatnonzero(v.book.collateral[:, a] > 0)
    rows = rows[v.book.owner[rows] < N]
    value = v.book.collateral[rows] @ m.market.price[v.asset_ids]
    assert np.all(v.book.debt[rows] <= value * v.ltv[a] * (1 + 1e-9))
    off = ContagionModel(_small(1), seed=0).lending[1]
    assert v.book.debt[rows].sum() < off.book.debt[rows].sum()  # same draws, lower LT


def test_a_depth_collapse_tightens_the_threshold_with_an_event() -> None:
    sc = _thin_ext(_small(12))
    shock = LiquidityShockParams(assets=("EXT",), start_step=4, duration_steps=6,
                                 depth_drop_frac=0.9)
    sc = dataclasses.replace(sc, liquidity_shocks=(shock,))
    m = ContagionModel(sc, seed=0, check_conservation=True)
    before = float(m.lending[1].lt[1])
    m.run()
    ev = m.events_frame
    upd = ev[(ev.kind == "risk_parameter_update") & (ev.step == 4)]
    assert len(upd) == 1
    r = upd.iloc[0]
    assert r.venue == "LendB" and r.asset == "EXT" and r.route == "EXT/USDC"
    assert r.threshold_after < r.threshold_before <= before + 0.01
    assert r.ltv_after < r.ltv_before
    assert r.amount == r.threshold_after
    assert r.cause_id == int(ev[ev.kind == "liquidity_shock"].event_id.iloc[0])
    # the venue now uses it; a threshold that did not follow liquidity would not move
    assert float(m.lending[1].ceiling_lt[1]) == 0.5
    plain = ContagionModel(dataclasses.replace(_small(12), liquidity_shocks=(shock,)), seed=0)
    plain.run()
    assert (plain.events_frame.kind == "risk_parameter_update").sum() == 0


def test_a_stewards_largest_change_moves_the_threshold_part_of_the_way() -> None:
    sc = _collateral(_thin_ext(_small(8)), "LendB", "EXT", update_max_bps=200)
    shock = LiquidityShockParams(assets=("EXT",), start_step=4, duration_steps=6,
                                 depth_drop_frac=0.9)
    m = ContagionModel(dataclasses.replace(sc, liquidity_shocks=(shock,)), seed=0,
                       check_conservation=True)
    m.run()
    ev = m.events_frame
    upd = ev[(ev.kind == "risk_parameter_update") & (ev.step >= 4)]
    cut = (upd.threshold_before - upd.threshold_after).round(6).to_numpy()
    assert list(upd.step[:2]) == [4, 5] and list(cut[:2]) == [0.02, 0.02]  # several steps
    assert (np.abs(cut) <= 0.02).all()
    assert list((upd.ltv_before - upd.ltv_after).round(6)[:2]) == [0.02, 0.02]


def test_loops_stay_within_ltv_and_conserve_units() -> None:
    sc = _with_lendb(_rising(_small(15)), releverage_above_hf=1.6, releverage_to_hf=1.03)
    m = ContagionModel(sc, seed=0, check_conservation=True)
    v = m.lending[1]
    debt0 = v.book.debt.copy()
    for _ in range(15):
        m.step()
        power = v.book.collateral @ (v.prices() * v.ltv)
        grew = v.book.debt > debt0 + 1e-6
        assert np.all(v.book.debt[grew] <= power[grew] * (1 + 1e-9))
        debt0 = np.maximum(debt0, v.book.debt)
    ev = m.events_frame
    loops = ev[(ev.kind == "borrow") & (ev.venue == "LendB")]
    assert len(loops) > 0 and (loops.accounts > 0).all()
    assert loops.held_by_ltv_usd.sum() > 0  # 1.03 is below LT/LTV: the LTV binds
    assert v.borrowed_usd == pytest.approx(loops.value_usd.sum())
    # off by default: no loop
    plain = ContagionModel(_rising(_small(15)), seed=0)
    plain.run()
    assert (plain.events_frame.kind == "borrow").sum() == 0


def test_borrow_cap_and_supply_cap_hold() -> None:
    base = _with_lendb(_rising(_small(15)), releverage_above_hf=1.6, releverage_to_hf=1.03)
    m0 = ContagionModel(base, seed=0)
    cap = float(m0.lending[1].book.debt.sum()) + 50_000.0
    eth_units = float(m0.lending[1].book.collateral[:, 0].sum())
    sc = _with_lendb(base, borrow_cap_usd=cap)
    sc = _collateral(sc, "LendB", "ETH", supply_cap_units=eth_units + 5.0)
    m = ContagionModel(sc, seed=0, check_conservation=True)
    for _ in range(15):
        m.step()
        v = m.lending[1]
        assert v.book.debt.sum() <= cap + 1e-6
        assert v.book.collateral[:, 0].sum() <= eth_units + 5.0 + 1e-9
    held = m.lending[1].held_back_usd
    assert held["borrow_cap"] > 0 or held["supply_cap"] > 0
    ev = m.events_frame
    loops = ev[(ev.kind == "borrow") & (ev.venue == "LendB")]
    assert (loops.held_by_borrow_cap_usd + loops.held_by_supply_cap_usd).max() > 0


def test_isolation_debt_ceiling_bounds_setup_and_new_borrowing() -> None:
    base = _with_lendb(_rising(_small(15), "EXT"), releverage_above_hf=1.6,
                       releverage_to_hf=1.2)
    free = ContagionModel(base, seed=0).lending[1]
    assert free.isolation_debt_usd()[1] == 0.0  # not isolated: not counted
    holds = free.book.collateral[:, 1] > 0
    members = float(free.book.debt[holds & (free.book.owner < N)].sum())
    ceiling = 0.25 * members  # the ceiling binds at set-up
    sc = _collateral(base, "LendB", "EXT", isolated=True, debt_ceiling_usd=ceiling)
    m = ContagionModel(sc, seed=0, check_conservation=True)
    v = m.lending[1]
    # AlphaFund holds EXT beside ETH: its EXT is not collateral and it is not in isolation
    # mode, so only the members who hold EXT alone owe under the ceiling
    firm = np.flatnonzero(v.book.owner >= N)
    assert v.disabled is not None and v.disabled[firm, 1].all()
    assert v.isolation_debt_usd()[1] == pytest.approx(ceiling)
    mine = (v.book.collateral[:, 1] > 0) & (v.book.owner < N)
    assert v.book.debt[mine] == pytest.approx(0.25 * free.book.debt[mine])  # pro rata
    for _ in range(15):
        m.step()
        assert v.isolation_debt_usd()[1] <= ceiling * (1 + 1e-9)
    ev = m.events_frame
    assert ev[ev.kind == "borrow"].held_by_debt_ceiling_usd.max() > 0


def test_same_seed_same_events_with_everything_on() -> None:
    sc = _thin_ext(_with_lendb(_rising(_small(12)), releverage_above_hf=1.6,
                               releverage_to_hf=1.2, borrow_cap_usd=5e7))
    runs = []
    for _ in range(2):
        m = ContagionModel(sc, seed=3)
        m.run()
        runs.append(m.events_frame)
    assert runs[0].equals(runs[1])


def test_derived_parameters_keep_the_ceiling_exactly_and_floor_to_bps() -> None:
    c = CollateralParams(asset="X", oracle="o", ltv=0.7, liquidation_threshold=0.75,
                         liquidation_bonus=0.05, threshold_from_liquidity=True,
                         volatility_margin_frac=0.1)
    lt, ltv = derived_risk_parameters((c,), np.array([0.0]))
    assert (lt[0], ltv[0]) == (0.75, 0.7)  # 0.9 / 1.05 > 0.75: the hand-set ceiling
    lt, ltv = derived_risk_parameters((c,), np.array([0.3]))
    assert lt[0] == math.floor(0.9 * 0.7 / 1.05 * 1e4) / 1e4 == 0.6 and ltv[0] == 0.55
    lt, _ = derived_risk_parameters((c,), np.array([1.0]))
    assert lt[0] == 1e-4  # at least a basis point


@pytest.mark.parametrize(("build", "field"), [
    (lambda: CollateralParams(asset="X", oracle="o", ltv=0.5, liquidation_threshold=0.6,
                              liquidation_bonus=0.05, debt_ceiling_usd=1e6),
     "debt_ceiling_usd"),
    (lambda: CollateralParams(asset="X", oracle="o", ltv=0.5, liquidation_threshold=0.6,
                              liquidation_bonus=0.05, stress_sale_frac=0.0),
     "stress_sale_frac"),
    (lambda: CollateralParams(asset="X", oracle="o", ltv=0.5, liquidation_threshold=0.6,
                              liquidation_bonus=0.05, supply_cap_units=-1.0),
     "supply_cap_units"),
    (lambda: _with_lendb(_small(), releverage_above_hf=1.5, releverage_to_hf=1.5),
     "releverage_to_hf"),
    (lambda: _with_lendb(_small(), borrow_cap_usd=-5.0), "borrow_cap_usd"),
    (lambda: CollateralParams(asset="X", oracle="o", ltv=0.5, liquidation_threshold=0.6,
                              liquidation_bonus=0.05, update_min_bps=50, update_max_bps=20),
     "update_max_bps"),
    (lambda: override(get_scenario("black_thursday"),
                      f"lending.{get_scenario('black_thursday').lending[0].name}"
                      ".releverage_above_hf", 2.0),
     "releverage_above_hf"),
])
def test_bad_parameters_are_refused_naming_the_field(build, field) -> None:
    with pytest.raises(ParameterError, match=field):
        build()


# ---------------------------------------------------------------- e-mode
def _emode(sc: Scenario, lt: float = 0.93, bonus: float = 0.01) -> Scenario:
    from contagion.params import EModeParams

    cat = EModeParams(name="eth-usd", assets=("ETH", "USDC"), ltv=lt - 0.03,
                      liquidation_threshold=lt, liquidation_bonus=bonus)
    return _with_lendb(sc, emode=cat)


def test_emode_accounts_count_category_collateral_at_its_threshold() -> None:
    sc = _emode(_small(1))
    m = ContagionModel(sc, seed=0)
    v = m.lending[1]
    p = v.prices()
    assert v.in_emode.any() and not v.in_emode.all()  # a firm's EXT/LND-only rows are out
    lt_row = np.where(v.in_emode[:, None] & v.emode_assets[None, :], 0.93, v.lt[None, :])
    want = (v.book.collateral * p * lt_row).sum(axis=1) / v.debt_usd()
    hf = v.health()
    owes = v.debt_usd() > 0
    assert np.allclose(hf[owes], want[owes], rtol=1e-12)
    # the same account outside e-mode reads the asset's own threshold
    plain = ContagionModel(_small(1), seed=0).lending[1]
    inside = np.flatnonzero(v.in_emode & owes & (v.book.collateral[:, 0] > 0))
    assert np.all(hf[inside] > plain.health()[inside])
    assert v.max_lt() == 0.93


def test_emode_liquidations_pay_its_bonus_and_conserve() -> None:
    from contagion.params import EModeParams

    cat = EModeParams(name="eth-usd", assets=("ETH", "USDC"), ltv=0.87,
                      liquidation_threshold=0.9, liquidation_bonus=0.02)
    sc = override(override(_small(30), "paths.ETH.shock_frac", 0.6),
                  "paths.ETH.shock_duration_steps", 12)
    lending = tuple(dataclasses.replace(v, emode=cat) if v.name == "LendA" else v
                    for v in sc.lending)
    m = ContagionModel(dataclasses.replace(sc, lending=lending), seed=0,
                       check_conservation=True)
    assert m.lending[0].in_emode[m.lending[0].book.debt > 0].all()  # ETH against USDC only
    m.run()
    ev = m.events_frame
    liq = ev[(ev.kind == "liquidation") & (ev.venue == "LendA")]
    assert len(liq) > 0
    assert (liq.bonus_frac == 0.02).all()  # e-mode's, not LendA's 5%
    # Aave's seizure: debt repaid x (1 + bonus) at the oracle, less the protocol's fee share
    seized_usd = liq.collateral_seized_units * liq.price
    bonus_part = seized_usd - liq.debt_repaid_usd
    assert np.all(bonus_part <= 0.02 * liq.debt_repaid_usd * (1 + 1e-9))


def test_emode_loops_use_its_ltv() -> None:
    sc = _emode(_with_lendb(_rising(_small(10)), releverage_above_hf=1.6,
                            releverage_to_hf=1.01))
    m = ContagionModel(sc, seed=0, check_conservation=True)
    v = m.lending[1]
    debt0 = v.book.debt.copy()
    for _ in range(10):
        m.step()
        ltv_row = np.where(v.in_emode[:, None] & v.emode_assets[None, :], 0.90,
                           v.ltv[None, :])
        power = (v.book.collateral * v.prices() * ltv_row).sum(axis=1)
        grew = v.book.debt > debt0 + 1e-6
        assert np.all(v.book.debt[grew] <= power[grew] * (1 + 1e-9))
        debt0 = np.maximum(debt0, v.book.debt)
    # an e-mode account asking for far more borrows exactly up to e-mode's LTV, past ETH's own
    row = int(np.flatnonzero(v.in_emode & (v.book.collateral[:, 0] > 0)
                             & (v.book.collateral[:, 1:].sum(axis=1) == 0))[0])
    eth, p = float(v.book.collateral[row, 0]), v.prices()
    v.borrow_against(np.array([row]), np.array([1e12]))
    # the borrow check is on the collateral before the loop supplies more
    assert v.book.debt[row] == pytest.approx(eth * p[0] * 0.90, rel=1e-9)
    assert v.book.debt[row] > eth * p[0] * v.ltv[0]
    assert v.book.collateral[row, 0] > eth  # and the loop bought ETH with it


@pytest.mark.parametrize(("change", "field"), [
    ({"assets": ("ETH", "DOGE")}, "emode.assets"),
    ({"assets": ("USDC",)}, "emode.assets"),
    ({"ltv": 0.95}, "ltv"),
    ({"liquidation_bonus": 0.2}, "liquidation_bonus"),
])
def test_bad_emode_is_refused_naming_the_field(change, field) -> None:
    from contagion.params import EModeParams

    kw = {"name": "c", "assets": ("ETH", "USDC"), "ltv": 0.9, "liquidation_threshold": 0.93,
          "liquidation_bonus": 0.01, **change}
    with pytest.raises(ParameterError, match=field):
        _with_lendb(_small(), emode=EModeParams(**kw))


def test_an_emode_category_round_trips_through_a_scenario_file() -> None:
    from contagion.scenario_file import dumps, loads

    sc = _emode(_small(5))
    text = dumps(sc)
    assert "[lending.emode]" in text
    assert loads(text) == sc


def test_isolated_collateral_beside_other_collateral_does_not_count() -> None:
    """Aave v3: an isolated asset supplied by an account that has other collateral is not
    enabled as collateral (ValidationLogic.validateAutomaticUseAsCollateral): it adds nothing
    to the health factor or the borrowing power, keepers do not seize it, and its holder is
    not in isolation mode (its debt is not under the ceiling). Held alone it counts."""
    from contagion.params import FirmParams

    sc = get_scenario("collateral_quality", isolate_alt=True, n_traders=200)
    sc = dataclasses.replace(sc, firms=(
        FirmParams(name="Mixed", lending="LendT", collateral_usd=(("ALT", 1e6), ("ETH", 1e6)),
                   health_factor=1.3),
        FirmParams(name="Alone", lending="LendT", collateral_usd=(("ALT", 1e6),),
                   health_factor=1.3)))
    m = ContagionModel(sc, seed=0, check_conservation=True)
    v = m.lending[0]
    mixed, alone = len(v.book) - 2, len(v.book) - 1
    alt, eth = v.asset_names.index("ALT"), v.asset_names.index("ETH")
    assert v.disabled is not None
    assert v.disabled[mixed].tolist() == [a == alt for a in range(2)]
    assert not v.disabled[alone].any()
    prices = v.prices()
    for row, counted in ((mixed, eth), (alone, alt)):  # the health factor the firm asked for
        weighted = v.book.collateral[row, counted] * prices[counted] * v.lt[counted]
        assert v.health()[row] == pytest.approx(weighted / v.book.debt[row]) == pytest.approx(1.3)
    members = (v.book.collateral[:, alt] > 0) & ~v.disabled[:, alt]
    assert v.isolation_debt_usd()[alt] == pytest.approx(float(v.book.debt[members].sum()))
    assert v.isolation_debt_usd()[alt] <= sc.lending[0].collateral[alt].debt_ceiling_usd + 1e-6
    m.run()
    ev = m.events_frame
    seized = ev[(ev["kind"] == "liquidation") & (ev["account"] == int(v.book.owner[mixed]))]
    assert (seized["asset"] != "ALT").all()  # never the collateral that does not count
    assert v.book.collateral[mixed, alt] == pytest.approx(1e6 / 10.0)  # still supplied, all


def test_without_isolated_assets_held_beside_others_every_holding_counts() -> None:
    m = ContagionModel(get_scenario("collateral_quality", isolate_alt=True, n_traders=200),
                       seed=0)
    assert m.lending[0].disabled is None  # generated members hold one collateral each
