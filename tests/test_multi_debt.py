"""Accounts that owe several assets: a lending venue lends the stablecoin and the assets of
``LendingParams.borrow``; an account with two collaterals and two debts is liquidated as
Aave V3's ``liquidationCall`` on the pair a keeper picks (its largest debt and largest
collateral), with that pair's close factor and bonus."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contagion import scenario_file
from contagion.errors import ParameterError, PositionsError
from contagion.mechanics import aave
from contagion.model import ContagionModel
from contagion.params import AssetParams, BorrowParams, OracleParams, PricePathParams
from contagion.positions import check_positions
from contagion.runner import simulate
from contagion.scenario import Scenario
from models import get_scenario

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vectors.json"
BTC = 50_000.0


def _vector(name: str) -> dict[str, Any]:
    if not VECTORS.is_file():
        pytest.skip(f"{VECTORS} is absent (the shared reference folder is not checked out)")
    rows = json.loads(VECTORS.read_text())["aave_v3_lending"]
    return next(r for r in rows if r["name"] == name)


def _with_btc(sc: Scenario, *, lender: str = "LendB", path: PricePathParams | None = None,
              oracle: OracleParams | None = None, **borrow: Any) -> Scenario:
    """``sc`` plus a BTC asset, its path and oracle, and BTC lent at ``lender``."""
    btc = AssetParams(name="BTC", kind="volatile", initial_price_usd=BTC,
                      external_depth_usd=2e9)
    path = path or PricePathParams(asset="BTC", kind="flat", vol_per_step=0.0)
    oracle = oracle or OracleParams(name="BTC-feed", asset="BTC", heartbeat_steps=1,
                                    deviation_threshold_frac=0.0)
    lending = tuple(dataclasses.replace(v, borrow=(BorrowParams(asset="BTC", oracle=oracle.name,
                                                                **borrow),))
                    if v.name == lender else v for v in sc.lending)
    return dataclasses.replace(sc, assets=(*sc.assets, btc), paths=(*sc.paths, path),
                               oracles=(*sc.oracles, oracle), lending=lending)


# ----------------------------------------------------------------------------- the maths
def test_the_v33_doc_example_two_collaterals_two_debts() -> None:
    """aave-dao/aave-v3-origin docs/3.3 section 2.2: collaterals A $2,300 and B $800, debts
    A $900 and B $1,100, HF 0.96, threshold assumed $1,000. Debt A may be repaid in full
    and collateral B seized in full, whatever the other reserve; only debt B against
    collateral A keeps the 50% cap (of the total debt); before v3.3, 50% of one reserve."""
    v = _vector("v3.3_doc_close_factor_position_size_example")
    i = v["inputs"]
    base = {k: int(i[k].removesuffix("e8")) * 10**8 for k in
            ("collateral_A_base", "collateral_B_base", "debt_A_base", "debt_B_base")}
    threshold = int(i["MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD_assumed"].removesuffix("e8")) * 10**8
    hf = round(i["health_factor"] * 10**18)
    total = base["debt_A_base"] + base["debt_B_base"]
    unit = 10**8  # a $1 debt token with 8 decimals: its units are its base value

    def max_debt(coll: str, debt: str) -> int:
        return aave.aave_max_liquidatable_debt_v33(
            base[f"debt_{debt}_base"], base[f"debt_{debt}_base"], base[f"collateral_{coll}_base"],
            total, hf, unit, 8, threshold_base=threshold)

    assert "100%" in v["expected"]["debt_A"]
    for coll in ("A", "B"):  # debt A (below the threshold): all of it, either collateral
        assert max_debt(coll, "A") == base["debt_A_base"]
    assert "100%" in v["expected"]["collateral_B"]  # collateral B: any debt, in full
    assert max_debt("B", "B") == base["debt_B_base"]
    seized = aave.aave_liquidation(max_debt("B", "B"), base["collateral_B_base"], unit, 8, unit, 8,
                                   10_500, 0)
    assert seized.collateral_seized_total == base["collateral_B_base"]  # B is gone, whole
    # debt B against collateral A: both above the threshold, HF > 0.95: half the total debt
    assert max_debt("A", "B") == total // 2 < base["debt_B_base"]
    assert "50%" in v["expected"]["pre_v3.3"]
    assert aave.aave_close_factor_bps(hf) == 5000


# ----------------------------------------------------------------------------- the engine
SCALE = 100  # the doc's account x100, so a keeper's gas is small beside its bonus


def _doc_account_scenario(rule: str) -> Scenario:
    sc = get_scenario("default", n_traders=10)
    sc = dataclasses.replace(sc, paths=tuple(dataclasses.replace(p, vol_per_step=0.0)
                                             for p in sc.paths))
    sc = _with_btc(sc)
    lend_b = sc.lending[1]
    coll = (dataclasses.replace(lend_b.collateral[0], ltv=0.65, liquidation_threshold=0.7,
                                liquidation_bonus=0.1),
            dataclasses.replace(lend_b.collateral[1], ltv=0.35, liquidation_threshold=0.3875,
                                liquidation_bonus=0.05),
            lend_b.collateral[2])
    lend_b = dataclasses.replace(lend_b, collateral=coll, close_factor_rule=rule,
                                 min_close_base_usd=1000.0 * SCALE)
    return dataclasses.replace(sc, lending=(sc.lending[0], lend_b))


def _doc_positions() -> pd.DataFrame:
    """One account at LendB: ETH $230,000 and EXT $80,000; USDC 90,000 and BTC $110,000 owed
    (HF 0.96 at the start: 230,000 x 0.7 + 80,000 x 0.3875 = 192,000 = 0.96 x 200,000)."""
    rows = [(0, "LendB", "collateral", "ETH", 2300 * SCALE / 2000),
            (0, "LendB", "collateral", "EXT", 800 * SCALE / 20),
            (0, "LendB", "debt", "USDC", 900.0 * SCALE),
            (0, "LendB", "debt", "BTC", 1100 * SCALE / BTC),
            (1, "CEX", "deposit", "USDC", 2e8)]
    return pd.DataFrame(rows, columns=["account", "venue", "kind", "asset", "amount"])


@pytest.mark.parametrize("rule", ["v3.3", "v3.0"])
def test_two_collaterals_two_debts_are_liquidated_as_aave_would(rule: str) -> None:
    sc = _doc_account_scenario(rule)
    model = ContagionModel(sc, seed=0, positions=_doc_positions(), check_conservation=True)
    v = model.lending[1]
    row = int(np.flatnonzero(v.book.owner == 0)[0])
    coll, cash_debt = v.book.collateral[row].copy(), float(v.book.debt[row])
    btc_debt = float(v.book.debt_units[row, 0])
    model.step()
    ev = model.events_frame
    hit = ev[(ev["kind"] == "liquidation") & (ev["account"] == 0)]
    assert len(hit) == 1
    got = hit.iloc[0]
    # Aave's integer maths on the same account at the step's oracle prices: 18-decimal
    # tokens, 8-decimal prices
    prices = v.prices()
    p8 = [round(x * 10**8) for x in prices]
    btc8 = round(float(v.debt_prices()[0]) * 10**8)
    wei = [round(x * 10**18) for x in coll]
    coll_base = [aave.aave_value_in_base(w, p, 18) for w, p in zip(wei, p8, strict=True)]
    debt_wei = {"USDC": round(cash_debt * 10**18), "BTC": round(btc_debt * 10**18)}
    debt_base = {"USDC": aave.aave_value_in_base(debt_wei["USDC"], 10**8, 18),
                 "BTC": aave.aave_value_in_base(debt_wei["BTC"], btc8, 18)}
    lt_bps = [round(c.liquidation_threshold * 10_000) for c in sc.lending[1].collateral]
    hf = aave.aave_health_factor_wad(coll_base, lt_bps, sum(debt_base.values()))
    # Aave averages the thresholds in whole bps (6193 for 0.619354...): 0.959915, not 0.96
    assert hf == pytest.approx(0.96e18, rel=1e-4)
    # the keeper's pair: the largest debt (BTC, $110k) and the largest collateral (ETH)
    assert got["debt_asset"] == "BTC" and got["asset"] == "ETH"
    threshold = round(sc.lending[1].min_close_base_usd * 10**8)
    if rule == "v3.3":
        cover = aave.aave_max_liquidatable_debt_v33(
            debt_wei["BTC"], debt_base["BTC"], coll_base[0], sum(debt_base.values()), hf, btc8,
            18, threshold_base=threshold)
        assert cover < debt_wei["BTC"]  # both reserves above $100k and HF > 0.95: capped
    else:
        cover = aave.aave_max_liquidatable_debt(debt_wei["BTC"], hf)
    want = aave.aave_liquidation(cover, wei[0], p8[0], 18, btc8, 18,
                                 round((1 + sc.lending[1].collateral[0].liquidation_bonus) * 10_000),
                                 round(sc.lending[1].protocol_fee_frac * 10_000))
    assert got["debt_repaid_units"] == pytest.approx(want.debt_repaid / 1e18, rel=1e-9)
    assert got["collateral_seized_units"] == pytest.approx(want.collateral_seized_total / 1e18,
                                                           rel=1e-9)
    assert v.book.debt_units[row, 0] == pytest.approx(btc_debt - want.debt_repaid / 1e18,
                                                      rel=1e-9)
    expected_usd = {"v3.3": 100_000.0, "v3.0": 55_000.0}[rule]  # half the total; half of B
    assert got["debt_repaid_usd"] == pytest.approx(expected_usd, rel=1e-9)
    # the other debt and the other collateral are untouched
    assert float(v.book.debt[row]) == cash_debt
    assert v.book.collateral[row, 1:].tolist() == coll[1:].tolist()
    # the liquidator bought the BTC it repaid: the venue holds it now, and BTC rose
    assert v.cash_units[0] == pytest.approx(v.supply_units[0] - btc_debt + got["debt_repaid_units"],
                                            rel=1e-12)
    assert model.market.price[model.market.index["BTC"]] > BTC
    model.step()  # conservation is checked every step


# ----------------------------------------------------------------------------- dynamics
def _squeeze(drift: float) -> ContagionModel:
    """The default market with ETH flat (no crash) and LendA lending BTC that drifts."""
    sc = get_scenario("default", n_traders=2000)
    sc = dataclasses.replace(sc, paths=tuple(dataclasses.replace(p, kind="flat")
                                             for p in sc.paths))
    sc = _with_btc(sc, lender="LendA",
                   path=PricePathParams(asset="BTC", kind="gbm_jump", drift_per_step=drift,
                                        vol_per_step=0.001),
                   debt_share=0.6, retail_supply_usd=2e8)
    model = ContagionModel(sc, seed=2, check_conservation=True)
    model.run()
    return model


def test_a_rising_borrowed_asset_squeezes_its_borrowers() -> None:
    flat, rising = _squeeze(0.0), _squeeze(0.004)
    liq = {k: m.events_frame[(m.events_frame["kind"] == "liquidation")
                             & (m.events_frame["venue"] == "LendA")]
           for k, m in (("flat", flat), ("rising", rising))}
    btc = {k: int((e["debt_asset"] == "BTC").sum()) for k, e in liq.items()}
    assert btc["flat"] <= 5 and btc["rising"] > 100
    hit = liq["rising"][liq["rising"]["debt_asset"] == "BTC"]
    assert (hit["debt_repaid_units"] > 0).all()
    # the repayment is valued at the oracle's BTC price of the step
    i = rising.market.index["BTC"]
    implied = hit["debt_repaid_usd"] / hit["debt_repaid_units"]
    path = rising.market.path[i]
    assert implied.between(path.min() * 0.99, path.max() * 1.05).all()
    # the keepers bought the BTC they repaid (nobody sells it): BTC ends above its path
    assert rising.market.log_impact[i] > 0 and flat.market.log_impact[i] >= 0
    assert rising.market.log_impact[i] > 10 * max(flat.market.log_impact[i], 1e-9)


def test_the_price_feed_of_a_borrowed_asset_is_an_edge_the_engine_reads() -> None:
    """With a lagging BTC oracle (a 24-step heartbeat) the venue sees the squeeze late; cut
    that feed in the world graph and the venue marks debts to the market, and liquidates
    sooner."""
    lagging = OracleParams(name="BTC-feed", asset="BTC", heartbeat_steps=24,
                           deviation_threshold_frac=0.5)
    sc = _with_btc(get_scenario("default", n_traders=2000), lender="LendA", oracle=lagging,
                   path=PricePathParams(asset="BTC", kind="gbm_jump", drift_per_step=0.004,
                                        vol_per_step=0.001),
                   debt_share=0.6, retail_supply_usd=2e8)
    runs = []
    for cut in (False, True):
        model = ContagionModel(sc, seed=2)
        assert model.graph.has_edge("BTC-feed", "LendA", key="price_feed:BTC")
        if cut:
            model.graph.remove_edge("BTC-feed", "LendA", key="price_feed:BTC")
        model.run(30)
        ev = model.events_frame
        runs.append(int(((ev["kind"] == "liquidation") & (ev["debt_asset"] == "BTC")).sum()))
    assert runs[1] > runs[0]


# ----------------------------------------------------------------------------- files
def test_positions_with_debts_in_two_assets_rerun_byte_for_byte() -> None:
    sc = _with_btc(get_scenario("default", n_traders=300), lender="LendA", debt_share=0.4)
    first = simulate(sc, seed=4)
    pos = first.positions
    debts = pos[(pos["venue"] == "LendA") & (pos["kind"] == "debt")]
    assert set(debts["asset"]) == {"USDC", "BTC"}
    buf = io.BytesIO()
    pos.to_parquet(buf, index=False)
    again = simulate(sc, seed=4, positions=pd.read_parquet(io.BytesIO(buf.getvalue())))
    for a, b in ((first.events, again.events), (first.positions, again.positions)):
        pd.testing.assert_frame_equal(a, b)


def test_a_debt_in_an_asset_the_venue_does_not_lend_is_rejected_with_row_and_column() -> None:
    sc = _with_btc(get_scenario("default", n_traders=10), lender="LendB")
    rows = _doc_positions()
    rows.loc[3, "venue"] = "LendA"
    rows.loc[len(rows)] = [0, "LendA", "debt", "ETH", 1.0]
    with pytest.raises(PositionsError) as err:
        check_positions(rows, sc)
    text = str(err.value)
    assert "'BTC' is not lent at LendA" in text and "'ETH' is not lent at LendA" in text
    assert "column asset" in text or "asset" in text


def test_the_scenario_file_round_trip_keeps_the_borrowed_assets() -> None:
    sc = _with_btc(get_scenario("default", n_traders=10), debt_share=0.25)
    text = scenario_file.dumps(sc)
    assert "[[lending.borrow]]" in text
    assert scenario_file.loads(text) == sc


@pytest.mark.parametrize(("borrow", "says"), [
    ({"asset": "USDC", "oracle": "ETH-feed"}, "borrow[USDC].asset"),
    ({"asset": "BTC", "oracle": "ETH-feed"}, "borrow[BTC].oracle"),
    ({"asset": "ETH", "oracle": "ETH-feed"}, "as its collateral entry"),
])
def test_a_bad_borrowed_asset_is_named(borrow: dict[str, Any], says: str) -> None:
    sc = _with_btc(get_scenario("default", n_traders=10))
    lend_b = dataclasses.replace(sc.lending[1], borrow=(BorrowParams(**borrow),))
    with pytest.raises(ParameterError, match=says.replace("[", r"\[").replace("]", r"\]")):
        dataclasses.replace(sc, lending=(sc.lending[0], lend_b))


def test_debt_shares_and_supply_are_checked() -> None:
    with pytest.raises(ParameterError, match=r"lending\[X\]\.borrow"):
        from contagion.params import CollateralParams, LendingParams
        LendingParams(name="X", collateral=(CollateralParams(
            asset="ETH", oracle="o", ltv=0.5, liquidation_threshold=0.6, liquidation_bonus=0.05),),
            borrow=(BorrowParams(asset="A", oracle="a", debt_share=0.6),
                    BorrowParams(asset="B", oracle="b", debt_share=0.5)))
    sc = _with_btc(get_scenario("default", n_traders=2000), lender="LendA", debt_share=0.9,
                   retail_supply_usd=1e5)
    with pytest.raises(ParameterError, match=r"lending\[LendA\]\.borrow\[BTC\]\.retail_supply_usd"):
        ContagionModel(sc, seed=0)
