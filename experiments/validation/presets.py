"""Historical presets against their history, and against themselves with the cause removed.

Each :class:`PresetCase` runs a preset on a few seeds, and again with its named cause switched
off (the counterfactual). Quantitative claims are judged against the source's band
(:class:`~experiments.validation.checks.Band`: the median over seeds must lie inside it);
qualitative ones (who defaults, an order of events, what the counterfactual removes) are
yes/no. Where the history is a dated series (:mod:`experiments.validation.series`) the model's
path is scored against it and plotted. The figures plot one headline series of both runs
(first seed) and each history against the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from contagion.runner import RunResult, simulate
from experiments.validation.checks import Band, Check, Scale, Section, Verdict, verdict
from experiments.validation.series import HISTORIES, gaps, load, path_fit
from models import get_scenario

__all__ = ["CASES", "PATH_BAND", "Claim", "PresetCase", "Runs", "preset_sections"]

#: A claim's judgement: ``(figure text, passed)`` for a qualitative claim, or
#: ``(verdicts, extra text)`` for a quantitative one.
Outcome = tuple[str, bool] | tuple[list[Verdict], str]


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
    judge: Callable[[Runs], Outcome]


@dataclass(frozen=True)
class PresetCase:
    title: str
    preset: str
    note: str
    counterfactuals: dict[str, dict[str, Any]]  # label (the cause removed) -> overrides
    claims: tuple[Claim, ...]
    headline: str  # a series column plotted for the base run and the counterfactuals
    settings: dict[str, Any] = field(default_factory=dict)
    histories: tuple[str, ...] = ()  # keys of HISTORIES plotted against the model


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


def build(preset: str, **kw: Any) -> Any:
    """``get_scenario(preset, **kw)``, where a dotted key (``perps.Mango.lender_deposits_usd``)
    overrides that field of the scenario (a calibrated value the preset has no keyword for)."""
    from contagion.scenario import override

    sc = get_scenario(preset, **{k: v for k, v in kw.items() if "." not in k})
    for k, v in kw.items():
        if "." in k:
            sc = override(sc, k, v)
    return sc


def run_case(case: PresetCase, scale: Scale, overrides: dict[str, Any] | None = None) -> Runs:
    """The preset's runs on every seed, and its counterfactuals' (``overrides``: values in
    place of the preset's, e.g. a calibration's fitted point)."""
    kw = {"n_traders": scale.preset_traders, **case.settings, **(overrides or {})}
    base = [simulate(build(case.preset, **kw), seed=s) for s in scale.preset_seeds]
    off = {label: [simulate(build(case.preset, **{**kw, **over}), seed=s)
                   for s in scale.preset_seeds]
           for label, over in case.counterfactuals.items()}
    return Runs(base, off)


def judge_case(case: PresetCase, runs: Runs) -> list[Check]:
    """Every claim of ``case`` judged on ``runs``."""
    checks = []
    for c in case.claims:
        first, second = c.judge(runs)
        if isinstance(first, list):
            checks.append(Check.banded(c.claim, c.source, first, str(second)))
        else:
            checks.append(Check(c.claim, c.source, first, bool(second)))
    return checks


def case_section(case: PresetCase, scale: Scale) -> Section:
    runs = run_case(case, scale)
    checks = judge_case(case, runs)
    offs = "; ".join(f"without {label}: " + ", ".join(f"`{k}={v!r}`" for k, v in over.items())
                     for label, over in case.counterfactuals.items())
    traders = case.settings.get("n_traders", scale.preset_traders)
    note = (f"`models.get_scenario({case.preset!r})`, {traders:,} traders, seeds "
            f"{', '.join(map(str, scale.preset_seeds))}. {case.note} Counterfactuals: {offs}.")
    figures = {f"preset_{case.preset}": _figure(case, runs)}
    for key in case.histories:
        figures[f"history_{key}"] = history_figure(key, runs.base)
    return Section(case.title, note, checks, figures)


#: The band of every path check (the tolerance is this report's, stated with it).
PATH_BAND = Band(0.0, 0.1, "tolerance: RMSE of log10 price over the sourced dates at most 0.1 "
                 "decade, i.e. the model within about 26% of the history on average",
                 "{:.2f}")


def path_claim(key: str, claim: str) -> Claim:
    """The model's price path against the dated history ``HISTORIES[key]``."""
    h = HISTORIES[key]

    def judge(runs: Runs) -> Outcome:
        fits = runs.each(lambda r: path_fit(r.series[h.column], h))
        approx = runs.each(lambda r: path_fit(r.series[h.column], h, "approx"))
        g, _ = gaps(runs.base[0].series[h.column], h)
        worst = max((x for x in g if x.quality == "source"), key=lambda x: abs(x.log_gap),
                    default=None)
        extra = (f"{fits[0].n} sourced points ({fits[0].skipped} outside the run); largest gap "
                 + " / ".join(f"{f.max_gap:.2f}" for f in fits) + " decades"
                 + (f" (seed {runs.base[0].seed}: {worst.note}: model "
                    f"{worst.model:.4g} vs {worst.history:.4g})" if worst else "")
                 + f"; for information, on {approx[0].n} approximate daily points RMSE "
                 + " / ".join(f"{a.rmse:.2f}" for a in approx) + " decades")
        return [verdict("RMSE of log10 price, decades", [f.rmse for f in fits], PATH_BAND)], \
            extra

    return Claim(claim, f"experiments/validation/history/{h.file} (cites {FACTS} and, flagged "
                 "approximate, published daily closes)", judge)


