"""Benchmark: the vectorised engine against the usual one-Mesa-agent-per-account model.

Run from the repository root::

    .venv/bin/python experiments/bench/bench_engine.py            # full run, several minutes
    .venv/bin/python experiments/bench/bench_engine.py --quick    # 1e3 and 1e4, 20 steps
    .venv/bin/python experiments/bench/bench_engine.py --repeat 3 --readme README.md
                                                    # and rewrite the README's figures

Two sides, each measured in a fresh subprocess per size (this script re-run with the
hidden ``--one`` flag), so that ``ru_maxrss`` measures one model and nothing else:

engine
    ``ContagionModel(get_scenario("default", n_traders=n, steps=steps), seed=1)`` and
    ``model.run()``: the full step pipeline (market, pools, oracles, top-ups, custodial
    exchange, lending and perp liquidations, firm, credit clearing, data collection) over
    the lending, perp and deposit books. Accounts are the rows of those books.
per-agent
    :class:`BaselineMarket`: one ``mesa.Agent`` per lending account (:class:`Borrower`) and
    per perp account (:class:`PerpAccount`), drawn with the engine's own book builders for
    the same scenario, stepped by ``self.agents.shuffle_do("step")``. Each agent does, with
    Python scalars, the per-account arithmetic the engine does on arrays: health factor,
    close factor, seizure with bonus and bad-debt write-off; equity against maintenance
    margin and closing the position. The oracle price follows the engine's default ETH
    crash (35% over 36 steps from step 12, linear in log); EXT and LND stay flat.

Memory: ``ru_maxrss`` after imports and a tiny warm-up run (the baseline), then after
building and running the model (the peak); bytes per account = (peak - baseline) / accounts.
A second subprocess per size repeats build and run under :mod:`tracemalloc` (slower, so
not timed) and reports its traced peak. At 1e3 accounts the RSS figure is mostly noise.

The script prints PASS/FAIL against the targets (ratio >= 50x at 1e5; 1e6 accounts x 100
steps in < 10 s; < 400 bytes per account at 1e6). They are informational: the exit status
is 0 unless a measurement crashed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Measurement", "main", "measure"]

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
QUICK_STEPS = 20
REDUCED_STEPS = 20  # per-agent steps when a full run would exceed --baseline-budget
SIDES = ("engine", "per-agent")
TARGET_RATIO, TARGET_RATIO_N = 50.0, 100_000
TARGET_RUN_S, TARGET_BYTES, TARGET_BIG_N, TARGET_BIG_STEPS = 10.0, 400.0, 1_000_000, 100


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """One side at one size, as measured by a ``--one`` subprocess."""

    side: str
    n: int
    accounts: int
    steps: int  # steps asked for
    measured_steps: int  # steps actually run (fewer when extrapolated)
    build_s: float
    run_s: float  # measured_steps of run time
    baseline_rss_bytes: int
    peak_rss_bytes: int
    liquidations: int
    tracemalloc_peak_bytes: int | None = None
    bound_ms: float | None = None  # the bare numpy margin check of these books, ms a step
    bound_accounts: int | None = None  # the lending and perp accounts that check reads

    @property
    def account_steps_per_s(self) -> float:
        return self.accounts * self.measured_steps / self.run_s

    @property
    def s_per_step(self) -> float:
        return self.run_s / self.measured_steps

    @property
    def run_s_full(self) -> float:
        """Run time for ``steps`` steps (extrapolated per step if fewer were run)."""
        return self.s_per_step * self.steps

    @property
    def extrapolated(self) -> bool:
        return self.measured_steps != self.steps

    @property
    def rss_bytes_per_account(self) -> float:
        return (self.peak_rss_bytes - self.baseline_rss_bytes) / self.accounts

    @property
    def traced_bytes_per_account(self) -> float | None:
        if self.tracemalloc_peak_bytes is None:
            return None
        return self.tracemalloc_peak_bytes / self.accounts


# --------------------------------------------------------------------------- per-agent side
# Imported lazily (inside the functions) so that the parent process stays small.


def _baseline_classes() -> tuple[type, type, type]:
    """Define the per-agent model's classes (Mesa is imported only in the subprocess)."""
    import mesa

    class Borrower(mesa.Agent):
        """An Aave-like borrower: one collateral asset, stablecoin debt, liquidates itself."""

        def __init__(self, model: Any, *, asset: int, collateral_units: float, debt_usd: float,
                     lt: float, bonus: float) -> None:
            super().__init__(model)
            self.asset = asset
            self.collateral_units = collateral_units
            self.debt_usd = debt_usd
            self.lt = lt
            self.bonus = bonus

        def step(self) -> None:
            debt = self.debt_usd
            if debt <= 0.0:
                return
            m = self.model
            price = m.oracle_price[self.asset]
            value = self.collateral_units * price
            if value < m.bad_debt_dust_usd and debt > value:  # collateral exhausted
                m.bad_debt_usd += debt
                self.debt_usd = 0.0
                return
            hf = value * self.lt / debt
            if hf >= 1.0 or debt <= m.bad_debt_dust_usd:
                return
            cf = 1.0 if hf <= m.full_close_below_hf else m.close_factor
            repay = cf * debt
            seized = repay / price * (1.0 + self.bonus)
            if seized > self.collateral_units:
                seized = self.collateral_units
                repay = seized * price / (1.0 + self.bonus)
            self.debt_usd = debt - repay
            self.collateral_units -= seized
            m.repaid_usd += repay
            m.liquidations += 1

    class PerpAccount(mesa.Agent):
        """An isolated-margin perp account, closed at the mark below maintenance margin."""

        def __init__(self, model: Any, *, asset: int, collateral_usd: float, size: float,
                     entry: float, mmr: float) -> None:
            super().__init__(model)
            self.asset = asset
            self.collateral_usd = collateral_usd
            self.size = size
            self.entry = entry
            self.mmr = mmr

        def step(self) -> None:
            size = self.size
            if size == 0.0:
                return
            m = self.model
            mark = m.oracle_price[self.asset]
            notional = abs(size) * mark
            equity = self.collateral_usd + size * (mark - self.entry)
            if equity >= notional * self.mmr:
                return
            fee = min(m.liquidation_fee_frac * notional, max(equity, 0.0))
            left = equity - fee
            if left < 0.0:  # the insurance fund pays the shortfall
                m.bad_debt_usd -= left
                left = 0.0
            self.collateral_usd = left
            self.size = 0.0
            self.entry = mark
            m.fees_usd += fee
            m.liquidations += 1

    class BaselineMarket(mesa.Model):
        """The usual Mesa way: agents own their state; the model moves the oracle price."""

        def __init__(self, *, price_path: list[list[float]], seed: int, close_factor: float,
                     full_close_below_hf: float, bad_debt_dust_usd: float,
                     liquidation_fee_frac: float) -> None:
            super().__init__(seed=seed)
            self.price_path = price_path  # [step][asset]
            self.oracle_price = list(price_path[0])
            self.close_factor = close_factor
            self.full_close_below_hf = full_close_below_hf
            self.bad_debt_dust_usd = bad_debt_dust_usd
            self.liquidation_fee_frac = liquidation_fee_frac
            self.repaid_usd = 0.0
            self.bad_debt_usd = 0.0
            self.fees_usd = 0.0
            self.liquidations = 0

        def step(self) -> None:
            self.oracle_price = list(self.price_path[self.steps])
            self.agents.shuffle_do("step")

    return Borrower, PerpAccount, BaselineMarket


