"""Model-versus-source checks: each one states what a source says and what the model gives.

A :class:`Check` is one line of the validation report: the claim in the source's own terms,
the citation, the model's figure and whether it agrees. Sections are functions of a
:class:`Scale` (the full report, or the small version the test suite runs) returning their
checks and figures; :mod:`experiments.validation.report` assembles them into one page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import plotly.graph_objects as go

from contagion.mechanics.clearing import clearing_vector_lp, eisenberg_noe
from contagion.mechanics.debtrank import debtrank
from models.classic.gai_kapadia import analytic_window, contagion_window

__all__ = ["FULL", "SEED_RULE", "SMALL", "Band", "Check", "Scale", "Section", "Verdict",
           "textbook_sections", "verdict"]


@dataclass(frozen=True)
class Band:
    """The source's stated range for one figure: ``low <= figure <= high``, both edges given.

    ``basis`` says where the edges come from in the source's own terms (a stated range, or a
    stated point with the tolerance this report puts around it, e.g. "$0.15 on 14 May
    (newsbreak), +-$0.05"). ``log`` compares on a log10 scale (prices that fall by orders of
    magnitude; the residual is then in decades). ``fmt`` formats a figure of this band
    divided by ``scale``.
    """

    low: float
    high: float
    basis: str
    fmt: str = "{:.3g}"
    log: bool = False
    scale: float = 1.0  # figures are shown divided by this (e.g. 1e6 with fmt "${:.1f}M")

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or self.low > self.high:
            raise ValueError(f"a band needs finite low <= high, got {self.low}, {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log band needs low > 0")

    def show(self, x: float) -> str:
        return self.fmt.format(x / self.scale)

    def text(self) -> str:
        return f"{self.show(self.low)} to {self.show(self.high)} ({self.basis})"

    def residual(self, x: float) -> float:
        """Signed distance from ``x`` to the nearest edge: 0 inside, < 0 below, > 0 above
        (in decades when ``log``)."""
        if self.log:
            lx = float(np.log10(max(x, 1e-300)))
            lo, hi = float(np.log10(self.low)), float(np.log10(self.high))
            return lx - lo if lx < lo else lx - hi if lx > hi else 0.0
        return x - self.low if x < self.low else x - self.high if x > self.high else 0.0

    def relative(self, x: float) -> float:
        """The residual relative to the edge it is measured from (decades when ``log``)."""
        r = self.residual(x)
        if r == 0.0 or self.log:
            return r
        edge = self.low if x < self.low else self.high
        return r / abs(edge) if edge != 0 else r / max(self.high - self.low, 1e-300)


#: How several seeds are judged: the median of the per-seed figures must lie in the band.
SEED_RULE = "the median over seeds lies inside the band (the count of seeds inside is shown)"


@dataclass(frozen=True)
class Verdict:
    """A quantity of the model, per seed, against its :class:`Band`."""

    name: str
    band: Band
    values: tuple[float, ...]

    @property
    def figure(self) -> float:
        """The figure judged: the median over seeds."""
        return float(np.median(self.values))

    @property
    def inside(self) -> int:
        return sum(self.band.residual(v) == 0.0 for v in self.values)

    @property
    def passed(self) -> bool:
        return bool(self.values) and self.band.residual(self.figure) == 0.0

    @property
    def residual(self) -> float:
        return self.band.residual(self.figure)

    @property
    def relative(self) -> float:
        return self.band.relative(self.figure)

    def residual_text(self) -> str:
        """"inside" or the signed distance to the nearest edge, absolute and relative."""
        if self.passed:
            return "inside"
        r = self.residual
        if self.band.log:
            return f"{r:+.2f} decades ({'above' if r > 0 else 'below'} the band)"
        sign = "+" if r > 0 else "-"
        return (f"{sign}{self.band.show(abs(r))} ({self.relative:+.0%} of the edge; "
                f"{'above' if r > 0 else 'below'} the band)")

    def text(self) -> str:
        if len(self.values) == 1:
            return f"{self.name}: {self.band.show(self.values[0])}"
        per = " / ".join(self.band.show(v) for v in self.values)
        return (f"{self.name}: {per} (median {self.band.show(self.figure)}; "
                f"{self.inside} of {len(self.values)} seeds inside)")


def verdict(name: str, values: list[float] | tuple[float, ...], band: Band) -> Verdict:
    return Verdict(name, band, tuple(float(v) for v in values))


@dataclass(frozen=True)
class Check:
    """One claim of a source, and what the model gives for it.

    A quantitative check carries its verdicts (:class:`Verdict`; it agrees when every one of them
    does); a qualitative one (who defaults, an order of events) only ``passed``.
    """

    claim: str
    source: str
    observed: str
    passed: bool
    verdicts: tuple[Verdict, ...] = ()

    @classmethod
    def banded(cls, claim: str, source: str, verdicts: list[Verdict] | tuple[Verdict, ...],
               extra: str = "") -> Check:
        """A quantitative check: its figure text and verdict come from the verdicts."""
        observed = "; ".join(v.text() for v in verdicts) + (f"; {extra}" if extra else "")
        return cls(claim, source, observed, all(v.passed for v in verdicts), tuple(verdicts))

    @property
    def band_text(self) -> str:
        if not self.verdicts:
            return "yes/no"
        return "; ".join(dict.fromkeys(v.band.text() for v in self.verdicts))

    @property
    def residual_text(self) -> str:
        if not self.verdicts:
            return "" if self.passed else "the claim does not hold"
        return "; ".join(v.residual_text() if len(self.verdicts) == 1
                         else f"{v.name}: {v.residual_text()}" for v in self.verdicts)


@dataclass(frozen=True)
class Scale:
    """How much work the checks do: ``FULL`` for the report, ``SMALL`` for the test suite."""

    name: str
    gk_banks: int
    gk_draws: int
    en_networks: int
    preset_traders: int
    preset_seeds: tuple[int, ...]


FULL = Scale("full", gk_banks=1000, gk_draws=400, en_networks=200, preset_traders=1000,
             preset_seeds=(1, 2, 3))
SMALL = Scale("small", gk_banks=250, gk_draws=60, en_networks=25, preset_traders=300,
              preset_seeds=(1,))


@dataclass
class Section:
    """A titled group of checks with its figures (file stem -> figure) and a short note."""

    title: str
    note: str
    checks: list[Check]
    figures: dict[str, go.Figure]


GK_SOURCE = ("Gai & Kapadia (2010), Proc. R. Soc. A 466, fig. 1 and sec. 3 "
             "(n = 1000, interbank 20%, capital 4%, zero recovery)")


def gai_kapadia_section(scale: Scale) -> Section:
    """The contagion window over the mean degree ``z``, simulated and analytic."""
    zs = [0.5, 0.75, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0]
    table = contagion_window(zs, n_banks=scale.gk_banks, draws=scale.gk_draws, seed=2010,
                             rule="geq")
    freq = dict(zip(table["z"], table["frequency"], strict=True))
    ext = dict(zip(table["z"], table["extent"], strict=True))
    window = analytic_window(np.arange(0.5, 10.001, 0.01))
    inside = window.loc[window["possible"], "z"]
    lo, hi = float(inside.min()), float(inside.max())
    rare = Band(0.0, 0.1, "G&K fig. 1: near zero below z = 1; 'rare' read as under 10%", "{:.3f}")
    likely = Band(0.6, 1.0, "G&K fig. 1: frequency near 1 across z = 3-4; read as over 60%",
                  "{:.2f}")
    closed = Band(0.0, 0.05, "G&K fig. 1: zero by z = 10; read as under 5%", "{:.3f}")
    total = Band(0.9, 1.0, "G&K fig. 1: extent near 1 in the upper window; read as over 90%",
                 "{:.2f}")
    checks = [
        Check.banded("Contagion is rare for z below 1", GK_SOURCE, [
            verdict(f"frequency at z = {z:g}", [freq[z]], rare) for z in (0.5, 0.75)],
            f"the onset: {freq[1.0]:.3f} at z = 1"),
        Check.banded("Contagion is likely across the middle of the window (z = 3-4)", GK_SOURCE,
                     [verdict(f"frequency at z = {z:g}", [freq[z]], likely) for z in (3.0, 4.0)]),
        Check.banded("The window closes by z = 8-10", GK_SOURCE,
                     [verdict("frequency at z = 10", [freq[10.0]], closed)],
                     f"{freq[8.0]:.3f} at z = 8"),
        Check.banded("When contagion happens in the upper part of the window it is near-total",
                     GK_SOURCE, [verdict("extent at z = 6", [ext[6.0]], total)],
                     f"{ext[4.0]:.2f} at z = 4"),
        Check.banded("The analytic cascade condition opens the window just above z = 1 and "
                     "closes it near z = 8", GK_SOURCE + ", eq. 3.3", [
                         verdict("sum_(k<=5) k P(k; z) > 1 from z", [lo], Band(
                             1.0, 1.2, "G&K fig. 1/eq. 3.3: just above z = 1", "{:.2f}")),
                         verdict("to z", [hi], Band(7.0, 8.0, "G&K fig. 1: near z = 8",
                                                    "{:.2f}"))]),
    ]
    fig = go.Figure()
    fig.add_vrect(x0=lo, x1=hi, fillcolor="#dddddd", opacity=0.5, line_width=0,
                  annotation_text="analytic window")
    fig.add_trace(go.Scatter(x=table["z"], y=table["frequency"], mode="lines+markers",
                             name="frequency"))
    fig.add_trace(go.Scatter(x=table["z"], y=table["extent"], mode="lines+markers",
                             name="extent", line={"dash": "dash"}))
    fig.update_layout(title=f"Gai & Kapadia window ({scale.gk_banks} banks, {scale.gk_draws} "
                            "draws per z, rule geq)", xaxis_title="mean degree z",
                      yaxis_title="frequency / extent")
    return Section("Gai & Kapadia (2010): the contagion window",
                   "`models.classic.gai_kapadia.contagion_window`, knife-edge rule `geq` "
                   "(a bank with five debtors defaults when one of them does), compared exactly.",
                   checks, {"gai_kapadia": fig})


def _random_network(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    liabilities = rng.lognormal(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.35)
    np.fill_diagonal(liabilities, 0.0)
    external = rng.random(n) * liabilities.sum(axis=1) * rng.uniform(0.0, 1.5)
    return liabilities, external


EN_SOURCE = "Eisenberg & Noe (2001), Management Science 47(2), theorems 1-2 and sec. 3"


def eisenberg_noe_section(scale: Scale) -> Section:
    """The fictitious-default algorithm against a linear programme and a hand-worked ring."""
    rng = np.random.default_rng(2001)
    worst, rounds_ok, n_default = 0.0, True, 0
    for _ in range(scale.en_networks):
        n = int(rng.integers(3, 30))
        liabilities, external = _random_network(rng, n)
        res = eisenberg_noe(liabilities, external)
        lp = clearing_vector_lp(liabilities, external)
        scale_usd = max(1.0, float(liabilities.sum()))
        worst = max(worst, float(np.abs(res.payments - lp).max()) / scale_usd)
        rounds_ok &= res.rounds <= n
        n_default += int(res.defaulted.any())
    ring = np.array([[0.0, 10.0, 0.0], [0.0, 0.0, 10.0], [4.0, 0.0, 0.0]])
    res = eisenberg_noe(ring, np.array([5.0, 0.0, 0.0]))
    checks = [
        Check.banded("The greatest clearing vector solves max sum p subject to p <= pbar, "
                     "p <= e + Pi^T p (the LP of sec. 3)", EN_SOURCE, [verdict(
                         "largest |p_FDA - p_LP| / total liabilities", [worst], Band(
                             0.0, 1e-8, "theorem: equal; 1e-8 allows the LP solver's rounding",
                             "{:.1e}"))],
                     f"{scale.en_networks} random networks, {n_default} with defaults"),
        Check("The fictitious-default algorithm ends within n rounds", EN_SOURCE,
              "every network" if rounds_ok else "some network took more than n rounds",
              rounds_ok),
        Check("Ring A->B->C->A (owes 10, 10, 4; A holds 5): A cannot pay, B fails because A "
              "does, C is paid in part and survives; p = (9, 9, 4)", "hand-worked from the definition",
              f"p = {tuple(round(float(x), 6) for x in res.payments)}, default rounds "
              f"{res.default_round.tolist()}",
              bool(np.allclose(res.payments, [9, 9, 4]) and res.default_round.tolist()
                   == [0, 1, -1])),
    ]
    return Section("Eisenberg & Noe (2001): clearing", "`contagion.mechanics.clearing`, used by "
                   "the engine to clear the institutions' network every step.", checks, {})


DR_SOURCE = "Battiston et al. (2012), Sci. Rep. 2, 541; Bardoscia et al. (2015), PLoS ONE 10"


def debtrank_section(scale: Scale) -> Section:
    """DebtRank on a chain worked by hand, and linear DebtRank bounding it on random nets."""
    chain = np.array([[0, 0, 0], [5, 0, 0], [0, 4, 0]], dtype=float)
    res = debtrank(chain, np.array([1.0, 10.0, 8.0]), np.array([1.0, 0.0, 0.0]))
    rng = np.random.default_rng(2012)
    bounded = True
    for _ in range(scale.en_networks):
        n = int(rng.integers(3, 20))
        w = rng.lognormal(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.4)
        np.fill_diagonal(w, 0.0)
        equity = w.sum(axis=1) * rng.uniform(0.3, 3.0, n) + 0.1
        h0 = rng.random(n) * (rng.random(n) < 0.3)
        orig = debtrank(w, equity, h0)
        lin = debtrank(w, equity, h0, linear=True)
        bounded &= bool(np.all(lin.distress >= orig.distress - 1e-12))
    checks = [
        Check("Chain: bank 0 defaults (h = 1); bank 1 lent it 5 of its equity 10 (h = 0.5); bank "
              "2 lent bank 1 4 of its 8 (h = 0.25)", DR_SOURCE + " (eq. 1-2, hand-worked)",
              f"h = {tuple(round(float(x), 6) for x in res.distress)}",
              bool(np.allclose(res.distress, [1.0, 0.5, 0.25]))),
        Check("Linear DebtRank, which lets distress reverberate, never reports less distress "
              "than the original", DR_SOURCE,
              f"{scale.en_networks} random networks: " + ("holds on all" if bounded else
                                                          "violated"), bounded),
    ]
    return Section("DebtRank", "`contagion.mechanics.debtrank`, the engine's systemic-importance "
                   "ranking.", checks, {})


FS_SOURCE = ("Caccioli, Shrestha, Moore & Farmer (2014), J. Banking & Finance 46, sec. 3-4 "
             "(alpha = 1.0536: selling 10% of an asset lowers its price 10%)")


def fire_sales_section(scale: Scale) -> Section:
    """The leverage x diversification contagion window of fire sales."""
    from models.classic.fire_sales import contagion_window as fs_window

    n = 1000 if scale.name == "full" else 300
    draws = 200 if scale.name == "full" else 40
    lams, mus = [2.0, 5.0, 10.0, 20.0, 30.0], [1, 2, 3, 5, 8, 12, 20]
    t = fs_window(lams, mus, n_banks=n, n_assets=n, draws=draws, seed=2014)
    freq = t.pivot(index="mu", columns="lambda", values="frequency")
    ext = t.loc[t["frequency"] > 0, "extent"]
    width = {lam: int((freq[lam] > 0.5).sum()) for lam in lams}
    checks = [
        Check.banded("At low leverage fire sales do not spread, whatever the diversification",
                     FS_SOURCE, [verdict("largest frequency at leverage 2 and 5",
                                         [float(freq[[2.0, 5.0]].to_numpy().max())], Band(
                                             0.0, 0.0, "Caccioli et al.: none below the "
                                             "leverage threshold", "{:.2f}"))]),
        Check("A contagion window in diversification: none when each bank holds one asset, none "
              "when it holds many, global cascades in between", FS_SOURCE,
              f"leverage 20: frequency {freq.loc[1, 20.0]:.2f} at mu = 1, up to "
              f"{freq[20.0].max():.2f} in between, {freq.loc[20, 20.0]:.2f} at mu = 20",
              freq.loc[1, 20.0] == 0 and freq[20.0].max() > 0.5 and freq.loc[20, 20.0] == 0),
        Check("The window widens with leverage", FS_SOURCE,
              "diversifications with frequency > 0.5: " + ", ".join(
                  f"{width[lam]} at leverage {lam:g}" for lam in (10.0, 20.0, 30.0)),
              width[10.0] < width[20.0] <= width[30.0] and width[10.0] >= 1),
        Check.banded("When contagion happens it takes down nearly every bank (robust yet "
                     "fragile)", FS_SOURCE, [verdict("mean extent", [float(ext.mean())], Band(
                         0.9, 1.0, "Caccioli et al. fig. 2: extent near 1; read as over 90%",
                         "{:.2f}"))], f"lowest {ext.min():.2f}"),
    ]
    fig = go.Figure(go.Heatmap(z=freq.to_numpy(), x=[f"{lam:g}" for lam in freq.columns],
                               y=[str(m) for m in freq.index], colorscale="Reds",
                               colorbar={"title": "P(global)"}, text=freq.round(2).to_numpy(),
                               texttemplate="%{text}"))
    fig.update_layout(title=f"Fire sales: frequency of global contagion ({n} banks and assets, "
                            f"{draws} draws)", xaxis_title="leverage lambda",
                      yaxis_title="diversification mu")
    return Section("Fire sales on overlapping portfolios (Caccioli et al. 2014)",
                   "`models.classic.fire_sales.contagion_window`; one random bank fails.",
                   checks, {"fire_sales": fig})


def engine_presets_section(scale: Scale) -> Section:
    """The interbank teaching presets run on the engine and agree with the pure models."""
    from scipy import sparse

    from contagion.credit import credit_matrix
    from contagion.mechanics.debtrank import systemic_importance
    from contagion.model import ContagionModel
    from contagion.network import build_network, venue_exposure_matrix
    from models.classic.fire_sales import fire_sale_cascade
    from models.classic.fire_sales_preset import fire_sale_portfolios, fire_sales_demo
    from models.classic.gai_kapadia import cascade_size
    from models.classic.interbank import (
        DEBTRANK_BANKS,
        debtrank_demo,
        eisenberg_noe_demo,
        gai_kapadia_demo,
        gai_kapadia_graph,
    )

    def run(sc: Any) -> ContagionModel:
        m = ContagionModel(sc, seed=1)
        m.run()
        return m

    def rounds(m: ContagionModel, step: int = 2) -> list[int]:
        return [ex.default_step - step if ex.defaulted else -1 for ex in m.custodial]

    sizes = (0.1, 0.4, 1.0) if scale.name == "small" else (0.05, 0.1, 0.2, 0.4, 0.7, 1.0)
    agree = total = 0
    for bank in range(4):
        for w in sizes:
            m = run(eisenberg_noe_demo(n_traders=100, shocked_bank=bank, writedown_frac=w))
            _, L, e = credit_matrix(m)
            total += 1
            agree += rounds(m) == eisenberg_noe(L, e).default_round[:4].tolist()
    en = run(eisenberg_noe_demo(n_traders=100))
    rec = [round(ex.recovery_rate, 3) for ex in en.custodial]
    gk_ok, gk_cases = 0, [(1, 3.0), (2, 5.0), (0, 1.5)]
    gk_text = []
    for seed_graph, z in gk_cases:
        m = run(gai_kapadia_demo(n_traders=100, seed_graph=seed_graph, mean_degree=z))
        G = gai_kapadia_graph(40, z, seed_graph)
        edges = np.array(list(G.edges()))
        creditors = sparse.csr_matrix((np.ones(len(edges), dtype=np.int64),
                                       (edges[:, 0], edges[:, 1])), shape=(40, 40))
        shocked = rounds(m).index(0)
        pure = cascade_size(creditors, np.bincount(edges[:, 0], minlength=40), shocked,
                            ib=Fraction("0.2"), cap=Fraction("0.04"), rule="gt")
        engine = sum(ex.defaulted for ex in m.custodial)
        gk_ok += engine == pure
        gk_text.append(f"z = {z:g}: {engine} vs {pure}")
    dr = ContagionModel(debtrank_demo(n_traders=100), seed=1)
    names, exposures = venue_exposure_matrix(build_network(dr))
    sheets = {ex.name: ex for ex in dr.custodial}
    equity = [sheets[n].assets_usd() - sheets[n].liabilities_usd() for n in names]
    rank = dict(zip(names, systemic_importance(exposures, equity), strict=True))
    assets = {n: sheets[n].assets_usd() for n in names}
    hub = sum(ex.defaulted for ex in run(debtrank_demo(n_traders=100, shocked_bank=0)).custodial)
    giant = sum(ex.defaulted for ex in run(debtrank_demo(
        n_traders=100, shocked_bank=DEBTRANK_BANKS.index("Giant"))).custodial)
    top = max(rank, key=lambda k: rank[k])
    fs_cases = [(3, 10.0, 0), (2, 8.0, 2), (2, 5.0, 4), (1, 8.0, 6), (3, 5.0, 1)]
    if scale.name == "full":
        fs_cases += [(2, 10.0, 0), (4, 10.0, 2), (2, 8.0, 11), (5, 10.0, 5), (3, 2.4, 3)]
    fs_ok, fs_text = 0, []
    for mu, lam, g in fs_cases:  # seed_graph g, bank g shocked
        m = run(fire_sales_demo(n_traders=100, diversification=mu, leverage=lam, seed_graph=g,
                                shocked_bank=g))
        failed0 = np.arange(20) == g
        fs_pure = fire_sale_cascade(fire_sale_portfolios(20, 20, mu, g), lam,
                                    initially_failed=failed0).failed
        fs_engine = np.array([ex.defaulted for ex in m.custodial])
        fs_ok += bool((fs_engine == fs_pure).all())
        fs_text.append(f"mu {mu}, lambda {lam:g}: {int(fs_engine.sum())} vs {int(fs_pure.sum())}")
    checks = [
        Check("Each engine step is one round of the fictitious-default algorithm (the engine clears "
              "its institutions with Eisenberg-Noe every step)", EN_SOURCE,
              f"`classic_eisenberg_noe`: {agree} of {total} (shocked bank x write-down) cases give "
              f"the same defaults in the same rounds; depositors recover {rec}",
              agree == total and rec == [0.667, 0.902, 0.986, 1.0]),
        Check("On the same random network the engine's cascade is Gai-Kapadia's (zero recovery; a "
              "loss equal to capital is survived, rule gt)", GK_SOURCE,
              "`classic_gai_kapadia` defaults vs pure cascade: " + "; ".join(gk_text),
              gk_ok == len(gk_cases)),
        Check("Systemic importance is not size: the bank with the highest DebtRank need not be the "
              "largest, and its failure spreads while the largest bank's does not", DR_SOURCE,
              f"`classic_debtrank`: top DebtRank {top} ({rank[top]:.3f}) with "
              f"${assets[top] / 1e9:.2f}B of assets; largest Giant "
              f"(${assets['Giant'] / 1e9:.2f}B, DebtRank {rank['Giant']:.3f}); defaults when "
              f"the Hub fails {hub}, when Giant fails {giant}",
              top == "Hub" and assets["Giant"] > 5 * assets["Hub"] and hub > giant == 1),
        Check("On the same portfolios the engine's fire-sale cascade (defaulted banks sell "
              "everything; impact exp(-alpha x), alpha = 1.0536) fails the same banks as the "
              "pure model", FS_SOURCE,
              "`classic_fire_sales` (20 banks, 20 assets) defaults vs pure cascade: "
              + "; ".join(fs_text), fs_ok == len(fs_cases)),
    ]
    return Section("The textbook models as engine presets",
                   "`classic_eisenberg_noe`, `classic_gai_kapadia`, `classic_debtrank` and "
                   "`classic_fire_sales` (overlapping portfolios, no loans) run on "
                   "the engine's venue-to-venue credit layer (banks as custodial institutions with "
                   "deposits, interbank credit links and external assets written down at step 2), "
                   "so the dashboard plays them step by step.", checks, {})


def textbook_sections(scale: Scale) -> list[Section]:
    """Every textbook-model section, in report order."""
    from experiments.validation.market_checks import market_mechanics_section

    builders: list[Callable[[Scale], Section]] = [gai_kapadia_section, eisenberg_noe_section,
                                                  debtrank_section, fire_sales_section,
                                                  engine_presets_section,
                                                  market_mechanics_section]
    return [b(scale) for b in builders]
