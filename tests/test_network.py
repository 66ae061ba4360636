"""The exposure graph: typed edges, cohorts, export and import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contagion.errors import NetworkFormatError
from contagion.model import ContagionModel
from contagion.network import EDGE_TYPES, build_network, read_network, venue_exposure_matrix, write_network
from contagion.runner import RunResult
from models import get_scenario


def test_graph_has_every_edge_type_and_node_kind(shocked_run: RunResult) -> None:
    G = shocked_run.network
    types = {d["type"] for _, _, d in G.edges(data=True)}
    # a pending_settlement edge exists only while money is in flight (tests/test_settlement.py),
    # a bridge_route only with a bridge (tests/test_bridges.py)
    assert types == set(EDGE_TYPES) - {"pending_settlement", "bridge_route"}
    kinds = {d["kind"] for _, d in G.nodes(data=True)}
    assert {"trader", "lending", "perp", "custodial", "firm", "oracle", "fund", "pool"} <= kinds
    assert G.nodes["CEX"]["state"] == "defaulted"
    assert all(d["weight"] >= 0 for _, _, d in G.edges(data=True))


def test_cex_loan_to_the_firm_is_a_credit_exposure(shocked_run: RunResult) -> None:
    names, M = venue_exposure_matrix(shocked_run.network)
    assert M[names.index("CEX"), names.index("AlphaFund")] == pytest.approx(8e7)
    # LendB accepts CEX's token: LendB is exposed to CEX
    assert M[names.index("LendB"), names.index("CEX")] > 0


def test_large_runs_group_traders_into_cohorts() -> None:
    model = ContagionModel(get_scenario("default", n_traders=3000, steps=3), seed=0)
    G = build_network(model, node_limit=1000)
    cohorts = [d for _, d in G.nodes(data=True) if d["kind"] == "cohort"]
    assert cohorts and sum(d["members"] for d in cohorts) == 3000
    assert not any(d["kind"] == "trader" for _, d in G.nodes(data=True))


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_network_round_trips(shocked_run: RunResult, tmp_path: Path, suffix: str) -> None:
    path = write_network(shocked_run.network, tmp_path / f"g{suffix}")
    G = read_network(path)
    assert G.number_of_edges() == shocked_run.network.number_of_edges()
    assert G.number_of_nodes() == shocked_run.network.number_of_nodes()


def test_user_network_with_bad_edge_is_rejected_naming_it(tmp_path: Path) -> None:
    bad = {"directed": True, "multigraph": True, "graph": {},
           "nodes": [{"id": "A", "kind": "lending"}, {"id": "B", "kind": "custodial"}],
           "edges": [{"source": "A", "target": "B", "type": "friendship", "weight": 1}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(NetworkFormatError, match=r"edge 'A' -> 'B' has type 'friendship'"):
        read_network(path)
    bad["edges"][0].update(type="credit", weight=-4)
    path.write_text(json.dumps(bad))
    with pytest.raises(NetworkFormatError, match=r"weight -4"):
        read_network(path)
    with pytest.raises(NetworkFormatError, match="does not exist"):
        read_network(tmp_path / "missing.json")


def test_node_states_are_recorded_each_step(shocked_run: RunResult) -> None:
    ns = shocked_run.node_states
    assert ns["step"].nunique() == len(shocked_run.series)
    last = ns[ns["step"] == ns["step"].max()]
    assert (last["state"] == "liquidated").sum() > 0
    assert last.loc[last["node"] == "CEX", "state"].item() == "defaulted"
