"""Draw the shipped experiments' figures from their results (run the sweeps first).

``.venv/bin/python experiments/make_figures.py [name ...]`` reads ``experiments/results/<name>/``
and writes, per experiment (all of them when no name is given), ``experiments/figures/<name>.png``
(via Debian's headless Chromium) and a small summary table ``experiments/figures/<name>.csv``.
The full interactive reports come from ``contagion report experiments/results/<name>``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from contagion.analytics import cascade_probability, loss_measures, wilson_interval
from contagion.report import cascade_figure
from contagion.sweep import load_results

HERE = Path(__file__).parent
RESULTS, FIGURES = HERE / "results", HERE / "figures"


def leverage_shock(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    table = cascade_probability(df, "mean_leverage", "shock_frac", metric="cross_venue")
    fig = cascade_figure(table, "mean_leverage", "shock_frac", metric="cross_venue")
    fig.update_layout(title="P(cross-venue cascade) over PerpX mean leverage x ETH shock "
                            "(8 runs per cell, Wilson 95% CI)")
    return fig, table


def oracle_liquidator(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    df = df.assign(losses_musd=(df["bad_debt_usd"] + df["insolvent_debt_usd"]) / 1e6)
    table = (df.groupby(["oracle_delay_steps", "liquidator_capital_usd"])["losses_musd"]
             .agg(["mean", "std", "count"]).reset_index())
    pivot = table.pivot(index="oracle_delay_steps", columns="liquidator_capital_usd",
                        values="mean")
    fig = go.Figure(go.Heatmap(z=pivot.values, x=[f"${c / 1e6:g}M" for c in pivot.columns],
                               y=[str(i) for i in pivot.index], colorscale="Reds",
                               colorbar={"title": "$M"}, text=pivot.round(2).values,
                               texttemplate="%{text}"))
    fig.update_layout(title="Bad debt + insolvent debt ($M, mean of 6 runs) over oracle delay "
                            "x liquidator capital per step",
                      xaxis_title="liquidator capital per step", yaxis_title="oracle delay (steps)")
    return fig, table


def fund_crossmargin(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    df = df.assign(socialised_musd=df["socialised_usd"] / 1e6,
                   bad_musd=df["bad_debt_usd"] / 1e6)
    table = (df.groupby(["cross_margin", "insurance_fund_scale"])
             .agg(socialised_musd=("socialised_musd", "mean"), bad_debt_musd=("bad_musd", "mean"),
                  runs=("socialised_musd", "size"),
                  venues_hit=("venues_hit", "mean"),
                  perpx_hit=("defaulted__PerpX", "mean")).reset_index())
    fig = go.Figure()
    for cm, part in table.groupby("cross_margin"):
        fig.add_trace(go.Scatter(x=part["insurance_fund_scale"], y=part["socialised_musd"],
                                 mode="lines+markers", name=f"cross-margin {'on' if cm else 'off'}"))
    fig.update_layout(title="Socialised loss ($M, mean of 8 runs) vs insurance-fund size",
                      xaxis_title="insurance funds (x default)", yaxis_title="socialised loss ($M)")
    return fig, table


FTX_INSTITUTIONS = ("FTX", "BlockFi", "Genesis", "Gemini")
FTX_CREDITORS = ("BlockFi", "Genesis", "Gemini")  # lent to FTX, or to Genesis (Gemini Earn)


def _grid(table: pd.DataFrame, x: str, y: str, value: str) -> pd.DataFrame:
    """``table[value]`` as a y-by-x grid, both axes sorted."""
    return table.pivot(index=y, columns=x, values=value).sort_index().sort_index(axis=1)


def _ci_cells(table: pd.DataFrame, x: str, y: str) -> list[list[str]]:
    """Cell labels ``p`` over its Wilson interval, from a cascade-probability table."""
    p, low, high = (_grid(table, x, y, c).to_numpy() for c in ("p", "low", "high"))
    return [[f"{a:.2f}<br>[{b:.2f}, {c:.2f}]" for a, b, c in zip(*row, strict=True)]
            for row in zip(p, low, high, strict=True)]


def _two_heatmaps(table: pd.DataFrame, x: str, y: str, *, mean: str, mean_title: str,
                  mean_text: str, p_title: str, x_labels: list[str], y_labels: list[str],
                  title: str, xaxis_title: str, yaxis_title: str) -> go.Figure:
    """A mean (left) and a probability with its Wilson interval (right) over the same grid."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=[mean_title, p_title])
    means = _grid(table, x, y, mean)
    fig.add_trace(go.Heatmap(z=means.values, x=x_labels, y=y_labels, colorscale="Reds",
                             zmin=0, colorbar={"x": 0.44, "len": 0.9}, text=means.values,
                             texttemplate=mean_text), row=1, col=1)
    fig.add_trace(go.Heatmap(z=_grid(table, x, y, "p").values, x=x_labels, y=y_labels,
                             colorscale="Reds", zmin=0, zmax=1, colorbar={"title": "p", "len": 0.9},
                             text=_ci_cells(table, x, y), texttemplate="%{text}",
                             textfont={"size": 10}), row=1, col=2)
    fig.update_layout(title=title)
    fig.update_xaxes(title_text=xaxis_title, type="category")
    fig.update_yaxes(title_text=yaxis_title, type="category")
    return fig


