"""Network and world files a user wrote: each flaw refused by the readers, naming the file,
the node or edge and the attribute, instead of a traceback or a silent merge (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contagion.errors import NetworkFormatError
from contagion.network import read_network
from contagion.world import read_world


def _graph(nodes: list[Any], edges: list[Any], *, key: str = "edges") -> dict[str, Any]:
    return {"directed": True, "multigraph": True, "graph": {}, "nodes": nodes, key: edges}


A = {"id": "A", "kind": "custodial", "external_assets_usd": 100.0}
B = {"id": "B", "kind": "firm", "external_assets_usd": 80.0}
E = {"source": "A", "target": "B", "type": "credit", "weight": 30.0}


@pytest.mark.parametrize(("data", "message"), [
    (_graph([{**A, "id": 1}, B], []), r"node 1 \(nodes\[0\]\) has a non-text id"),
    (_graph([A, B, {**A}], [E]), r"node 'A' is listed twice \(nodes\[2\]\)"),
    (_graph([A, B], [E, {**E, "target": "A"}]), r"edge 'A' -> 'A' \(edges\[1\]\) is a self-loop"),
    (_graph([A, B], [{**E, "target": "C"}]), r"its target 'C' is not a listed node id"),
    (_graph([A, {**B, "external_assets_usd": "lots"}], [E]),
     r"node 'B' has external_assets_usd 'lots'; allowed: a finite number >= 0"),
    (_graph([{**A, "external_liabilities_usd": True}, B], [E]),
     r"node 'A' has external_liabilities_usd True"),
    (_graph([A, B], [{**E, "weight": "3"}]), r"edge 'A' -> 'B' has weight '3'"),
    ([A, B], r"not a node-link graph"),
])
def test_read_network_refuses_naming_file_node_and_attribute(tmp_path: Path, data: Any,
                                                             message: str) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    with pytest.raises(NetworkFormatError, match=message) as info:
        read_network(path)
    assert str(path) in str(info.value)


def test_read_network_takes_networkx_older_links_key(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_graph([A, B], [E], key="links")))
    G = read_network(path)
    assert list(G.edges()) == [("A", "B")]  # not silently dropped


@pytest.mark.parametrize(("data", "message"), [
    (_graph([{"id": 7, "kind": "oracle"}], []), "non-text id"),
    (_graph([{"id": "X", "kind": "oracle"}, {"id": "X", "kind": "pool"}], []), "listed twice"),
    (_graph([{"id": "X", "kind": "lending"}],
            [{"source": "X", "target": "X", "type": "credit", "amount_usd": 1.0}]), "self-loop"),
])
def test_read_world_refuses_the_same_flaws(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "world.json"
    path.write_text(json.dumps(data))
    with pytest.raises(NetworkFormatError, match=message) as info:
        read_world(path)
    assert str(path) in str(info.value)


def test_graphml_duplicate_node_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    path.write_text("""<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="d0" for="node" attr.name="kind" attr.type="string"/>
<graph edgedefault="directed"><node id="A"><data key="d0">firm</data></node>
<node id="A"><data key="d0">custodial</data></node></graph></graphml>""")
    with pytest.raises(NetworkFormatError, match="node 'A' is listed twice"):
        read_network(path)
    with pytest.raises(NetworkFormatError, match="node 'A' is listed twice"):
        read_world(path)
