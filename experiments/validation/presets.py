"""Historical presets against their history, and against themselves with the cause removed.

Each :class:`PresetCase` runs a preset on a few seeds, and again with its named cause switched
off (the counterfactual), and checks the qualitative outcomes the history shows: who defaults,
whether bad debt appears, whether ADL fires, and that removing the cause changes the outcome.
The figures plot one headline series of both runs (first seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from contagion.runner import RunResult, simulate
from experiments.validation.checks import Check, Scale, Section
from models import get_scenario

__all__ = ["CASES", "Claim", "PresetCase", "Runs", "preset_sections"]


@dataclass(frozen=True)
class Runs:
    """The runs of one preset by seed: ``base`` (as calibrated) and, per counterfactual label,
    the runs with that cause removed."""

    base: list[RunResult]
    off: dict[str, list[RunResult]]

    def each(self, fn: Callable[[RunResult], Any], which: str = "base") -> list[Any]:
        """``fn`` of every base run, or of every run of counterfactual ``which``."""
        return [fn(r) for r in (self.base if which == "base" else self.off[which])]


@dataclass(frozen=True)
class Claim:
    """A claim of the history; ``judge(runs)`` returns the model's figure and the verdict."""

    claim: str
    source: str
    judge: Callable[[Runs], tuple[str, bool]]


@dataclass(frozen=True)
class PresetCase:
    title: str
    preset: str
    note: str
    counterfactuals: dict[str, dict[str, Any]]  # label (the cause removed) -> overrides
    claims: tuple[Claim, ...]
    headline: str  # a series column plotted for the base run and the counterfactuals
    settings: dict[str, Any] = field(default_factory=dict)


def kind_count(result: RunResult, kind: str, **where: str) -> int:
    """Number of events of ``kind`` (optionally filtered on columns, e.g. ``venue="X"``)."""
    ev = result.events
    mask = ev["kind"] == kind
    for col, value in where.items():
        mask &= ev[col] == value
    return int(mask.sum())


def defaulted(result: RunResult) -> set[str]:
    return set(result.summary.get("defaulted", []))


def _figure(case: PresetCase, runs: Runs) -> go.Figure:
    fig = go.Figure()
    pairs = [("as calibrated", runs.base[0])] + [(f"without {k}", v[0]) for k, v in runs.off.items()]
    for label, r in pairs:
        if case.headline in r.series:
            fig.add_trace(go.Scatter(x=r.series.index, y=r.series[case.headline], name=label,
                                     mode="lines"))
    fig.update_layout(title=f"{case.title}: {case.headline}, seed {runs.base[0].seed}",
                      xaxis_title="step", yaxis_title=case.headline)
    return fig


def run_case(case: PresetCase, scale: Scale) -> Runs:
    kw = {"n_traders": scale.preset_traders, **case.settings}
    base = [simulate(get_scenario(case.preset, **kw), seed=s) for s in scale.preset_seeds]
    off = {label: [simulate(get_scenario(case.preset, **{**kw, **over}), seed=s)
                   for s in scale.preset_seeds]
           for label, over in case.counterfactuals.items()}
    return Runs(base, off)


def case_section(case: PresetCase, scale: Scale) -> Section:
    runs = run_case(case, scale)
    checks = []
    for c in case.claims:
        observed, ok = c.judge(runs)
        checks.append(Check(c.claim, c.source, observed, ok))
    offs = "; ".join(f"without {label}: " + ", ".join(f"`{k}={v!r}`" for k, v in over.items())
                     for label, over in case.counterfactuals.items())
    traders = case.settings.get("n_traders", scale.preset_traders)
    note = (f"`models.get_scenario({case.preset!r})`, {traders:,} traders, seeds "
            f"{', '.join(map(str, scale.preset_seeds))}. {case.note} Counterfactuals: {offs}.")
    return Section(case.title, note, checks, {f"preset_{case.preset}": _figure(case, runs)})


FACTS = "scenario-facts.md"


def _m(x: float) -> str:
    return f"${x / 1e6:,.1f}M"


def _fmt(values: list[float], f: Callable[[float], str] = _m) -> str:
    return " / ".join(f(v) for v in values)


def _first(r: RunResult, kind: str, venue: str | None = None) -> int:
    ev = r.events[r.events["kind"] == kind]
    if venue is not None:
        ev = ev[ev["venue"] == venue]
    return int(ev["step"].min()) if len(ev) else -1


