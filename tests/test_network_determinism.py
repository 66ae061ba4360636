"""Same seed, same bytes: the exposure network a run writes does not depend on the process
(object ids, hash seeds), so two runs of one seed write identical network.json files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
from contagion.network import write_network
from contagion.runner import simulate
from models import get_scenario
r = simulate(get_scenario("default", n_traders=200, steps=40), seed=3)
write_network(r.network, sys.argv[1])
"""


def test_two_processes_write_the_same_network_json(tmp_path: Path) -> None:
    outs = []
    for hash_seed in ("1", "2", "3"):
        out = tmp_path / f"net{hash_seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", SCRIPT, str(out)], cwd=ROOT, env=env, check=True,
                       timeout=300)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
