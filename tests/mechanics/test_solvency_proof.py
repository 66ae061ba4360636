"""Solvency proofs (issue 13): what a reserves-only attestation and a proof of liabilities
publish from the same books (``contagion.mechanics.solvency_proof``).

The customer balances are Summa's Merkle-sum-tree test vector (PSE, summa-dev/summa-solvency
at commit a6cccb932fff4dd7f4c2f02df8ed06dc9d4730fd, ``src/merkle_sum_tree/csv/entry_16.csv``;
its ``src/merkle_sum_tree/tests.rs`` at 88e4b72de3d44e28f3470a3a58e6876403b78a4e asserts the
root's balance is 556862, the liabilities a proof of liabilities shows). A custodian that
leaves one customer out of its own report (AtwIxZHo, 35479, leaf 15 in Summa's test) shows a
reserves-only attestation with a cushion over a shortfall that the Merkle sum tree shows,
since that customer's inclusion check would fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.mechanics.solvency_proof import (
    due_snapshot,
    is_snapshot,
    publish,
    updated_thresholds,
)

SUMMA_ENTRY_16 = {  # username -> balance, entry_16.csv
    "dxGaEAii": 11888, "MBlfbBGI": 67823, "lAhWlEWZ": 18651, "nuZweYtO": 22073,
    "gbdSwiuY": 34897, "RZNneNuP": 83296, "YsscHXkp": 31699, "RkLzkDun": 2087,
    "HlQlnEYI": 30605, "RqkZOFYe": 16881, "NjCSRAfD": 41163, "pHniJMQY": 14874,
    "dOGIMzKR": 10032, "HfMDmNLp": 55683, "xPLKzCBl": 79731, "AtwIxZHo": 35479,
}
SUMMA_ROOT_BALANCE = 556862  # tests.rs: root.balances == [556862]


def test_the_proof_of_liabilities_shows_summas_root_and_the_hidden_customer() -> None:
    total = sum(SUMMA_ENTRY_16.values())
    assert total == SUMMA_ROOT_BALANCE
    hidden = SUMMA_ENTRY_16["AtwIxZHo"] / total
    reserves = 540_000.0  # between what it reports and what it owes
    att = publish("reserves", assets_usd=reserves, liabilities_usd=total, hidden_frac=hidden)
    pol = publish("liabilities", assets_usd=reserves, liabilities_usd=total, hidden_frac=hidden)
    assert att.liabilities_shown_usd == pytest.approx(total - 35479, abs=1e-9)
    assert att.ratio == pytest.approx(540_000 / 521_383) and att.ratio > 1  # the hole hidden
    assert pol.liabilities_shown_usd == SUMMA_ROOT_BALANCE
    assert pol.ratio == pytest.approx(540_000 / 556_862) and pol.ratio < 1  # the hole shown
    exact = publish("exact", assets_usd=reserves, liabilities_usd=total, hidden_frac=hidden)
    assert exact.ratio == pol.ratio  # with nothing borrowed the proof of liabilities is exact


def test_borrowed_reserves_inflate_the_attestation_but_cannot_lift_a_shortfall() -> None:
    # $90 of assets against $100 owed; $20 borrowed for the snapshot
    att = publish("reserves", assets_usd=90.0, liabilities_usd=100.0, borrowed_usd=20.0)
    pol = publish("liabilities", assets_usd=90.0, liabilities_usd=100.0, borrowed_usd=20.0)
    assert att.reserves_usd == pol.reserves_usd == 110.0
    assert att.ratio == pytest.approx(1.1)  # looks solvent
    assert pol.liabilities_shown_usd == 120.0 and pol.ratio == pytest.approx(110 / 120)
    assert 0.9 < pol.ratio < 1.0  # nearer 1, still short
    assert publish("exact", assets_usd=90.0, liabilities_usd=100.0, borrowed_usd=20.0).ratio == 0.9


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(assets=st.floats(0, 1e12), owed=st.floats(1.0, 1e12), hidden=st.floats(0, 0.99),
       borrowed=st.floats(0, 1e12))
def test_the_attestation_never_shows_less_and_the_proof_never_crosses_one(
        assets: float, owed: float, hidden: float, borrowed: float) -> None:
    kw = dict(assets_usd=assets, liabilities_usd=owed, hidden_frac=hidden, borrowed_usd=borrowed)
    att, pol = publish("reserves", **kw), publish("liabilities", **kw)  # type: ignore[arg-type]
    true = assets / owed
    assert att.ratio >= pol.ratio * (1 - 1e-12)
    if true < 1:
        assert pol.ratio < 1 and pol.ratio >= true * (1 - 1e-12)
    else:
        assert pol.ratio >= 1 - 1e-12


def test_nothing_shown_is_an_infinite_ratio_and_unknown_kinds_are_refused() -> None:
    assert math.isinf(publish("reserves", assets_usd=1.0, liabilities_usd=0.0).ratio)
    with pytest.raises(ValueError, match="proof kind"):
        publish("audit", assets_usd=1.0, liabilities_usd=1.0)


def test_cadence_and_lag() -> None:
    assert [s for s in range(1, 31) if is_snapshot(s, every=7)] == [7, 14, 21, 28]
    assert [s for s in range(1, 6) if is_snapshot(s, every=1)] == [1, 2, 3, 4, 5]
    published = [s for s in range(1, 31) if due_snapshot(s, every=7, lag=3) is not None]
    assert published == [10, 17, 24]
    assert due_snapshot(10, every=7, lag=3) == 7


def test_thresholds_move_with_the_published_ratio_and_do_not_accumulate() -> None:
    base = np.array([0.05, 0.3, 0.9])
    up = updated_thresholds(base, 1.16, weight=0.5, floor=0.05)
    down = updated_thresholds(base, 0.9, weight=0.5, floor=0.05)
    assert np.allclose(up, [0.13, 0.38, 0.98])
    assert np.allclose(down, [0.05, 0.25, 0.85])  # held at the floor
    assert np.allclose(updated_thresholds(base, 5.0, weight=0.5, floor=0.05), [0.55, 0.8, 1.0])
    assert np.array_equal(updated_thresholds(base, 1.0, weight=0.5, floor=0.05), base)
