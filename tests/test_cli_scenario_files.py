"""Scenario files on the command line and in sweeps: `scenarios show` writes a preset as a
file, `scenarios schema` prints its JSON Schema, `run FILE` runs it, every run records the
scenario it ran, a sweep spec may name a file, and a bad file stops everything at once."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from contagion.cli import main
from contagion.scenario_file import loads
from contagion.sweep import load_results, load_spec, run_sweep
from models import SCENARIO_FILES, get_scenario


def _show(capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    assert main(["scenarios", "show", *args]) == 0
    return str(capsys.readouterr().out)


def test_show_writes_the_shipped_file_and_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert _show(capsys, "ftx") == (SCENARIO_FILES / "ftx.toml").read_text()
    as_json = _show(capsys, "ftx", "--format", "json")
    assert loads(as_json, fmt="json") == get_scenario("ftx")
    small = _show(capsys, "default", "--set", "n_traders=123", "--set", "market.steps=50")
    sc = loads(small)
    assert (sc.traders.n_traders, sc.market.steps) == (123, 50)


def test_schema_is_printed_as_strict_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scenarios", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "contagion scenario file"
    assert {"assets", "lending", "perps", "traders"} <= set(schema["properties"])


def test_run_a_file_and_run_it_again_from_its_outputs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    mine = tmp_path / "mine.toml"
    mine.write_text(_show(capsys, "default", "--set", "n_traders=150"))
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", str(mine), "--steps", "40", "--seed", "4", "--out", str(first)]) == 0
    assert "traders 150" in capsys.readouterr().out
    recorded = first / "scenario.toml"
    assert loads(recorded.read_text()) == get_scenario(str(mine))
    assert main(["run", str(recorded), "--steps", "40", "--seed", "4", "--out", str(again)]) == 0
    assert (first / "events.parquet").read_bytes() == (again / "events.parquet").read_bytes()
    preset = tmp_path / "preset"
    assert main(["run", "default", "--set", "n_traders=150", "--steps", "40", "--seed", "4",
                 "--out", str(preset)]) == 0
    assert (preset / "events.parquet").read_bytes() == (first / "events.parquet").read_bytes()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("close_factor = 0.5", "close_factor = 0", 1),
     "mine.toml: parameter 'lending[LendA].close_factor' = 0 is invalid"),
    (lambda t: t.replace("[traders]", "[trader]"), "mine.toml: key 'trader' is not a field"),
    (lambda t: t + "\n[[oops\n", "mine.toml: not valid TOML"),
])
def test_a_bad_file_exits_2_naming_file_and_key_and_writes_nothing(  # type: ignore[no-untyped-def]
        tmp_path: Path, capsys, edit, message: str) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(edit((SCENARIO_FILES / "default.toml").read_text()))
    out = tmp_path / "out"
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["run", "mine.toml", "--out", str(out)]) == 2
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert err.startswith("contagion: error: ") and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


def test_presets_own_parameters_are_refused_for_a_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", str(SCENARIO_FILES / "default.toml"), "--set", "shock_frac=0.2",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'shock_frac'" in err and "n_traders, steps" in err
    assert not (tmp_path / "o").exists()


def test_dashboard_refuses_a_missing_file_before_starting(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["dashboard", "--scenario", "no/such/file.toml"]) == 2
    assert "no/such/file.toml: no such scenario file" in capsys.readouterr().err


def test_a_sweep_spec_may_name_a_file_next_to_it(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "mine.toml").write_text((SCENARIO_FILES / "default.toml").read_text())
    spec_path = folder / "sweep.toml"
    spec_path.write_text(
        '[sweep]\nname = "f"\nscenario = "mine.toml"\nroot_seed = 7\n'
        f'out = "{(tmp_path / "out").as_posix()}"\n\n'
        '[fixed]\nn_traders = 150\nsteps = 30\n\n'
        '[swept]\n"lending.LendA.close_factor" = [0.25, 0.5]\n')
    spec = load_spec(spec_path)
    assert spec.scenario == str((folder / "mine.toml").resolve())
    run_sweep(spec, backend="serial")
    table = load_results(tmp_path / "out")
    assert len(table) == 2 and (table["status"] == "ok").all()
    assert sorted(table["lending.LendA.close_factor"]) == [0.25, 0.5]
    # the same sweep on the preset gives the same numbers
    preset_path = folder / "preset.toml"
    preset_path.write_text(spec_path.read_text().replace('scenario = "mine.toml"', "")
                           .replace((tmp_path / "out").as_posix(), (tmp_path / "p").as_posix()))
    run_sweep(load_spec(preset_path), backend="serial")
    a = table.drop(columns="elapsed_s").reset_index(drop=True)
    b = load_results(tmp_path / "p").drop(columns="elapsed_s").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_a_sweep_on_a_bad_file_stops_before_any_run(tmp_path: Path) -> None:
    from contagion.sweep.check import check_spec
    from contagion.sweep.spec import SpecError

    (tmp_path / "bad.toml").write_text('name = "x"\n')
    spec_path = tmp_path / "sweep.toml"
    spec_path.write_text('[sweep]\nname = "f"\nscenario = "bad.toml"\nroot_seed = 7\n')
    with pytest.raises(SpecError, match=r"bad\.toml: the file is missing required key\(s\): assets"):
        check_spec(load_spec(spec_path))
