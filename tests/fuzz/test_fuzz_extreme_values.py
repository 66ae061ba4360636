"""Extreme values of the sizes a user may set: each is refused naming its field before the
run, or the run completes (exit 0, outputs written) without an arithmetic warning. Found by
the fuzzing of issue 11: these values passed every declared range and then overflowed,
divided by zero or took the log of 0 inside the engine (the edges of each range, a subnormal
5e-324 and 1e308, on the default scenario at 50 traders)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from fuzz_harness import assert_refused

from contagion.cli import main
from contagion.params import MAX_PRICE_USD, MAX_UNITS, MAX_USD, MIN_PRICE_USD, MIN_UNITS, MIN_USD

SMALL = ["--set", "n_traders=50"]  # the whole horizon: the crash is inside it
TINY, HUGE = "5e-324", "1e308"

#: dotted key -> the edges of its declared range (the values that must run)
EDGES: dict[str, tuple[float, ...]] = {
    "assets.ETH.initial_price_usd": (MIN_PRICE_USD, MAX_PRICE_USD),
    "assets.ETH.external_depth_usd": (MIN_USD, MAX_USD, float("inf")),
    "pools.ETH/USDC.reserve_base": (MIN_UNITS, MAX_UNITS),
    "lending.LendA.collateral.ETH.ltv": (),
    "lending.LendA.retail_supply_usd": (MAX_USD,),
    "perps.PerpX.maintenance_margin_frac": (),
    "custodial.CEX.deposits_usd": (MAX_USD,),
    "custodial.CEX.token_holdings_usd": (0.0, MAX_USD),
    "custodial.CEX.equity_buffer_frac": (100.0,),
    "custodial.CEX.share_of_traders": (),
    "credit_links.CEX->AlphaFund.amount_usd": (),
    "liquidators.Liquidators.gas_cost_usd": (0.0, MAX_USD),
    "liquidators.Liquidators.capital_usd": (0.0, MAX_USD, float("inf")),
    "traders.mean_wealth_usd": (MIN_USD,),
}
CASES = [f"{key}={value!r}" for key, edges in EDGES.items()
         for value in (TINY, HUGE, *(repr(e) for e in edges))]


def test_there_are_cases_for_every_key() -> None:
    assert len(CASES) >= 3 * len(EDGES)


@pytest.mark.parametrize("item", [c.replace("'", "") for c in CASES])
def test_refused_naming_the_field_or_run_to_the_end(tmp_path: Path, item: str) -> None:
    ran = tmp_path / "ran"
    ran.mkdir()
    err = io.StringIO()
    with contextlib.chdir(ran), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(err):
        code = main(["run", *SMALL, "--set", item, "--out", "out"])
    if code == 0:
        assert (ran / "out" / "summary.json").stat().st_size > 0
        return
    refused = tmp_path / "refused"
    refused.mkdir()
    field = item.split("=")[0].rsplit(".", 1)[-1]
    # the message names the field set, or the field its value made impossible (a deposit
    # base too small for the holdings names the buffer that cannot cover them)
    r = assert_refused(["run", *SMALL, "--set", item, "--out", "out"], cwd=refused)
    assert field in r.err or "custodial[CEX]" in r.err or "lending[LendA]" in r.err, r.err
    assert "allowed" in r.err
