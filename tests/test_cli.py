"""The contagion command: outputs, summary, exit codes, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from contagion.cli import main


def test_run_writes_outputs_and_prints_a_summary(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["run", "--set", "n_traders=200", "--steps", "60", "--seed", "3",
                 "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "defaults" in text and "liquidations" in text and "cascade path" in text
    for name in ("events.parquet", "series.parquet", "venues.parquet", "node_states.parquet",
                 "network.json", "summary.json", "positions.parquet"):
        assert (out / name).stat().st_size > 0, name
    assert not list(out.glob("*.csv"))  # CSV is opt-in (issue 14)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["steps"] == 60
    events = pd.read_parquet(out / "events.parquet")
    assert {"step", "kind", "venue", "cause_id"} <= set(events.columns)
    assert len(pd.read_parquet(out / "series.parquet")) == 61


def test_dotted_set_reaches_the_scenario(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", "--set", "n_traders=100", "--set", "perps.PerpX.shortfall_policy=socialise",
                 "--steps", "5", "--out", str(out)]) == 0
    assert (out / "summary.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--set", "shock_frac=1.5"], "'shock_frac' = 1.5"),
    (["run", "--set", "n_traders=lots"], "'n_traders' = 'lots'"),
    (["run", "--set", "colour=red"], "'colour'"),
    (["run", "--set", "noequals"], "key=value"),
    (["run", "--steps", "-3"], "'--steps' = -3"),
    (["run", "--seed", "-1"], "'--seed' = -1"),
    (["run", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["run", "--set", "lending.LendA.close_factor=0"], "close_factor' = 0.0"),
])
def test_bad_input_exits_2_naming_the_parameter_and_writes_nothing(
        tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_kept_unless_forced(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", "--set", "n_traders=50", "--steps", "3", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    # --force replaces a previous run's outputs only: a user's own file is never deleted
    assert main(["run", "--set", "n_traders=50", "--steps", "3", "--out", str(out), "--force"]) == 2
    assert "keep.txt" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    (out / "keep.txt").unlink()
    assert main(["run", "--set", "n_traders=50", "--steps", "3", "--seed", "1",
                 "--out", str(out)]) == 0
    assert main(["run", "--set", "n_traders=50", "--steps", "3", "--seed", "2",
                 "--out", str(out)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text())["seed"] == 1
    assert main(["run", "--set", "n_traders=50", "--steps", "3", "--seed", "2",
                 "--out", str(out), "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left beside it


def test_scenarios_lists_presets_and_parameters(capsys) -> None:
    assert main(["scenarios", "-v"]) == 0
    text = capsys.readouterr().out
    assert "default:" in text and "n_traders = 1000" in text


def test_csv_is_written_on_request_and_holds_the_parquet_rows(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", "--set", "n_traders=100", "--steps", "20", "--csv",
                 "--out", str(out)]) == 0
    for name in ("events", "series"):
        table = pd.read_parquet(out / f"{name}.parquet")
        assert len(pd.read_csv(out / f"{name}.csv")) == len(table), name
