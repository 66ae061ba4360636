"""Same seed, same bytes, through the command line: two processes (different hash seeds, so
set and dict orders that follow object ids or string hashes differ) running the same
``contagion run`` write byte-identical output files, network.json included (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

NETWORK = {"directed": True, "multigraph": True, "graph": {}, "nodes": [
    {"id": "Fund", "kind": "firm", "external_assets_usd": 100.0},
    {"id": "Exchange", "kind": "custodial", "external_assets_usd": 50.0,
     "external_liabilities_usd": 120.0},
    {"id": "Lender", "kind": "custodial", "external_assets_usd": 80.0,
     "external_liabilities_usd": 60.0}],
    "edges": [{"source": "Exchange", "target": "Fund", "type": "credit", "weight": 80.0},
              {"source": "Lender", "target": "Exchange", "type": "credit", "weight": 40.0}]}


def _run(args: list[str], cwd: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run([sys.executable, "-m", "contagion.cli", *args], cwd=cwd, env=env, check=True,
                   timeout=300, stdout=subprocess.DEVNULL)


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("args", [
    ["run", "default", "--set", "n_traders=150", "--set", "cross_margin=false", "--steps", "40",
     "--seed", "4"],
    ["run", "classic_gai_kapadia", "--set", "n_banks=15", "--seed", "2"],
    ["run", "--network", "net.json", "--shock", "Fund=0.6", "--seed", "1"],
], ids=["default", "gai_kapadia", "network-file"])
def test_two_processes_write_identical_outputs(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "net.json").write_text(json.dumps(NETWORK))
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"out{hash_seed}"
        _run([*args, "--out", str(out)], tmp_path, hash_seed)
        outs.append(_files(out))
    assert "network.json" in outs[0] and "world.json" in outs[0]
    assert outs[0].keys() == outs[1].keys()
    differ = [name for name in outs[0] if outs[0][name] != outs[1][name]]
    assert not differ, f"files that differ between two runs of one seed: {differ}"
