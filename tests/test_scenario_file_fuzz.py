"""Whatever a user writes in a scenario file, reading it ends in a scenario or a
ScenarioFileError naming the file: never another exception (hypothesis mutates real files)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contagion.errors import ScenarioFileError
from contagion.scenario import Scenario
from contagion.scenario_file import loads, scenario_from_dict
from models import SCENARIO_FILES

BASE = {name: tomllib.loads((SCENARIO_FILES / f"{name}.toml").read_text())
        for name in ("default", "ftx", "terra", "october_2025")}

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4),
                                                                      st.integers(), max_size=2))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(BASE)), data=st.data())
def test_mutated_files_load_or_fail_clearly(name: str, data: st.DataObject) -> None:
    doc = json.loads(json.dumps(BASE[name], allow_nan=True))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "rename"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "rename" and isinstance(parent, dict):
            parent[path[-1] + "_x"] = parent.pop(path[-1])
        else:
            parent[path[-1]] = data.draw(junk)
    try:
        sc = scenario_from_dict(doc, source="fuzz.toml")
    except ScenarioFileError as exc:
        assert str(exc).startswith("fuzz.toml: ")
    else:
        assert isinstance(sc, Scenario)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_text_loads_or_fails_clearly(text: str) -> None:
    try:
        loads(text, source="t.toml")
    except ScenarioFileError as exc:
        assert str(exc).startswith("t.toml: ")
