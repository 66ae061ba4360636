"""Events carry typed, per-kind fields (``contagion.events.EVENT_FIELDS``).

The schema is declared once; the log rejects a field a kind does not declare and a missing
required one; on real runs every event fills the fields of its kind (and variant), leaves
the others blank, and its numbers agree with the run's series and venue table.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contagion.events import (
    COLUMN_DEFAULTS,
    COMMON_COLUMNS,
    EVENT_COLUMNS,
    EVENT_FIELDS,
    EVENT_KINDS,
    EVENT_VARIANTS,
    EventLog,
    required_fields,
    schema_markdown,
)
from contagion.params import EModeParams
from contagion.runner import RunResult, simulate
from contagion.scenario import Scenario, override
from contagion.scenario_file import load
from models import get_scenario

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"
_DTYPE = {float: "float64", int: "int64"}


# ---------------------------------------------------------------- the schema
def test_every_kind_declares_its_fields_and_each_is_a_typed_column() -> None:
    assert set(EVENT_FIELDS) == set(EVENT_KINDS)
    empty = EventLog().to_frame()
    assert list(empty.columns) == list(EVENT_COLUMNS)
    assert list(empty.columns)[:len(COMMON_COLUMNS)] == list(COMMON_COLUMNS)
    for kind, fields in EVENT_FIELDS.items():
        for name, typ in fields.items():
            assert name in empty.columns, (kind, name)
            if typ is str:
                assert pd.api.types.is_string_dtype(empty[name]), (kind, name)
            else:
                assert str(empty[name].dtype) == _DTYPE[typ], (kind, name)


def test_a_field_name_means_one_type_and_variants_are_fields_of_their_kind() -> None:
    types: dict[str, type] = {}
    for fields in EVENT_FIELDS.values():
        for name, typ in fields.items():
            assert types.setdefault(name, typ) is typ, name
    for kind, (name, variants) in EVENT_VARIANTS.items():
        assert EVENT_FIELDS[kind][name] is str
        assert name in required_fields(kind, variants[0])
        assert len(set(variants)) == len(variants)


def test_blank_fields_read_nan_minus_one_or_empty() -> None:
    log = EventLog()
    log.add("loan_recall", step=1, venue="CEX", agent="Fund", value_usd=5.0, due_step=4)
    row = log.to_frame().iloc[0]
    assert row["due_step"] == 4
    assert np.isnan(row["balance_after_usd"]) and row["keepers"] == -1 and row["reason"] == ""
    assert {c: COLUMN_DEFAULTS[c] for c in ("keepers", "reason")} == {"keepers": -1, "reason": ""}


def test_the_log_rejects_a_field_the_kind_does_not_declare() -> None:
    log = EventLog()
    with pytest.raises(ValueError, match=r"'loan_recall' has no field \['pool'\]"):
        log.add("loan_recall", step=1, due_step=3, pool="ETH/USDC")
    with pytest.raises(ValueError, match=r"has no field \['nonsense'\]"):
        log.add_many("adl", step=1, n=2, side="long", nonsense=[1, 2])
    with pytest.raises(ValueError, match="unknown event kind"):
        log.add("margin_call", step=1)
    assert len(log) == 0


def test_the_log_rejects_a_missing_field_a_wrong_variant_or_another_variants_field() -> None:
    log = EventLog()
    with pytest.raises(ValueError, match=r"need the field\(s\) \['due_step'\]"):
        log.add("loan_recall", step=1)
    with pytest.raises(ValueError, match=r"needs reason in \["):
        log.add("default", step=1, reason="bankrupt")
    with pytest.raises(ValueError, match=r"reason='run' have no field \['assets_usd'\]"):
        log.add("default", step=1, reason="run", assets_usd=1.0)
    with pytest.raises(ValueError, match=r"need the field\(s\) \['assets_usd', 'liabilities_usd'\]"):
        log.add("default", step=1, reason="assets_below_loans")
    with pytest.raises(ValueError, match="set by the log"):
        log.add("default", step=1, reason="run", event_id=3)
    assert len(log) == 0


def test_fields_of_a_batch_are_arrays() -> None:
    log = EventLog()
    log.add_many("keeper_dropout", step=3, n=3, agent="Keepers", amount=[1.0, 2.0, 3.0],
                 keeper=np.array([1, 2, 3]), keepers=4, keepers_left=1, gas_cost_usd=30.0,
                 tolerance=np.array([1.5, 2.0, 2.5]))
    df = log.to_frame()
    assert df["keeper"].tolist() == [1, 2, 3] and df["keepers"].tolist() == [4, 4, 4]
    assert df["tolerance"].tolist() == [1.5, 2.0, 2.5]


def test_docs_list_every_kind_and_field_as_the_schema_says() -> None:
    text = DOC.read_text()
    begin, end = "<!-- schema: begin -->\n", "<!-- schema: end -->"
    assert begin in text and end in text, "docs/events.md lost its generated section"
    section = text.split(begin, 1)[1].split(end, 1)[0]
    assert section.strip() == schema_markdown().strip(), (
        "docs/events.md is out of date: paste contagion.events.schema_markdown() between "
        "its schema markers")


# ---------------------------------------------------------------- real runs
CASES = {
    "default": {"n_traders": 300},
    "ftx": {"n_traders": 300},
    "black_thursday": {"n_traders": 300},
    "mango": {"n_traders": 300},
    "terra": {"n_traders": 300},
    "october_2025": {"n_traders": 300},
    "steth_celsius": {"n_traders": 300},
    "broken_correlation": {"n_traders": 300},  # the numeraire (USDC) depegs (issue 12)
    "classic_eisenberg_noe": {},
    "classic_fire_sales": {},
    "default+funding": {"n_traders": 300},  # PerpParams.funding (off in every preset)
    "default+collateral": {"n_traders": 300},  # collateral quality (issue 13, off in presets)
    "collateral_quality": {"n_traders": 300, "isolate_alt": True},  # loops refused at a ceiling
    "default_v3_lp_run.toml": {},  # a scenario file: a V3 pool whose LPs withdraw (issue 12)
    "options_pm_run.toml": {},  # portfolio margin with options: liquidations, expiry (issue 12)
    "clearing_house": {"n_traders": 300},  # margin calls, a waterfall, fund losses (issue 13)
    "settlement_window": {},  # a recall lost in its window: settlement_failed (issue 13)
    "settlement_window+short": {"settlement_delay_steps": 3},  # repaid: settlement_due
    # an exploit, a halt that ends, a refill: every bridge kind (issue 13)
    "bridge_exploit": {"n_traders": 300, "recapitalise_step": 30},
    "liquidation_dust": {},  # Aave v3.3 liquidations shrunk by the leftover rule (issue 13)
    "solvency_proofs": {"proof_kind": "liabilities", "n_traders": 300},  # proofs, a hole revealed
}
DATA = Path(__file__).resolve().parent / "data"


def _case(name: str, kw: dict[str, int]) -> Scenario:
    """A preset by name; ``NAME+funding`` is that preset with funding at its perp venues,
    ``default+collateral`` the default with LendB's collateral-quality rules on."""
    base, _, extra = name.partition("+")
    sc = get_scenario(base, **kw)
    if extra == "funding":
        for pv in sc.perps:
            sc = override(sc, f"perps.{pv.name}.funding", True)
    if extra == "collateral":  # loops within LTV and caps, a threshold that follows depth
        for key, value in (("releverage_above_hf", 1.6), ("releverage_to_hf", 1.03),
                           ("borrow_cap_usd", 2e8),
                           ("collateral.EXT.threshold_from_liquidity", True),
                           ("collateral.EXT.volatility_margin_frac", 0.05)):
            sc = override(sc, f"lending.LendB.{key}", value)
        sc = override(sc, "assets.EXT.external_depth_usd", 2e6)
        cat = EModeParams(name="eth-usd", assets=("ETH", "USDC"), ltv=0.85,
                          liquidation_threshold=0.88, liquidation_bonus=0.03)
        sc = dataclasses.replace(sc, lending=tuple(
            dataclasses.replace(v, emode=cat) if v.name == "LendA" else v for v in sc.lending))
    return sc