def _vault_debt(r: RunResult) -> float:
    from contagion.model import ContagionModel

    return float(ContagionModel(r.scenario, seed=r.seed).lending[0].book.debt.sum())


def _sum_usd(r: RunResult, kind: str, **where: str) -> float:
    ev = r.events[r.events["kind"] == kind]
    for col, value in where.items():
        ev = ev[ev[col] == value]
    return float(ev["value_usd"].sum())


def _black_thursday() -> PresetCase:
    src = f"{FACTS} sec. 1: WhiteRabbit; Maker blog; Smith+Crown"

    def zero_share(runs: Runs) -> tuple[str, bool]:
        shares = runs.each(lambda r: kind_count(r, "zero_bid")
                           / max(1, kind_count(r, "zero_bid") + kind_count(r, "auction")))
        return f"{_fmt(shares, lambda v: f'{v:.0%}')} of auctions won with a zero bid", \
            all(0.15 <= v <= 0.6 for v in shares)

    def bad_debt(runs: Runs) -> tuple[str, bool]:
        ratios = runs.each(lambda r: r.summary["bad_debt_usd"] / _vault_debt(r))
        return (f"bad debt {_fmt(runs.each(lambda r: r.summary['bad_debt_usd']))}, "
                f"{_fmt(ratios, lambda v: f'{v:.1%}')} of vault debt"), \
            all(0.02 <= v <= 0.10 for v in ratios)

    def no_gas(runs: Runs) -> tuple[str, bool]:
        zb = runs.each(lambda r: kind_count(r, "zero_bid"), "the gas spike")
        bd = runs.each(lambda r: r.summary["bad_debt_usd"], "the gas spike")
        base = runs.each(lambda r: r.summary["bad_debt_usd"])
        return f"zero bids {zb}, bad debt {_fmt(bd)} (vs {_fmt(base)})", \
            sum(zb) == 0 and sum(bd) < 0.2 * sum(base)

    def no_delay(runs: Runs) -> tuple[str, bool]:
        base = runs.each(lambda r: _first(r, "auction"))
        off = runs.each(lambda r: _first(r, "auction"), "the oracle delay")
        return f"first auction at step {base} with the OSM delay, {off} without", \
            all(o < b for o, b in zip(off, base, strict=True))

    return PresetCase(
        "Black Thursday (MakerDAO, 12-13 March 2020)", "black_thursday",
        "ETH -50% over 24 h in 15-minute steps, an hour-late oracle, gas x6, four keepers.",
        {"the gas spike": {"gas_spike_multiplier": 1.0},
         "the oracle delay": {"oracle_delay_steps": 0}},
        (Claim("36% of liquidations were won with 0-DAI bids while keepers could not bid at "
               "high gas", src, zero_share),
         Claim("Maker was left with 4-6.65M DAI of bad debt on roughly $100M of vault debt "
               "(about 4-6.5%)", src, bad_debt),
         Claim("Without the gas spike keepers keep bidding: no zero bids, little bad debt",
               "the mechanism the sources name", no_gas),
         Claim("The OSM's one-hour delay postponed liquidations", src, no_delay)),
        "bad_debt_usd",
        # calibrated at 1,000 vaults: with a few hundred the auctions are too lumpy
        settings={"n_traders": 1000})


