"""The validation report, small version: the textbook checks agree exactly; the presets' checks
are judged against their sources' two-sided bands, and the page says which do not agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contagion.errors import ParameterError
from experiments.validation.__main__ import main
from experiments.validation.checks import SMALL, Check, Section
from experiments.validation.report import write_validation


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("validation") / "report"
    return write_validation(out, SMALL, draw_figures=shutil.which("chromium") is not None)


def test_textbook_checks_agree_and_preset_figures_are_banded(report: tuple[Path, list]) -> None:
    from experiments.validation.presets import CASES

    _, sections = report
    checks = [c for s in sections for c in s.checks]
    assert len(checks) >= 10
    preset_titles = {case.title for case in CASES}
    bad = [f"{c.claim}: {c.observed}" for s in sections if s.title not in preset_titles
           for c in s.checks if not c.passed]
    assert not bad, "\n".join(bad)
    presets = [c for s in sections if s.title in preset_titles for c in s.checks]
    assert sum(bool(c.verdicts) for c in presets) >= 12
    for c in presets:
        for v in c.verdicts:
            assert v.band.low <= v.band.high and v.band.basis
            assert v.passed == (v.band.low <= v.figure <= v.band.high)


def test_report_page_lists_every_check_and_its_figures(report: tuple[Path, list]) -> None:
    out, sections = report
    text = (out / "report.md").read_text()
    assert text.startswith("# Validation")
    for s in sections:
        assert f"## {s.title}" in text
    checks = [c for s in sections for c in s.checks]
    assert text.count("| agrees |") == sum(c.passed for c in checks)
    assert text.count("| **does not agree** |") == sum(not c.passed for c in checks)
    assert f"**{sum(c.passed for c in checks)} of {len(checks)} checks agree" in text
    for c in checks:
        if not c.passed and c.verdicts:
            assert c.residual_text in text.replace("\\|", "|")
    if shutil.which("chromium"):
        for s in sections:
            for stem in s.figures:
                assert (out / "figures" / f"{stem}.png").stat().st_size > 10_000
                assert f"figures/{stem}.png" in text
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".report.")]


def test_an_existing_file_as_output_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "report"
    target.write_text("keep me")
    with pytest.raises(ParameterError, match="out"):
        write_validation(target, SMALL, draw_figures=False)
    assert target.read_text() == "keep me"


def test_command_line_exit_status_says_whether_every_check_agrees(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import experiments.validation.report as report_module

    def sections(ok: bool) -> list[Section]:
        return [Section("Toy", "a note", [Check("a claim", "a source", "a figure", ok)], {})]

    monkeypatch.setattr(report_module, "all_sections", lambda scale: sections(True))
    assert main(["--small", "--no-figures", "--out", str(tmp_path / "ok")]) == 0
    assert "1 of 1 checks agree" in capsys.readouterr().out
    monkeypatch.setattr(report_module, "all_sections", lambda scale: sections(False))
    assert main(["--small", "--no-figures", "--out", str(tmp_path / "bad")]) == 1
    assert "DOES NOT AGREE: a claim: a figure" in capsys.readouterr().err
    assert "**does not agree**" in (tmp_path / "bad" / "report.md").read_text()


def test_lender_run_and_correlation_lines_are_in_the_report(report: tuple[Path, list]) -> None:
    """Issue 12's run and correlation lines (experiments/validation/run_checks.py): the run's
    shape is banded against the xUSD episode and its counterfactual holds, the crash day's
    ETH-BTC correlation against 2022's, and the tail ratio is a measured yes/no line."""
    from experiments.validation.run_checks import CORRELATION_SOURCE, RUN_SOURCE

    out, sections = report
    (section,) = [s for s in sections if s.title.startswith("Lender runs and correlated")]
    shape, counterfactual, corr, tails = section.checks
    assert shape.source == counterfactual.source == RUN_SOURCE
    assert corr.source == CORRELATION_SOURCE
    assert [v.name for v in shape.verdicts] == [
        "utilisation at the freeze", "highest borrow rate",
        "bad debt, share of the suppliers' starting claims"]
    assert all(v.band.basis for c in (shape, corr) for v in c.verdicts)
    assert not counterfactual.verdicts and not tails.verdicts and "x over" in tails.observed
    assert all(c.passed for c in section.checks), [c.observed for c in section.checks]
    assert f"## {section.title}" in (out / "report.md").read_text()


def test_options_and_portfolio_margin_lines_are_in_the_report(report: tuple[Path, list]) -> None:
    """Issue 12's options lines (experiments/validation/options_checks.py): Black-Scholes
    against Hull's examples and the portfolio margin against Deribit's, both banded and
    agreeing; hedged books' margin against the sum of their legs in a run of options_desk."""
    from experiments.validation.options_checks import DERIBIT_SOURCE, HULL_SOURCE, ISSUE_SOURCE

    out, sections = report
    (section,) = [s for s in sections if s.title.startswith("Options and portfolio margin")]
    hull, deribit, hedged, survival = section.checks
    assert (hull.source, deribit.source) == (HULL_SOURCE, DERIBIT_SOURCE)
    assert hedged.source == survival.source == ISSUE_SOURCE
    assert [v.name for v in hull.verdicts] == ["call", "put", "delta", "gamma", "vega", "theta",
                                               "rho"]
    assert len(deribit.verdicts) == 4 and len(hedged.verdicts) == 1
    assert hedged.verdicts[0].figure < 0.5 and not survival.verdicts
    assert all(c.passed for c in section.checks), [c.observed for c in section.checks]
    assert f"## {section.title}" in (out / "report.md").read_text()
