"""Options desk (issue 12): vol sellers under portfolio margin in a 30% fall (stylised).

What the preset must show (models/options_desk.py): at OptX, which margins every account
Deribit-style, the option books that get liquidated when ETH falls 30% are short puts, each
cut at rank 0 (its riskiest leg, the put, first); delta-hedged short puts, whose portfolio
margin is well under the sum of their legs' standalone margins, are liquidated far less
often than naked ones; long options never. The hedge changes the outcome: with
``hedged_share`` 0 and 1 (seed 0 both) the same desk loses different books.
"""

from __future__ import annotations

import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.runner import RunResult, simulate
from models import PRESET_INFO, SCENARIOS, get_scenario
from models.options_desk import BOOKS, BookOutcome, book_outcomes, options_desk


@pytest.fixture(scope="module")
def run() -> RunResult:
    return simulate(get_scenario("options_desk"), seed=0, check_conservation=True)


@pytest.fixture(scope="module")
def books() -> dict[str, BookOutcome]:
    return book_outcomes(seed=0)


def _of(r: RunResult, kind: str) -> pd.DataFrame:
    return r.events[r.events["kind"] == kind]


def test_registered_with_its_menu_entry() -> None:
    assert SCENARIOS["options_desk"] is options_desk
    assert PRESET_INFO["options_desk"].date == "stylised"
    (pv,) = get_scenario("options_desk").perps
    assert pv.margin_model == "portfolio" and len(pv.options) == 4
    assert pv.pm_price_range_frac == 0.16 and pv.pm_moves_per_side == 4  # Deribit's grid


def test_only_short_puts_are_cut_and_each_riskiest_leg_first(run: RunResult) -> None:
    opt = _of(run, "option_liquidation")
    assert len(opt) >= 10
    assert set(opt["option_kind"]) == {"put"} and (opt["amount"] < 0).all()  # short puts
    assert (opt["rank"] == 0).all()
    assert run.summary["bad_debt_usd"] == 0.0


def test_hedged_short_puts_survive_where_naked_ones_do_not(
        books: dict[str, BookOutcome]) -> None:
    assert list(books) == list(BOOKS)
    naked, hedged = books["naked short put"], books["hedged short put"]
    assert naked.accounts > 100 and hedged.accounts > 100
    assert hedged.liquidated / hedged.accounts < 0.5 * naked.liquidated / naked.accounts
    assert books["long option"].liquidated == 0
    # portfolio margin of a delta-hedged book is far below the sum of its legs
    assert hedged.margin_usd < 0.5 * hedged.legs_margin_usd
    assert naked.margin_usd == pytest.approx(naked.legs_margin_usd)


def test_the_hedge_changes_the_outcome_at_seed_0() -> None:
    none, every = book_outcomes(seed=0, hedged_share=0.0), book_outcomes(seed=0, hedged_share=1.0)
    cut_none = sum(b.liquidated for b in none.values())
    cut_every = sum(b.liquidated for b in every.values())
    assert cut_every < cut_none
    assert none["hedged short put"].accounts == every["naked short put"].accounts == 0


def test_bad_parameters_are_refused_by_name() -> None:
    for kw in ({"hedged_share": 1.5}, {"price_range_frac": 1.0}, {"mean_leverage": 0.5},
               {"shock_frac": 0.95}):
        with pytest.raises(ParameterError, match=next(iter(kw))):
            options_desk(**kw)