def build_baseline(n: int, steps: int, seed: int) -> Any:
    """The per-agent model for the default scenario with ``n`` traders.

    Accounts are drawn with the engine's own builders (same distributions, no firm row,
    no cross margin), then copied into agents; the arrays are freed before the run.
    """
    import numpy as np

    from contagion.build import draw_lending_book, draw_perp_book, draw_wealth
    from contagion.mechanics.price_path import crash_path
    from models import get_scenario

    borrower_cls, perp_cls, market_cls = _baseline_classes()
    sc = get_scenario("default", n_traders=n, steps=steps)
    assets = [a.name for a in sc.assets if a.kind != "stable"]
    initial = {a.name: a.initial_price_usd for a in sc.assets}
    eth = next(p for p in sc.paths if p.kind == "crash")
    path = {a: [initial[a]] * (steps + 1) for a in assets}
    path[eth.asset] = crash_path(initial[eth.asset], steps, shock_frac=eth.shock_frac,
                                 start_step=eth.shock_start_step,
                                 duration_steps=eth.shock_duration_steps).tolist()
    lend = sc.lending[0]
    model = market_cls(
        price_path=[list(p) for p in zip(*(path[a] for a in assets), strict=True)], seed=seed,
        close_factor=lend.close_factor, full_close_below_hf=lend.full_close_below_hf,
        bad_debt_dust_usd=lend.bad_debt_dust_usd,
        liquidation_fee_frac=sc.perps[0].liquidation_fee_frac)
    rng = np.random.default_rng(seed)
    wealth = draw_wealth(sc, rng)
    for i, v in enumerate(sc.lending):
        book = draw_lending_book(sc, i, wealth, initial, [], rng)
        main_col = np.argmax(book.collateral, axis=1)
        units = book.collateral[np.arange(len(book)), main_col].tolist()
        debts = book.debt.tolist()
        cols = main_col.tolist()
        del book
        for j, u, d in zip(cols, units, debts, strict=True):
            c = v.collateral[j]
            borrower_cls(model, asset=assets.index(c.asset), collateral_units=u, debt_usd=d,
                         lt=c.liquidation_threshold, bonus=c.liquidation_bonus)
    for i, pv in enumerate(sc.perps):
        perp = draw_perp_book(sc, i, wealth, initial[pv.asset], np.zeros(n, dtype=bool), rng)
        rows = zip(perp.collateral[1:].tolist(), perp.size[1:, 0].tolist(),
                   perp.entry[1:, 0].tolist(), strict=True)  # row 0 is the outside market
        del perp
        for c_usd, s, e in rows:
            perp_cls(model, asset=assets.index(pv.asset), collateral_usd=c_usd, size=s, entry=e,
                     mmr=pv.maintenance_margin_frac)
    return model


