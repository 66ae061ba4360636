"""The teaching lessons point at presets, tour stages and dashboard controls that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.tour import TOURS, load_tour
from models import SCENARIOS, get_scenario

LESSONS = sorted((Path(__file__).parents[1] / "docs" / "teaching").glob("[0-9][0-9]-*.md"))


def _header(text: str, key: str) -> str:
    m = re.search(rf"^- \*\*{key}:\*\* (.+)$", text, flags=re.M)
    assert m, f"no '- **{key}:**' line"
    return m.group(1).strip()


def test_there_is_a_lesson_for_each_topic_of_the_path() -> None:
    titles = " ".join(p.read_text().splitlines()[0].lower() for p in LESSONS)
    for topic in ("margin and liquidation", "oracle lag", "insurance fund", "cross-margin",
                  "custodial", "contagion window"):
        assert topic in titles, topic


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_names_a_preset_a_tour_stage_and_a_question(path: Path) -> None:
    text = path.read_text()
    preset = _header(text, "Preset").strip("`").split("`")[0]
    assert preset in SCENARIOS
    get_scenario(preset)  # builds with its defaults
    stage = _header(text, "Tour stage")
    assert (TOURS / f"{preset}.toml").exists(), f"no tour for {preset}"
    titles = [s.title for s in load_tour(preset)]
    assert stage in titles, f"{stage!r} is not a stage of the {preset} tour: {titles}"
    assert "## Question" in text
    question = text.split("## Question", 1)[1].split("##", 1)[0]
    assert "?" in question
