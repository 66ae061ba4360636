"""Issue 13's settlement window in the engine against the settlement queue's own rule.

Two exact checks on the preset ``settlement_window`` over a range of windows and seeds. The
engine's loss on each recalled loan against what :mod:`contagion.settlement` gives from the
same records: nothing if the borrower had not defaulted by the due step, else the amount
times one minus the borrower's recovery rate as the clearing last published it (the
``in_window`` / ``window_loss_usd`` rule, recomputed here from the loan_recall and default
events and the venue table, not from the loss event itself). And the pending exposure: for
every step of every window, the lender's ``pending_settlement`` exposure to the borrower is
exactly the amount in flight, and the pair's total exposure (loan plus pending) does not
change when the loan is recalled (moved between channels, never counted twice).

No band from the settlement-risk literature is checked: the BIS's foreign-exchange survey
(CPSS, *Settlement risk in foreign exchange transactions*, 1996) describes exposures lasting
one to three business days, but gives no figure this stylised market could be compared with.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["SETTLEMENT_SOURCE", "WINDOWS", "settlement_section"]

SETTLEMENT_SOURCE = ("contagion.settlement (in_window, window_loss_usd): a payer that defaults "
                     "between the promise and the due step leaves the payee the unpaid amount "
                     "times one minus the payer's recovery; BIS CPSS (1996), Settlement risk in "
                     "foreign exchange transactions, for the notion (Herstatt risk)")

#: Settlement windows (hours) run for each seed: short ones settle before the firm's default.
WINDOWS = (3, 9, 10, 12, 24)


def _run(window: int, seed: int, n_traders: int) -> Any:
    from contagion.runner import simulate
    from models import get_scenario

    return simulate(get_scenario("settlement_window", n_traders=n_traders,
                                 settlement_delay_steps=window), seed=seed)


def _predicted_loss(run: Any) -> tuple[float, float, bool]:
    """(engine loss, the pure rule's loss, payer defaulted inside the window) of the run's
    recall, the rule fed from the recall and default events and the venue table only."""
    from contagion.settlement import Settlement, in_window, window_loss_usd

    ev, venues = run.events, run.venues
    recall = ev[ev["kind"] == "loan_recall"].iloc[0]
    rec = Settlement(sid=0, kind="loan_recall", payer=str(recall["agent"]),
                     payee=str(recall["venue"]), amount_usd=float(recall["value_usd"]),
                     opened_step=int(recall["step"]), due_step=int(recall["due_step"]))
    firm = ev[(ev["kind"] == "default") & (ev["venue"] == rec.payer)]
    default_step = int(firm["step"].iloc[0]) if len(firm) else -1
    # firms test their solvency in stage 6, after exchanges settle in stage 3: a firm's
    # default in the due step itself comes after the settlement
    inside = in_window(rec, default_step) and rec.due_step > default_step
    predicted = 0.0
    if inside:  # the recovery the clearing published at the end of the step before due
        row = venues[(venues["venue"] == rec.payer) & (venues["step"] == rec.due_step - 1)]
        recovery = float(row["recovery_rate"].iloc[0])
        predicted = window_loss_usd(rec, 0.0) * (1.0 - recovery)
    failed = ev[ev["kind"] == "settlement_failed"]
    engine = float(failed["loss_usd"].sum())
    return engine, predicted, inside


def _pending_gap(run: Any) -> tuple[float, float]:
    """Largest gap between the pending exposure and the amount in flight, and largest change
    of the pair's total exposure while the recall is in flight (relative to the loan)."""
    ev, ex = run.events, run.exposures
    recall = ev[ev["kind"] == "loan_recall"].iloc[0]
    lender, borrower, amount = str(recall["venue"]), str(recall["agent"]), float(
        recall["value_usd"])
    opened, due = int(recall["step"]), int(recall["due_step"])
    pair = ex[(ex["holder"] == lender) & (ex["counterparty"] == borrower)]
    last = min(due - 1, int(pair["step"].max()))
    settled = ev[ev["kind"].isin(["settlement_due", "settlement_failed"])]
    if len(settled):
        last = min(last, int(settled["step"].min()) - 1)
    window = pair[(pair["step"] >= opened) & (pair["step"] <= last)]
    pend = window[window["channel"] == "pending_settlement"].set_index("step")["exposure_usd"]
    pend = pend.reindex(range(opened, last + 1), fill_value=0.0)
    gap = float((pend - amount).abs().max()) / amount
    total = pair[pair["step"] <= last].groupby("step")["exposure_usd"].sum()
    drift = float((total - amount).abs().max()) / amount
    return gap, drift


def settlement_section(scale: Scale) -> Section:
    """The settlement window's losses and exposures against the queue's rule."""
    n = max(scale.preset_traders, 1000)  # the preset's market: its run needs its 1,000 traders
    seeds = scale.preset_seeds
    rows = []
    for seed in seeds:
        for window in WINDOWS:
            run = _run(window, seed, n)
            engine, predicted, inside = _predicted_loss(run)
            gap, drift = _pending_gap(run)
            rows.append({"seed": seed, "window": window, "engine": engine,
                         "predicted": predicted, "inside": inside, "gap": gap, "drift": drift,
                         "cex_default": "CEX" in run.summary["defaulted"]})
    table = pd.DataFrame(rows)
    loss_gap = float(((table["engine"] - table["predicted"]).abs()
                      / table["predicted"].abs().clip(lower=1.0)).max())
    exact = Band(0.0, 1e-9, "the queue's rule; float rounding only", "{:.1e}")
    first = table[table["seed"] == seeds[0]]
    lost = ", ".join(f"{w} h ${v / 1e6:.1f}M" for w, v in
                     first[first["inside"]][["window", "engine"]].itertuples(index=False))
    safe = first.loc[~first["inside"], "window"].tolist()
    loss_check = Check.banded(
        "A recalled loan whose borrower defaults inside the settlement window is the lender's "
        "loss (the unpaid amount times one minus the borrower's recovery); one that settles "
        "before the default costs nothing", SETTLEMENT_SOURCE,
        [verdict("largest relative gap of the engine's loss to the rule", [loss_gap], exact),
         verdict("share of runs whose exchange defaults iff its borrower defaulted in the "
                 "window", [float((table["cex_default"] == table["inside"]).mean())],
                 Band(1.0, 1.0, "the preset's exchange has no other loss", "{:.2f}"))],
        f"`settlement_window` at {n} traders, seeds {', '.join(map(str, seeds))}, windows "
        f"{', '.join(map(str, WINDOWS))} hours; seed {seeds[0]}: no loss with "
        f"{', '.join(map(str, safe))} h, then {lost}")
    exposure_check = Check.banded(
        "While a recalled loan is in flight the lender's pending exposure to the borrower is "
        "the amount in flight, and its total exposure to the borrower is the loan, counted "
        "once", SETTLEMENT_SOURCE,
        [verdict("largest gap of the pending exposure (share of the loan)",
                 [float(table["gap"].max())], exact),
         verdict("largest change of the pair's total exposure (share of the loan)",
                 [float(table["drift"].max())], exact)],
        f"every step of the {len(table)} runs' windows")
    return Section(
        "Settlement windows (issue 13)",
        "`settlement_window`: CEX recalls its loan to AlphaFund in a run and freezes "
        "withdrawals until it settles; AlphaFund defaults when ETH falls. The engine's losses "
        "and pending exposures against `contagion.settlement`'s rule, recomputed from the "
        "events and the venue table.",
        [loss_check, exposure_check], {})