# --------------------------------------------------------------------------- measurement


def _build(side: str, n: int, steps: int, seed: int) -> tuple[Any, int]:
    """Build one side's model; return it and its number of accounts."""
    if side == "engine":
        from contagion.model import ContagionModel
        from models import get_scenario

        model = ContagionModel(get_scenario("default", n_traders=n, steps=steps), seed=seed)
        accounts = (sum(len(v.book) for v in model.lending)
                    + sum(len(v.book) for v in model.perps)
                    + sum(len(v.book) for v in model.custodial))
        return model, accounts
    model = build_baseline(n, steps, seed)
    return model, len(model.agents)


def _run(side: str, model: Any, steps: int) -> int:
    """Run ``steps`` steps; return the number of liquidations."""
    if side == "engine":
        model.run(steps)
        return (sum(v.liquidation_count for v in model.lending)
                + sum(v.liquidation_count for v in model.perps))
    for _ in range(steps):
        model.step()
    return int(model.liquidations)


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(side: str, n: int, steps: int, run_steps: int, seed: int, *,
            trace: bool) -> Measurement:
    """Build and run one side at one size in this process (call in a fresh process).

    With ``trace`` the build and run happen under :mod:`tracemalloc` and only its peak is
    meaningful; the times are then not comparable.
    """
    for _ in range(2):  # warm-up: lazy imports, caches; the baseline RSS includes them
        warm, _accounts = _build(side, 200, 3, seed)
        _run(side, warm, 3)
        del warm
    gc.collect()
    baseline = _maxrss_bytes()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    model, accounts = _build(side, n, steps, seed)
    t1 = time.perf_counter()
    liquidations = _run(side, model, run_steps)
    t2 = time.perf_counter()
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    peak = _maxrss_bytes()
    bound_ms = bound_accounts = None
    if side == "engine" and not trace:  # the cheapest step numpy allows on the same books
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from numpy_bound import bound_ms_for_model

        bound_ms, bound_accounts = bound_ms_for_model(model)
    return Measurement(side=side, n=n, accounts=accounts, steps=steps, measured_steps=run_steps,
                       build_s=t1 - t0, run_s=t2 - t1, baseline_rss_bytes=baseline,
                       peak_rss_bytes=peak, liquidations=liquidations,
                       tracemalloc_peak_bytes=traced, bound_ms=bound_ms,
                       bound_accounts=bound_accounts)


