"""Causes that are true: an oracle cites the event that moved its own source (its pool, or
the asset's external price) the most since it last published, so a random tick of the
external price cannot hide a fire sale in the pool the oracle reads."""

from __future__ import annotations

from collections import defaultdict

import pytest

from contagion.events import trace_cause
from contagion.ledger import PriceMoves
from contagion.model import ContagionModel
from models import get_scenario


def _recording_model(name: str, **kw: int) -> tuple[ContagionModel, dict[str, set[int]]]:
    """A model whose price-move ledger also keeps every (source, event) it ever recorded."""
    seen: dict[str, set[int]] = defaultdict(set)
    record = PriceMoves.record

    def spy(self: PriceMoves, source: str, event_id: int, log_move: float) -> None:
        if event_id >= 0 and log_move != 0.0:
            seen[source].add(int(event_id))
        record(self, source, event_id, log_move)

    model = ContagionModel(get_scenario(name, **kw), seed=0)
    model.moves.record = spy.__get__(model.moves)  # type: ignore[method-assign]
    model.run()
    return model, seen


@pytest.mark.parametrize(("name", "kw"), [("default", {"n_traders": 300}),
                                          ("terra", {"n_traders": 300}),
                                          ("steth_celsius", {"n_traders": 300}),
                                          ("mango", {})])
def test_every_oracle_update_cites_a_move_of_its_own_source(name: str, kw: dict[str, int]) -> None:
    model, seen = _recording_model(name, **kw)
    ev = model.events_frame
    updates = ev[(ev["kind"] == "oracle_update") & (ev["cause_id"] >= 0)]
    assert len(updates) > 10
    for oracle, rows in updates.groupby("agent"):
        source = model.oracles[str(oracle)].source
        foreign = set(rows["cause_id"]) - seen[source]
        assert not foreign, f"{oracle} cites events that never moved {source}: {sorted(foreign)[:5]}"


def test_lenders_bad_debt_traces_to_the_custodians_collapse_not_a_price_tick() -> None:
    """Default scenario: CEX fails and dumps EXT into the pool LendB's EXT oracle reads; its
    token then crashes. LendB's bad debt on EXT comes from that, whatever the external EXT
    price did in the same steps."""
    model = ContagionModel(get_scenario("default", n_traders=300), seed=0)
    model.run()
    ev = model.events_frame
    kind = dict(zip(ev["event_id"], ev["kind"], strict=True))
    venue = dict(zip(ev["event_id"], ev["venue"], strict=True))
    bad = ev[(ev["kind"] == "bad_debt") & (ev["venue"] == "LendB")]
    assert len(bad) > 0
    for e in bad["event_id"]:
        chain = trace_cause(ev, int(e))
        kinds = [kind[c] for c in chain]
        # CEX's run: its token sales, then its default and its token's crash
        assert any(venue[c] == "CEX" and kind[c] in ("token_sale", "token_crash")
                   for c in chain), kinds
        ext_oracle = next(c for c in chain if kind[c] == "oracle_update")
        after = kind[chain[chain.index(ext_oracle) + 1]]
        assert after in ("token_sale", "token_crash"), kinds


def test_the_ledger_picks_the_largest_move_in_the_window_and_falls_back_to_the_last() -> None:
    moves = PriceMoves()
    moves.record("pool:P", 1, -0.05)
    start = moves.seq
    moves.record("pool:P", 2, -0.40)
    moves.record("pool:P", 3, +0.10)
    moves.record("market:X", 4, -0.90)  # another source: not this oracle's
    assert moves.cause("pool:P", after=start, upto=moves.seq) == 2
    assert moves.cause("pool:P", after=moves.seq, upto=moves.seq) == 3  # nothing new: last
    assert moves.cause("pool:Q", after=0, upto=moves.seq) == -1
    moves.record("pool:P", 5, 0.0)  # no move, no record
    assert moves.last("pool:P") == 3
