"""Every preset has a title, a date and one line for the menu, and the menu shows them."""

from __future__ import annotations

import dataclasses
import re

import pytest
from dash import html

from dashboard.presets_menu import preset_options
from models import PRESET_INFO, SCENARIOS, PresetInfo
from models.catalog import MAX_LINE_CHARS, MAX_TITLE_CHARS

_DATE = re.compile(r"^(\d{1,2}(-\d{1,2})? )?(January|February|March|April|May|June|July|August"
                   r"|September|October|November|December) \d{4}$")
#: Presets that are no one historical event (none of their sources gives a day to date them).
_STYLISED = {"default", "crowded_longs", "options_desk", "collateral_quality",
             "settlement_window", "bridge_exploit", "liquidation_dust", "emode_depeg",
             "solvency_proofs"}


def test_every_preset_has_its_info_and_no_info_is_left_over() -> None:
    assert list(PRESET_INFO) == list(SCENARIOS)  # the menu's order is the presets'
    for name, info in PRESET_INFO.items():
        assert isinstance(info, PresetInfo) and info.name == name


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_title_date_and_line_are_short_and_well_formed(name: str) -> None:
    info = PRESET_INFO[name]
    assert 0 < len(info.title) <= MAX_TITLE_CHARS, info.title
    assert 20 <= len(info.line) < MAX_LINE_CHARS, (len(info.line), info.line)
    assert not info.line[0].islower() and info.line.endswith(".") and "\n" not in info.line
    assert info.line.count(". ") == 0, "one sentence"
    if name.startswith("classic_"):
        assert info.date == "textbook"
    elif name in _STYLISED:
        assert info.date == "stylised"  # no one historical event
    else:
        assert _DATE.match(info.date), info.date


def test_preset_info_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESET_INFO["ftx"].title = "x"  # type: ignore[misc]


def _text(component: object) -> str:
    """All the text inside a Dash component tree."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if isinstance(children, list | tuple):
        return " ".join(_text(c) for c in children)
    return _text(children)


def test_the_menu_shows_title_date_and_line_and_filters_on_them() -> None:
    options = preset_options()
    assert [o["value"] for o in options] == list(SCENARIOS)
    for option in options:
        info = PRESET_INFO[option["value"]]
        label = option["label"]
        assert isinstance(label, html.Div)
        text = _text(label)
        assert info.title in text and info.date in text and info.line in text
        bold = [c for c in label.children[0].children if isinstance(c, html.B)]
        assert bold and bold[0].children == info.title
        small = label.children[1]
        assert small.children == info.line and small.style["fontSize"] == "12px"
        for part in (info.title, info.date, info.line, info.name):  # typing filters on these
            assert part in option["search"]
    # the options are what a dcc.Dropdown takes (components serialise)
    from dash import dcc

    dcc.Dropdown(id="x", options=options, value="default").to_plotly_json()


def test_a_scenario_file_comes_first_with_a_plain_label() -> None:
    options = preset_options("runs/mine.toml")
    assert options[0]["value"] == "runs/mine.toml"
    assert "file: runs/mine.toml" in _text(options[0]["label"])
    assert [o["value"] for o in options[1:]] == list(SCENARIOS)
    assert [o["value"] for o in preset_options("ftx")] == list(SCENARIOS)
