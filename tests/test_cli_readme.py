"""The README's command examples run as written, in order, on a fresh clone (issue 11).

The commands of the "Command line" block run as they are (only the million-trader run is made
small, it writes to its own ``--out``): the default output folder is named from each run's
options, so a later example never collides with an earlier one's folder, and the closing
``contagion network runs/default-seed0/network.json`` finds the first run's network. The
"Your own market" and "Your own accounts" blocks run with ``--steps 20`` added (their folders
do not matter), except the lines that need a file only the user has (``books.csv``,
``banks.graphml``) or start a server (``dashboard``).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from contagion.cli import default_out, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
USER_FILES = ("books.csv", "banks.graphml")


def _block(heading: str) -> list[list[str]]:
    """The ``contagion`` commands of the first bash block after ``heading``: argv lists,
    comments dropped, with a ``> FILE`` redirection kept as its last two items."""
    start = README.index(heading)
    body = re.search(r"```bash\n(.*?)```", README[start:], re.S)
    assert body is not None, heading
    commands = []
    for line in body.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(".venv/bin/contagion "):
            commands.append(shlex.split(line)[1:])
    return commands


def _run(argv: list[str]) -> tuple[int, str, str]:
    redirect = None
    if ">" in argv:
        i = argv.index(">")
        argv, redirect = argv[:i], argv[i + 1]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if redirect is not None:
        Path(redirect).write_text(out.getvalue(), encoding="utf-8")
    return code, out.getvalue(), err.getvalue()


def test_the_command_line_examples_run_in_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    commands = _block("### Command line")
    assert sum(c[0] == "run" for c in commands) >= 4 and commands[-1][0] == "network"
    for argv in commands:
        argv = [a.replace("n_traders=1000000", "n_traders=300") for a in argv]
        code, _out, err = _run(argv)
        assert code == 0, f"{argv}: exit {code}\n{err}"
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert folders == sorted(["default-seed0", "default-seed7-shock_frac=0.5-cross_margin=false",
                              "big", "default-seed0-perps.PerpX.shortfall_policy=socialise"])


def test_the_scenario_file_and_positions_examples_run_in_order(tmp_path: Path,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    commands = (_block("### Your own market: scenario files and exposure networks")
                + _block("### Your own accounts"))
    ran = 0
    for argv in commands:
        if argv[0] == "dashboard" or any(f in argv for f in USER_FILES):
            continue
        if argv[0] == "run":
            argv = [*argv, "--steps", "20"]
        code, _out, err = _run(argv)
        assert code == 0, f"{argv}: exit {code}\n{err}"
        ran += 1
    assert ran >= 7
    a, b = (tmp_path / "runs" / x / "events.parquet" for x in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()  # "the same run, byte for byte"


@pytest.mark.parametrize(("label", "seed", "extras", "expected"), [
    ("default", 0, [], "default-seed0"),
    ("default", 7, ["shock_frac=0.5", "cross_margin=false"],
     "default-seed7-shock_frac=0.5-cross_margin=false"),
    ("mine", 3, ["steps=20", "positions=books"], "mine-seed3-steps=20-positions=books"),
    ("default", 0, ["perps.PerpX.shortfall_policy=socialise"],
     "default-seed0-perps.PerpX.shortfall_policy=socialise"),
])
def test_default_folder_is_named_from_the_options(label: str, seed: int, extras: list[str],
                                                  expected: str) -> None:
    assert default_out(label, seed, extras) == Path("runs") / expected


@pytest.mark.parametrize("extras", [
    ["name=a/b"], ["x=../../etc"], ["note=two words"], [".hidden=1"], [f"n_traders={'9' * 120}"],
])
def test_unsafe_or_long_folder_names_fall_back_to_a_stable_hash(extras: list[str]) -> None:
    out = default_out("default", 0, extras)
    assert out.parent == Path("runs") and re.fullmatch(r"default-seed0-[0-9a-f]{10}", out.name)
    assert out == default_out("default", 0, extras)  # stable
    assert out != default_out("default", 0, [*extras, "x=1"])


def test_runs_that_differ_only_in_their_options_get_different_folders() -> None:
    names = {default_out("default", 0, e) for e in
             ([], ["steps=20"], ["n_traders=50"], ["n_traders=50", "steps=20"], ["world=w"])}
    assert len(names) == 5