def _measure_in_subprocess(side: str, n: int, steps: int, run_steps: int, seed: int, *,
                           trace: bool) -> Measurement:
    cmd = [sys.executable, os.path.abspath(__file__), "--one", side, "--sizes", str(n),
           "--steps", str(steps), "--run-steps", str(run_steps), "--seed", str(seed)]
    if trace:
        cmd.append("--trace")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{side} n={n} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    fields = json.loads(out.stdout.strip().splitlines()[-1])
    return Measurement(**fields)


# --------------------------------------------------------------------------- report


def _fmt_rate(x: float) -> str:
    return f"{x / 1e6:,.2f} M" if x >= 1e6 else f"{x / 1e3:,.1f} k"


def _side_table(rows: list[Measurement]) -> list[str]:
    head = ("| n | accounts | build s | run s | account-steps/s | peak RSS MiB "
            "| B/account (RSS) | B/account (tracemalloc) | liquidations |")
    lines = [head, "|" + "---:|" * 9]
    for m in rows:
        run = f"{m.run_s_full:,.2f}" + (f"* ({m.measured_steps} steps)" if m.extrapolated else "")
        traced = m.traced_bytes_per_account
        lines.append(
            f"| {m.n:,} | {m.accounts:,} | {m.build_s:,.2f} | {run} "
            f"| {_fmt_rate(m.account_steps_per_s)} | {m.peak_rss_bytes / 2**20:,.0f} "
            f"| {m.rss_bytes_per_account:,.0f} | {'-' if traced is None else f'{traced:,.0f}'} "
            f"| {m.liquidations:,} |")
    return lines


def _comparison_table(engine: dict[int, Measurement], agent: dict[int, Measurement]) -> list[str]:
    lines = ["| n | engine account-steps/s | per-agent account-steps/s | ratio "
             "| engine ms/step | per-agent ms/step | same-n time ratio "
             "| numpy bound ms/step | engine / bound |", "|" + "---:|" * 9]
    for n in sorted(engine):
        e, a = engine[n], agent.get(n)
        bound = ("- | -" if e.bound_ms is None else
                 f"{e.bound_ms:,.2f} | {e.s_per_step * 1e3 / e.bound_ms:,.1f}x")
        if a is None:
            lines.append(f"| {n:,} | {_fmt_rate(e.account_steps_per_s)} | - | - "
                         f"| {e.s_per_step * 1e3:,.1f} | - | - | {bound} |")
            continue
        lines.append(
            f"| {n:,} | {_fmt_rate(e.account_steps_per_s)} | {_fmt_rate(a.account_steps_per_s)} "
            f"| {e.account_steps_per_s / a.account_steps_per_s:,.1f}x "
            f"| {e.s_per_step * 1e3:,.1f} | {a.s_per_step * 1e3:,.1f} "
            f"| {a.s_per_step / e.s_per_step:,.1f}x | {bound} |")
    return lines