def history_figure(key: str, base: list[RunResult]) -> go.Figure:
    """The model's price (every seed) against the history's dated prices, on UTC time."""
    h = HISTORIES[key]
    rows = load(h)
    fig = go.Figure()
    for r in base:
        s = r.series[h.column]
        fig.add_trace(go.Scatter(x=h.time_of(s.index), y=s.to_numpy(), mode="lines",
                                 name=f"model, seed {r.seed}", opacity=0.8))
    styles = {"source": ("circle", "black", "history (shared sources)"),
              "approx": ("circle-open", "grey", "history (approximate, flagged in the file)"),
              "input": ("x", "black", "the preset's starting price")}
    for q, (symbol, colour, label) in styles.items():
        sub = rows[rows["quality"] == q]
        if len(sub):
            # a figure of a whole day (its low, its mean) is drawn at the day's noon
            noon = sub["stat"].isin(["day_low", "day_mean"]).astype(int) * pd.Timedelta(hours=12)
            fig.add_trace(go.Scatter(
                x=sub["time_utc"] + noon, y=sub["price_usd"], mode="markers", name=label,
                text=sub["stat"] + ": " + sub["note"],
                marker={"symbol": symbol, "color": colour, "size": 10}))
    prices = rows["price_usd"]
    log = bool(prices.max() / prices.min() > 30)
    fig.update_layout(title=f"{h.label}: model vs history ({h.step_minutes:g}-minute steps "
                            f"from {h.t0[:16].replace('T', ' ')} UTC)",
                      xaxis_title="time (UTC)", yaxis_title=f"{h.column} (USD)",
                      yaxis_type="log" if log else "linear")
    return fig


FACTS = "scenario-facts.md"


# The sources' bands (scenario-facts.md unless said otherwise). Where a source states a
# point, the tolerance put around it is this report's and is stated in the band's basis.
def _usd(lo: float, hi: float, basis: str) -> Band:
    return Band(lo, hi, basis, "${:,.2f}M", scale=1e6)


ZERO_SHARE = Band(0.26, 0.46, "36% (WhiteRabbit), a point: +-10 points, the spread of a share "
                  "over the ~100 lots of one run", "{:.0%}")
MAKER_LOSS = _usd(4e6, 6.65e6, "sec. 1: 'Use 4-6.65M DAI as a band' (surplus to -$4M, "
                  "ledgerlife; 5.3M raised, Smith+Crown; 5.67M, WhiteRabbit; 6.65M, bulletintime)")
ZERO_VALUE = _usd(7.1e6, 8.32e6, "sec. 1: $7.1M (four addresses, cryptoscoop citing "
                  "WhiteRabbit) to $8.32M (WhiteRabbit); $8m (Klages-Mundt & Minca)")
TERRA_STEPS = 240  # hours from 7 May 00:00 UTC to the end of 16 May
TERRA_14MAY = 168  # the step of 14 May 00:00 UTC
UST_10MAY = Band(0.60, 0.70, "sec. 2: '$0.6x' on 10 May (bestcryptoexchange), its range",
                 "${:.2f}")
