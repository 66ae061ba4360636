"""Assemble the validation sections into one page: ``report.md`` plus ``figures/*.png``.

The page is written into a temporary sibling directory and renamed into place only when every
file is complete, so a failed or interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from contagion.errors import ParameterError
from experiments.make_figures import screenshot
from experiments.validation.checks import SEED_RULE, Check, Scale, Section, textbook_sections

__all__ = ["CALIBRATION_DIR", "all_sections", "render_calibration", "render_markdown",
           "write_validation"]

#: Where ``python -m experiments.calibrate PRESET`` writes its fits (read, never run, here).
CALIBRATION_DIR = Path(__file__).parent / "calibration"


def all_sections(scale: Scale) -> list[Section]:
    """Textbook models, then the historical presets, then lender runs and correlation,
    options and portfolio margin, collateral quality, settlement windows, a clearing
    house, bridges, Aave v3.3's leftover rule, then solvency proofs."""
    from experiments.validation.bridge_checks import bridge_section
    from experiments.validation.clearing_checks import clearing_section
    from experiments.validation.collateral_checks import collateral_section
    from experiments.validation.leftover_checks import leftover_section
    from experiments.validation.options_checks import options_section
    from experiments.validation.presets import preset_sections
    from experiments.validation.proof_checks import proof_section
    from experiments.validation.run_checks import run_and_correlation_section
    from experiments.validation.settlement_checks import settlement_section

    return [*textbook_sections(scale), *preset_sections(scale),
            run_and_correlation_section(scale), options_section(scale),
            collateral_section(scale), settlement_section(scale),
            clearing_section(scale), bridge_section(scale), leftover_section(scale),
            proof_section(scale)]


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


def _num(x: Any, spec: dict[str, Any]) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return str(spec["fmt"]).format(float(x) / float(spec.get("scale", 1.0)))


def _param(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:.4g}"


def render_calibration(directory: str | Path = CALIBRATION_DIR) -> str:
    """The "Calibration" section: one sub-section per ``PRESET.json`` fit in ``directory``."""
    files = sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []
    if not files:
        return ""
    lines = [
        "## Calibration", "",
        "`python -m experiments.calibrate PRESET [--budget N] [--seeds K]` searches each "
        "preset's free parameters within their bounds for the point whose runs best meet the "
        "bands above: the loss is the mean over K seeds (the same seeds at every point) of the "
        "sum over targets of the squared relative residual outside each band (0 inside; "
        "decades for log bands; each seed counts, so the loss can be above 0 while the "
        "median over seeds, which the verdicts use, is inside); the search is a seeded Latin "
        "hypercube then a bounded "
        "Nelder-Mead from its best point, deterministic for a given seed. The fits are "
        "recorded in `experiments/validation/calibration/`; the presets' defaults are not "
        "changed by them (the dashboard tours quote the presets' numbers). A change of the "
        "defaults is recommended where the fit brings a target's median inside its band or at "
        "least halves a loss that is not already near zero.", ""]
    for f in files:
        d = json.loads(f.read_text())
        st = d["settings"]
        specs = {t["target"]: t for t in d["targets"]}
        before, after = d["before"], d["after"]
        lines += [f"### {d['preset']}", "",
                  f"Budget {st['budget']} evaluations ({d['evaluations']} run), seeds "
                  f"{', '.join(map(str, st['seeds']))}, {st['n_traders']:,} traders, search "
                  f"seed {st['seed']}, {d['seconds']:.0f} s. Loss {before['loss']:.4f} with the "
                  f"preset's values, {after['loss']:.4f} fitted. "
                  + (f"{d['note'][0].upper()}{d['note'][1:]}." if d.get("note") else ""),
                  "", "| parameter | bounds | current | fitted | what it sets |",
                  "|---|---|---|---|---|"]
        for p in d["params"]:
            scale = " (log)" if p["log"] else ""
            lines.append(f"| `{p['name']}` | {_param(p['low'])} to {_param(p['high'])}{scale} | "
                         f"{_param(p['current'])} | {_param(p['fitted'])} | {_cell(p['why'])} |")
        lines += ["", "| target | band | before (median) | residual before | fitted (median) | "
                  "residual after |", "|---|---|---|---|---|---|"]
        for b, a in zip(before["targets"], after["targets"], strict=True):
            spec = specs[b["target"]]
            unit = " decades" if spec["log"] else ""

            def res(t: dict[str, Any], spec: dict[str, Any] = spec, unit: str = unit) -> str:
                if t["inside"]:
                    return "inside"
                rel = "" if spec["log"] else f" ({t['relative']:+.0%})"
                r = t["residual"]
                shown = f"{r:+.2f}" if spec["log"] else ("+" if r > 0 else "-") + _num(abs(r), spec)
                return f"{shown}{unit}{rel}"

            lines.append(f"| {_cell(b['target'])} | {_num(spec['low'], spec)} to "
                         f"{_num(spec['high'], spec)} | {_num(b['median'], spec)} | {res(b)} | "
                         f"{_num(a['median'], spec)} | {res(a)} |")
        changed = [p for p in d["params"] if p["fitted"] != p["current"]]
        out_before = [t["target"] for t in before["targets"] if not t["inside"]]
        out_after = [t["target"] for t in after["targets"] if not t["inside"]]
        if changed and (len(out_after) < len(out_before)
                        or (before["loss"] > 0.01 and after["loss"] <= 0.5 * before["loss"])):
            rec = ("**Recommended**: change the defaults to " + ", ".join(
                f"`{p['name']}` = {_param(p['fitted'])}" for p in changed) + " (targets "
                f"outside the band {len(out_before)} -> {len(out_after)}, loss "
                f"{before['loss']:.4f} -> {after['loss']:.4f}).")
        elif not out_before:
            rec = "The preset's defaults already meet every band: keep them."
        else:
            rec = ("No change recommended: the search neither brought a target inside nor "
                   "halved the loss; what remains is beyond what these parameters reach.")
        if d.get("checks"):
            cur = sum(r["current"] for r in d["checks"])
            fit = sum(r["fitted"] for r in d["checks"])
            broken = [r["claim"] for r in d["checks"] if r["current"] and not r["fitted"]]
            rec += (f" The preset's {len(d['checks'])} validation checks at the fitted values: "
                    f"{fit} agree (vs {cur} at its current values)"
                    + ("; the fit breaks: " + "; ".join(broken) if broken else "") + ".")
            if broken and rec.startswith("**Recommended**"):
                rec = rec.replace("**Recommended**", "**Not recommended as it stands**", 1)
        still = [a["target"] for a in after["targets"] if not a["inside"]]
        if still:
            rec += " Still outside after the fit: " + ", ".join(still) + "."
        lines += ["", rec, ""]
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
                               seconds=time.perf_counter() - start,
                               extra=render_calibration(CALIBRATION_DIR))
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
