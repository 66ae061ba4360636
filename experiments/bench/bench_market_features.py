"""Benchmark: what issue 12's market features cost the engine, measured side by side.

Run from the repository root::

    .venv/bin/python experiments/bench/bench_market_features.py            # 200,000 traders
    .venv/bin/python experiments/bench/bench_market_features.py --quick    # 2,000 traders

The default scenario (``n_traders``, 144 steps, seed 1) is built and run with each feature
set in turn, the sets interleaved round after round (so a drift in the machine's speed hits
them alike), and the median wall time of each is printed with its ratio to the run with
every feature off:

off          every issue-12 feature off (the presets' setting)
funding      perp funding at every perp venue (``PerpParams.funding``)
rates+run    Aave's interest curve and a supplier run at every lending venue
price_model  correlated Student-t noise with GARCH(1,1) on ETH and EXT
v3_pools     every pool a concentrated Uniswap V3 pool (80% of value within +-25%)
all          all of the above
options      PerpX with portfolio margin and 10 ETH option series (calls and puts, 80-120%
             strikes, 7 and 30 days) held by 30% of its traders, half of them delta-hedged
             (not part of ``all``: it changes how PerpX margins and liquidates)

Issue 12 asks that the engine stay within 1.3x of its time before the features with them
off: that comparison needs the earlier commit (``farm-bench --vs``, see README.md in this
folder); this script reports what turning each feature on costs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from contagion.model import ContagionModel
from contagion.params import (
    InterestRateParams,
    OptionSeriesParams,
    PriceModelParams,
    SupplierRunParams,
    VolSurfaceParams,
)
from contagion.scenario import Scenario
from models import get_scenario

Variant = Callable[[Scenario], Scenario]


def _funding(sc: Scenario) -> Scenario:
    return replace(sc, perps=tuple(replace(p, funding=True) for p in sc.perps))


def _rates(sc: Scenario) -> Scenario:
    return replace(sc, lending=tuple(replace(v, rates=InterestRateParams(),
                                             supplier_run=SupplierRunParams())
                                     for v in sc.lending))


def _price_model(sc: Scenario) -> Scenario:
    return replace(sc, price_model=PriceModelParams(
        assets=("ETH", "EXT"), correlation=((1.0, 0.8), (0.8, 1.0)),
        innovations="student_t", dof=4.0, garch_alpha=0.1, garch_beta=0.85))


def _v3(sc: Scenario) -> Scenario:
    return replace(sc, pools=tuple(replace(p, kind="v3", v3_ranges=((0.25, 0.8), (float("inf"), 0.2)))
                                   for p in sc.pools))


def _all(sc: Scenario) -> Scenario:
    return _v3(_price_model(_rates(_funding(sc))))


def _options(sc: Scenario) -> Scenario:
    series = tuple(OptionSeriesParams(asset="ETH", kind=kind, strike_frac=k, expiry_days=d)
                   for d in (7.0, 30.0) for kind, k in (("put", 0.8), ("put", 0.9), ("call", 1.0),
                                                        ("call", 1.1), ("call", 1.2)))
    surface = VolSurfaceParams(asset="ETH", expiries_days=(7.0, 30.0), moneyness=(0.8, 1.0, 1.2),
                               vols=((0.8, 0.6, 0.7), (0.75, 0.55, 0.65)))
    perps = tuple(replace(p, margin_model="portfolio", options=series,
                          option_share_of_traders=0.3, option_hedge_frac=0.5)
                  if p.name == "PerpX" else p for p in sc.perps)
    return replace(sc, perps=perps, vol_surfaces=(surface,))


VARIANTS: dict[str, Variant] = {
    "off": lambda sc: sc, "funding": _funding, "rates+run": _rates,
    "price_model": _price_model, "v3_pools": _v3, "all": _all, "options": _options,
}


def _time_one(scenario: Scenario) -> float:
    gc.collect()
    t0 = time.perf_counter()
    ContagionModel(scenario, seed=1).run()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traders", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2,000 traders, 2 rounds")
    args = ap.parse_args()
    traders, rounds = (2_000, 2) if args.quick else (args.traders, args.rounds)
    base = get_scenario("default", n_traders=traders)
    scenarios = {name: make(base) for name, make in VARIANTS.items()}
    _time_one(scenarios["off"])  # warm-up: imports, caches
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    for _ in range(rounds):
        for name, sc in scenarios.items():
            times[name].append(_time_one(sc))
    off = statistics.median(times["off"])
    print(f"# Market features (issue 12): default scenario, {traders:,} traders, "
          f"{base.market.steps} steps, median of {rounds} interleaved rounds\n")
    print("| features | median s | min s | max s | vs off |")
    print("|---|---:|---:|---:|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.3f} | {min(ts):.3f} | {max(ts):.3f} | {med / off:.2f}x |")


if __name__ == "__main__":
    main()
