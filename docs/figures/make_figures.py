"""Draw the README figure: the default scenario's cascade, from a run's DataFrames.

Run: ``.venv/bin/python docs/figures/make_figures.py``. Writes ``default-cascade.html`` and,
when Chromium is installed (``/usr/bin/chromium``), ``default-cascade.png`` beside this file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from contagion.runner import simulate
from models import get_scenario

HERE = Path(__file__).parent


def cascade_figure(seed: int = 0) -> go.Figure:
    r = simulate(get_scenario("default"), seed=seed)
    s, ev = r.series, r.events
    hours = s.index * r.scenario.market.step_minutes / 60
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("ETH: market, pool and oracles (USD)",
                                        "Liquidation volume per step (USD)",
                                        "Bad debt and insurance funds (USD)"))
    for col, name, dash in [("price_ETH", "market", "solid"), ("pool_ETH/USDC", "ETH/USDC pool", "dot"),
                            ("oracle_ETH-feed", "ETH-feed oracle", "dash"),
                            ("oracle_ETH-twap", "ETH-twap oracle", "dashdot")]:
        fig.add_trace(go.Scatter(x=hours, y=s[col], name=name, line={"dash": dash}), row=1, col=1)
    fig.add_trace(go.Bar(x=hours, y=s["liquidation_usd"], name="liquidations",
                         marker_color="#d62728"), row=2, col=1)
    fig.add_trace(go.Scatter(x=hours, y=s["bad_debt_usd"], name="bad debt (cumulative)",
                             line={"color": "black"}), row=3, col=1)
    for col in [c for c in s.columns if c.startswith("fund_") and c != "fund_balance_usd"]:
        fig.add_trace(go.Scatter(x=hours, y=s[col], name=col[5:]), row=3, col=1)
    for _, e in ev[ev["kind"] == "default"].iterrows():
        x = e["step"] * r.scenario.market.step_minutes / 60
        for row in (1, 2, 3):
            fig.add_vline(x=x, line={"color": "grey", "dash": "dot"}, row=row, col=1)
        fig.add_annotation(x=x, y=1, yref="y domain", text=f"{e['venue']} defaults",
                           showarrow=False, xanchor="left", row=1, col=1)
    fig.update_xaxes(title_text="hours", row=3, col=1)
    fig.update_layout(width=1100, height=900, template="plotly_white",
                      title="contagion: default scenario, seed 0 (ETH -35% over 3 h)",
                      legend={"orientation": "h", "y": -0.08})
    return fig


def main() -> None:
    fig = cascade_figure()
    html = HERE / "default-cascade.html"
    fig.write_html(html, include_plotlyjs=True, full_html=True, config={"displayModeBar": False})
    chromium = shutil.which("chromium")
    if chromium is None:
        print(f"wrote {html}; install Debian's chromium to also write the PNG")
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
                        "--hide-scrollbars", "--window-size=1100,900", "--virtual-time-budget=5000",
                        f"--screenshot={HERE / 'default-cascade.png'}", html.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {html} and {HERE / 'default-cascade.png'}")


if __name__ == "__main__":
    main()
