"""Issue 13's solvency proofs in the engine against the pure proof function and their claims.

Three checks on the preset ``solvency_proofs`` (an exchange with a $100M hole, borrowed
reserves and 5% of its customer balances left out of its report):

- every published proof equals :func:`contagion.mechanics.solvency_proof.publish` fed with
  the snapshot's true books (recomputed here from the event's reserves, borrowed amount and
  true ratio, not from its published ratio);
- the run starts at the first proof of liabilities (day ``cadence + lag``) and, under a
  reserves-only attestation, only when the token falls (day 41): ordered by kind and cadence
  on every seed;
- the hole is revealed (``hole_revealed``, a published ratio below 1) by every proof of
  liabilities and by no reserves-only attestation, although the true ratio is below 1 in both.

The claims are Vitalik Buterin's (*Having a safe CEX: proof of solvency and beyond*, 19 Nov
2022): a proof of assets alone can be passed with borrowed funds and says nothing of
liabilities; a Merkle-sum-tree proof of liabilities lets each customer check their balance is
counted. No historical figure is compared: the preset is stylised.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["PROOF_CASES", "PROOF_SOURCE", "proof_section"]

PROOF_SOURCE = ("contagion.mechanics.solvency_proof.publish; V. Buterin, Having a safe CEX: "
                "proof of solvency and beyond (19 Nov 2022): reserves-only proofs can be gamed "
                "with borrowed funds and omit liabilities; a Merkle sum tree of balances "
                "each customer checks shows them all")

#: name -> (preset arguments, the day the run must start on: first proof, or the token's fall)
PROOF_CASES: dict[str, tuple[dict[str, Any], int]] = {
    "liabilities, daily": ({"proof_kind": "liabilities", "proof_every_steps": 1}, 1),
    "liabilities, weekly": ({"proof_kind": "liabilities", "proof_every_steps": 7}, 7),
    "liabilities, weekly, 3-day lag": ({"proof_kind": "liabilities", "proof_lag_steps": 3}, 10),
    "liabilities, monthly": ({"proof_kind": "liabilities", "proof_every_steps": 30}, 30),
    "reserves-only, weekly": ({"proof_kind": "reserves"}, 41),
    "reserves-only, daily": ({"proof_kind": "reserves", "proof_every_steps": 1}, 41),
}


def _run(kw: dict[str, Any], seed: int, n_traders: int) -> Any:
    from contagion.runner import simulate
    from models import get_scenario

    return simulate(get_scenario("solvency_proofs", n_traders=n_traders, **kw), seed=seed)


def _proof_gap(run: Any, hidden_frac: float) -> float:
    """Largest relative gap between a published ratio and the pure function's."""
    from contagion.mechanics.solvency_proof import publish

    ev = run.events
    worst = 0.0
    for r in ev[ev["kind"] == "solvency_proof"].to_dict("records"):
        assets = r["reserves_usd"] - r["borrowed_usd"]
        owed = assets / r["true_ratio"]
        deposits = r["hidden_usd"] / hidden_frac
        p = publish(str(r["proof_kind"]), assets_usd=assets, liabilities_usd=owed,
                    hidden_frac=hidden_frac, deposits_usd=deposits,
                    borrowed_usd=r["borrowed_usd"])
        worst = max(worst, abs(r["published_ratio"] - p.ratio) / p.ratio)
    return worst


def proof_section(scale: Scale) -> Section:
    """Published proofs, run starts and revealed holes across kinds, cadences and seeds."""
    from models import get_scenario

    n = max(scale.preset_traders, 1000)  # the preset's market
    hidden = get_scenario("solvency_proofs").custodial[0].hidden_liabilities_frac
    seeds = (0, *scale.preset_seeds)
    rows = []
    for seed in seeds:
        for name, (kw, want) in PROOF_CASES.items():
            run = _run(kw, seed, n)
            ev = run.events
            proofs = ev[ev["kind"] == "solvency_proof"]
            loss = ev[ev["kind"] == "collateral_loss"]["value_usd"]
            rows.append({
                "seed": seed, "case": name, "want": want,
                "start": int(ev[ev["kind"] == "withdrawal"]["step"].min()),
                "gap": _proof_gap(run, hidden),
                "revealed": bool((ev["kind"] == "hole_revealed").any()),
                "liabilities": kw.get("proof_kind") == "liabilities",
                "true_short": bool((proofs["true_ratio"] < 1).iloc[0]),
                "loss": float(loss.sum())})
    table = pd.DataFrame(rows)
    exact = Band(0.0, 1e-9, "the pure function; float rounding only", "{:.1e}")
    always = Band(1.0, 1.0, "every run", "{:.2f}")
    first = table[table["seed"] == 0].set_index("case")
    starts = "; ".join(f"{c}: day {s}" for c, s in first["start"].items())
    losses = "; ".join(f"{c}: ${v / 1e6:.1f}M" for c, v in first["loss"].items())
    publish_check = Check.banded(
        "Each published proof is the pure function of the snapshot's true books: reserves "
        "plus borrowed funds against the reported liabilities (reserves-only) or against all "
        "liabilities plus the snapshot loan (proof of liabilities)", PROOF_SOURCE,
        [verdict("largest relative gap of a published ratio",
                 [float(table["gap"].max())], exact)],
        f"every proof of {len(table)} runs (`solvency_proofs` at {n} traders, seeds "
        f"{', '.join(map(str, seeds))})")
    start_check = Check.banded(
        "Depositors run at the first proof of liabilities (day cadence + lag) and, under a "
        "reserves-only attestation, only when the token falls (day 41)", PROOF_SOURCE,
        [verdict("share of runs whose run starts on that day",
                 [float((table["start"] == table["want"]).mean())], always)],
        f"seed 0, run start: {starts}. Depositors lose: {losses}")
    revealed = table["revealed"] == table["liabilities"]
    hole_check = Check.banded(
        "Only a proof of liabilities reveals the hidden hole (the true ratio is below 1 in "
        "every run)", PROOF_SOURCE,
        [verdict("share of runs with a hole revealed iff the proof shows liabilities",
                 [float((revealed & table["true_short"]).mean())], always)],
        f"{int(table['revealed'].sum())} of {len(table)} runs reveal it")
    return Section(
        "Solvency proofs (issue 13)",
        "`solvency_proofs`: CEX owes $1B, holds $900M, borrows $200M for each snapshot and "
        "leaves 5% of its customer balances out of its report. Proof kinds and cadences "
        "against `contagion.mechanics.solvency_proof` and the claims they stand for.",
        [publish_check, start_check, hole_check], {})