def _target_lines(engine: dict[int, Measurement], agent: dict[int, Measurement]) -> list[str]:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = []
    e, a = engine.get(TARGET_RATIO_N), agent.get(TARGET_RATIO_N)
    if e and a:
        ratio = e.account_steps_per_s / a.account_steps_per_s
        lines.append(f"{verdict(ratio >= TARGET_RATIO)}  ratio at n={TARGET_RATIO_N:,}: "
                     f"{ratio:,.1f}x (target >= {TARGET_RATIO:.0f}x)")
    else:
        lines.append(f"SKIP  ratio at n={TARGET_RATIO_N:,}: not measured on both sides")
    big = engine.get(TARGET_BIG_N)
    if big and big.steps == TARGET_BIG_STEPS:
        lines.append(f"{verdict(big.run_s_full < TARGET_RUN_S)}  run time at "
                     f"n={TARGET_BIG_N:,} ({big.accounts:,} accounts) x {big.steps} steps: "
                     f"{big.run_s_full:,.2f} s (target < {TARGET_RUN_S:.0f} s)")
        lines.append(f"{verdict(big.rss_bytes_per_account < TARGET_BYTES)}  memory at "
                     f"n={TARGET_BIG_N:,}: {big.rss_bytes_per_account:,.0f} B/account peak RSS "
                     f"(target < {TARGET_BYTES:.0f})")
    else:
        lines.append(f"SKIP  run time and memory at n={TARGET_BIG_N:,} x {TARGET_BIG_STEPS} "
                     "steps: not measured")
    return lines


