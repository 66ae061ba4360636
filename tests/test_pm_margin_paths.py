"""Portfolio margin skips the scenario grid for accounts that cannot gain from it (issue 12).

At a portfolio-margin venue only accounts holding an option or more than one open perp
position go through the grid (``PerpVenue._portfolio_maintenance``); the others get the
larger loss of the grid's two extreme moves. That must be the grid's own number, bit for
bit, for every account at every step: checked here against
:func:`contagion.mechanics.portfolio_margin.portfolio_margin` over all rows, on a venue with
options (``options_desk``) and on one with three perp markets and no options
(``broad_downturn``'s PerpM switched to portfolio margin), with some accounts given a second
market by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from contagion.agents.perp import PerpVenue, apply_trades
from contagion.mechanics.portfolio_margin import portfolio_margin
from contagion.model import ContagionModel
from models import get_scenario


def _grid(pv: PerpVenue) -> np.ndarray:
    marks = pv.marks()
    st = pv._pm_state(marks)
    return portfolio_margin(pv._pm_sizes(slice(None)), st.instruments, marks, st.vols, pv.pm,
                            pnl_per_unit=st.unit).maintenance_usd


def _same_at_every_step(m: ContagionModel, steps: int) -> int:
    (pv,) = m.perps
    fast_rows = 0
    for _ in range(steps):
        mm = pv.maintenance()
        assert mm.tobytes() == _grid(pv).tobytes()  # bit for bit, signs of zero included
        rows = np.array([0, 3, 7, len(pv.book) - 1])
        assert pv.maintenance(rows).tobytes() == mm[rows].tobytes()
        open_ = (pv.book.size != 0).sum(axis=1)
        held = (pv.book.opt_size != 0).any(axis=1) if pv.book.series else False
        fast_rows += int(((open_ <= 1) & ~held).sum())
        m.step()
    return fast_rows


def test_options_desk_margin_is_the_grids_for_every_account() -> None:
    sc = get_scenario("options_desk", n_traders=300, steps=14)
    assert _same_at_every_step(ContagionModel(sc, seed=2), 14) > 0


def test_multi_market_venue_margin_is_the_grids_for_every_account() -> None:
    sc = get_scenario("broad_downturn", n_traders=300)
    sc = dataclasses.replace(sc, perps=tuple(dataclasses.replace(p, margin_model="portfolio")
                                             for p in sc.perps))
    sc = dataclasses.replace(sc, market=dataclasses.replace(sc.market, steps=12))
    m = ContagionModel(sc, seed=1)
    (pv,) = m.perps
    b = pv.book
    assert b.markets == 3
    one = np.flatnonzero((b.size[1:] != 0).sum(axis=1) == 1)[:6] + 1
    for row in one:  # a second open market: offsetting or not, these go through the grid
        col = int(np.argmax(b.size[row] == 0))
        q = 0.5 if row % 2 else -0.5
        mark = float(pv.marks()[col])
        apply_trades(b, np.array([row]), np.array([q]), mark, col)
        apply_trades(b, np.array([0]), np.array([-q]), mark, col)
    pv.invalidate()
    assert ((b.size[1:] != 0).sum(axis=1) > 1).sum() >= 6
    assert _same_at_every_step(m, 12) > 0
