"""Draw the shipped experiments' figures from their results (run the sweeps first).

``.venv/bin/python experiments/make_figures.py`` reads ``experiments/results/<name>/`` and writes,
per experiment, ``experiments/figures/<name>.png`` (via Debian's headless Chromium) and a small
summary table ``experiments/figures/<name>.csv``. The full interactive reports come from
``contagion report experiments/results/<name>``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from contagion.analytics import cascade_probability, wilson_interval
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


def screenshot(fig: go.Figure, path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print(f"no chromium: skipped {path.name}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "fig.html"
        fig.update_layout(width=1000, height=650, template="plotly_white")
        fig.write_html(html, include_plotlyjs=True, config={"displayModeBar": False})
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={tmp}/profile",
                        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , "
                        "EXCLUDE 127.0.0.1", "--hide-scrollbars", "--window-size=1000,650",
                        "--virtual-time-budget=5000", f"--screenshot={path}", html.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> None:
    FIGURES.mkdir(exist_ok=True)
    for name, draw in [("leverage_shock", leverage_shock),
                       ("oracle_liquidator", oracle_liquidator),
                       ("fund_crossmargin", fund_crossmargin)]:
        if not (RESULTS / name).exists():
            print(f"{name}: no results; run contagion sweep experiments/{name}.toml first")
            continue
        df = load_results(RESULTS / name)
        df = df[df["status"] == "ok"]
        fig, table = draw(df)
        table.to_csv(FIGURES / f"{name}.csv", index=False)
        screenshot(fig, FIGURES / f"{name}.png")
        print(f"{name}: {len(df)} runs -> experiments/figures/{name}.png")


__all__ = ["main", "wilson_interval"]

if __name__ == "__main__":
    main()