@pytest.fixture(scope="module")
def runs() -> dict[str, RunResult]:
    return {name: simulate(load(DATA / name) if name.endswith(".toml")
                           else _case(name, kw), seed=0) for name, kw in CASES.items()}


def _blank(col: pd.Series) -> pd.Series:
    default = COLUMN_DEFAULTS[str(col.name)]
    if isinstance(default, float):
        return col.isna()
    return col == default


def _variants(kind: str, ev: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if kind not in EVENT_VARIANTS:
        return [("", ev)]
    return [(str(v), g) for v, g in ev.groupby(EVENT_VARIANTS[kind][0])]


@pytest.mark.parametrize("name", list(CASES))
def test_every_event_fills_the_fields_of_its_kind_and_no_others(runs: dict[str, RunResult],
                                                                name: str) -> None:
    events = runs[name].events
    all_fields = set(EVENT_COLUMNS) - set(COMMON_COLUMNS)
    for kind, ev in events.groupby("kind"):
        for variant, g in _variants(str(kind), ev):
            assert variant in EVENT_VARIANTS.get(str(kind), ("", [""]))[1] or variant == ""
            for field in required_fields(str(kind), variant):
                assert not _blank(g[field]).any(), (name, kind, variant, field)
            allowed = {f for f in EVENT_FIELDS[str(kind)]
                       if f in required_fields(str(kind), variant) or f in _OPTIONAL}
            for field in all_fields - allowed:
                assert _blank(g[field]).all(), (name, kind, variant, field)


_OPTIONAL = {"haircut_frac", "cross_margined_at",
             "rank", "risk_contribution_usd",  # perp legs closed under portfolio margin
             "leftover_shrunk_usd"}  # liquidations at venues with Aave v3.3's leftover rule


def test_the_runs_cover_most_kinds_and_variants(runs: dict[str, RunResult]) -> None:
    seen = {(str(k), v) for r in runs.values() for k, ev in r.events.groupby("kind")
            for v, _ in _variants(str(k), ev)}
    assert {k for k, _ in seen} == set(EVENT_KINDS)
    every = {(k, v) for k in EVENT_KINDS for v in EVENT_VARIANTS.get(k, ("", ("",)))[1]}
    assert len(seen & every) >= 0.75 * len(every), sorted(every - seen)


def _of(r: RunResult, kind: str) -> pd.DataFrame:
    return r.events[r.events["kind"] == kind]


def _per_step(ev: pd.DataFrame, col: str) -> pd.Series:
    return ev.groupby(["step", "venue"])[col].sum()


@pytest.mark.parametrize("name", ["default", "ftx", "mango", "october_2025", "steth_celsius"])
def test_liquidations_sum_to_each_venues_liquidation_volume(runs: dict[str, RunResult],
                                                            name: str) -> None:
    r = runs[name]
    table = r.venues.set_index(["step", "venue"])["liquidated_usd"]
    lend, perp = _of(r, "liquidation"), _of(r, "perp_liquidation")
    assert len(lend) + len(perp) > 0
    assert (lend["mode"] == "bonus").all()
    assert np.allclose(lend["debt_repaid_usd"], lend["value_usd"])
    assert np.allclose(lend["collateral_seized_units"], lend["amount"])
    for ev, col in ((lend, "debt_repaid_usd"), (perp, "value_usd")):
        got = _per_step(ev, col)
        assert np.allclose(got, table.loc[got.index], rtol=1e-9), (name, col)
    volume = table[table > 0].reset_index()
    kinds = set(r.venues.loc[r.venues["venue"].isin(volume["venue"]), "kind"])
    assert kinds <= {"lending", "perp"}
    assert len(_per_step(lend, "value_usd")) + len(_per_step(perp, "value_usd")) == len(volume)
    # the liquidator's bonus: collateral at the oracle price less debt, at most the bonus
    assert (lend["bonus_usd"] > 0).all()
    assert (lend["bonus_usd"] <= lend["debt_repaid_usd"] * lend["bonus_frac"] * (1 + 1e-9)).all()
    # a batch sells at most what it seized
    batch = lend.groupby(["step", "venue", "asset", "sold_into", "units_sold"])
    assert (batch["collateral_seized_units"].sum().index.get_level_values("units_sold")
            <= batch["collateral_seized_units"].sum().to_numpy() * (1 + 1e-9)).all()


def test_auction_mode_bites_sum_to_the_volume_and_lots_agree(runs: dict[str, RunResult]) -> None:
    r = runs["black_thursday"]
    bites = _of(r, "liquidation")
    assert (bites["mode"] == "auction").all() and (bites["debt_repaid_usd"] == 0).all()
    table = r.venues.set_index(["step", "venue"])["liquidated_usd"]
    got = _per_step(bites, "value_usd")
    assert np.allclose(got, table.loc[got.index])
    assert (bites["min_collateral_ratio"] > 1).all() and (bites["penalty_frac"] > 0).all()
    auctions, zero = _of(r, "auction"), _of(r, "zero_bid")
    assert (auctions["bidders"] >= 2).all() and (auctions["units_to_owner"] >= 0).all()
    assert len(zero) and (zero["keepers_priced_out"] < zero["keepers"]).all()
    # a zero bid happens while gas is up: its multiple is the last spike's
    spikes = _of(r, "gas_spike")
    spike = spikes[spikes["phase"] == "spike"]
    assert set(zero["gas_multiple"]) <= set(spike["amount"])
    drops = _of(r, "keeper_dropout")
    last = drops.groupby("step").last()
    at = spike.set_index("step").loc[last.index]
    assert (last["keepers_left"] == at["keepers_active"]).all()
    assert (drops["keepers"] == at["keepers"].iloc[0]).all()


@pytest.mark.parametrize("name", ["default", "black_thursday", "october_2025", "terra"])
def test_fund_draws_leave_the_balance_the_series_records(runs: dict[str, RunResult],
                                                         name: str) -> None:
    r = runs[name]
    draws = _of(r, "fund_draw")
    assert len(draws)
    assert (draws["fund"] == draws["agent"]).all()
    kind = dict(zip(r.venues["venue"], r.venues["kind"], strict=False))
    for (fund, step), g in draws.groupby(["fund", "step"]):
        last = g.iloc[-1]
        if last["purpose"] == "peg_defence":
            col = f"reserve_{last['peg']}"
        else:
            col = f"fund_{fund}"
            assert last["value_usd"] <= last["shortfall_usd"] * (1 + 1e-12)
        recorded = float(r.series.at[step, col])
        if last["purpose"] == "shortfall" and kind.get(str(last["venue"])) == "perp":
            assert recorded >= last["balance_after_usd"] - 1e-6  # fees may arrive later
        else:
            assert recorded == pytest.approx(last["balance_after_usd"], rel=1e-9, abs=1e-6)
    shortfall = draws[draws["purpose"] == "shortfall"]
    paid = r.venues.groupby("venue")["fund_paid_usd"].last()
    got = shortfall.groupby("venue")["value_usd"].sum()
    assert np.allclose(got, paid.loc[got.index])


@pytest.mark.parametrize("name", ["default", "ftx", "october_2025"])
def test_losses_agree_with_the_venue_table(runs: dict[str, RunResult], name: str) -> None:
    r = runs[name]
    last = r.venues.groupby("venue").last()
    for kind, col in (("bad_debt", "bad_debt_usd"), ("socialised_loss", "socialised_usd"),
                      ("adl", "adl_usd")):
        got = _of(r, kind).groupby("venue")["value_usd"].sum()
        assert np.allclose(got, last.loc[got.index, col]), (name, kind)
    social = _of(r, "socialised_loss")
    assert set(social["policy"]) <= {"supplier_haircut", "clawback"}
    assert (social["bearers"] == social["policy"].map(
        {"supplier_haircut": "suppliers", "clawback": "accounts in profit"})).all()
    below = _of(r, "bad_debt")
    below = below[below["reason"] == "below_bankruptcy"]
    perp = _of(r, "perp_liquidation")
    for _, b in below.iterrows():
        same = perp[(perp["step"] == b["step"]) & (perp["venue"] == b["venue"])]
        assert b["accounts"] <= int((same["shortfall_usd"] > 0).sum())
        assert b["value_usd"] <= same["shortfall_usd"].sum() * (1 + 1e-9)


def test_prices_and_moves_agree_with_the_series(runs: dict[str, RunResult]) -> None:
    for r in runs.values():
        shocks = _of(r, "price_shock")
        for _, s in shocks.iterrows():
            assert s["price_before"] == pytest.approx(r.series.at[s["step"] - 1,
                                                                  f"price_{s['asset']}"])
        upd = _of(r, "oracle_update")
        assert np.allclose(upd["price"] / upd["price_before"] - 1, upd["amount"])
        assert set(upd["trigger"]) <= {"deviation", "heartbeat"}
        crash = _of(r, "token_crash")
        assert np.allclose(crash["price"] / crash["price_before"] - 1, crash["amount"])


def test_depositors_counts_and_losses_agree(runs: dict[str, RunResult]) -> None:
    for r in runs.values():
        ev = r.events
        for kind in ("margin_topup", "withdrawal"):
            g = ev[(ev["kind"] == kind) & (ev["accounts"] >= 0)]
            assert (g["accounts"] == g["amount"]).all(), kind
        loss = _of(r, "collateral_loss")
        assert np.allclose(loss["value_usd"], loss["deposits_usd"] * (1 - loss["recovery_rate"]))
        assert (loss["recovery_rate"] == loss["amount"]).all()
    w = _of(runs["terra"], "withdrawal")
    exits = w[w["reason"] == "depeg_exit"]
    assert len(exits) and (exits["selling_into"] == exits["agent"]).all()
    per_step = exits.groupby(["step", "venue"]).agg(
        units=("amount", "sum"), usd=("value_usd", "sum"), step_units=("step_units", "first"),
        step_usd=("step_usd", "first"))
    assert np.allclose(per_step["units"], per_step["step_units"])
    assert np.allclose(per_step["usd"], per_step["step_usd"])
    started = exits[exits["phase"] == "start"]
    assert (started["account"] >= 0).all()
    assert (started.groupby("step")["depositors"].first() == started.groupby("step").size()).all()


def test_peg_arbitrage_supply_matches_the_series(runs: dict[str, RunResult]) -> None:
    r = runs["terra"]
    sales = _of(r, "token_sale")
    burn = sales[sales["purpose"] == "burn_arbitrage"]
    assert len(burn)
    last = burn.groupby("step").last()
    assert np.allclose(last["supply_after"], r.series.loc[last.index, "supply_LUNA"])
    assert (burn["burned_asset"] == "UST").all() and (burn["burned_units"] > 0).all()


def test_default_reasons_carry_their_numbers(runs: dict[str, RunResult]) -> None:
    for r in runs.values():
        d = _of(r, "default")
        firms = d[d["reason"] == "assets_below_loans"]
        assert (firms["assets_usd"] < firms["liabilities_usd"]).all()
        frz = _of(r, "withdrawal_freeze")
        ins = frz[frz["reason"] == "insolvent"]
        assert (ins["assets_usd"] < ins["liabilities_usd"]).all()
        assert np.allclose(ins["value_usd"], ins["liabilities_usd"] - ins["assets_usd"])
    codes = {str(c) for r in runs.values() for c in _of(r, "default")["reason"]}
    assert {"run", "insolvent", "bad_debt", "assets_below_loans"} <= codes


def test_nothing_reads_the_detail_text() -> None:
    """No code parses an event's detail: no regex and no str.contains over it."""
    root = Path(__file__).resolve().parents[1]
    for path in [*(root / "dashboard").rglob("*.py"), *(root / "contagion").rglob("*.py")]:
        text = path.read_text()
        assert not re.search(r"\[\"detail\"\][^\n]*\.str\.", text), path
        assert not re.search(r"re\.(search|match|findall|sub|fullmatch)\([^\n]*detail", text), path
    assert "import re\n" not in (root / "dashboard" / "narrative.py").read_text()
