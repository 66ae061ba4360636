"""Bands and verdicts: a figure agrees only inside the source's band, and the residual shows."""

from __future__ import annotations

import math

import pytest

from experiments.validation.checks import SMALL, Band, Check, Section, verdict
from experiments.validation.report import render_markdown
from experiments.validation.series import HISTORIES, load

UST = Band(0.10, 0.20, "$0.15 on 14 May, a point: +-$0.05", "${:.2f}")


@pytest.mark.parametrize(("values", "passed", "residual"), [
    ([0.15], True, 0.0),
    ([0.10], True, 0.0),                      # the edges belong to the band
    ([0.20], True, 0.0),
    ([0.42, 0.43, 0.43], False, 0.23),        # above: the old "< $0.90" band let this pass
    ([0.02], False, -0.08),                   # below: an overshoot fails too
    ([0.0], False, -0.10),
    ([0.05, 0.15, 0.5], True, 0.0),           # the median decides; 1 of 3 seeds inside
])
def test_a_figure_agrees_only_inside_the_band(values: list[float], passed: bool,
                                              residual: float) -> None:
    v = verdict("UST on 14 May", values, UST)
    assert v.passed is passed
    assert v.residual == pytest.approx(residual)
    assert (v.residual < 0) == (residual < 0)


def test_residual_is_signed_and_relative_to_the_nearest_edge() -> None:
    above, below = verdict("x", [0.3], UST), verdict("x", [0.05], UST)
    assert above.relative == pytest.approx(0.5)     # 0.10 over the 0.20 edge
    assert below.relative == pytest.approx(-0.5)    # 0.05 under the 0.10 edge
    assert "above the band" in above.residual_text() and "+$0.10" in above.residual_text()
    assert "below the band" in below.residual_text() and "-$0.05" in below.residual_text()
    assert verdict("x", [0.15], UST).residual_text() == "inside"


def test_log_bands_measure_the_residual_in_decades() -> None:
    luna = Band(1e-5, 1e-3, "$0.0001, within a decade", "${:.1e}", log=True)
    assert verdict("LUNA", [1e-4], luna).passed
    assert verdict("LUNA", [1e-2], luna).residual == pytest.approx(1.0)
    assert verdict("LUNA", [1e-7], luna).residual == pytest.approx(-2.0)
    assert "decades" in verdict("LUNA", [1e-2], luna).residual_text()


def test_a_band_must_have_two_finite_ordered_edges() -> None:
    with pytest.raises(ValueError):
        Band(0.2, 0.1, "reversed")
    with pytest.raises(ValueError):
        Band(0.0, math.inf, "one-sided")
    with pytest.raises(ValueError):
        Band(0.0, 1.0, "log of zero", log=True)


def test_a_check_agrees_only_when_every_band_does() -> None:
    ok, bad = verdict("a", [0.15], UST), verdict("b", [0.9], UST)
    assert Check.banded("claim", "src", [ok]).passed
    c = Check.banded("claim", "src", [ok, bad])
    assert not c.passed
    assert "b: +$0.70" in c.residual_text and "a: inside" in c.residual_text


def test_the_report_counts_honestly_and_lists_each_residual() -> None:
    checks = [Check.banded("UST ends near $0.15", "newsbreak", [verdict("UST", [0.43], UST)]),
              Check.banded("UST overshoots to zero", "newsbreak", [verdict("UST", [0.0], UST)]),
              Check.banded("UST on target", "newsbreak", [verdict("UST", [0.16], UST)]),
              Check("3AC fails before Celsius", "CoinDesk", "steps (15, 82)", True),
              Check("Celsius fails first", "CoinDesk", "steps (82, 15)", False)]
    text = render_markdown([Section("Toy", "a note", checks, {})], SMALL, figures={},
                           seconds=1.0)
    assert "**2 of 5 checks agree with their source**" in text
    assert "### The 3 checks that do not agree" in text
    assert "+$0.23 (+115% of the edge; above the band)" in text
    assert "-$0.10 (-100% of the edge; below the band)" in text
    assert "the claim does not hold" in text
    assert text.count("| **does not agree** |") == 3
    assert "$0.10 to $0.20 ($0.15 on 14 May, a point: +-$0.05)" in text


def test_history_files_cite_their_sources_and_parse() -> None:
    for h in HISTORIES.values():
        head = h.path.read_text().split("time_utc")[0]
        assert "scenario-facts.md" in head and "approx" in head.lower()
        rows = load(h)
        assert (rows["quality"] == "source").sum() >= 1