UST_14MAY = Band(0.10, 0.20, "sec. 2: $0.15 on 14 May (newsbreak), a point: +-$0.05", "${:.2f}")
LUNA_14MAY = Band(1e-5, 1e-3, "sec. 2: $0.0001 on 14 May (newsbreak), a point: within a decade "
                  "either way", "${:.1e}", log=True)
LUNA_GROWTH = Band(1e4, 1e5, "history/luna_supply.csv: 340M to 6.5 trillion LUNA by 13 May "
                   "(x19,000; The Block, theblock.co/post/146762), its order of magnitude",
                   "x{:,.0f}", log=True)
STETH_DISCOUNT = Band(0.06, 0.08, "sec. 3: 6% (Tokenist, 17 Jun) to 8% (CoinDesk: the record, "
                      "the week Celsius froze; a low near 0.92-0.93, cryptosty, fb.box)",
                      "{:.1%}")
FTT_LOW = Band(1.5, 2.5, "sec. 4: ~$2 after the collapse (kunjiresearch), a point: +-25%",
               "${:.2f}")
FTX_PAID = Band(5e9, 6e9, "sec. 4: $5B of withdrawal requests (Livemint/Bloomberg Opinion) to "
                "~$6B of withdrawals in 72 h (Business Insider JP)", "${:,.2f}B", scale=1e9)
DEFI_LIQ = _usd(14.3e6, 42.9e6, "sec. 4 (c.11): Aave liquidated ~$28.6M, a point: +-50% "
                "(the model's DeFiLend stands for a large DeFi lender)")
DEFI_BAD_DEBT = _usd(0.0, 1e6, "sec. 4 (c.11): 'no large insolvency', read as under $1M")
MNGO_PUMP = Band(19.2, 28.8, "sec. 5: $0.038 -> $0.91 (x24; sigvex), +2,300% (Solidus Labs), "
                 "a point: +-20%", "x{:.1f}")
MANGO_DRAIN = _usd(104.4e6, 127.6e6, "sec. 5: $116M borrowed (Solidus Labs), a point: +-10%")
USDE_INSIDE = Band(0.60, 0.70, "sec. 6: ~$0.65 inside Binance (followin), a point: +-$0.05",
                   "${:.3f}")
USDE_OUTSIDE = Band(0.98, 1.02, "sec. 6: ~$1 on Curve, a point: +-2%", "${:.2f}")


def ftx_withdrawals_asked(r: RunResult) -> float:
    """Withdrawals asked of FTX up to its freeze: what it paid, and what it could not pay."""
    return _sum_usd(r, "withdrawal", venue="FTX") + _sum_usd(r, "withdrawal_freeze", venue="FTX")


def _day_mean(r: RunResult, column: str, day: int) -> float:
    """The mean of ``column`` over hourly steps ``24 day .. 24 (day + 1)`` (day 0: 7 May)."""
    s = r.series[column]
    return float(s.loc[24 * day: 24 * (day + 1)].mean())


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

    def zero_share(runs: Runs) -> Outcome:
        shares = runs.each(lambda r: kind_count(r, "zero_bid")
                           / max(1, kind_count(r, "zero_bid") + kind_count(r, "auction")))
        return [verdict("share of auctions won with a zero bid", shares, ZERO_SHARE)], ""

    def bad_debt(runs: Runs) -> Outcome:
        ratios = runs.each(lambda r: r.summary["bad_debt_usd"] / _vault_debt(r))
        return [verdict("bad debt", runs.each(lambda r: r.summary["bad_debt_usd"]),
                        MAKER_LOSS)], f"{_fmt(ratios, lambda v: f'{v:.1%}')} of vault debt"

    def zero_value(runs: Runs) -> Outcome:
        def taken(r: RunResult) -> float:  # ETH won for nothing, at its market price then
            ev = r.events[r.events["kind"] == "zero_bid"]
            px = r.series["price_ETH"].reindex(ev["step"]).to_numpy()
            return float((ev["amount"].to_numpy() * px).sum())
        return [verdict("ETH taken with zero bids, at market", runs.each(taken), ZERO_VALUE)], ""

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
         Claim("Maker was left with 4-6.65M DAI of bad debt (on roughly $100M of vault debt)",
               src, bad_debt),
         Claim("$7.1-8.32M of ETH was taken through zero bids", src, zero_value),
         path_claim("eth_2020", "ETH fell from around $200 through $171 (when liquidations "
                    "started) to below $100 within 24 h, about 50% over 36 h"),
         Claim("Without the gas spike keepers keep bidding: no zero bids, little bad debt",
               "the mechanism the sources name", no_gas),
         Claim("The OSM's one-hour delay postponed liquidations", src, no_delay)),
        "bad_debt_usd",
        # calibrated at 1,000 vaults: with a few hundred the auctions are too lumpy
        settings={"n_traders": 1000}, histories=("eth_2020",))


