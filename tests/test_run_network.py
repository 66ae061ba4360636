"""`contagion run --network FILE`: a user's exposure network starts a simulation, and what it
clears agrees with the one-shot `contagion network` stress of the same file: the same
institutions default, in the same rounds, with the same recovery rates."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from contagion.cli import main
from contagion.network import read_network
from contagion.runner import simulate
from contagion.stress import stress_network
from models.network_world import network_scenario


def _random_network(seed: int, n: int = 8) -> nx.MultiDiGraph:
    """Banks with 4% capital, a fifth of assets lent to others (Gai & Kapadia's shape)."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph()
    names = [f"B{i}" for i in range(n)]
    lent = {b: 0.0 for b in names}
    owed = {b: 0.0 for b in names}
    for i, lender in enumerate(names):
        for j, borrower in enumerate(names):
            if i != j and rng.random() < 0.35:
                usd = float(rng.uniform(5, 25))
                G.add_edge(lender, borrower, key="credit", type="credit", weight=usd)
                lent[lender] += usd
                owed[borrower] += usd
    for b in names:
        external = 100.0 + float(rng.uniform(0, 50))
        assets = external + lent[b]
        deposits = 0.96 * assets - owed[b]
        if deposits <= 0:  # a bank that borrowed more than it holds: give it more assets
            external += owed[b]
            deposits = 0.96 * (external + lent[b]) - owed[b]
        G.add_node(b, kind="bank", external_assets_usd=external, external_liabilities_usd=deposits)
    return G


def _compare(G: nx.MultiDiGraph, shocks: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = stress_network(G, shocks).set_index("node")
    result = simulate(network_scenario(G, shocks), seed=0)
    ev = result.events
    defaults = ev[ev["kind"] == "default"].set_index("venue")["step"]
    last = result.venues[result.venues["step"] == result.venues["step"].max()].set_index("venue")
    return table, pd.DataFrame({"step": defaults}).join(last[["recovery_rate"]], how="right")


@pytest.mark.parametrize("seed", range(6))
def test_the_simulation_clears_as_the_stress_does(seed: int) -> None:
    G = _random_network(seed)
    shocks = {"B0": 0.5, "B3": 0.3}
    table, sim = _compare(G, shocks)
    defaulted = set(table.index[table["defaulted"]])
    assert set(sim.index[sim["step"].notna()]) == defaulted
    assert defaulted  # the shock does topple someone
    first = sim["step"].min()
    generation = (sim["step"] - first + 1).dropna().astype(int)
    assert generation.to_dict() == table.loc[list(generation.index), "default_generation"].to_dict()
    np.testing.assert_allclose(sim.loc[table.index, "recovery_rate"], table["recovery_rate"],
                               rtol=1e-9, atol=1e-9)


def test_cli_runs_a_graphml_network_and_agrees_with_contagion_network(tmp_path: Path,
                                                                      capsys) -> None:  # type: ignore[no-untyped-def]
    G = _random_network(1)
    path = tmp_path / "world.graphml"
    nx.write_graphml(G, path)
    assert main(["network", str(path), "--shock", "B0=0.5", "--shock", "B3=0.3",
                 "--out", str(tmp_path / "stress.csv")]) == 0
    stress = pd.read_csv(tmp_path / "stress.csv").set_index("node")
    out = tmp_path / "run"
    assert main(["run", "--network", str(path), "--shock", "B0=0.5", "--shock", "B3=0.3",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    events = pd.read_parquet(out / "events.parquet")
    first = events[events["kind"] == "default"]
    first_round = set(first.loc[first["step"] == first["step"].min(), "venue"])
    assert first_round == set(stress.index[stress["default_generation"] == 1])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["defaults"] == int(stress["defaulted"].sum())
    assert "scenario world" in text
    assert read_network(path).number_of_nodes() == len(stress)


@pytest.mark.parametrize(("args", "words"), [
    (["run", "default", "--network", "X"], "no scenario with --network"),
    (["run", "--shock", "A=0.5"], "only with --network FILE"),
    (["run", "--network", "nope.graphml", "--shock", "A=0.5"], "does not exist"),
    (["run", "--network", "{net}", "--shock", "Nobody=0.5"], "an institution of the network"),
    (["run", "--network", "{net}", "--shock", "B0=1.5"], "shock[B0]"),
    (["run", "--network", "{net}"], "at least one NODE=FRAC"),
    (["run", "--network", "{net}", "--shock", "B0=0.5", "--set", "n_traders=5"],
     "a network has no presets"),
])
def test_bad_network_runs_exit_2_and_write_nothing(tmp_path: Path, capsys, args: list[str],  # type: ignore[no-untyped-def]
                                                   words: str) -> None:
    net = tmp_path / "world.graphml"
    nx.write_graphml(_random_network(2), net)
    out = tmp_path / "out"
    assert main([a.replace("{net}", str(net)) for a in args] + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()
