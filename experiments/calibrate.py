"""Calibrate a historical preset to its sources: ``python -m experiments.calibrate PRESET``.

Each :class:`Problem` declares the preset's free parameters with bounds (its keyword
parameters, or a dotted path of the scenario such as ``yield_venues.Anchor.max_exit_depeg_frac``
where the preset does not expose a knob), its targets (the same bands the validation report
judges, :mod:`experiments.validation.presets`) and fixed settings. The loss of a parameter
point is the mean over ``K`` seeds (the same seeds at every point: common random numbers) of
the sum over targets of the squared relative residual outside the band (0 inside; decades for
log bands). The search is a seeded Latin hypercube over the (log-)scaled box followed by a
bounded Nelder-Mead from its best point, within ``--budget`` evaluations in all: deterministic
for a given ``--seed``.

The fit is written to ``experiments/validation/calibration/PRESET.json``: every parameter with
its bounds, the preset's current value and the fitted one, and every target's figure and
residual before (the preset's defaults) and after. The validation report shows these files; it
does not change the presets (their defaults drive the dashboard tours).

    nice -n 10 .venv/bin/python -m experiments.calibrate terra --budget 60 --seeds 2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario, override
from experiments.validation import presets as P
from experiments.validation.checks import Band
from experiments.validation.series import HISTORIES, path_fit
from models import get_scenario, scenario_parameters

__all__ = ["PROBLEMS", "Fit", "Param", "Problem", "Target", "calibrate", "evaluate", "main"]

OUT_DIR = Path(__file__).parent / "validation" / "calibration"


@dataclass(frozen=True)
class Param:
    """A free parameter: a keyword of the preset, or a dotted path of its scenario."""

    name: str
    low: float
    high: float
    log: bool = False  # searched on a log scale
    integer: bool = False
    why: str = ""

    def value(self, u: float) -> float | int:
        """The parameter's value at ``u`` in [0, 1] of its (log-)scaled range."""
        u = min(1.0, max(0.0, float(u)))
        x = (math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
             if self.log else self.low + u * (self.high - self.low))
        return round(x) if self.integer else float(x)

    def unit(self, x: float) -> float:
        """The inverse of :meth:`value` (clipped to [0, 1])."""
        if self.log:
            u = (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            u = (x - self.low) / (self.high - self.low)
        return min(1.0, max(0.0, u))


@dataclass(frozen=True)
class Target:
    """A figure of one run and the source's band for it."""

    name: str
    band: Band
    measure: Callable[[RunResult], float]


@dataclass(frozen=True)
class Problem:
    preset: str
    params: tuple[Param, ...]
    targets: tuple[Target, ...]
    settings: dict[str, Any] = field(default_factory=dict)  # fixed keywords (not searched)
    n_traders: int = 1000  # the validation report's scale
    note: str = ""

    def scenario(self, values: dict[str, float | int], n_traders: int | None = None) -> Scenario:
        kw = {k: v for k, v in values.items() if "." not in k}
        sc = get_scenario(self.preset, n_traders=n_traders or self.n_traders,
                          **{**self.settings, **kw})
        for k, v in values.items():
            if "." in k:
                sc = override(sc, k, v)
        return sc

    def current(self) -> dict[str, float | int]:
        """The preset's current values of the free parameters."""
        defaults = scenario_parameters(self.preset)
        base = get_scenario(self.preset, n_traders=10, **self.settings)
        out: dict[str, float | int] = {}
        for p in self.params:
            if "." in p.name:
                out[p.name] = _dotted(base, p.name)
            else:
                out[p.name] = defaults[p.name]
        return out


def _dotted(sc: Any, path: str) -> Any:
    obj = sc
    for part in path.split("."):
        if isinstance(obj, tuple):
            obj = next(x for x in obj if getattr(x, "name", getattr(x, "asset", None)) == part)
        else:
            obj = getattr(obj, part)
    return obj


def _path(key: str) -> Callable[[RunResult], float]:
    h = HISTORIES[key]
    return lambda r: path_fit(r.series[h.column], h).rmse


def _ftt_low(r: RunResult) -> float:
    return float(r.series["price_FTT"].min())


def _luna_growth(r: RunResult) -> float:
    s = r.series["supply_LUNA"]
    return float(s.iloc[min(P.TERRA_14MAY, len(s) - 1)] / s.iloc[0])


def _zero_share(r: RunResult) -> float:
    z, a = P.kind_count(r, "zero_bid"), P.kind_count(r, "auction")
    return z / max(1, z + a)


def _zero_value(r: RunResult) -> float:
    ev = r.events[r.events["kind"] == "zero_bid"]
    px = r.series["price_ETH"].reindex(ev["step"]).to_numpy()
    return float((ev["amount"].to_numpy() * px).sum())


def _steth_discount(r: RunResult) -> float:
    return float((1 - r.series["pool_stETH/USDC"] / r.series["price_ETH"]).max())


PROBLEMS: dict[str, Problem] = {
    "terra": Problem(
        "terra",
        (Param("amm_depth_scale", 0.2, 5.0, log=True, why="liquidity of UST and LUNA markets"),
         Param("mint_capacity_usd_per_step", 5e3, 5e5, log=True,
               why="Terra's market-module capacity per hour (scaled)"),
         Param("reserve_usd", 0.0, 6e6, why="LFG's reserve (scaled; sources: 80,394 BTC)"),
         Param("yield_venues.Anchor.max_exit_depeg_frac", 0.2, 0.95,
               why="the depeg at which Anchor's smallest holders leave (run threshold)"),
         Param("yield_venues.Anchor.exit_frac_per_step", 0.003, 0.08, log=True,
               why="how fast a leaving depositor sells")),
        (Target("UST mean on 10 May", P.UST_10MAY, lambda r: P._day_mean(r, "price_UST", 3)),
         Target("UST mean on 14 May", P.UST_14MAY, lambda r: P._day_mean(r, "price_UST", 7)),
         Target("LUNA mean on 14 May", P.LUNA_14MAY, lambda r: P._day_mean(r, "price_LUNA", 7)),
         Target("LUNA supply growth by 14 May", P.LUNA_GROWTH, _luna_growth),
         Target("UST path RMSE (log10)", P.PATH_BAND, _path("ust"))),
        settings={"steps": 192}, note="the Curve sale ($85M scaled) is a source figure, kept"),
    "ftx": Problem(
        "ftx",
        (Param("run_speed_frac", 0.05, 1.0, log=True, why="share of a running balance per step"),
         Param("assets.FTT.external_depth_usd", 5e8, 6e9, log=True,
               why="depth of FTT's outside market"),
         Param("assets.FTT.crash_on_issuer_default_frac", 0.6, 0.97,
               why="FTT's fall when FTX defaults"),
         Param("shock_frac", 0.0, 0.3, why="ETH's fall over the three days")),
        (Target("FTT low", P.FTT_LOW, _ftt_low),
         Target("FTT path RMSE (log10)", P.PATH_BAND, _path("ftt")),
         Target("withdrawals asked of FTX up to its freeze", P.FTX_PAID,
                P.ftx_withdrawals_asked),
         Target("DeFi lender's liquidations", P.DEFI_LIQ,
                lambda r: P._sum_usd(r, "liquidation", venue="DeFiLend")),
         Target("DeFi lender's bad debt", P.DEFI_BAD_DEBT,
                lambda r: float(r.summary["bad_debt_by_venue"].get("DeFiLend", 0.0)))),
        note="the FTT dump ($530M) and the rehypothecated share (10/16) are source figures, kept"),
    "mango": Problem(
        "mango",
        (Param("pump_usd", 3e6, 5e6, why="spot buys (sources: about $4M in total)"),
         Param("pools.MNGO/USDC.arb_capacity_usd_per_step", 5e4, 8e5, log=True,
               why="arbitrage into the oracle's thin pool per step"),
         Param("perps.Mango.lender_deposits_usd", 7e7, 1.5e8, log=True,
               why="Mango's lenders' USDC (stylised)")),
        (Target("oracle peak / start", P.MNGO_PUMP,
                lambda r: float(r.series["oracle_MNGO-oracle"].max()
                                / r.series["oracle_MNGO-oracle"].iloc[0])),
         Target("attacker withdrew", P.MANGO_DRAIN,
                lambda r: P._sum_usd(r, "withdrawal", agent="attacker")))),
    "black_thursday": Problem(
        "black_thursday",
        (Param("keeper_bidders", 2, 8, integer=True, why="keepers bidding"),
         Param("gas_spike_start_step", 40, 72, integer=True, why="when the gas spike starts"),
         Param("gas_spike_duration_steps", 16, 48, integer=True, why="how long it lasts")),
        (Target("share of zero-bid auctions", P.ZERO_SHARE, _zero_share),
         Target("bad debt", P.MAKER_LOSS, lambda r: float(r.summary["bad_debt_usd"])),
         Target("ETH taken with zero bids", P.ZERO_VALUE, _zero_value)),
        note="1,000 vaults: with fewer the auctions are too lumpy; gas x6 and the OSM's hour "
        "are source figures, kept"),
    "steth_celsius": Problem(
        "steth_celsius",
        (Param("discount_frac", 0.03, 0.1, why="the exogenous stETH/ETH basis at its widest"),
         Param("amm_depth_scale", 0.3, 3.0, log=True, why="the stETH pool's depth"),
         Param("loop_health_factor", 1.1, 2.5, why="leveraged loops' health factor")),
        (Target("largest pool discount, Celsius frozen", P.STETH_DISCOUNT, _steth_discount),),
        settings={"celsius_forced_selling": False},
        note="judged as the history played out: Celsius froze instead of selling"),
    "october_2025": Problem(
        "october_2025",
        (Param("usde_selloff_usd", 1e5, 5e6, log=True, why="USDe sold into the venue's book"),
         Param("mean_leverage", 3.0, 12.0, why="traders' mean leverage")),
        (Target("USDe low at the venue's oracle", P.USDE_INSIDE,
                lambda r: float(r.series["oracle_USDe-feed"].min())),
         Target("USDe low outside", P.USDE_OUTSIDE,
                lambda r: float(r.series["price_USDe"].min())))),
}


def _rel(band: Band, x: float) -> float:
    if not math.isfinite(x):
        return 10.0  # a run without the figure counts as far outside
    return band.relative(x)


@dataclass
class Evaluation:
    values: dict[str, float | int]
    loss: float
    figures: dict[str, list[float]]  # target -> per seed


def evaluate(problem: Problem, values: dict[str, float | int], seeds: tuple[int, ...],
             n_traders: int | None = None) -> Evaluation:
    """Run the preset at ``values`` on every seed; the loss is the mean over seeds of the sum
    of squared relative residuals outside the bands."""
    sc = problem.scenario(values, n_traders)
    figures: dict[str, list[float]] = {t.name: [] for t in problem.targets}
    losses = []
    for s in seeds:
        r = simulate(sc, seed=s)
        total = 0.0
        for t in problem.targets:
            x = float(t.measure(r))
            figures[t.name].append(x)
            total += _rel(t.band, x) ** 2
        losses.append(total)
    return Evaluation(dict(values), float(np.mean(losses)), figures)


@dataclass
class Fit:
    problem: Problem
    before: Evaluation
    after: Evaluation
    evaluations: int
    seconds: float
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        def targets(ev: Evaluation) -> list[dict[str, Any]]:
            out = []
            for t in self.problem.targets:
                vals = ev.figures[t.name]
                med = float(np.median(vals))
                out.append({"target": t.name, "per_seed": vals, "median": med,
                            "residual": t.band.residual(med), "relative": _rel(t.band, med),
                            "inside": t.band.residual(med) == 0.0})
            return out

        current = self.before.values
        return {
            "preset": self.problem.preset,
            "settings": self.settings,
            "note": self.problem.note,
            "params": [{"name": p.name, "low": p.low, "high": p.high, "log": p.log,
                        "integer": p.integer, "why": p.why, "current": current[p.name],
                        "fitted": self.after.values[p.name]} for p in self.problem.params],
            "targets": [{"target": t.name, "low": t.band.low, "high": t.band.high,
                         "basis": t.band.basis, "log": t.band.log, "fmt": t.band.fmt,
                         "scale": t.band.scale} for t in self.problem.targets],
            "before": {"loss": self.before.loss, "targets": targets(self.before)},
            "after": {"loss": self.after.loss, "targets": targets(self.after)},
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 1),
        }


