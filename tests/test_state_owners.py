"""One owner per piece of state: the outside world's holdings and the record of what moved each
price are written only by the market (through ``Market.outside_receives`` and
``Market.moved``), never by another class reaching into its fields."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "contagion"


def _writers(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(ROOT)}:{i}" for p in sorted(ROOT.rglob("*.py"))
            if p.name != "market.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if rx.search(line)]


def test_only_the_market_writes_the_outside_worlds_holdings() -> None:
    assert _writers(r"outside_units\[[^\]]*\]\s*[-+*/]?=") == []


def test_only_the_market_writes_which_event_last_moved_an_asset() -> None:
    assert _writers(r"last_move_event\[[^\]]*\]\s*=") == []