def _terra() -> PresetCase:
    src = f"{FACTS} sec. 2: YaaS Analytics; NBER w31160; newsbreak"

    def ust(runs: Runs) -> tuple[str, bool]:
        end = runs.each(lambda r: float(r.series["price_UST"].iloc[-1]))
        return f"UST at the end {_fmt(end, lambda v: f'${v:.2f}')}", all(v < 0.9 for v in end)

    def luna(runs: Runs) -> tuple[str, bool]:
        fall = runs.each(lambda r: float(r.series["price_LUNA"].iloc[-1]
                                         / r.series["price_LUNA"].iloc[0]))
        grow = runs.each(lambda r: float(r.series["supply_LUNA"].iloc[-1]
                                         / r.series["supply_LUNA"].iloc[0]))
        return (f"LUNA ends at {_fmt(fall, lambda v: f'{v:.1e}')} of its start; supply "
                f"x{_fmt(grow, lambda v: f'{v:.0f}')}"), \
            all(v < 0.01 for v in fall) and all(g > 10 for g in grow)

    def holders(runs: Runs) -> tuple[str, bool]:
        def split(r: RunResult) -> tuple[float, float, float, float]:
            w = r.events[(r.events["kind"] == "withdrawal") & (r.events["venue"] == "Anchor")]
            per = w.groupby("account").agg(units=("amount", "sum"), usd=("value_usd", "sum"),
                                           first=("step", "min"))
            per = per.sort_values("units", ascending=False)
            top, bottom = per.iloc[: max(1, len(per) // 10)], per.iloc[len(per) // 2:]
            return (float(top["first"].median()), float(bottom["first"].median()),
                    float(top["usd"].sum() / top["units"].sum()),
                    float(bottom["usd"].sum() / bottom["units"].sum()))
        q = runs.each(split)
        two = lambda v: f"{v:.2f}"  # noqa: E731
        return ("largest 10% of leavers: median first exit at step "
                + _fmt([a for a, *_ in q], lambda v: f"{v:.0f}") + ", $"
                + _fmt([c for *_, c, _ in q], two) + " per UST; smallest half: step "
                + _fmt([b for _, b, *_ in q], lambda v: f"{v:.0f}") + ", $"
                + _fmt([d for *_, d in q], two),
                all(a < b and c > d + 0.02 for a, b, c, d in q))

    def lender(runs: Runs) -> tuple[str, bool]:
        bd = runs.each(lambda r: r.summary["bad_debt_by_venue"].get("LendT", 0.0))
        return f"LendT bad debt {_fmt(bd, lambda v: f'${v / 1e3:,.0f}k')} (scaled 1:1000)", \
            all(v > 0 for v in bd)

    def no_mint(runs: Runs) -> tuple[str, bool]:
        fall = runs.each(lambda r: float(r.series["price_LUNA"].iloc[-1]
                                         / r.series["price_LUNA"].iloc[0]), "mint/burn")
        return f"LUNA ends at {_fmt(fall, lambda v: f'{v:.0%}')} of its start", \
            all(v > 0.5 for v in fall)

    return PresetCase(
        "Terra/UST (May 2022)", "terra",
        "UST's peg is kept by minting LUNA for burned UST; a large UST sale on the Curve-like pool "
        "starts a run on Anchor, largest holders first; LendT accepts UST and LUNA. Dollars are "
        "scaled 1:1000.",
        {"mint/burn": {"mint_capacity_usd_per_step": 0.0}},
        (Claim("UST lost its peg for good ($0.6x on 10 May, $0.15 on 14 May); the model ends "
               "higher than history", src, ust),
         Claim("LUNA fell from ~$80 to ~$0.0001 as minting ballooned its supply", src, luna),
         Claim("Large, sophisticated holders ran first and lost least", src, holders),
         Claim("Protocols accepting UST and LUNA as collateral took losses (Aave froze UST)", src,
               lender),
         Claim("Without mint/burn reflexivity the depeg does not spread to LUNA",
               "the mechanism the sources name", no_mint)),
        "price_UST")


def _october_2025() -> PresetCase:
    src = f"{FACTS} sec. 6: Coinglass via yellow.com; followin; Hyperliquid statement"

    def adl(runs: Runs) -> tuple[str, bool]:
        ex = runs.each(lambda r: len(r.summary["funds_exhausted"]))
        usd = runs.each(lambda r: r.summary["adl_usd"])
        return f"funds exhausted {ex}, ADL {_fmt(usd)}", all(ex) and all(u > 0 for u in usd)

    def usde(runs: Runs) -> tuple[str, bool]:
        inside = runs.each(lambda r: float(r.series["oracle_USDe-feed"].min()))
        outside = runs.each(lambda r: float(r.series["price_USDe"].min()))
        f2 = lambda v: f"{v:.2f}"  # noqa: E731
        return f"USDe at the venue's oracle {_fmt(inside, f2)}, outside {_fmt(outside, f2)}", \
            all(i < 0.8 for i in inside) and all(o > 0.98 for o in outside)

    def depth(runs: Runs) -> tuple[str, bool]:
        usd = runs.each(lambda r: r.summary["adl_usd"], "the depth collapse")
        ex = runs.each(lambda r: len(r.summary["funds_exhausted"]), "the depth collapse")
        return f"ADL {_fmt(usd)}, funds exhausted {ex}", sum(usd) == 0 and sum(ex) == 0

    def oracle(runs: Runs) -> tuple[str, bool]:
        def usde_liq(r: RunResult) -> int:
            ev = r.events
            return int(((ev["kind"] == "liquidation") & (ev["asset"] == "USDe")).sum())
        base, off = runs.each(usde_liq), runs.each(usde_liq, "the internal USDe price")
        return f"USDe-collateral liquidations {base} -> {off}", sum(off) == 0 < sum(base)

    return PresetCase(
        "10-11 October 2025", "october_2025",
        "BTC, ETH and a thin alt fall together; books lose 98% of their depth; a unified-margin "
        "venue prices USDe from its own book.",
        {"the depth collapse": {"depth_drop_frac": 0.0},
         "the internal USDe price": {"usde_oracle": "external"}},
        (Claim("Insurance funds were exhausted and auto-deleveraging closed profitable positions",
               src, adl),
         Claim("USDe was priced at ~$0.65 inside Binance while ~$1 on Curve", src, usde),
         Claim("Without the ~98% collapse of order-book depth the funds hold and ADL does not "
               "fire", "the mechanism the sources name", depth),
         Claim("With an external USDe reference (Binance's fix) the USDe liquidations vanish",
               src, oracle)),
        "adl_usd")


def _ftx() -> PresetCase:
    src = f"{FACTS} sec. 4: Bloomberg Opinion via Livemint; ForkLog; CNN; CoinDesk"

    def ftt(runs: Runs) -> tuple[str, bool]:
        low = runs.each(lambda r: float(r.series["price_FTT"].min() / r.series["price_FTT"].iloc[0]))
        return f"FTT's low {_fmt(low, lambda v: f'{v:.0%}')} of its start", all(v < 0.15 for v in low)

    def chain(runs: Runs) -> tuple[str, bool]:
        def order(r: RunResult) -> dict[str, int]:
            return {v: _first(r, "default", v) for v in ("Alameda", "FTX", "BlockFi", "Genesis",
                                                          "Gemini")}
        orders = runs.each(order)
        ok = all(min(o["FTX"], o["Alameda"]) >= 0 and o["FTX"] < o["BlockFi"]
                 and o["FTX"] < o["Genesis"] < o["Gemini"] for o in orders)
        return "default steps " + " / ".join(", ".join(f"{k} {v}" for k, v in o.items())
                                             for o in orders[:1]), ok

    def defi(runs: Runs) -> tuple[str, bool]:
        bd = runs.each(lambda r: r.summary["bad_debt_by_venue"].get("DeFiLend", 0.0))
        liq = runs.each(lambda r: _sum_usd(r, "liquidation"))
        return f"DeFi lender liquidated {_fmt(liq)}, bad debt {_fmt(bd)}", max(bd) < 1e5

    def no_rehyp(runs: Runs) -> tuple[str, bool]:
        d = runs.each(lambda r: r.summary["defaults"], "rehypothecation")
        return f"defaults {d}", sum(d) == 0

    return PresetCase(
        "FTX (November 2022)", "ftx",
        "FTX lends customer deposits to Alameda, whose collateral is FTT; Binance dumps FTT; "
        "BlockFi and Genesis lent to FTX, Gemini Earn to Genesis.",
        {"rehypothecation": {"rehypothecation_frac": 0.0}},
        (Claim("FTT fell from $22 to about $2", src, ftt),
         Claim("FTX and Alameda failed; BlockFi and Genesis froze after FTX, and Gemini Earn after "
               "Genesis", src, chain),
         Claim("DeFi lenders were barely touched (Aave: ~$28.6M liquidated, no large insolvency)",
               src, defi),
         Claim("Had FTX not lent customer assets to Alameda it could have paid the run: nobody "
               "fails", "the cause the sources name", no_rehyp)),
        "defaults")


def _mango() -> PresetCase:
    src = f"{FACTS} sec. 5: Solidus Labs; sigvex"

    def pump(runs: Runs) -> tuple[str, bool]:
        x = runs.each(lambda r: float(r.series["oracle_MNGO-oracle"].max()
                                      / r.series["oracle_MNGO-oracle"].iloc[0]))
        return f"oracle peak {_fmt(x, lambda v: f'x{v:.0f}')} its start", all(v > 10 for v in x)

    def drain(runs: Runs) -> tuple[str, bool]:
        took = runs.each(lambda r: _sum_usd(r, "withdrawal", agent="attacker"))
        bd = runs.each(lambda r: r.summary["bad_debt_usd"])
        return f"attacker withdrew {_fmt(took)}; bad debt {_fmt(bd)}", \
            all(t > 80e6 for t in took) and all(b > 50e6 for b in bd)

    def upnl(runs: Runs) -> tuple[str, bool]:
        took = runs.each(lambda r: _sum_usd(r, "withdrawal", agent="attacker"),
                         "unrealised PnL as collateral")
        return f"attacker withdrew {_fmt(took)}", all(t < 5e6 for t in took)

    def robust(runs: Runs) -> tuple[str, bool]:
        x = runs.each(lambda r: float(r.series["oracle_MNGO-oracle"].max()
                                      / r.series["oracle_MNGO-oracle"].iloc[0]),
                      "the thin-market oracle")
        return f"oracle peak {_fmt(x, lambda v: f'x{v:.2f}')} its start", all(v < 1.5 for v in x)

    return PresetCase(
        "Mango Markets (11 October 2022)", "mango",
        "An attacker buys MNGO-PERP from himself, pumps the thin spot market the oracle reads, and "
        "borrows against the unrealised profit.",
        {"unrealised PnL as collateral": {"upnl_collateral": False},
         "the thin-market oracle": {"oracle_source": "external"}},
        (Claim("MNGO's oracle price rose about 24-fold ($0.038 -> $0.91)", src, pump),
         Claim("$116M was borrowed against unrealised PnL and the venue was left with the loss",
               src, drain),
         Claim("Without unrealised PnL counting as collateral there is nothing to borrow against",
               "the mechanism the sources name", upnl),
         Claim("An oracle that does not read the thin market is not moved by the pump",
               "the mechanism the sources name", robust)),
        "oracle_MNGO-oracle")


def _steth() -> PresetCase:
    src = f"{FACTS} sec. 3: CoinDesk; Dune via cryptosty; Tokenist"

    def discount(r: RunResult) -> float:
        return float((1 - r.series["pool_stETH/USDC"] / r.series["price_ETH"]).max())

    pct = lambda v: f"{v:.1%}"  # noqa: E731

    def frozen(runs: Runs) -> tuple[str, bool]:
        off = runs.each(discount, "Celsius's forced selling")
        return (f"largest pool discount {_fmt(off, pct)} when Celsius freezes without selling "
                "(as it did)"), all(0.05 <= o <= 0.09 for o in off)

    def widening(runs: Runs) -> tuple[str, bool]:
        base = runs.each(discount)
        off = runs.each(discount, "Celsius's forced selling")
        return f"largest pool discount {_fmt(base, pct)} (vs {_fmt(off, pct)} without the sales)", \
            all(b > o + 0.02 for b, o in zip(base, off, strict=True))

    def order(runs: Runs) -> tuple[str, bool]:
        steps = runs.each(lambda r: (_first(r, "default", "3AC"), _first(r, "default", "Celsius")))
        return f"3AC / Celsius default steps {steps}", all(0 <= a < c for a, c in steps)

    def loops(runs: Runs) -> tuple[str, bool]:
        base = runs.each(lambda r: r.summary["accounts_liquidated"])
        off = runs.each(lambda r: r.summary["accounts_liquidated"], "Celsius's forced selling")
        return f"accounts liquidated {base} (without the sales {off})", \
            all(b > o for b, o in zip(base, off, strict=True))

    return PresetCase(
        "stETH discount, Celsius and 3AC (June 2022)", "steth_celsius",
        "ETH falls and the stETH/ETH basis widens; 3AC, borrowing from Celsius, fails; Celsius "
        "faces a run and sells stETH into a thin pool (the fire sale the market feared; historically "
        "it froze instead, which the counterfactual plays); leveraged stETH loops are liquidated.",
        {"Celsius's forced selling": {"celsius_forced_selling": False}},
        (Claim("The stETH discount reached 6-8% (a low near 0.92-0.93) in the week Celsius froze "
               "and 3AC blew up", src, frozen),
         Claim("The market feared Celsius would dump its 416,000 stETH: a forced sale into the "
               "thin pool would have widened the discount well beyond the record", src, widening),
         Claim("3AC failed first; Celsius froze withdrawals after it", src, order),
         Claim("A forced seller deepens the discount and liquidates more leveraged loops",
               "the mechanism the sources name", loops)),
        "pool_stETH/USDC")


CASES: list[PresetCase] = [_black_thursday(), _terra(), _steth(), _ftx(), _mango(),
                           _october_2025()]


def preset_sections(scale: Scale) -> list[Section]:
    """One section per historical preset that is registered in ``models.SCENARIOS``."""
    from models import SCENARIOS

    return [case_section(c, scale) for c in CASES if c.preset in SCENARIOS]