def _terra() -> PresetCase:
    src = f"{FACTS} sec. 2: YaaS Analytics; NBER w31160; newsbreak"

    def ust(runs: Runs) -> Outcome:
        return [verdict("UST's mean price on 10 May", runs.each(lambda r: _day_mean(
                    r, "price_UST", 3)), UST_10MAY),
                verdict("on 14 May", runs.each(lambda r: _day_mean(r, "price_UST", 7)),
                        UST_14MAY)], ""

    def luna(runs: Runs) -> Outcome:
        price = runs.each(lambda r: _day_mean(r, "price_LUNA", 7))
        supply = runs.each(lambda r: float(r.series["supply_LUNA"].iloc[TERRA_14MAY]
                                           / r.series["supply_LUNA"].iloc[0]))
        return [verdict("LUNA's mean price on 14 May", price, LUNA_14MAY),
                verdict("its supply growth by 14 May", supply, LUNA_GROWTH)], ""

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
        (Claim("UST lost its peg for good ($0.6x on 10 May, $0.15 on 14 May)", src, ust),
         Claim("LUNA fell from ~$80 to ~$0.0001 as minting ballooned its supply (from about "
               "340M to 6.5 trillion LUNA)", src + "; supply: history/luna_supply.csv "
               "(The Block, 13 May 2022)", luna),
         path_claim("ust", "UST's path, 7-16 May: $0.9857 on 8 May, $0.6x on 10 May, $0.15 on "
                    "14 May"),
         path_claim("luna", "LUNA's path, 7-16 May: $86 to $0.0001 by 14 May"),
         Claim("Large, sophisticated holders ran first and lost least", src, holders),
         Claim("Protocols accepting UST and LUNA as collateral took losses (Aave froze UST)", src,
               lender),
         Claim("Without mint/burn reflexivity the depeg does not spread to LUNA",
               "the mechanism the sources name", no_mint)),
        "price_UST",
        # run to the end of 16 May (the preset's default 168 hours end at 14 May 00:00 UTC)
        settings={"steps": TERRA_STEPS}, histories=("ust", "luna"))