def ftx_rehypothecation(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    x, y = "ftt_dump_usd", "rehypothecation_frac"
    df = df.assign(
        institutions_failed=df[[f"defaulted__{v}" for v in FTX_INSTITUTIONS]].sum(axis=1),
        creditors_failed=df[[f"defaulted__{v}" for v in FTX_CREDITORS]].sum(axis=1))
    crosses = cascade_probability(df, x, y, metric="creditors_failed")
    means = (df.groupby([x, y])
             .agg(institutions_failed=("institutions_failed", "mean"),
                  p_ftx_fails=("defaulted__FTX", "mean"),
                  p_alameda_fails=("defaulted__Alameda", "mean"),
                  p_blockfi_fails=("defaulted__BlockFi", "mean"),
                  p_genesis_fails=("defaulted__Genesis", "mean"),
                  p_gemini_fails=("defaulted__Gemini", "mean"),
                  ftx_lgd=("lgd__FTX", "mean")).reset_index())
    table = means.merge(crosses, on=[x, y])
    runs = int(table["runs"].min())
    fig = _two_heatmaps(
        table, x, y, mean="institutions_failed", mean_text="%{text:.1f}",
        mean_title="institutions failed (of FTX, BlockFi, Genesis, Gemini), mean",
        p_title="P(failure crosses to BlockFi / Genesis / Gemini) [95% Wilson CI]",
        x_labels=[f"${v / 1e9:g}B" if v >= 1e9 else f"${v / 1e6:g}M"
                  for v in sorted(table[x].unique())],
        y_labels=[f"{v:g}" for v in sorted(table[y].unique())],
        title=f"FTX: share of deposits lent to Alameda x Binance's FTT dump ({runs} runs per cell)",
        xaxis_title="FTT dumped over 12 h", yaxis_title="rehypothecation_frac")
    return fig, table


def october_2025_depth(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    x, y = "insurance_fund_scale", "depth_drop_frac"
    musd = {c: df[f"{c}_usd"] / 1e6 for c in ("adl", "bad_debt", "socialised", "fund_used",
                                                "liquidation_volume")}
    df = df.assign(**{f"{c}_musd": v for c, v in musd.items()})
    # ADL fires only once a perp venue's insurance fund cannot cover a shortfall, so P(ADL > 0)
    # is P(a perp fund is exhausted); run_record has no per-fund exhaustion flag.
    exhausted = cascade_probability(df, x, y, metric="adl_usd")
    means = (df.groupby([x, y])[[f"{c}_musd" for c in musd]].mean().reset_index())
    table = means.merge(exhausted, on=[x, y])
    runs = int(table["runs"].min())
    fig = _two_heatmaps(
        table, x, y, mean="adl_musd", mean_text="%{text:.1f}",
        mean_title="auto-deleveraged volume ($M, mean)",
        p_title="P(a perp fund is exhausted and ADL fires) [95% Wilson CI]",
        x_labels=[f"x{v:g}" for v in sorted(table[x].unique())],
        y_labels=[f"{v:.0%}" for v in sorted(table[y].unique())],
        title=f"10 Oct 2025: order-book depth lost x insurance-fund size ({runs} runs per cell)",
        xaxis_title="insurance funds (x the preset's)", yaxis_title="depth lost in the collapse")
    return fig, table


def correlation_tails(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """Insolvent debt per run, correlated vs independent noise: the tail is the difference."""
    df = df.assign(noise=np.where(df["correlation"] > 0, "correlated", "independent"))
    table = loss_measures(df, level=0.95, by="noise")
    fig = go.Figure()
    for noise, part in df.groupby("noise"):
        loss = (part["bad_debt_usd"] + part["insolvent_debt_usd"]) / 1e6
        fig.add_trace(go.Box(y=loss, name=str(noise), boxpoints="all", jitter=0.4))
    fig.update_layout(title="Insolvent debt per run ($M): correlated vs independent majors",
                      yaxis_title="insolvent debt ($M)")
    return fig, table


def _with_depositor_loss(df: pd.DataFrame, venue: str) -> pd.DataFrame:
    """``df`` with ``<venue>_depositor_loss_musd``: what the venue's depositors lost in each
    run, in $M (exposure at default times loss given default, 0 where it did not default)."""
    lost = (df[f"defaulted__{venue}"] * df[f"ead__{venue}"]
            * df[f"lgd__{venue}"].fillna(0.0)) / 1e6
    return df.assign(**{f"{venue.lower()}_depositor_loss_musd": lost})


def settlement_window(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """CEX's depositors' loss, and the probability of any, over the settlement window x the
    crash's start. (Not P(CEX defaults): in a long run the run on CEX can drain a solvent CEX
    of cash after it is repaid, a default whose depositors recover everything.)"""
    x, y = "settlement_delay_steps", "shock_start_step"
    df = _with_depositor_loss(df, "CEX")
    fails = cascade_probability(df, x, y, metric="cex_depositor_loss_musd")
    means = (df.groupby([x, y])
             .agg(cex_depositor_loss_musd=("cex_depositor_loss_musd", "mean"),
                  p_cex_defaults=("defaulted__CEX", "mean"),
                  p_alphafund_fails=("defaulted__AlphaFund", "mean")).reset_index())
    table = means.merge(fails, on=[x, y])
    runs = int(table["runs"].min())
    fig = _two_heatmaps(
        table, x, y, mean="cex_depositor_loss_musd", mean_text="%{text:.1f}",
        mean_title="CEX depositors' loss ($M, mean)",
        p_title="P(CEX's depositors lose) [95% Wilson CI]",
        x_labels=[f"{v:g} h" for v in sorted(table[x].unique())],
        y_labels=[f"hour {v:g}" for v in sorted(table[y].unique())],
        title=f"A recalled loan in flight: settlement window x when the borrower's collateral "
              f"crashes ({runs} runs per cell)",
        xaxis_title="settlement window (hours from the recall)",
        yaxis_title="ETH starts falling at")
    return fig, table


def solvency_proofs(df: pd.DataFrame) -> tuple[go.Figure, pd.DataFrame]:
    """CEX's depositors' loss, and the probability it defaults within the run, over the proof
    kind x its cadence."""
    x, y = "proof_every_steps", "proof_kind"
    df = _with_depositor_loss(df, "CEX")
    fails = cascade_probability(df, x, y, metric="defaulted__CEX")
    means = (df.groupby([x, y])
             .agg(cex_depositor_loss_musd=("cex_depositor_loss_musd", "mean"),
                  p_cex_defaults=("defaulted__CEX", "mean")).reset_index())
    table = means.merge(fails, on=[x, y])
    runs = int(table["runs"].min())
    fig = _two_heatmaps(
        table, x, y, mean="cex_depositor_loss_musd", mean_text="%{text:.0f}",
        mean_title="CEX depositors' loss ($M, mean)",
        p_title="P(CEX defaults within the run) [95% Wilson CI]",
        x_labels=[f"every {v:g} d" for v in sorted(table[x].unique())],
        y_labels=sorted(table[y].unique()),
        title=f"A hidden hole: proof kind x cadence ({runs} runs per cell)",
        xaxis_title="proof cadence (days between snapshots)", yaxis_title="proof kind")
    return fig, table


def screenshot(fig: go.Figure, path: Path, *, width: int = 1000,
               height: int = 650) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print(f"no chromium: skipped {path.name}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "fig.html"
        fig.update_layout(width=width, height=height, template="plotly_white")
        fig.write_html(html, include_plotlyjs=True, config={"displayModeBar": False})
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={tmp}/profile",
                        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , "
                        "EXCLUDE 127.0.0.1", "--hide-scrollbars", f"--window-size={width},{height}",
                        "--virtual-time-budget=5000", f"--screenshot={path}", html.as_uri()],
                       check=True, capture_output=True, timeout=120)


#: name -> (figure builder, screenshot width in pixels)
EXPERIMENTS: dict[str, tuple[Callable[[pd.DataFrame], tuple[go.Figure, pd.DataFrame]], int]] = {
    "leverage_shock": (leverage_shock, 1000),
    "oracle_liquidator": (oracle_liquidator, 1000),
    "fund_crossmargin": (fund_crossmargin, 1000),
    "ftx_rehypothecation": (ftx_rehypothecation, 1500),
    "october_2025_depth": (october_2025_depth, 1500),
    "correlation_tails": (correlation_tails, 1000),
    "settlement_window": (settlement_window, 1500),
    "solvency_proofs": (solvency_proofs, 1500),
}


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        print(f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}")
        return 2
    FIGURES.mkdir(exist_ok=True)
    for name in names or list(EXPERIMENTS):
        draw, width = EXPERIMENTS[name]
        if not (RESULTS / name).exists():
            print(f"{name}: no results; run contagion sweep experiments/{name}.toml first")
            continue
        df = load_results(RESULTS / name)
        df = df[df["status"] == "ok"]
        fig, table = draw(df)
        table.to_csv(FIGURES / f"{name}.csv", index=False)
        screenshot(fig, FIGURES / f"{name}.png", width=width)
        print(f"{name}: {len(df)} runs -> experiments/figures/{name}.png")
    return 0


__all__ = ["EXPERIMENTS", "main", "wilson_interval"]

if __name__ == "__main__":
    sys.exit(main())
