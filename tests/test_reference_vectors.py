"""Every protocol test vector in ``shared/reference/vectors.json``, run against the mechanics.

One test per case (id ``<mechanism>/<name>``), dispatched on ``(mechanism, kind)``. Exact
where the source is exact (integers, Fractions); within the case's tolerance otherwise.
Formula statements (no expected values) are checked numerically against our functions.
The file is found at ``$CONTAGION_VECTORS``, else at ``<repo>/../shared/reference/``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.mechanics import aave, adl, amm, compound, dydx, lending, perp

MISSING_REASON = (
    "reference vectors not found: set CONTAGION_VECTORS or place shared/ beside the repo"
)
FORMULA_SKIP = "formula statement, no expected values"
WAD = 10**18

Case = dict[str, Any]


def vectors_path() -> Path:
    """``$CONTAGION_VECTORS`` if set, else ``<repo root>/../shared/reference/vectors.json``."""
    env = os.environ.get("CONTAGION_VECTORS")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parent.parent
    return repo_root.parent / "shared" / "reference" / "vectors.json"


def load_vectors() -> dict[str, list[Case]] | None:
    path = vectors_path()
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {key: cases for key, cases in data.items() if isinstance(cases, list)}


def _int(value: Any) -> int:
    """An exact integer from an int or a string such as ``"1000e8"`` or ``"-0.1e18"``."""
    if isinstance(value, int):
        return value
    number = Decimal(str(value).split()[0])
    assert number == number.to_integral_value(), f"{value!r} is not an integer"
    return int(number)


def _mantissa(text: str) -> int:
    """A Compound ``1e18``-scaled mantissa from a decimal string like ``"0.1 (default)"``."""
    return _int(Decimal(text.split()[0]) * WAD)


def _checked_all(case: Case, keys: set[str]) -> None:
    unchecked = set(case["expected"]) - keys
    assert not unchecked, f"expected values without a check: {sorted(unchecked)}"


# --------------------------------------------------------------------------- Uniswap V2


def check_uniswap_get_amount_out(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    a, r_in, r_out = _int(i["amountIn"]), _int(i["reserveIn"]), _int(i["reserveOut"])
    fee = int(i.get("fee_bps", 30))
    out = amm.get_amount_out(a, r_in, r_out, fee)
    assert out == _int(e["amountOut"])
    assert [r_in + a, r_out - out] == [_int(x) for x in e["reserves_after"]]
    # token0 paid in, token1 taken out: swap(0, out) passes, swap(0, out + 1) fails the K check
    assert amm.pair_swap_succeeds(0, out, a, 0, r_in, r_out, fee)
    assert not amm.pair_swap_succeeds(0, out + 1, a, 0, r_in, r_out, fee)
    assert e["pair_swap_with_amountOut_plus_1_reverts"] == "UniswapV2: K"
    assert not amm.k_invariant_holds(r_in + a, r_out - out - 1, a, 0, r_in, r_out, fee)
    assert amm.swap_out(float(a), float(r_in), float(r_out), fee / 10_000) == pytest.approx(
        out, rel=1e-12)
    _checked_all(case, {"amountOut", "reserves_after", "pair_swap_with_amountOut_plus_1_reverts"})


def check_uniswap_get_amount_in(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    out, r_in, r_out = _int(i["amount"]), _int(i["reserveIn"]), _int(i["reserveOut"])
    amount_in = amm.get_amount_in(out, r_in, r_out)
    assert amount_in == _int(e["result"])
    assert amm.get_amount_out(amount_in, r_in, r_out) >= out
    _checked_all(case, {"result"})


def check_uniswap_quote(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    result = amm.quote(_int(i["amountA"]), _int(i["reserveA"]), _int(i["reserveB"]))
    assert result == _int(e["result"])
    _checked_all(case, {"result"})


def check_uniswap_flash_swap(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    r0, r1 = _int(i["reserve0"]), _int(i["reserve1"])
    paid, out = _int(i["amount0In"]), _int(i["amount0Out"])
    assert amm.pair_swap_succeeds(out, 0, paid, 0, r0, r1) is e["k_check_passes"]
    assert amm.k_invariant_holds(r0 + paid - out, r1, paid, 0, r0, r1) is e["k_check_passes"]
    assert e["k_check_with_amount0Out_plus_1"] == "reverts UniswapV2: K"
    assert not amm.pair_swap_succeeds(out + 1, 0, paid, 0, r0, r1)
    assert not amm.k_invariant_holds(r0 + paid - out - 1, r1, paid, 0, r0, r1)
    _checked_all(case, {"k_check_passes", "k_check_with_amount0Out_plus_1"})


# --------------------------------------------------------------------------- Aave V3


def check_aave_health_factor(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    coll, lt, debt = (i["total_collateral_usd"], i["weighted_liquidation_threshold"],
                      i["total_debt_usd"])
    hf = lending.health_factor(coll, lt, debt)
    exact = Fraction(e["health_factor_exact"])
    assert round(hf, 3) == e["health_factor"]
    assert hf == pytest.approx(float(exact), rel=1e-15)
    # the integer path, in 8-decimal base currency and bps, rounds exact*1e18 half-up
    lt_bps = _int(Decimal(str(lt)) * 10_000)
    wad = aave.aave_health_factor_wad(_int(coll) * 10**8, lt_bps, _int(debt) * 10**8)
    assert wad == math.floor(exact * WAD + Fraction(1, 2))
    _checked_all(case, {"health_factor", "health_factor_exact"})


def _check_aave_derived(case: Case, amount: int, decimals: int, price: int, debt: int,
                        debt_decimals: int, debt_price: int) -> tuple[int, int, int]:
    i, e = case["inputs"], case["expected"]
    coll_base = aave.aave_value_in_base(amount, price, decimals)
    debt_base = aave.aave_value_in_base(debt, debt_price, debt_decimals)
    hf = aave.aave_health_factor_wad(coll_base, int(i["lt_bps"]), debt_base)
    assert coll_base == _int(e["collateral_base"])
    assert debt_base == _int(e["debt_base"])
    assert hf == _int(e["health_factor_wad"])
    v33_cf = aave.aave_close_factor_bps_v33(hf, coll_base, debt_base)
    v33_max = aave.aave_max_liquidatable_debt_v33(debt, debt_base, coll_base, debt_base, hf,
                                                     debt_price, debt_decimals)
    assert v33_cf == _int(e["v3.3_close_factor_bps"])
    assert v33_max == _int(e["v3.3_max_liquidatable_debt"])
    return coll_base, debt_base, hf


def check_aave_liquidation(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    amount, dec, price = _int(i["coll_amt"]), int(i["coll_dec"]), _int(i["coll_price"])
    debt, ddec, dprice = _int(i["debt_amt"]), int(i["debt_dec"]), _int(i["debt_price"])
    _, debt_base, hf = _check_aave_derived(case, amount, dec, price, debt, ddec, dprice)
    cf = aave.aave_close_factor_bps(hf)
    max_debt = aave.aave_max_liquidatable_debt(debt, hf)
    assert cf == _int(e["close_factor_bps"])
    assert max_debt == _int(e["max_liquidatable_debt"])
    liq = aave.aave_liquidation(max_debt, amount, price, dec, dprice, ddec,
                                   int(i["bonus_bps"]), int(i["protocol_fee_bps"]))
    assert liq.debt_repaid == _int(e["debt_repaid"])
    assert liq.collateral_seized_total == _int(e["collateral_seized_total"])
    assert liq.collateral_to_liquidator == _int(e["collateral_to_liquidator"])
    assert liq.protocol_fee_collateral == _int(e["protocol_fee_collateral"])
    # the float model agrees with the exact one
    flt = lending.liquidation_amounts(debt_base / 1e8, amount / 10**dec, price / 1e8,
                                      (int(i["bonus_bps"]) - 10_000) / 1e4, cf / 1e4,
                                      int(i["protocol_fee_bps"]) / 1e4)
    assert float(flt.debt_repaid_usd) == pytest.approx(liq.debt_repaid / 10**ddec, rel=1e-12)
    assert float(flt.collateral_seized_units) == pytest.approx(
        liq.collateral_seized_total / 10**dec, rel=1e-12)
    assert float(flt.protocol_fee_units) == pytest.approx(
        liq.protocol_fee_collateral / 10**dec, rel=1e-12)
    _checked_all(case, {"collateral_base", "debt_base", "health_factor_wad", "close_factor_bps",
                        "max_liquidatable_debt", "debt_repaid", "collateral_seized_total",
                        "collateral_to_liquidator", "protocol_fee_collateral",
                        "v3.3_close_factor_bps", "v3.3_max_liquidatable_debt"})


def check_aave_close_factor_rule(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    if "MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD_assumed" not in i:
        amount, dec = _int(i["collateral_amount"]), int(i["collateral_decimals"])
        debt, ddec = _int(i["debt_amount"]), int(i["debt_decimals"])
        _, _, hf = _check_aave_derived(case, amount, dec, _int(i["collateral_price_8dp"]),
                                       debt, ddec, _int(i["debt_price_8dp"]))
        assert aave.aave_close_factor_bps(hf) == _int(e["v3.0_close_factor_bps"])
        assert aave.aave_max_liquidatable_debt(debt, hf) == _int(
            e["v3.0_max_liquidatable_debt"])
        _checked_all(case, {"collateral_base", "debt_base", "health_factor_wad",
                            "v3.0_close_factor_bps", "v3.0_max_liquidatable_debt",
                            "v3.3_close_factor_bps", "v3.3_max_liquidatable_debt"})
        return
    # aave-v3-origin v3.3 doc example, threshold assumed 1000e8
    thr = _int(i["MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD_assumed"])
    coll_a, coll_b = _int(i["collateral_A_base"]), _int(i["collateral_B_base"])
    debt_a, debt_b = _int(i["debt_A_base"]), _int(i["debt_B_base"])
    hf = float(i["health_factor"])
    hf_wad = _int(Decimal(str(hf)) * WAD)
    assert e["debt_A"].startswith("can be liquidated 100%")
    for coll in (coll_a, coll_b):  # debt A is below the threshold: 100% whatever the collateral
        assert aave.aave_close_factor_bps_v33(hf_wad, coll, debt_a, thr) == 10_000
        assert lending.close_factor_v33(hf, coll / 1e8, debt_a / 1e8, thr / 1e8,
                                        total_debt_usd=(debt_a + debt_b) / 1e8) == 1.0
    assert e["collateral_B"].startswith("can be seized 100%")
    for debt in (debt_a, debt_b):  # collateral B is below the threshold: 100% for any debt
        assert aave.aave_close_factor_bps_v33(hf_wad, coll_b, debt, thr) == 10_000
        assert lending.close_factor_v33(hf, coll_b / 1e8, debt / 1e8, thr / 1e8,
                                        total_debt_usd=(debt_a + debt_b) / 1e8) == 1.0
    assert e["pre_v3.3"].startswith("only up to 50%")
    assert aave.aave_close_factor_bps(hf_wad) == 5000
    assert lending.close_factor(hf) == 0.5
    _checked_all(case, {"debt_A", "collateral_B", "pre_v3.3"})


# --------------------------------------------------------------------------- Compound V2


def check_compound_seize_tokens(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    args = {k: _int(i[k]) for k in ("repayAmount", "borrowedPriceMantissa",
                                    "collateralPriceMantissa", "exchangeRateMantissa",
                                    "liquidationIncentiveMantissa")}
    seize = compound.compound_seize_tokens(
        args["repayAmount"], args["borrowedPriceMantissa"], args["collateralPriceMantissa"],
        args["exchangeRateMantissa"], args["liquidationIncentiveMantissa"])
    assert seize == _int(e["seizeTokens_contract_integer"])
    assert abs(seize - float(e["seizeTokens_test_reference_float"])) < float(
        e["test_tolerance_abs"])
    real = (Fraction(args["repayAmount"]) * args["liquidationIncentiveMantissa"]
            * args["borrowedPriceMantissa"]
            / (args["collateralPriceMantissa"] * args["exchangeRateMantissa"]))
    assert math.floor(real) == _int(e["seizeTokens_exact_real_floor"])
    assert seize <= math.floor(real)  # Exp truncation only ever loses
    _checked_all(case, {"seizeTokens_contract_integer", "seizeTokens_test_reference_float",
                        "test_tolerance_abs", "seizeTokens_exact_real_floor"})


def check_compound_liquidation(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    rate_text = i["exchangeRate_underlying_wei_per_cToken_unit"]
    rate_match = re.search(r"mantissa\s+([0-9.e+]+)", rate_text)
    assert rate_match is not None
    rate = _int(rate_match.group(1))
    assert i["prices"].startswith("1:1")
    price = WAD
    borrow, tokens = _int(i["borrowBalance"]), _int(i["borrower_cTokens"])
    kwargs = {
        "borrow_balance": borrow, "borrower_ctokens": tokens,
        "price_borrowed_mantissa": price, "price_collateral_mantissa": price,
        "exchange_rate_mantissa": rate,
        "liquidation_incentive_mantissa": _mantissa(i["liquidationIncentive"]),
        "close_factor_mantissa": _mantissa(i["closeFactor"]),
        "protocol_seize_share_mantissa": _mantissa(i["protocolSeizeShare"]),
    }
    result = compound.compound_liquidation(_int(i["repayAmount"]), **kwargs)
    assert result.seize_tokens == _int(e["seizeTokens"])
    assert result.borrower_tokens_after == _int(e["borrower_cTokens_after"])
    assert result.liquidator_tokens == _int(e["liquidator_cTokens_after"])
    assert result.borrow_balance_after == _int(e["borrowBalance_after"])
    liquidity = compound.compound_account_liquidity(
        result.borrower_tokens_after, rate, _mantissa(i["collateralFactor"]), price,
        result.borrow_balance_after, price)
    assert liquidity == _int(e["account_liquidity_after"])
    assert e["repay_20e18_instead"].startswith("rejected")
    max_close = _mantissa(i["closeFactor"]) * borrow // WAD
    with pytest.raises(ParameterError, match=rf"'repay_amount'.*{max_close}"):
        compound.compound_liquidation(20 * WAD, **kwargs)
    _checked_all(case, {"seizeTokens", "borrower_cTokens_after", "liquidator_cTokens_after",
                        "borrowBalance_after", "account_liquidity_after",
                        "repay_20e18_instead"})


# --------------------------------------------------------------------------- perps


def check_hyperliquid_liquidation_price(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    notional = i["entry_price"] * i["position_size"]
    mm = perp.hyperliquid_maintenance_margin(notional, i["max_leverage"])
    assert mm == pytest.approx(i["maintenance_margin_required_derived"], rel=1e-9)
    price = perp.liquidation_price_hyperliquid(i["entry_price"], i["side"], i["position_size"],
                                               i["isolated_margin"] - mm,
                                               i["maintenance_leverage"])
    assert price == pytest.approx(e["liquidation_price"], rel=e["tolerance_rel"])
    _checked_all(case, {"liquidation_price", "tolerance_rel"})


def check_binance_liquidation_price(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    tmm = sum(perp.binance_maintenance_margin(o["amount"], o["mark_price"], o["mm_ratio"],
                                              o["maintenance_amt"])
              for o in i["other_positions"])
    upnl = sum(o["amount"] * (o["mark_price"] - o["open_rate"]) for o in i["other_positions"])
    assert tmm == pytest.approx(i["derived_TMM1"], rel=1e-9, abs=1e-9)
    assert upnl == pytest.approx(i["derived_UPNL1"], rel=1e-9, abs=1e-9)
    price = perp.liquidation_price_binance(i["wallet_balance"], i["side"], i["position_size"],
                                           i["entry_price"], i["mmr"],
                                           i["cum_maintenance_amount"], tmm, upnl)
    assert e["rounding"] == "2 dp"
    assert round(price, 2) == e["liquidation_price"]
    _checked_all(case, {"liquidation_price", "rounding"})


def _dydx_account(i: Case) -> tuple[Fraction, list[Fraction], list[Fraction], list[Fraction]]:
    positions = i["positions"]
    return (Fraction(i["usdc_balance"]), [Fraction(p["size"]) for p in positions],
            [Fraction(p["oracle_price"]) for p in positions],
            [Fraction(p["mmf"]) for p in positions])


def check_dydx_fillable_price(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    assert Fraction(i["fraction_closed"]) == 1  # GetFillablePrice uses the whole position
    price = dydx.dydx_fillable_price(*_dydx_account(i), i["position_index_liquidated"],
                                     Fraction(i["bankruptcy_adjustment"]),
                                     Fraction(i["spread_to_mmr"]))
    assert price == Fraction(e["fillable_price_usd"])
    assert float(price) == e["fillable_price_usd_float"]
    _checked_all(case, {"fillable_price_usd", "fillable_price_usd_float"})


def check_dydx_bankruptcy_price(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    quote = dydx.dydx_bankruptcy_quote(*_dydx_account(i), i["position_index"],
                                       Fraction(i["delta_size"]))
    assert quote == e["bankruptcy_quote_usd"]
    assert quote * 10**6 == _int(e["bankruptcy_quote_quantums"])
    _checked_all(case, {"bankruptcy_quote_usd", "bankruptcy_quote_quantums"})


_DYDX_POSITION = re.compile(r"^([\d.]+) \w+ (long|short) @ oracle \$([\d,]+), MMF (\d+)%$")


def check_dydx_insurance_fund_delta(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    match = _DYDX_POSITION.match(i["position"])
    assert match is not None, f"cannot parse position {i['position']!r}"
    size = Fraction(match.group(1)) * (1 if match.group(2) == "long" else -1)
    oracle = Fraction(match.group(3).replace(",", ""))
    mmf = Fraction(int(match.group(4)), 100)
    delta = dydx.dydx_insurance_fund_delta(
        Fraction(i["usdc_balance"]), [size], [oracle], [mmf], 0, Fraction(i["fill_size"]),
        Fraction(i["liquidation_fill_price"]), Fraction(i["max_liquidation_fee"]))
    assert delta == Fraction(e["insurance_fund_delta_usd"])
    assert delta * 10**6 == _int(e["insurance_fund_delta_quote_quantums"])
    _checked_all(case, {"insurance_fund_delta_usd", "insurance_fund_delta_quote_quantums"})


# --------------------------------------------------------------------------- ADL


def check_adl_allocation(case: Case) -> None:
    i, e = case["inputs"], case["expected"]
    accounts = np.array([x["account"] for x in i["longs"]])
    qty = np.array([x["qty"] for x in i["longs"]], dtype=float)
    rank = np.array([x["pnl_ranking"] for x in i["longs"]], dtype=float)
    order = adl.adl_queue_order(rank)
    assert accounts[order].tolist() == e["order"]
    closed = adl.allocate_adl(qty, rank, i["liquidated_short_size"])
    fills = [{"account": int(accounts[k]), "qty_closed": closed[k],
              "price": i["bankruptcy_price"]} for k in order if closed[k] > 0]
    assert fills == e["fills"]
    assert closed.sum() == i["liquidated_short_size"]
    assert qty[accounts == 5][0] - closed[accounts == 5][0] == e["account_5_remaining_qty"]
    # the doc's percentile column is display-only bucketing (80% twice); check only that it
    # agrees with our queue order: non-decreasing down the queue and 100% at the end
    shown = [int(e["percentile_shown"][str(a)].rstrip("%")) for a in accounts[order]]
    assert shown == sorted(shown) and shown[-1] == 100
    _checked_all(case, {"order", "fills", "account_5_remaining_qty", "percentile_shown"})


# --------------------------------------------------------------------------- formulas


def formula_hyperliquid(case: Case) -> None:
    # at the docs' liquidation price, equity == maintenance margin (l = 1/maintenance leverage)
    for entry, size, margin, lev in [(2458.5, 0.015, 36.86, 100.0), (163.11, -0.48, 15.65, 40.0)]:
        side = 1.0 if size > 0 else -1.0
        docs = perp.liquidation_price_hyperliquid(entry, side, abs(size),
                                                  margin - abs(size) * entry / lev, lev)
        generic = perp.liquidation_price(margin, size, entry, 1.0 / lev)
        assert docs == pytest.approx(generic, rel=1e-12)


def formula_binance(case: Case) -> None:
    # isolated, cum = 0: the one-way formula is the generic equity == MM price
    for wb, side, q, ep, mmr in [(1000.0, "long", 2.0, 1500.0, 0.01),
                                 (1000.0, "short", 2.0, 1500.0, 0.02)]:
        binance = perp.liquidation_price_binance(wb, side, q, ep, mmr, 0.0)
        size = q if side == "long" else -q
        assert binance == pytest.approx(perp.liquidation_price(wb, size, ep, mmr), rel=1e-12)
    assert perp.binance_maintenance_margin(10.0, 100.0, 0.05, 4.0) == pytest.approx(46.0)


def formula_dydx(case: Case) -> None:
    sizes, prices, mmfs = ["1/10", "-2"], [50_000, 3_000], ["1/10", "1/20"]
    tnc, tmmr = dydx.dydx_risk(1_000, sizes, prices, mmfs)
    assert tnc == 1_000 + 5_000 - 6_000
    assert tmmr == 500 + 300
    # ABR = 0 at TNC == TMMR (oracle price); ABR = 1 at TNC <= 0 (oracle less the full spread)
    at_mm = dydx.dydx_fillable_price(-4_500, ["1/10"], [50_000], ["1/10"], 0)
    assert at_mm == 50_000
    broke = dydx.dydx_fillable_price(-5_000, ["1/10"], [50_000], ["1/10"], 0)
    assert broke == 50_000 * (1 - Fraction(1, 10) * Fraction(1, 10))
    assert dydx.dydx_is_liquidatable(-4_501, ["1/10"], [50_000], ["1/10"])
    assert not dydx.dydx_is_liquidatable(-4_500, ["1/10"], [50_000], ["1/10"])


def formula_bitmex_ranking(case: Case) -> None:
    mark, entry, bankrupt = np.array([1100.0, 900.0]), np.array([1000.0, 1000.0]), 800.0
    pnl = adl.adl_pnl_frac(mark, entry)
    lev = adl.effective_leverage(mark, bankrupt)
    expected_pnl = (mark - entry) / np.abs(entry)
    expected_lev = np.abs(mark) / (mark - bankrupt)
    np.testing.assert_allclose(pnl, expected_pnl)
    np.testing.assert_allclose(lev, expected_lev)
    np.testing.assert_allclose(adl.adl_ranking(pnl, lev),
                               [expected_pnl[0] * expected_lev[0],
                                expected_pnl[1] / expected_lev[1]])


def formula_hyperliquid_sorting(case: Case) -> None:
    index = adl.hyperliquid_sorting_index(120.0, 100.0, 6_000.0, 1_500.0)
    assert index == pytest.approx((120.0 / 100.0) * (6_000.0 / 1_500.0))


CHECKERS: dict[tuple[str, str], Callable[[Case], None]] = {
    ("uniswap_v2_amm", "getAmountOut"): check_uniswap_get_amount_out,
    ("uniswap_v2_amm", "getAmountIn"): check_uniswap_get_amount_in,
    ("uniswap_v2_amm", "quote"): check_uniswap_quote,
    ("uniswap_v2_amm", "flash_swap_same_token"): check_uniswap_flash_swap,
    ("aave_v3_lending", "health_factor"): check_aave_health_factor,
    ("aave_v3_lending", "liquidation"): check_aave_liquidation,
    ("aave_v3_lending", "close_factor_rule"): check_aave_close_factor_rule,
    ("compound_v2_liquidation", "seize_tokens"): check_compound_seize_tokens,
    ("compound_v2_liquidation", "liquidation_end_to_end"): check_compound_liquidation,
    ("perp_hyperliquid_liquidation_price", "liquidation_price"):
        check_hyperliquid_liquidation_price,
    ("perp_binance_usdm_liquidation_price", "liquidation_price"):
        check_binance_liquidation_price,
    ("perp_dydx_v4_liquidation_insurance_fund", "fillable_price"): check_dydx_fillable_price,
    ("perp_dydx_v4_liquidation_insurance_fund", "bankruptcy_price"): check_dydx_bankruptcy_price,
    ("perp_dydx_v4_liquidation_insurance_fund", "insurance_fund_delta"):
        check_dydx_insurance_fund_delta,
    ("auto_deleveraging", "adl_allocation"): check_adl_allocation,
}

FORMULA_CHECKERS: dict[tuple[str, str], Callable[[Case], None]] = {
    ("perp_hyperliquid_liquidation_price", "hyperliquid_formula"): formula_hyperliquid,
    ("perp_binance_usdm_liquidation_price", "binance_formula"): formula_binance,
    ("perp_dydx_v4_liquidation_insurance_fund", "dydx_formulas"): formula_dydx,
    ("auto_deleveraging", "bitmex_adl_ranking_formula"): formula_bitmex_ranking,
    ("auto_deleveraging", "hyperliquid_adl_sorting_index"): formula_hyperliquid_sorting,
}


def _is_formula(case: Case) -> bool:
    return case["kind"] == "formula" or not case.get("expected")


VECTORS = load_vectors()
CASES = [(mech, case) for mech, cases in (VECTORS or {}).items() for case in cases]
CASE_PARAMS = [pytest.param(mech, case, id=f"{mech}/{case['name']}") for mech, case in CASES]
if VECTORS is None:
    CASE_PARAMS = [pytest.param(None, None, id="missing",
                                marks=pytest.mark.skip(reason=MISSING_REASON))]


def _runs(mech: str, case: Case) -> bool:
    if _is_formula(case):
        return (mech, case["name"]) in FORMULA_CHECKERS
    return (mech, case["kind"]) in CHECKERS


KIND_COUNTS = Counter(f"{mech}/{case['kind']}" for mech, case in CASES if _runs(mech, case))


@pytest.mark.parametrize(("mechanism", "case"), CASE_PARAMS)
def test_reference_vector(mechanism: str, case: Case) -> None:
    if _is_formula(case):
        checker = FORMULA_CHECKERS.get((mechanism, case["name"]))
        if checker is None:
            pytest.skip(FORMULA_SKIP)
    else:
        checker = CHECKERS.get((mechanism, case["kind"]))
        assert checker is not None, f"no checker for {mechanism}/{case['kind']}"
    checker(case)


def test_every_vector_kind_is_covered() -> None:
    if VECTORS is None:
        pytest.skip(MISSING_REASON)
    missing = sorted({f"{mech}/{case['kind']}" for mech, case in CASES
                      if not _is_formula(case) and (mech, case["kind"]) not in CHECKERS})
    assert not missing, f"vector kinds without a checker: {missing}"


def test_vector_kind_counts(capsys: pytest.CaptureFixture[str]) -> None:
    if VECTORS is None:
        pytest.skip(MISSING_REASON)
    assert sum(KIND_COUNTS.values()) > 0
    summary = ", ".join(f"{kind}={n}" for kind, n in sorted(KIND_COUNTS.items()))
    with capsys.disabled():
        print(f"\nreference vectors run per kind: {summary}")