def _october_2025() -> PresetCase:
    src = f"{FACTS} sec. 6: Coinglass via yellow.com; followin; Hyperliquid statement"

    def adl(runs: Runs) -> tuple[str, bool]:
        ex = runs.each(lambda r: len(r.summary["funds_exhausted"]))
        usd = runs.each(lambda r: r.summary["adl_usd"])
        return f"funds exhausted {ex}, ADL {_fmt(usd)}", all(ex) and all(u > 0 for u in usd)

    def usde(runs: Runs) -> Outcome:
        inside = runs.each(lambda r: float(r.series["oracle_USDe-feed"].min()))
        outside = runs.each(lambda r: float(r.series["price_USDe"].min()))
        return [verdict("USDe's low at the venue's oracle", inside, USDE_INSIDE),
                verdict("outside", outside, USDE_OUTSIDE)], ""

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

    def ftt(runs: Runs) -> Outcome:
        return [verdict("FTT's low", runs.each(lambda r: float(r.series["price_FTT"].min())),
                        FTT_LOW)], ""

    def paid(runs: Runs) -> Outcome:
        asked = runs.each(ftx_withdrawals_asked)
        paid = runs.each(lambda r: _sum_usd(r, "withdrawal", venue="FTX"))
        return [verdict("withdrawals asked of FTX up to its freeze", asked, FTX_PAID)], \
            f"of which paid {_fmt(paid, lambda v: f'${v / 1e9:.2f}B')}"

    def chain(runs: Runs) -> tuple[str, bool]:
        def order(r: RunResult) -> dict[str, int]:
            return {v: _first(r, "default", v) for v in ("Alameda", "FTX", "BlockFi", "Genesis",
                                                          "Gemini")}
        orders = runs.each(order)
        ok = all(min(o["FTX"], o["Alameda"]) >= 0 and o["FTX"] < o["BlockFi"]
                 and o["FTX"] < o["Genesis"] < o["Gemini"] for o in orders)
        return "default steps " + " / ".join(", ".join(f"{k} {v}" for k, v in o.items())
                                             for o in orders[:1]), ok

    def defi(runs: Runs) -> Outcome:
        bd = runs.each(lambda r: r.summary["bad_debt_by_venue"].get("DeFiLend", 0.0))
        liq = runs.each(lambda r: _sum_usd(r, "liquidation", venue="DeFiLend"))
        return [verdict("DeFi lender's liquidations", liq, DEFI_LIQ),
                verdict("its bad debt", bd, DEFI_BAD_DEBT)], ""

    def no_rehyp(runs: Runs) -> tuple[str, bool]:
        d = runs.each(lambda r: r.summary["defaults"], "rehypothecation")
        return f"defaults {d}", sum(d) == 0

    return PresetCase(
        "FTX (November 2022)", "ftx",
        "FTX lends customer deposits to Alameda, whose collateral is FTT; Binance dumps FTT; "
        "BlockFi and Genesis lent to FTX, Gemini Earn to Genesis.",
        {"rehypothecation": {"rehypothecation_frac": 0.0}},
        (Claim("FTT fell from $22 to about $2", src, ftt),
         path_claim("ftt", "FTT's path: $22, ~$17 after Binance's sale, ~$2 after the collapse"),
         Claim("About $5-6B of withdrawals were asked of FTX before it froze ($5B of requests: "
               "Livemint/Bloomberg; ~$6B in 72 h: Business Insider JP); the model's figure is "
               "what it paid plus what it could not pay when it froze", src, paid),
         Claim("FTX and Alameda failed; BlockFi and Genesis froze after FTX, and Gemini Earn after "
               "Genesis", src, chain),
         Claim("DeFi lenders were barely touched (Aave: ~$28.6M liquidated, no large insolvency)",
               src, defi),
         Claim("Had FTX not lent customer assets to Alameda it could have paid the run: nobody "
               "fails", "the cause the sources name", no_rehyp)),
        "defaults", histories=("ftt",))


def _mango() -> PresetCase:
    src = f"{FACTS} sec. 5: Solidus Labs; sigvex"

    def pump(runs: Runs) -> Outcome:
        x = runs.each(lambda r: float(r.series["oracle_MNGO-oracle"].max()
                                      / r.series["oracle_MNGO-oracle"].iloc[0]))
        return [verdict("oracle peak / start", x, MNGO_PUMP)], ""

    def drain(runs: Runs) -> Outcome:
        took = runs.each(lambda r: _sum_usd(r, "withdrawal", agent="attacker"))
        return [verdict("attacker withdrew", took, MANGO_DRAIN)], ""

    def loss(runs: Runs) -> tuple[str, bool]:
        bd = runs.each(lambda r: r.summary["bad_debt_usd"])
        return f"bad debt {_fmt(bd)}", all(b > 0 for b in bd)

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
         Claim("$116M was borrowed against unrealised PnL", src, drain),
         Claim("The venue was left with the loss (bad debt after the price returns)", src, loss),
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

    def frozen(runs: Runs) -> Outcome:
        off = runs.each(discount, "Celsius's forced selling")
        return [verdict("largest pool discount when Celsius freezes without selling (as it did)",
                        off, STETH_DISCOUNT)], ""

    def widening(runs: Runs) -> tuple[str, bool]:
        base = runs.each(discount)
        off = runs.each(discount, "Celsius's forced selling")
        return f"largest pool discount {_fmt(base, pct)} (vs {_fmt(off, pct)} without the sales)", \
            all(b > o + 0.02 and b > STETH_DISCOUNT.high
                for b, o in zip(base, off, strict=True))

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
               "thin pool would have widened the discount well beyond the record (8%; yes/no: "
               "beyond 8% on every seed and 2 points wider than without the sales)", src,
               widening),
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
