"""``read_run`` is the inverse of ``write_run``: a run written to a directory and read back
is the same run (frames with their dtypes and index, graphs with their attributes, summary,
scenario, starting books, world)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from pandas.testing import assert_frame_equal

from contagion.errors import RunFileError
from contagion.output import read_run, write_run
from contagion.runner import RunResult, simulate
from models import get_scenario

FRAMES = ("events", "series", "venues", "node_states", "exposures", "positions")


def _same_graph(a: nx.MultiDiGraph | None, b: nx.MultiDiGraph | None) -> None:
    assert a is not None and b is not None
    assert a.graph == b.graph
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))


def assert_same_run(a: RunResult, b: RunResult) -> None:
    for name in FRAMES:
        assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    _same_graph(a.network, b.network)
    _same_graph(a.world, b.world)
    # NaN-safe: the summary as JSON text, and as values
    assert json.dumps(a.summary, sort_keys=True, default=float) == \
        json.dumps(b.summary, sort_keys=True, default=float)
    assert a.scenario == b.scenario
    assert a.seed == b.seed


@pytest.mark.parametrize(("preset", "n"), [("default", 300), ("terra", 300),
                                           ("steth_celsius", 200)])
def test_written_run_reads_back_equal(tmp_path: Path, preset: str, n: int) -> None:
    run = simulate(get_scenario(preset, n_traders=n), seed=1)
    assert len(run.exposures) and len(run.positions)
    out = write_run(run, tmp_path / "run")
    assert (out / "exposures.parquet").is_file()
    back = read_run(out)
    assert_same_run(run, back)
    assert back.starting_books is not None
    # written again from what was read: the same bytes (nothing drifts on a second trip)
    again = write_run(back, tmp_path / "again", csv=False)
    for name in ("events", "series", "venues", "node_states", "exposures", "positions"):
        assert (out / f"{name}.parquet").read_bytes() == \
            (again / f"{name}.parquet").read_bytes(), name
    for name in ("network.json", "summary.json", "scenario.toml", "world.json"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_books_read_back_start_the_same_run(tmp_path: Path) -> None:
    sc = get_scenario("default", n_traders=200, steps=20)
    run = simulate(sc, seed=4)
    back = read_run(write_run(run, tmp_path / "run", csv=False))
    again = simulate(back.scenario, seed=back.seed, positions=back.positions)
    assert_frame_equal(again.events, run.events)


def test_without_csv_only_parquet_and_json(tmp_path: Path) -> None:
    run = simulate(get_scenario("default", n_traders=200, steps=10), seed=0)
    out = write_run(run, tmp_path / "run", csv=False)
    assert not list(out.glob("*.csv"))
    assert_same_run(run, read_run(out))


def test_older_run_without_exposures_reads_with_empty_exposures(tmp_path: Path) -> None:
    run = simulate(get_scenario("default", n_traders=200, steps=10), seed=0)
    out = write_run(run, tmp_path / "run")
    (out / "exposures.parquet").unlink()
    back = read_run(out)
    assert back.exposures.empty
    assert_frame_equal(back.events, run.events)


def test_not_a_run_directory_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(RunFileError, match="not a run directory"):
        read_run(tmp_path)
    run = simulate(get_scenario("default", n_traders=200, steps=10), seed=0)
    out = write_run(run, tmp_path / "run")
    (out / "events.parquet").write_bytes(b"not parquet")
    with pytest.raises(RunFileError, match="cannot read the run"):
        read_run(out)
