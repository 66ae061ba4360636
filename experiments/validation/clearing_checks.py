"""Issue 13's clearing house against its pure maths and against Nasdaq Clearing's 2018 default.

Three checks on the preset ``clearing_house``. The engine's waterfall, every layer of every
member's default in the run, equals :func:`contagion.mechanics.waterfall.default_waterfall` on
the same inputs (exact, a yes/no line). The share of the loss beyond the defaulter's own
resources that the other members bore (their fund contributions and assessments, against
the house's skin in the game) is banded around Nasdaq Clearing's September 2018 default of
Einar Aas: EUR 107M of the members' fund against EUR 7M of Nasdaq's junior capital. And the
counterfactual: with enough skin in the game the survivors lose nothing and no second
member fails.
"""

from __future__ import annotations

from typing import Any

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["AAS_SOURCE", "clearing_section"]

AAS_SOURCE = (
    "Nasdaq Clearing, 13 Sep 2018 (globenewswire.com, Statement from Nasdaq Clearing): the "
    "default fund 'impacted by an amount of EUR 107 million in addition to the EUR 7 million "
    "that was Nasdaq's junior capital' after Einar Aas's close-out loss exceeded his "
    "collateral and default-fund contribution (default notice, 12 Sep 2018)")
PURE_SOURCE = ("contagion.mechanics.waterfall.default_waterfall (tested on the Aas numbers, "
               "tests/mechanics/test_waterfall.py)")


def _run(n_traders: int, seed: int, **kw: float) -> dict[str, Any]:
    from contagion.mechanics.waterfall import default_waterfall
    from contagion.model import ContagionModel
    from models import get_scenario

    m = ContagionModel(get_scenario("clearing_house", n_traders=n_traders, **kw), seed=seed)
    m.run()
    ev = m.events_frame
    wf = ev[ev["kind"] == "waterfall"]
    house = m.clearing_houses[0]
    exact, layers = True, 0
    for rec in house.waterfalls:
        r = default_waterfall(rec["loss_usd"], margin_usd=rec["margin_usd"],
                              fund_usd=rec["fund_usd"], sitg_usd=rec["sitg_usd"],
                              survivor_fund_usd=rec["survivor_fund_usd"],
                              assessment_multiple=rec["assessment_multiple"])
        logged = wf[(wf["agent"] == rec["member"]) & (wf["step"] == rec["step"])
                    & (wf["layer"] != "gains_haircut")]
        want = [(name, paid) for name, paid in r.layers() if paid > 0]
        exact &= list(zip(logged["layer"], logged["value_usd"], strict=True)) == want
        layers += len(want)
    first = house.waterfalls[0]["result"] if house.waterfalls else None
    beyond = 0.0 if first is None else (first.skin_in_the_game_usd
                                       + float(first.survivors_fund_usd.sum())
                                       + float(first.assessments_usd.sum()))
    mutual = 0.0 if first is None else float(first.survivor_loss_usd.sum())
    d = ev[ev["kind"] == "default"]
    return {"exact": exact and bool(house.waterfalls), "layers": layers,
            "defaults": len(house.waterfalls),
            "mutual_frac": mutual / beyond if beyond > 0 else 0.0,
            "mutual_usd": mutual, "beyond_usd": beyond,
            "fund_losses": int((ev["kind"] == "default_fund_loss").sum()),
            "defaulted": sorted(set(d["venue"])),
            "betafund": "BetaFund" in set(d["venue"])}


def clearing_section(scale: Scale) -> Section:
    """The clearing house's waterfall against its pure function and Aas 2018 (issue 13)."""
    n, seeds = scale.preset_traders, scale.preset_seeds
    runs = [_run(n, seed) for seed in seeds]
    exact = Check(
        "The engine's default waterfall is the pure function's: each layer of each member "
        "default pays exactly what default_waterfall computes from the same margin, fund, "
        "skin in the game and survivors' contributions", PURE_SOURCE,
        f"`clearing_house`, {n} traders: "
        + " / ".join(f"{r['defaults']} defaults at the house, {r['layers']} layers" for r in runs)
        + ", each paying exactly what the pure function computes", all(r["exact"] for r in runs))
    shared = Check.banded(
        "A member's default beyond its own margin and contribution falls mostly on the other "
        "members (their fund and assessments), little on the house's own capital",
        AAS_SOURCE,
        [verdict("share of the loss beyond the defaulter's resources borne by the other "
                 "members", [r["mutual_frac"] for r in runs], Band(
                     0.85, 0.99, "107 / (107 + 7) = 94% at Nasdaq in 2018, +-9 points (the "
                     "preset's skin in the game is its own parameter)", "{:.0%}"))],
        "`clearing_house`: " + " / ".join(
            f"${r['mutual_usd'] / 1e6:.2f}M of ${r['beyond_usd'] / 1e6:.2f}M" for r in runs))
    rich = [_run(n, seed, skin_in_the_game_usd=6e7) for seed in seeds]
    spared = all(r["fund_losses"] == 0 and not r["betafund"] for r in rich)
    counterfactual = Check(
        "Mutualisation is the channel: with $60M of skin in the game the house absorbs the "
        "same loss, the survivors lose nothing and BetaFund does not fail (it does with $2M)",
        AAS_SOURCE,
        "defaulted with $2M: " + " / ".join(", ".join(r["defaulted"]) for r in runs)
        + "; with $60M: " + " / ".join(", ".join(r["defaulted"]) for r in rich),
        spared and all(r["betafund"] for r in runs))
    return Section(
        "A clearing house's default waterfall (issue 13)",
        "The preset clearing_house is stylised on Nasdaq Clearing's 2018 default (crypto, "
        "round sizes): the exact line checks the engine against its pure maths, the band the "
        "split of the loss between the house and the members against Aas.",
        [exact, shared, counterfactual], {})
