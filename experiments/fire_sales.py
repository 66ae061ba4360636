"""The Caccioli-Shrestha-Moore-Farmer (2014) fire-sale contagion window over leverage x diversification.

``.venv/bin/python -m experiments.fire_sales [--draws 1000] [--banks 1000] [--assets 1000]``
writes ``experiments/figures/fire_sales.csv`` and ``fire_sales.png`` (via Debian's headless
Chromium): the frequency and extent of global contagion (more than 5% of banks fail) over
the diversification mu, one curve per leverage lambda, after one random bank fails; the
tree-approximation window (mean offspring > 1, ``branching_factor``) is marked by squares
below the x axis, one row per leverage.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from experiments.make_figures import screenshot
from models.classic.fire_sales import analytic_window, contagion_window, critical_leverage

FIGURES = Path(__file__).parent / "figures"
LEVERAGES = [2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
DIVERSIFICATIONS = list(range(1, 13))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--banks", type=int, default=1000)
    ap.add_argument("--assets", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=FIGURES, help="directory of the figure and table")
    args = ap.parse_args()
    table = contagion_window(LEVERAGES, DIVERSIFICATIONS, n_banks=args.banks,
                             n_assets=args.assets, draws=args.draws, seed=2014)
    theory = analytic_window(LEVERAGES, DIVERSIFICATIONS, crowding=args.banks / args.assets)
    table = table.merge(theory, on=["lambda", "mu"])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "fire_sales.csv", index=False)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "frequency of global contagion", "extent (share of banks failing, when global)"))
    colours = ["#999999", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"]
    for k, (colour, (lam, part)) in enumerate(zip(colours, table.groupby("lambda"),
                                                   strict=False)):
        fig.add_trace(go.Scatter(x=part["mu"], y=part["frequency"], mode="lines+markers",
                                 name=f"lambda = {lam:g}", line={"color": colour},
                                 legendgroup=str(lam)), row=1, col=1)
        fig.add_trace(go.Scatter(x=part["mu"], y=part["extent"], mode="lines+markers",
                                 name=f"lambda = {lam:g}", line={"color": colour},
                                 legendgroup=str(lam), showlegend=False), row=1, col=2)
        inside = part.loc[part["possible"], "mu"]
        fig.add_trace(go.Scatter(x=inside, y=np.full(inside.size, -0.013 * (k + 1)), mode="markers",
                                 marker={"symbol": "square", "size": 6, "color": colour},
                                 legendgroup=str(lam), showlegend=False,
                                 hovertext="branching factor > 1"), row=1, col=1)
    fig.update_xaxes(title_text="diversification mu (assets per bank)", dtick=1)
    fig.update_yaxes(range=[-0.1, 1.05])
    fig.update_layout(
        title=f"Fire sales on overlapping portfolios: {args.banks} banks, {args.assets} assets, "
              f"{args.draws} draws, alpha = 1.0536<br><sup>squares below 0: tree window (branching "
              f"factor > 1); no failure is possible below lambda = {critical_leverage():.2f}"
              "</sup>")
    screenshot(fig, args.out / "fire_sales.png")
    print(pd.pivot_table(table, index="mu", columns="lambda", values="frequency").round(3)
          .to_string())


if __name__ == "__main__":
    main()
