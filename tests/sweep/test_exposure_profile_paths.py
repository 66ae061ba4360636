"""A run's exposure profile without a group-by when no (step, holder, counterparty) repeats
(issue 14): it must be the group-by's frame exactly, NaN, -0.0 and row order included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.sweep.task import _unique_pairs_profile, exposure_profile


def _grouped(ex: pd.DataFrame) -> pd.DataFrame:
    agg = ex.groupby(["step", "holder", "counterparty"], as_index=False, sort=True)[
        "exposure_usd"].sum()
    agg.insert(0, "replication", 2)
    agg.insert(0, "point", 1)
    agg.insert(0, "run_id", "p00001-r002")
    return agg.astype({"step": "int64", "exposure_usd": "float64"})


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return (a.equals(b) and list(a.columns) == list(b.columns)
            and list(a.dtypes) == list(b.dtypes) and a.index.equals(b.index))


@pytest.mark.parametrize("repeat", [False, True])
def test_profile_is_the_group_by_whichever_path(repeat: bool) -> None:
    rng = np.random.default_rng(4)
    names = ["CEX", "LendA", "LendB", "PerpX", "Fund", "Ü-venue"]
    rows = [(s, h, c) for s in range(6) for h in names for c in names if h != c]
    picked = [rows[i] for i in rng.permutation(len(rows))[:60]]
    value = rng.normal(0, 1e6, len(picked))
    value[:4] = [-0.0, np.nan, np.inf, 0.0]
    ex = pd.DataFrame({"step": [r[0] for r in picked], "holder": [r[1] for r in picked],
                       "counterparty": [r[2] for r in picked],
                       "channel": ["loan"] * len(picked), "exposure_usd": value})
    if repeat:
        ex = pd.concat([ex, ex.iloc[:7].assign(channel="supply")], ignore_index=True)
    assert (_unique_pairs_profile(ex) is None) == repeat
    got = exposure_profile(ex, run_id="p00001-r002", point=1, replication=2)
    assert _same(got, _grouped(ex))
