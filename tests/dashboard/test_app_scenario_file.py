"""`contagion dashboard --scenario mine.toml`: the app starts on the user's scenario file, shows
it in the scenario menu, and its form runs it with the file's own parameters."""

from __future__ import annotations

from pathlib import Path

from contagion.scenario_file import save
from dashboard.app import create_app
from dashboard.forms import build, fields_for
from models import get_scenario


def _find(component, wanted_id: str):  # type: ignore[no-untyped-def]
    if getattr(component, "id", None) == wanted_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, wanted_id)
            if found is not None:
                return found
    return None


def test_the_app_starts_on_a_scenario_file(tmp_path: Path) -> None:
    mine = str(save(get_scenario("default", n_traders=150, steps=30), tmp_path / "mine.toml"))
    app = create_app(mine)
    menu = _find(app.layout, "scenario")
    assert menu is not None and menu.value == mine
    # the menu shows titles now (issue 10); the file comes first, under its own path
    assert menu.options[0]["value"] == mine and menu.options[0]["label"].children == f"file: {mine}"
    assert "default" in [o["value"] for o in menu.options]
    store = app.server.config["CONTAGION_STORE"]
    first = store.get(f"preset-{mine}-0")
    assert first is not None and first.scenario == get_scenario(mine)
    assert first.summary["n_traders"] == 150
    assert [f.key for f, _ in fields_for(mine)] == ["n_traders"]
    assert build(mine, {"n_traders": 120}).traders.n_traders == 120
