"""The world graph as a file: `contagion scenarios world NAME` prints it, every run writes the
world it ran over (world.json), and `contagion run --world FILE` runs over an edited one, so a
user who deletes an edge in the file stops that channel. Bad files stop everything at once."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from contagion.cli import main
from contagion.events import trace_cause

RUN = ["run", "default", "--set", "n_traders=300", "--seed", "0"]


def _world(capsys) -> dict:  # type: ignore[no-untyped-def]
    assert main(["scenarios", "world", "default", "--set", "n_traders=300"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _perp_losses_from_cex(events: pd.DataFrame) -> int:
    root = set(events.loc[(events["kind"] == "default") & (events["venue"] == "CEX"), "event_id"])
    perp = events[(events["kind"] == "perp_liquidation") & (events["venue"] == "PerpX")]
    return sum(bool(root & set(trace_cause(events, int(e)))) for e in perp["event_id"])


def test_deleting_an_edge_in_the_world_file_stops_that_channel(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _world(capsys)
    kinds = {e["type"] for e in data["edges"]}
    assert {"price_feed", "liquidity", "backstop", "cross_margin", "credit", "supply",
            "issues"} <= kinds
    (tmp_path / "as_is.json").write_text(json.dumps(data))
    data["edges"] = [e for e in data["edges"]
                     if not (e["type"] == "cross_margin" and e["target"] == "PerpX")]
    (tmp_path / "cut.json").write_text(json.dumps(data))
    assert main([*RUN, "--world", str(tmp_path / "as_is.json"), "--out", str(tmp_path / "a")]) == 0
    assert main([*RUN, "--world", str(tmp_path / "cut.json"), "--out", str(tmp_path / "b")]) == 0
    a = pd.read_parquet(tmp_path / "a" / "events.parquet")
    b = pd.read_parquet(tmp_path / "b" / "events.parquet")
    assert _perp_losses_from_cex(a) > 0
    assert _perp_losses_from_cex(b) == 0
    written = json.loads((tmp_path / "b" / "world.json").read_text())
    assert not any(e["type"] == "cross_margin" for e in written["edges"])


def test_a_runs_world_file_reruns_it_byte_for_byte(tmp_path: Path) -> None:
    assert main([*RUN, "--steps", "60", "--out", str(tmp_path / "a")]) == 0
    assert main([*RUN, "--steps", "60", "--world", str(tmp_path / "a" / "world.json"),
                 "--out", str(tmp_path / "b")]) == 0
    for name in ("events.parquet", "series.parquet", "world.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d["nodes"].append({"id": "Ghost", "kind": "lending"}),
     "w.json: world graph node' = 'Ghost'"),
    (lambda d: d["edges"].append({"source": "LendA", "target": "LendB", "type": "rumour",
                                  "key": "x"}), "an edge type in"),
    (lambda d: d["edges"].append({"source": "ETH-feed", "target": "LendA", "type": "price_feed",
                                  "key": "x", "asset": "EXT"}), "the oracle's own asset"),
    (lambda d: d["nodes"][0].pop("kind"), "has no 'kind' attribute"),
    (lambda d: d.update(edges=[{**e, "type": None} if i == 0 else e
                               for i, e in enumerate(d["edges"])]), "an edge type in"),
])
def test_a_bad_world_file_exits_2_and_writes_nothing(tmp_path: Path, capsys, edit,  # type: ignore[no-untyped-def]
                                                     words: str) -> None:
    data = _world(capsys)
    edit(data)
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    assert main([*RUN, "--world", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert not out.exists()


def test_an_unreadable_world_file_is_named(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "w.json").write_text("{not json")
    assert main([*RUN, "--world", str(tmp_path / "w.json"), "--out", str(tmp_path / "o")]) == 2
    assert "w.json: not valid JSON" in capsys.readouterr().err
    assert main([*RUN, "--world", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")]) == 2
    assert "no such world file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
