"""Assemble the validation sections into one page: ``report.md`` plus ``figures/*.png``.

The page is written into a temporary sibling directory and renamed into place only when every
file is complete, so a failed or interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from contagion.errors import ParameterError
from experiments.make_figures import screenshot
from experiments.validation.checks import SEED_RULE, Check, Scale, Section, textbook_sections

__all__ = ["all_sections", "render_markdown", "write_validation"]


def all_sections(scale: Scale) -> list[Section]:
    """Textbook models, then the historical presets."""
    from experiments.validation.presets import preset_sections

    return [*textbook_sections(scale), *preset_sections(scale)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(sections: list[Section], scale: Scale, *, figures: dict[str, str],
                    seconds: float, extra: str = "") -> str:
    """The report page. ``figures`` maps a figure stem to its relative path (if drawn);
    ``extra`` is appended (the calibration section)."""
    checks: list[Check] = [c for s in sections for c in s.checks]
    passed = sum(c.passed for c in checks)
    banded = sum(bool(c.verdicts) for c in checks)
    bad = [(s, c) for s in sections for c in s.checks if not c.passed]
    lines = [
        "# Validation: the model against its sources",
        "",
        f"**{passed} of {len(checks)} checks agree with their source** ({scale.name} scale, "
        f"{seconds:.0f} s). Regenerate with `.venv/bin/python -m experiments.validation` (the "
        "test suite runs `--small`). Presets are stylised, not replays: a check asks whether the "
        "model shows what the history shows, and whether switching the named cause off changes "
        "it.",
        "",
        f"How a check is judged. {banded} checks are quantitative: each states the source's "
        "band, low and high (where the source gives a point, the tolerance put around it is "
        "stated with the band), and the model's figure per seed; the check agrees only if "
        f"{SEED_RULE}. Outside the band it does not agree, and its residual is the signed "
        "distance from the median to the nearest edge (negative: below the band; relative to "
        "that edge; in decades for prices compared on a log scale). The other "
        f"{len(checks) - banded} are qualitative (who defaults, an order of events, what a "
        "counterfactual removes): yes or no.",
        "",
    ]
    if bad:
        lines += [f"### The {len(bad)} checks that do not agree", "",
                  "| section | claim | band | model (median) | residual |", "|---|---|---|---|---|"]
        for s, c in bad:
            fig = "; ".join(v.band.show(v.figure) for v in c.verdicts) or _cell(c.observed)
            lines.append(f"| {_cell(s.title)} | {_cell(c.claim)} | {_cell(c.band_text)} | "
                         f"{_cell(fig)} | {_cell(c.residual_text)} |")
        lines.append("")
    for s in sections:
        lines += [f"## {s.title}", "", s.note, "", "| | claim | source | band | model | residual |",
                  "|---|---|---|---|---|---|"]
        for c in s.checks:
            mark = "agrees" if c.passed else "**does not agree**"
            lines.append(f"| {mark} | {_cell(c.claim)} | {_cell(c.source)} | "
                         f"{_cell(c.band_text)} | {_cell(c.observed)} | "
                         f"{_cell(c.residual_text)} |")
        lines.append("")
        for stem in s.figures:
            if stem in figures:
                lines += [f"![{stem}]({figures[stem]})", ""]
    if extra:
        lines += [extra, ""]
    return "\n".join(lines)


def write_validation(out: str | Path, scale: Scale, *, draw_figures: bool = True
                     ) -> tuple[Path, list[Section]]:
    """Run every check at ``scale`` and write ``out/report.md`` (and ``out/figures/``).

    Returns the directory and the sections. ``out`` is replaced as a whole.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", str(out), "a directory path", "a file of that name exists")
    start = time.perf_counter()
    sections = all_sections(scale)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        drawn: dict[str, str] = {}
        if draw_figures:
            (tmp / "figures").mkdir()
            for s in sections:
                for stem, fig in s.figures.items():
                    png = tmp / "figures" / f"{stem}.png"
                    screenshot(fig, png)
                    if png.exists():
                        drawn[stem] = f"figures/{stem}.png"
        text = render_markdown(sections, scale, figures=drawn,
                               seconds=time.perf_counter() - start)
        (tmp / "report.md").write_text(text + "\n")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, sections
