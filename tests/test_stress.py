"""Stressing an exposure network: the model's own, or one a user brings."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from contagion.cli import main
from contagion.errors import NetworkFormatError, ParameterError
from contagion.model import ContagionModel
from contagion.network import read_network, write_network
from contagion.stress import stress_network
from models import get_scenario


def _chain() -> nx.MultiDiGraph:
    # A lends 50 to B, B lends 50 to C; each owes outsiders 40; A and B hold 60 outside,
    # C holds 100 (so that, unshocked, everyone is solvent)
    G = nx.MultiDiGraph()
    for name, ext in (("A", 60.0), ("B", 60.0), ("C", 100.0)):
        G.add_node(name, kind="venue", external_assets_usd=ext, external_liabilities_usd=40.0)
    G.add_edge("A", "B", key="credit", type="credit", weight=50.0)
    G.add_edge("B", "C", key="credit", type="credit", weight=50.0)
    return G


def test_a_shock_to_the_end_of_a_chain_travels_up_it() -> None:
    out = stress_network(_chain(), {"C": 1.0}).set_index("node")
    # C: 0 assets, owes 50 to B and 40 outside -> pays nothing
    assert out.loc["C", "payments_usd"] == pytest.approx(0.0)
    # B: 60 outside + 0 from C = 60 against 90 owed -> pays 60, recovers 2/3
    assert out.loc["B", "recovery_rate"] == pytest.approx(60 / 90)
    # A: 60 + 50 * 60/90 = 93.3 against 40 owed -> solvent
    assert not out.loc["A", "defaulted"]
    assert out.loc["C", "default_generation"] == 1 and out.loc["B", "default_generation"] == 2
    assert out.loc["B", "debtrank_distress"] > 0 and out.loc["A", "debtrank_distress"] > 0


def test_no_shock_no_default() -> None:
    out = stress_network(_chain(), {})
    assert not out["defaulted"].any()


def test_the_models_network_can_be_exported_and_stressed(tmp_path: Path) -> None:
    model = ContagionModel(get_scenario("default", n_traders=100, steps=2), seed=0)
    path = write_network(model.network, tmp_path / "net.json")
    out = stress_network(read_network(path), {"AlphaFund": 1.0}).set_index("node")
    # the firm's collapse takes down the exchange that lent it $80M
    assert out.loc["AlphaFund", "defaulted"] and out.loc["CEX", "defaulted"]
    assert out.loc["CEX", "default_generation"] == 2
    assert not out.loc["LendA", "defaulted"]
    assert out["systemic_importance"].idxmax() == "AlphaFund" or \
        out.loc["CEX", "systemic_importance"] >= 0


def test_bad_shocks_are_rejected_naming_the_node() -> None:
    with pytest.raises(ParameterError, match=r"'shock' = 'Z' .* A, B, C"):
        stress_network(_chain(), {"Z": 0.5})
    with pytest.raises(ParameterError, match=r"'shock\[A\]' = 1.5"):
        stress_network(_chain(), {"A": 1.5})
    with pytest.raises(NetworkFormatError, match="no institutions"):
        stress_network(nx.MultiDiGraph(), {})


def test_cli_stresses_a_users_network(tmp_path: Path, capsys) -> None:
    G = _chain()
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(nx.node_link_data(G, edges="edges")))
    table = tmp_path / "out.csv"
    assert main(["network", str(path), "--shock", "C=1", "--out", str(table)]) == 0
    assert "2 of 3 institutions default" in capsys.readouterr().out
    assert table.read_text().startswith("node,")
    assert main(["network", str(path), "--shock", "C"]) == 2
    assert "NODE=FRACTION" in capsys.readouterr().err
    assert main(["network", str(tmp_path / "nope.json")]) == 2
