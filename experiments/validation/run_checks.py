"""Issue 12's lender runs and correlated prices against history.

Three checks. A run on a lending pool (preset ``lender_run``) against the shape of the
Stream Finance / xUSD episode of November 2025 (utilisation at 100%, the borrow rate at the
top of the curve, the bad debt the curators later realised), with its counterfactual (the
same loss without a run freezes nobody). The price model's correlation of ETH and BTC
returns on a crash day (preset ``broad_downturn``) against the BTC-ETH correlation reported
for 2022. And the tail-loss ratio of ``experiments/correlation_tails.toml`` (expected
shortfall of insolvent debt, correlated vs independent noise on the same marginals), read
from the sweep's committed table.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["CORRELATION_SOURCE", "RUN_SOURCE", "TAILS_TABLE", "run_and_correlation_section"]

RUN_SOURCE = (
    "Stream Finance / xUSD, 3-13 Nov 2025 (secondary reports): Asksurf report "
    "(followin.io/trendingTopic/2647): xUSD to $0.26, MEV Capital's xUSD/USDC Morpho market "
    "at 100% utilisation and an 88% borrow rate; Lista DAO vaults at 99% (sucarha.com, 6 Nov); "
    "MEV Capital's vault notes (notion.so, Elixir deUSD Morpho vault postmortem): 3.6% bad "
    "debt in its Ethereum USDC vault (12 Nov), ~$600k on ~$5M on Arbitrum (13 Nov); "
    "M. Egalite (Morpho): lenders withdrawing at once leave no short-term liquidity")
CORRELATION_SOURCE = (
    "EQONEX / Messari data, 13 May 2022 (learn.eqonex.com/news/crypto-correlations): BTC-ETH "
    "correlation 0.92 in 2022 to 12 May; K33 (Arcane) Research, 14 Dec 2022 "
    "(k33.com/research/archive/articles/ethbtc-30-day-correlation-near-all-time-highs): 30-day "
    "correlation 0.97; Arcane Research's 2022 review: around 0.9 or more all year")
TAILS_SOURCE = ("Issue 12: correlation must raise tail losses against independent paths on the "
                "same marginals; `experiments/correlation_tails.toml` (200 runs per arm)")

#: The correlation_tails sweep's table (``contagion report`` of the 400 runs, committed).
TAILS_TABLE = Path(__file__).resolve().parents[1] / "figures" / "correlation_tails.csv"


def _lender_run(n_traders: int, seed: int, *, run: bool = True) -> dict[str, float]:
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("lender_run", n_traders=n_traders, supplier_run=run)
    m = ContagionModel(sc, seed=seed)
    lend = m.lending[0]
    claims = lend.claims_usd()
    m.run()
    ev = m.events_frame
    s = m.datacollector.get_model_vars_dataframe()
    freeze = ev[(ev["kind"] == "withdrawal_freeze") & (ev["venue"] == lend.name)]
    out = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == lend.name)]
    step = int(freeze["step"].iloc[0]) if len(freeze) else -1
    return {
        "freeze_step": float(step),
        "freeze_utilisation": float(freeze["utilisation"].iloc[0]) if len(freeze) else float(
            s[f"utilisation_{lend.name}"].max()),
        "max_rate": float(s[f"borrow_rate_{lend.name}"].max()),
        "bad_debt_frac": lend.bad_debt_usd / claims,
        "out_before_frac": float(out.loc[out["step"] <= step, "value_usd"].sum()) / claims,
        "out_after_usd": float(out.loc[out["step"] > step, "value_usd"].sum()) if step >= 0
        else 0.0,
        "max_utilisation": float(s[f"utilisation_{lend.name}"].max()),
    }


def _run_checks(scale: Scale) -> list[Check]:
    from models import scenario_parameters

    seeds, n = scale.preset_seeds, scale.preset_traders
    on = [_lender_run(n, seed) for seed in seeds]
    off = [_lender_run(n, seed, run=False) for seed in seeds]
    start = int(scenario_parameters("lender_run")["depeg_start_step"])
    shape = Check.banded(
        "A run on a lending pool whose collateral collapses: bad debt sends suppliers out, "
        "utilisation reaches 100% and withdrawals freeze, the borrow rate climbs to the top "
        "of its curve, and the pool realises bad debt of the size the curators reported",
        RUN_SOURCE,
        [verdict("utilisation at the freeze", [r["freeze_utilisation"] for r in on], Band(
            0.99, 1.0, "the xUSD markets at 100% (Asksurf), Lista's at 99%", "{:.1%}")),
         verdict("highest borrow rate", [r["max_rate"] for r in on], Band(
             0.80, 0.96, "88% a year on the xUSD/USDC market at 100% (Asksurf), +-8 points; "
             "the preset's curve tops at 88%", "{:.0%}")),
         verdict("bad debt, share of the suppliers' starting claims",
                 [r["bad_debt_frac"] for r in on], Band(
                     0.036, 0.12, "MEV Capital's vaults: 3.6% (Ethereum) to ~12% (Arbitrum, "
                     "~$600k of ~$5M)", "{:.1%}"))],
        "`lender_run`, " + f"{n} traders; the freeze comes "
        + " / ".join(f"{(r['freeze_step'] - start) * 5:.0f}" for r in on)
        + " minutes after xUSD starts to fall; suppliers got out "
        + " / ".join(f"{r['out_before_frac']:.0%}" for r in on)
        + " of their claims before it and "
        + " / ".join(f"${r['out_after_usd'] / 1e6:.1f}M" for r in on)
        + " after it, only as liquidations and repayments brought cash back")
    stay = all(r["freeze_step"] < 0 and r["max_utilisation"] < 0.99 for r in off)
    same_loss = max(abs(a["bad_debt_frac"] / b["bad_debt_frac"] - 1) for a, b in zip(
        on, off, strict=True))
    highest = {k: " / ".join(f"{r['max_utilisation']:.0%}" for r in runs)
               for k, runs in (("off", off), ("on", on))}
    counterfactual = Check(
        "The freeze is the run's doing: with the same loss and suppliers who stay "
        "(`supplier_run=False`) the pool never reaches 100% and nothing freezes, while the "
        "bad debt is the same", RUN_SOURCE,
        f"highest utilisation without the run {highest['off']} (with it {highest['on']}); "
        f"bad debt differs by at most {same_loss:.1%}",
        stay and same_loss < 0.02)
    return [shape, counterfactual]


def _correlation_check(scale: Scale) -> Check:
    from contagion.model import ContagionModel
    from models import get_scenario

    corr = []
    for seed in scale.preset_seeds:
        sc = get_scenario("broad_downturn", n_traders=scale.preset_traders, steps=288)
        market = ContagionModel(sc, seed=seed).market
        eth, btc = (np.log(market.path[market.index[a]]) for a in ("ETH", "BTC"))
        corr.append(float(np.corrcoef(np.diff(eth), np.diff(btc))[0, 1]))
    return Check.banded(
        "On a crash day (ETH -30%, BTC -25%) the price model's ETH and BTC returns are as "
        "correlated as BTC and ETH were through 2022", CORRELATION_SOURCE,
        [verdict("correlation of five-minute log returns over 24 hours", corr, Band(
            0.85, 0.97, "0.92 in 2022 to 12 May (Messari); 30-day 0.9 or more all year, 0.97 "
            "in December (Arcane/K33)", "{:.3f}"))],
        "`broad_downturn` (noise correlation 0.9 for ETH-BTC, Student-t with GARCH around "
        "each asset's own crash), 288 steps; returns include the crash")


def _tails_check() -> Check:
    rows = {(r["noise"], r["measure"]): r for r in csv.DictReader(TAILS_TABLE.open())}
    corr, indep = rows[("correlated", "VaR")], rows[("independent", "VaR")]
    es_c, es_i = float(corr["es_usd"]), float(indep["es_usd"])
    ratio = es_c / es_i
    return Check(
        "Correlation raises tail losses: the expected shortfall of insolvent debt is larger "
        "when the majors' noise is correlated than when it is independent on the same marginals",
        TAILS_SOURCE,
        f"ES({float(corr['level']):.0%}) ${es_c / 1e3:,.0f}k correlated vs ${es_i / 1e3:,.0f}k "
        f"independent: {ratio:.2f}x over {corr['runs']} + {indep['runs']} runs "
        f"(`experiments/figures/correlation_tails.csv`)", ratio > 1.0)


def run_and_correlation_section(scale: Scale) -> Section:
    """Lender runs and correlated prices against history (issue 12)."""
    return Section(
        "Lender runs and correlated prices against history (issue 12)",
        "A run on a lending pool against the Stream Finance / xUSD episode (stylised: the "
        "preset's curve is set from the same report, so the rate's band checks that the run "
        "drives it to the top, not the curve itself); the price model's correlation against "
        "2022's BTC-ETH correlation; and the correlated-vs-independent tail of "
        "correlation_tails, a measured line (yes if correlation raises it).",
        [*_run_checks(scale), _correlation_check(scale), _tails_check()], {})
