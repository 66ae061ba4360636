"""Institutions answer the model through one interface (contagion.institution), so the
credit clearing, the venue table, the exposure picture and the model's default handling never
dispatch on a ``kind`` string."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contagion.institution import BalanceSheet, CreditPosition, Institution, NetworkMember
from contagion.model import ContagionModel
from models import SCENARIOS, get_scenario, scenario_parameters

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_institution_implements_the_interface(name: str) -> None:
    kw = {"n_traders": 200} if "n_traders" in scenario_parameters(name) else {}
    model = ContagionModel(get_scenario(name, **kw), seed=0)
    model.run(3)
    for a in model.balance_sheets():
        assert isinstance(a, Institution), a.name
        sheet = a.balance_sheet()
        assert isinstance(sheet, BalanceSheet) and sheet.at_risk >= 0
        assert a.network_state() in ("healthy", "at_risk")
    for a in model.institutions.values():
        assert isinstance(a, NetworkMember), a.name
        position = a.credit_position()
        assert isinstance(position, CreditPosition) and position.external_assets_usd >= 0
        assert all(usd >= 0 for _, usd in position.owed)


def test_no_reader_dispatches_on_kind_strings() -> None:
    pattern = re.compile(r"\.kind\s*(==|!=|in)\s*")
    for module in ("contagion/credit.py", "contagion/reporting.py", "contagion/network.py",
                   "contagion/model.py"):
        text = (ROOT / module).read_text()
        hits = [line.strip() for line in text.splitlines() if pattern.search(line)]
        assert not hits, f"{module} dispatches on kind: {hits}"