def _context() -> str:
    import mesa
    import numpy as np

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "contagion", "models"],
                               capture_output=True, text=True, check=True).stdout.strip()
        rev = head + (" + uncommitted changes in contagion/ or models/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        rev = "unknown"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{now}; git {rev}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"mesa {mesa.__version__}; {platform.machine()}, {os.cpu_count()} CPUs")


# --------------------------------------------------------------------------- CLI


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES),
                   help="comma-separated n_traders (default %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="steps per run (default 100)")
    p.add_argument("--baseline-max", type=int, default=100_000,
                   help="largest n for the per-agent side (default %(default)s)")
    p.add_argument("--baseline-budget", type=float, default=180.0,
                   help=f"seconds: if a per-agent run is predicted to take longer, run "
                        f"{REDUCED_STEPS} steps and extrapolate per step (default %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help=f"sizes {','.join(map(str, QUICK_SIZES))} and {QUICK_STEPS} steps")
    p.add_argument("--repeat", type=int, default=1,
                   help="timing runs per side and size, each in a fresh process; the fastest "
                        "is reported (default %(default)s)")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--seed", type=int, default=1, help="model seed (default 1)")
    p.add_argument("--readme", metavar="FILE",
                   help="also write the comparison table and the targets into FILE (the "
                        "project's README.md) between its bench_engine markers")
    p.add_argument("--one", choices=SIDES, help=argparse.SUPPRESS)
    p.add_argument("--run-steps", type=int, help=argparse.SUPPRESS)
    p.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.steps = ",".join(map(str, QUICK_SIZES)), QUICK_STEPS
    try:
        args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if not args.size_list or min(args.size_list) < 1 or args.steps < 1 or args.repeat < 1:
        p.error("--sizes must be positive integers, --steps and --repeat >= 1")
    return args


def _measure_side(side: str, sizes: list[int], args: argparse.Namespace) -> dict[int, Measurement]:
    results: dict[int, Measurement] = {}
    for n in sizes:
        run_steps = args.steps
        if side == "per-agent" and results:
            prev = results[max(results)]
            predicted_s = prev.accounts * n / prev.n * args.steps / prev.account_steps_per_s
            if predicted_s > args.baseline_budget:
                run_steps = min(REDUCED_STEPS, args.steps)
        print(f"[{side}] n={n:,}: timing {run_steps} steps x {args.repeat} ...",
              file=sys.stderr, flush=True)
        m = min((_measure_in_subprocess(side, n, args.steps, run_steps, args.seed, trace=False)
                 for _ in range(args.repeat)), key=lambda r: r.run_s)
        if not args.no_tracemalloc:
            print(f"[{side}] n={n:,}: tracemalloc ...", file=sys.stderr, flush=True)
            t = _measure_in_subprocess(side, n, args.steps, run_steps, args.seed, trace=True)
            m = Measurement(**{**asdict(m), "tracemalloc_peak_bytes": t.tracemalloc_peak_bytes})
        print(f"[{side}] n={n:,}: {m.accounts:,} accounts, run {m.run_s:,.2f} s",
              file=sys.stderr, flush=True)
        results[n] = m
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables; 0 unless a measurement crashed."""
    args = _parse(argv)
    if args.one:
        m = measure(args.one, args.size_list[0], args.steps, args.run_steps or args.steps,
                    args.seed, trace=args.trace)
        print(json.dumps(asdict(m)))
        return 0
    try:
        engine = _measure_side("engine", args.size_list, args)
        agent = _measure_side("per-agent", [n for n in args.size_list if n <= args.baseline_max],
                              args)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    best = f", fastest of {args.repeat} runs" if args.repeat > 1 else ""
    out = [f"# contagion engine benchmark, {args.steps} steps, seed {args.seed}{best}",
           _context(), "",
           "## Vectorised engine (ContagionModel, full step pipeline)", *_side_table(
               list(engine.values())), "",
           "## Per-agent Mesa baseline (one mesa.Agent per account, shuffle_do('step'))",
           *_side_table(list(agent.values())), ""]
    if any(m.extrapolated for m in agent.values()):
        out += [f"* run for fewer steps and extrapolated per step to {args.steps} steps "
                f"(predicted full run > {args.baseline_budget:g} s)", ""]
    out += ["## Comparison", *_comparison_table(engine, agent), "",
            "ratio = engine / per-agent account-steps per second; same-n time ratio = "
            "per-agent / engine seconds per step for the same n_traders.", "",
            "## Targets (informational)", *_target_lines(engine, agent)]
    print("\n".join(out), flush=True)
    if args.readme:
        try:
            write_readme_block(args.readme, readme_block(engine, agent, args))
        except (OSError, ValueError) as exc:
            print(f"benchmark: --readme {args.readme}: {exc}", file=sys.stderr)
            return 1
        print(f"\nwrote the figures into {args.readme}", file=sys.stderr)
    return 0


README_BEGIN = "<!-- bench_engine: begin (written by experiments/bench/bench_engine.py --readme) -->"
README_END = "<!-- bench_engine: end -->"


def readme_block(engine: dict[int, Measurement], agent: dict[int, Measurement],
                 args: argparse.Namespace) -> str:
    """The README's engine figures: how they were measured, the comparison table, the
    targets and one sentence on the largest run."""
    best = f"fastest of {args.repeat} runs, " if args.repeat > 1 else ""
    lines = [f"Measured {_context()}; {best}{args.steps} steps of the full step (market, pools, "
             "oracles, top-ups, bank run, liquidations, clearing, event log, data collection) "
             "against one Mesa agent per account running the same margin rules, and against "
             "the bare numpy margin check of the same books (`experiments/bench/"
             "numpy_bound.py`: each account read once, nothing else):", "",
             *_comparison_table(engine, agent), "", "```", *_target_lines(engine, agent), "```"]
    big = engine.get(max(engine))
    lines += ["", f"{big.n:,} traders ({big.accounts:,} accounts) run {big.steps} steps in "
                  f"{big.run_s_full:,.2f} s using {big.rss_bytes_per_account:,.0f} bytes per "
                  "account."]
    return "\n".join(lines)


def write_readme_block(path: str, block: str) -> None:
    """Replace what stands between :data:`README_BEGIN` and :data:`README_END` in ``path``
    with ``block`` (written to a temporary file first, then renamed over it); ValueError if
    the markers are missing."""
    text = open(path, encoding="utf-8").read()
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"no {README_BEGIN!r} ... {README_END!r} markers")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_BEGIN}\n{block}\n{README_END}{tail}"
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