def calibrate(problem: Problem, *, budget: int = 40, seeds: tuple[int, ...] = (1, 2),
              n_traders: int | None = None, seed: int = 0,
              log: Callable[[str], None] = lambda s: None) -> Fit:
    """Search ``problem``'s box within ``budget`` evaluations (Latin hypercube, then bounded
    Nelder-Mead from the best point). Deterministic for a given ``seed``."""
    start = time.perf_counter()
    params = problem.params
    cache: dict[tuple[float | int, ...], Evaluation] = {}

    def at(u: np.ndarray) -> Evaluation:
        values = {p.name: p.value(x) for p, x in zip(params, u, strict=True)}
        key = tuple(values.values())
        if key not in cache:
            cache[key] = evaluate(problem, values, seeds, n_traders)
            log(f"  [{len(cache):3d}] loss {cache[key].loss:9.4f}  "
                + ", ".join(f"{k}={v:.4g}" for k, v in values.items()))
        return cache[key]

    before = evaluate(problem, problem.current(), seeds, n_traders)
    log(f"  current: loss {before.loss:.4f}")
    n_lhs = max(2, min(budget, max(2 * len(params) + 2, budget // 2)))
    sample = qmc.LatinHypercube(d=len(params), seed=seed).random(n_lhs)
    cur = np.array([p.unit(float(before.values[p.name])) for p in params])
    best_u, best = cur, before
    for u in sample:
        ev = at(u)
        if ev.loss < best.loss:
            best_u, best = u, ev
    left = budget - len(cache)
    if left > 0 and best.loss > 0:
        res = minimize(lambda u: at(np.clip(u, 0, 1)).loss, best_u, method="Nelder-Mead",
                       bounds=[(0.0, 1.0)] * len(params),
                       options={"maxfev": left, "xatol": 1e-3, "fatol": 1e-6,
                                "initial_simplex": _simplex(best_u)})
        ev = at(np.clip(res.x, 0, 1))
        if ev.loss < best.loss:
            best = ev
    for ev in cache.values():  # the best point seen (Nelder-Mead may end elsewhere)
        if ev.loss < best.loss:
            best = ev
    return Fit(problem, before, best, len(cache), time.perf_counter() - start,
               {"budget": budget, "seeds": list(seeds), "seed": seed,
                "n_traders": n_traders or problem.n_traders, **problem.settings})


def _simplex(u: np.ndarray, step: float = 0.15) -> np.ndarray:
    pts = [u]
    for i in range(len(u)):
        v = u.copy()
        v[i] = v[i] + step if v[i] + step <= 1 else v[i] - step
        pts.append(v)
    return np.array(pts)


def recheck(path: Path) -> dict[str, Any]:
    """Judge every claim of the validation report for the preset of the fit at ``path`` at
    the preset's values and at the fitted values (the full report's scale: 1,000 traders,
    seeds 1-3) and record both under ``"checks"``: a fit that meets its targets must not break
    the preset's other claims (who defaults, an order of events, the counterfactuals)."""
    from experiments.validation.checks import FULL

    doc = json.loads(path.read_text())
    case = next(c for c in P.CASES if c.preset == doc["preset"])
    fitted = {p["name"]: p["fitted"] for p in doc["params"]}
    rows = []
    at_current = P.judge_case(case, P.run_case(case, FULL))
    at_fit = P.judge_case(case, P.run_case(case, FULL, fitted))
    for a, b in zip(at_current, at_fit, strict=True):
        rows.append({"claim": a.claim, "current": a.passed, "fitted": b.passed,
                     "fitted_observed": b.observed})
    doc["checks"] = rows
    path.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    return doc


def write(fit: Fit, out_dir: Path = OUT_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{fit.problem.preset}.json"
    path.write_text(json.dumps(fit.to_json(), indent=1, default=float) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.calibrate",
                                 description="Fit a historical preset's free parameters to "
                                             "its sources' bands.")
    ap.add_argument("preset", choices=[*sorted(PROBLEMS), "all"])
    ap.add_argument("--budget", type=int, default=40, help="evaluations in all (default 40)")
    ap.add_argument("--seeds", type=int, default=2, help="replications per point (default 2)")
    ap.add_argument("--n-traders", type=int, default=None,
                    help="traders per run (default 1,000, the validation report's)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--no-recheck", action="store_true",
                    help="skip judging the report's claims at the fitted point")
    ap.add_argument("--recheck-only", action="store_true",
                    help="only judge the report's claims for the fit already written")
    args = ap.parse_args(argv)
    if args.budget < 1 or args.seeds < 1:
        print("--budget and --seeds must be at least 1", file=sys.stderr)
        return 2
    names = sorted(PROBLEMS) if args.preset == "all" else [args.preset]
    for name in names:
        if args.recheck_only:
            doc = recheck(args.out / f"{name}.json")
            print(f"{name}: checks at current / fitted values: "
                  f"{sum(r['current'] for r in doc['checks'])} / "
                  f"{sum(r['fitted'] for r in doc['checks'])} of {len(doc['checks'])} agree")
            continue
        print(f"{name}: budget {args.budget}, {args.seeds} seeds", flush=True)
        fit = calibrate(PROBLEMS[name], budget=args.budget,
                        seeds=tuple(range(1, args.seeds + 1)), n_traders=args.n_traders,
                        seed=args.seed,
                        log=(lambda s: None) if args.quiet else (lambda s: print(s, flush=True)))
        path = write(fit, args.out)
        if not args.no_recheck:
            recheck(path)
        print(f"{name}: loss {fit.before.loss:.4f} -> {fit.after.loss:.4f} in "
              f"{fit.evaluations} evaluations, {fit.seconds:.0f} s -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
