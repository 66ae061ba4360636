"""Issue 13's bridges in the engine against the bridge's own rules.

Three checks on the preset ``bridge_exploit`` over the preset seeds:

- the claim's price: at every ``claim_repriced`` event the engine's new price is the old one
  times the ratio of :func:`contagion.mechanics.bridge.claim_price_factor` now to before,
  the factor recomputed from the bridge's parameters and the ``backing_<bridge>`` series
  only (a run with an exploit, a halt discount and a refill, so the factor moves three times:
  the exploit under the halt, the refill under the halt, the halt's end);
- the losses: the lender that takes the claim (SolLend) loses with the exploit and almost
  nothing without it, the lender that takes the underlying (EthLend) the same either way;
- the frozen transfers: the cross-margin a halt holds is what settles when it ends, on the
  first step after it, and a one-step halt lets the same transfer arrive after the bridge's
  finality.

The sources are the rule itself (a claim redeems for ``min(1, locked / minted)`` of its
underlying) and the incidents it is drawn from (Wormhole, February 2022; Multichain and Geist,
July 2023; see the module docstring of ``contagion.mechanics.bridge``); no published series
of a bridged claim's price is compared (the stylised preset has no history).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["BRIDGE_SOURCE", "bridge_section"]

BRIDGE_SOURCE = ("contagion.mechanics.bridge (claim_price_factor: a claim redeems for min(1, "
                 "locked / minted) of its underlying, less a discount while halted); Wormhole "
                 "(Feb 2022, 120,000 wETH unbacked until Jump's refill), Multichain/Geist (July "
                 "2023, bridged assets at ~22%, lenders of them with bad debt)")


def _run(seed: int, n_traders: int, **kw: Any) -> Any:
    from contagion.runner import simulate
    from models import get_scenario

    return simulate(get_scenario("bridge_exploit", n_traders=n_traders, **kw), seed=seed)


def _price_gap(run: Any) -> tuple[float, int]:
    """Largest relative gap of a repriced claim's price to the rule's, and the repricings."""
    from contagion.mechanics.bridge import claim_price_factor

    bridge = run.scenario.bridges[0]
    backing = run.series[f"backing_{bridge.name}"]
    ev = run.events[run.events["kind"] == "claim_repriced"]
    before, worst = 1.0, 0.0
    for r in ev.itertuples(index=False):
        step = int(r.step)
        factor = claim_price_factor(float(backing.loc[step]), halted=bridge.halted_at(step),
                                    halt_discount_frac=bridge.halt_discount_frac)
        want = float(r.price_before) * factor / before
        worst = max(worst, abs(float(r.price) - want) / want)
        before = factor
    return worst, len(ev)


def _bad_debt(run: Any, venue: str) -> float:
    ev = run.events
    return float(ev[(ev["kind"] == "bad_debt") & (ev["venue"] == venue)]["value_usd"].sum())


def _frozen(run: Any) -> tuple[float, int, float]:
    """(gap between the halt's released amount and what settled then, share of it; steps
    late against the first step after the halt; the transfers' total)."""
    ev = run.events
    end = ev[(ev["kind"] == "bridge_halt") & (ev["phase"] == "end")]
    due = ev[(ev["kind"] == "settlement_due") & (ev["amount"] > 0)]
    total = float(due["amount"].sum())
    if end.empty or due.empty:
        return 0.0, 0, total
    step = int(end["step"].iloc[0])
    settled = float(due[due["step"] == step]["amount"].sum())
    gap = abs(float(end["in_flight_usd"].iloc[0]) - settled) / max(settled, 1.0)
    late = int((due["step"] - step).abs().max())
    return gap, late, total


def bridge_section(scale: Scale) -> Section:
    """A bridged claim's price, its lenders' losses and the transfers a halt froze."""
    n, seeds = scale.preset_traders, scale.preset_seeds
    rows = []
    for seed in seeds:
        on, off = _run(seed, n), _run(seed, n, exploit_frac=0.0)
        moving = _run(seed, n, halt_discount_frac=0.3, recapitalise_step=24)
        short = _run(seed, n, halt_steps=1)
        gap, repricings = _price_gap(moving)
        gap_on, _ = _price_gap(on)
        frozen_gap, late, frozen_total = _frozen(on)
        opened = short.events[(short.events["kind"] == "settlement_due")
                              & (short.events["amount"] > 0)]
        finality = int(on.scenario.bridges[0].finality_steps)
        rows.append({
            "seed": seed, "price_gap": max(gap, gap_on), "repricings": repricings,
            "sol_on": _bad_debt(on, "SolLend"), "sol_off": _bad_debt(off, "SolLend"),
            "eth_on": _bad_debt(on, "EthLend"), "eth_off": _bad_debt(off, "EthLend"),
            "frozen_gap": frozen_gap, "late": late, "frozen_total": frozen_total,
            "short_late": int((opened["step"] - opened["opened_step"] - finality).abs().max())
            if len(opened) else 0})
    t = pd.DataFrame(rows)
    exact = Band(0.0, 1e-12, "the rule; float rounding only", "{:.1e}")
    price_check = Check.banded(
        "A bridged claim trades at its redemption value: the underlying's price times "
        "min(1, locked / minted), less the halt discount while the bridge is halted",
        BRIDGE_SOURCE,
        [verdict("largest relative gap of the repriced claim to the rule",
                 t["price_gap"].tolist(), exact)],
        f"`bridge_exploit` at {n} traders, seeds {', '.join(map(str, seeds))}: "
        f"{int(t['repricings'].iloc[0])} repricings a run with an exploit, a 0.3 halt discount "
        "and a refill at hour 24")
    share = (t["sol_off"] / t["sol_on"].clip(lower=1.0)).tolist()
    spill = ((t["eth_on"] - t["eth_off"]).abs() / t["sol_on"].clip(lower=1.0)).tolist()
    loss_check = Check.banded(
        "An exploit hits every venue that accepts the bridged claim as collateral (Geist on "
        "Fantom, 2023) and not those that take the underlying", BRIDGE_SOURCE,
        [verdict("SolLend's bad debt without the exploit, share of that with it", share,
                 Band(0.0, 0.05, "the claim's lender loses through the claim (design)",
                      "{:.4f}")),
         verdict("change of EthLend's bad debt with the exploit, share of SolLend's loss",
                 spill, Band(0.0, 0.01, "the underlying's lender does not (design)", "{:.4f}"))],
        f"seed {seeds[0]}: SolLend ${t['sol_on'].iloc[0] / 1e6:.2f}M with the exploit, "
        f"${t['sol_off'].iloc[0] / 1e3:.1f}k without")
    frozen_check = Check.banded(
        "A halt freezes the transfers in flight across the bridge: what it releases at its end "
        "is what settles then, and nothing arrives before; with a one-step halt the same "
        "transfer arrives after the bridge's finality", BRIDGE_SOURCE,
        [verdict("gap of the released amount to the transfers settled (share)",
                 t["frozen_gap"].tolist(), exact),
         verdict("steps between a frozen transfer's arrival and the halt's end",
                 t["late"].astype(float).tolist(), Band(0.0, 0.0, "the rule", "{:.0f}")),
         verdict("steps between a transfer's arrival and its finality, one-step halt",
                 t["short_late"].astype(float).tolist(), Band(0.0, 0.0, "the rule", "{:.0f}"))],
        f"seed {seeds[0]}: ${t['frozen_total'].iloc[0] / 1e3:,.0f}k of cross-margin frozen")
    return Section(
        "Bridges and cross-chain margin (issue 13)",
        "`bridge_exploit`: Portal is drained of 60% of its locked ETH and halts for 24 hours "
        "while ETH falls 20%. The claim's price, its lenders' losses and the cross-margin the "
        "halt froze against the bridge's rules, recomputed from the parameters, series and "
        "events.",
        [price_check, loss_check, frozen_check], {})
