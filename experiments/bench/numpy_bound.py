"""The bare numpy bound of a step: the margin check alone, over the engine's own books.

A step of the engine does much more than check margins (prices, pools, oracles, top-ups,
liquidations, the event log, data collection), but every step must at least read each
account once: each lending account's health factor (``collateral @ (prices * LT) / debt``,
compared with 1) and each perp account's equity against its maintenance margin. This module
times exactly that with plain numpy on the books the engine draws for the default scenario
(same rows, same dtypes), so a benchmark can report how far the full step is from the
cheapest step numpy allows (:func:`bound_ms_per_step`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["bound_ms_for_model", "bound_ms_per_step", "margin_check"]


def margin_check(lending: list[tuple[Any, Any, Any]], perps: list[tuple[Any, ...]],
                 lending_prices: list[Any], mark: float, mmr: float) -> int:
    """One pass over every account: how many are under their margin (health factor < 1 at a
    lender, equity < maintenance margin at a perp venue)."""
    under = 0
    for (coll, debt, lt), prices in zip(lending, lending_prices, strict=True):
        weighted = coll @ (prices * lt)
        under += int(np.count_nonzero(weighted < debt))  # HF < 1 without the division
    for collateral, size, entry in perps:
        equity = collateral + size * (mark - entry)
        under += int(np.count_nonzero(equity < np.abs(size) * (mark * mmr)))
    return under


def bound_ms_per_step(n_traders: int, *, repeats: int = 20, seed: int = 1) -> tuple[float, int]:
    """(best ms of one :func:`margin_check` over ``repeats``, accounts checked) on the books of
    ``ContagionModel(get_scenario("default", n_traders=n_traders), seed=seed)``."""
    from contagion.model import ContagionModel
    from models import get_scenario

    model = ContagionModel(get_scenario("default", n_traders=n_traders), seed=seed)
    return bound_ms_for_model(model, repeats=repeats)


def bound_ms_for_model(model: Any, *, repeats: int = 20) -> tuple[float, int]:
    """(best ms of one :func:`margin_check` over ``repeats``, accounts checked) on ``model``'s
    lending and perp books as they are now."""
    lending = [(v.book.collateral, v.book.debt, np.asarray(v.lt)) for v in model.lending]
    prices = [np.asarray(v.prices()) for v in model.lending]
    perps = [(pv.book.collateral, pv.book.size[:, 0], pv.book.entry[:, 0]) for pv in model.perps]
    marks = [float(pv.marks()[0]) for pv in model.perps] or [0.0]
    mmrs = [float(pv.mmrs[0]) for pv in model.perps] or [0.0]
    accounts = sum(len(c) for c, _, _ in lending) + sum(len(c) for c, _, _ in perps)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        margin_check(lending, perps, prices, marks[0], mmrs[0])
        best = min(best, time.perf_counter() - t)
    return best * 1e3, accounts
