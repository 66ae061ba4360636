"""Every tour's words are checked against its run: states, steps, events, colours, numbers.

The run is the one the dashboard shows first for each preset: seed 0 and the preset's
defaults (``simulate(get_scenario(name), seed=0)``), computed once per module. A stage's
``[stage.claims]`` table (see :mod:`dashboard.tour`) says what its body says happened;
this module checks each claim at the step the stage lands on.

Claims
------
``defaulted`` / ``not_defaulted``
    Node names. Defaulted: the node's state at the step is ``defaulted`` and its ``default``
    event came at or before the step. Not defaulted: neither.
``drained`` / ``not_drained``
    Node names. Drained: state ``drained`` at the step (a fund's ``fund_exhausted`` event at
    or before it). Not drained: neither.
``states``
    Node -> state at the step (any of :data:`contagion.network.NODE_STATES`).
``events`` / ``no_events``
    Event kinds present / absent at the step; ``"kind@name"`` restricts to events whose
    venue or agent is ``name``.
``distinct_step``
    The stage lands on a step no earlier stage of the tour lands on.
``counterfactuals``
    What the body says other settings do (the Compare tab's runs): a list of tables
    ``{params = {diversification = 1}, defaults = 1, defaulted = ["B00"], text = "..."}``,
    each checked on seed 0 of the preset with ``params`` changed (``text``, when given, must
    be in the body).
``numbers``
    Quantity -> the figure as the body writes it (``"$1.57M"``, ``"611k"``, ``"45%"``,
    ``"1,000"``). The figure must appear in the body, and the run's quantity must be within
    one unit of its last digit (``$1.57M``: $1.56M-$1.58M; ``90%``: 89%-91%); a figure
    without a sign is compared with the quantity's size. A table ``{text = "...", rel = x}``
    widens the tolerance to a relative ``x`` (for "about" figures); ``{text = "nothing was
    socialised", value = 0}`` checks words that stand for a figure (within ``abs``, default
    0, or ``rel``); ``{text = "under 150k", max = 150e3}`` (or ``min``) checks a bound.

Quantities (at the stage's step unless ``@<step>``, ``@start``, ``@end`` or ``@prev`` follows)
    ``summary.<key>[.<key>]``  the run summary (``summary.bad_debt_by_venue.LendB``);
    ``series.<column>``        a series column (``series.fund_PerpX-Insurance@end``);
    ``venue.<name>.<column>``  the venue table (``venue.CEX.recovery_rate``);
    ``event.<kind>.<field>``   the sum of ``field`` over the step's events of that kind,
                               ``count`` counts them, ``accounts`` counts distinct accounts,
                               ``<kind>.<field>.max`` / ``.min`` the largest / smallest,
                               ``<kind>.<field>*<column>`` the sum of the field times the
                               series column at each event's step (units at market price);
                               ``[venue=X]`` / ``[agent=X]`` filters; ``upto.`` instead of
                               ``event.`` sums over the steps up to the stage's, ``run.`` over
                               the whole run;
    ``param.<name>``           a parameter of the preset (its default: the run's);
    ``scenario.<path>``        a parameter of the scenario, tuples indexed by position,
                               name, asset or venue
                               (``scenario.perps.PerpX.maintenance_margin_frac``);
    ``change(<q>)``            ``q / q@prev - 1``; ``since_start(<q>)``: ``q / q@start - 1``;
    ``ratio(<q>,<q2>)``        ``q / q2``; ``diff``, ``add``, ``times``: ``q - q2``, ``q + q2``,
                               ``q * q2``; ``inv(<q>)``: ``1 / q``; a number is a constant.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import pandas as pd
import pytest

from contagion.network import NODE_STATES
from contagion.runner import RunResult, simulate
from dashboard.network_view import STATE_COLOURS
from dashboard.tour import Stage, load_tour, resolve_step
from models import SCENARIOS, get_scenario, scenario_parameters

CLAIM_KEYS = {"defaulted", "not_defaulted", "drained", "not_drained", "states", "events",
              "no_events", "distinct_step", "numbers", "counterfactuals"}


@cache
def first_run(name: str) -> RunResult:
    """The run the dashboard shows first for preset ``name``."""
    return simulate(get_scenario(name), seed=0)


@cache
def _other_run(name: str, params: tuple[tuple[str, Any], ...]) -> RunResult:
    """Seed 0 of preset ``name`` with ``params`` changed (what the Compare tab runs)."""
    return simulate(get_scenario(name, **dict(params)), seed=0)


# ---------------------------------------------------------------- quantities
def _at(run: RunResult, step: int, at: str | None) -> int:
    last = int(run.series.index.max())
    if at is None:
        return step
    return {"start": 0, "end": last, "prev": max(step - 1, 0)}.get(at) if at in (
        "start", "end", "prev") else int(at)  # type: ignore[return-value]


def _split_args(inner: str) -> list[str]:
    depth, out, cur = 0, [], ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur.strip())
    return out


def _events(run: RunResult, kind: str, filt: str | None) -> pd.DataFrame:
    ev = run.events[run.events["kind"] == kind]
    if filt:
        col, _, val = filt.partition("=")
        ev = ev[ev[col] == (int(val) if re.fullmatch(r"-?\d+", val) else val)]
    return ev


def quantity(run: RunResult, expr: str, step: int) -> float:
    """The value of quantity ``expr`` (see the module docstring) at ``step`` of ``run``."""
    expr = expr.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", expr):  # a constant: diff(ratio(a, b), 1)
        return float(expr)
    fn = re.fullmatch(r"(change|since_start|ratio|diff|add|times|inv)\((.+)\)", expr)
    if fn:
        args = _split_args(fn.group(2))
        if fn.group(1) == "inv":
            return 1.0 / quantity(run, args[0], step)
        if fn.group(1) == "change":
            return quantity(run, args[0], step) / quantity(run, args[0], max(step - 1, 0)) - 1
        if fn.group(1) == "since_start":
            return quantity(run, args[0], step) / quantity(run, args[0], 0) - 1
        a, b = quantity(run, args[0], step), quantity(run, args[1], step)
        return {"ratio": a / b, "diff": a - b, "add": a + b, "times": a * b}[fn.group(1)]
    m = re.fullmatch(r"(?P<src>\w+)\.(?P<path>[^\[@]+)(\[(?P<filt>[^\]]+)\])?(@(?P<at>\w+))?",
                     expr)
    if not m:
        raise ValueError(f"not a quantity: {expr!r}")
    src, path, filt = m["src"], m["path"], m["filt"]
    at = _at(run, step, m["at"])
    if src == "summary":
        value: Any = run.summary
        for key in path.split("."):
            value = value[key]
        return float(value)
    if src == "series":
        return float(run.series[path].loc[at])
    if src == "venue":
        venue, _, col = path.partition(".")
        v = run.venues
        rows = v[(v["venue"] == venue) & (v["step"] == at)]
        if rows.empty:
            raise ValueError(f"{expr}: no venue row for {venue!r} at step {at}")
        return float(rows[col].iloc[0])
    if src in ("event", "upto", "run"):
        parts = path.split(".")
        kind, field = parts[0], parts[1]
        agg = parts[2] if len(parts) > 2 else "sum"
        ev = _events(run, kind, filt)
        if src == "event":
            ev = ev[ev["step"] == at]
        elif src == "upto":
            ev = ev[ev["step"] <= at]
        if field == "count":
            return float(len(ev))
        if field == "accounts":
            return float(ev["account"].nunique())
        if "*" in field:  # a field times a series column at each event's step
            field, _, col = field.partition("*")
            return float((ev[field].to_numpy() * run.series[col].reindex(ev["step"])).sum())
        if agg in ("max", "min"):
            return float(ev[field].agg(agg)) if len(ev) else math.nan
        return float(ev[field].sum())
    if src == "param":  # the preset's own parameter, at its default (the run's)
        return float(scenario_parameters(run.scenario.name)[path])
    if src == "scenario":
        obj: Any = run.scenario
        for key in path.split("."):
            if isinstance(obj, tuple | list):
                obj = obj[int(key)] if key.isdigit() else next(
                    (o for o in obj if key in (getattr(o, k, None) for k in ("name", "asset", "venue"))),
                    None)
                if obj is None:
                    raise ValueError(f"{expr}: no {key!r}")
            else:
                obj = getattr(obj, key)
        return float(obj)
    raise ValueError(f"unknown quantity source {src!r} in {expr!r}")


_FIGURE = re.compile(r"(?P<sign>[-+])?(?P<cur>\$)?(?P<num>\d[\d,]*(?:\.\d+)?)"
                     r"(?P<suffix>k|M|B|%|x)?")
_SCALE = {None: 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "%": 0.01, "x": 1.0}


def parse_figure(text: str) -> tuple[float, float, bool]:
    """A figure as written (``"$1.57M"``) -> (value, one unit of its last digit, signed).

    >>> parse_figure("$1.57M")
    (1570000.0, 10000.0, False)
    >>> parse_figure("-2.8%")[0]
    -0.028
    """
    m = _FIGURE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a figure: {text!r}")
    num = m["num"].replace(",", "")
    decimals = len(num.split(".")[1]) if "." in num else 0
    scale = _SCALE[m["suffix"]]
    value = float(num) * scale * (-1.0 if m["sign"] == "-" else 1.0)
    return round(value, 12), 10.0 ** -decimals * scale, m["sign"] is not None


def check_number(run: RunResult, stage: Stage, step: int, expr: str, claim: Any) -> str | None:
    """A problem with one ``numbers`` claim, or None."""
    table = claim if isinstance(claim, dict) else {"text": claim}
    text = table["text"]
    if text not in stage.body.replace("\n", " "):
        return f"{text!r} is not in the body"
    try:
        got = quantity(run, expr, step)
    except (KeyError, ValueError, IndexError) as exc:
        return f"{expr}: {exc!r}"
    if not math.isfinite(got):
        return f"{expr} is {got} in the run"
    bounds = {k: float(table[k]) for k in ("min", "max") if k in table}
    if bounds:  # "under 150k", "more than 25 times"
        size = got if table.get("signed") else abs(got)
        if size < bounds.get("min", -math.inf) or size > bounds.get("max", math.inf):
            return f"{expr} = {got:,.6g} in the run, the body says {text}"
        return None
    if "value" in table:  # words for a figure: "nothing", "half a dollar"
        value = float(table["value"])
        signed = value < 0 or bool(table.get("signed", False))
        unit = float(table.get("abs", 0.0))
    else:
        value, unit, signed = parse_figure(text)
    size = got if signed else abs(got)
    tol = abs(value) * float(table["rel"]) if "rel" in table else unit
    if abs(size - value) > tol * (1 + 1e-9):
        return f"{expr} = {got:,.6g} in the run, the body says {text}"
    return None


# ---------------------------------------------------------------- states and events
def _state_at(run: RunResult, node: str, step: int) -> str | None:
    ns = run.node_states
    rows = ns[(ns["node"] == node) & (ns["step"] <= step)]
    return None if rows.empty else str(rows.loc[rows["step"].idxmax(), "state"])


def _first(run: RunResult, kind: str, col: str, name: str) -> int | None:
    ev = run.events
    hit = ev.loc[(ev["kind"] == kind) & (ev[col] == name), "step"]
    return int(hit.min()) if len(hit) else None


def _has_event(run: RunResult, spec: str, step: int) -> bool:
    kind, _, name = spec.partition("@")
    ev = run.events
    ev = ev[(ev["step"] == step) & (ev["kind"] == kind)]
    if name:
        ev = ev[(ev["venue"] == name) | (ev["agent"] == name)]
    return not ev.empty


def claim_problems(run: RunResult, stages: list[Stage], i: int) -> list[str]:
    """What is false in stage ``i``'s claims about ``run``."""
    stage = stages[i]
    claims = stage.claims
    step = resolve_step(stage.step, run.events, run.series)
    out = [f"unknown claim {k!r}" for k in claims if k not in CLAIM_KEYS]
    nodes = set(run.node_states["node"])
    for node in (*claims.get("defaulted", ()), *claims.get("not_defaulted", ()),
                 *claims.get("drained", ()), *claims.get("not_drained", ()),
                 *claims.get("states", {})):
        if node not in nodes:
            out.append(f"{node!r} is not a node of the run")
    for node in claims.get("defaulted", ()):
        at, state = _first(run, "default", "venue", node), _state_at(run, node, step)
        if state != "defaulted" or at is None or at > step:
            out.append(f"{node} is {state} at step {step} (default event at {at})")
    for node in claims.get("not_defaulted", ()):
        at, state = _first(run, "default", "venue", node), _state_at(run, node, step)
        if state == "defaulted" or (at is not None and at <= step):
            out.append(f"{node} is {state} at step {step} (default event at {at})")
    for node in claims.get("drained", ()):
        at, state = _first(run, "fund_exhausted", "agent", node), _state_at(run, node, step)
        is_fund = bool((run.node_states.loc[run.node_states["node"] == node, "kind"]
                        == "fund").any())
        if state != "drained" or (is_fund and (at is None or at > step)):
            out.append(f"{node} is {state} at step {step} (fund_exhausted at {at})")
    for node in claims.get("not_drained", ()):
        at, state = _first(run, "fund_exhausted", "agent", node), _state_at(run, node, step)
        if state == "drained" or (at is not None and at <= step):
            out.append(f"{node} is {state} at step {step} (fund_exhausted at {at})")
    for node, want in claims.get("states", {}).items():
        if want not in NODE_STATES:
            out.append(f"{want!r} is not a node state")
        elif (state := _state_at(run, node, step)) != want:
            out.append(f"{node} is {state} at step {step}, not {want}")
    for spec in claims.get("events", ()):
        if not _has_event(run, spec, step):
            out.append(f"no {spec} event at step {step}")
    for spec in claims.get("no_events", ()):
        if _has_event(run, spec, step):
            out.append(f"a {spec} event at step {step}")
    if claims.get("distinct_step"):
        earlier = {resolve_step(s.step, run.events, run.series) for s in stages[:i]}
        if step in earlier:
            out.append(f"lands on step {step}, as an earlier stage does")
    for expr, claim in claims.get("numbers", {}).items():
        if (problem := check_number(run, stage, step, expr, claim)) is not None:
            out.append(problem)
    for cf in claims.get("counterfactuals", ()):
        if cf.get("text") and cf["text"] not in stage.body.replace("\n", " "):
            out.append(f"{cf['text']!r} is not in the body")
        other = _other_run(run.scenario.name, tuple(sorted(cf["params"].items())))
        if "defaults" in cf and other.summary["defaults"] != cf["defaults"]:
            out.append(f"with {cf['params']}: {other.summary['defaults']} defaults, the body "
                       f"says {cf['defaults']}")
        if "defaulted" in cf and sorted(other.summary["defaulted"]) != sorted(cf["defaulted"]):
            out.append(f"with {cf['params']}: {other.summary['defaulted']} defaulted, the body "
                       f"says {cf['defaulted']}")
    return [f"{stage.title} (step {step}): {p}" for p in out]


# ---------------------------------------------------------------- the tests
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_claim_of_the_tour_holds_in_its_run(name: str) -> None:
    run = first_run(name)
    stages = load_tour(name)
    problems = [p for i in range(len(stages)) for p in claim_problems(run, stages, i)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_stage_after_the_first_says_what_happened_in_claims(name: str) -> None:
    """The first stage sets the scene; every later one tells of something in the run."""
    for stage in load_tour(name)[1:]:
        assert stage.claims, f"{stage.title}: no [stage.claims]"
        assert set(stage.claims) - {"distinct_step"}, f"{stage.title}: only distinct_step"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_stages_move_forward_in_time(name: str) -> None:
    """Each stage lands on a later step than the one before: none repeats a step."""
    run = first_run(name)
    steps = [resolve_step(s.step, run.events, run.series) for s in load_tour(name)]
    assert steps == sorted(set(steps)), steps


def test_the_default_tour_quotes_its_run_in_figures() -> None:
    """The default tour is the one a class opens first: its stages quote the run."""
    stages = load_tour("default")
    for stage in stages[1:]:
        assert stage.claims.get("numbers"), f"{stage.title}: no numbers claimed"
    quoted = set(re.findall(r"\$\d(?:[\d,.]*\d)?[kMB]?", " ".join(s.body for s in stages)))
    claimed = {c["text"] if isinstance(c, dict) else c
               for s in stages for c in s.claims.get("numbers", {}).values()}
    assert quoted <= claimed, f"dollar figures without a claim: {sorted(quoted - claimed)}"


# ---------------------------------------------------------------- colours in the text
#: Colour words a tour may use -> the colour they name (the network's state colours).
COLOUR_WORDS = {
    "sky blue": "#56B4E9", "light blue": "#56B4E9", "blue": "#56B4E9",
    "vermillion": "#D55E00", "orange-red": "#D55E00", "orange": "#D55E00",
    "wine": "#882255", "wine-red": "#882255", "dark red": "#882255", "maroon": "#882255",
    "black": "#000000",
    "light grey": "#DDDDDD", "grey": "#DDDDDD", "gray": "#DDDDDD",
    # words for colours no node state has: a tour using one is wrong
    "green": "#009E73", "red": "#E41A1C", "yellow": "#F0E442", "white": "#FFFFFF",
    "pink": "#CC79A7", "purple": "#CC79A7", "reddish purple": "#CC79A7",
    "reddish-purple": "#CC79A7",
}
STATE_WORDS = {"healthy": "healthy", "at risk": "at_risk", "liquidated": "liquidated",
               "defaulted": "defaulted", "drained": "drained", "empty": "drained"}
_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, {**COLOUR_WORDS, **STATE_WORDS}),
                                            key=len, reverse=True)) + r")\b", re.I)
_NOT_A_COLOUR = re.compile(r"Black Thursday|black swan", re.I)


def colour_problems(body: str) -> list[str]:
    """Colour words not followed, in their sentence, by the state they are drawn for.

    >>> colour_problems("Blue nodes are healthy, black ones defaulted.")
    []
    >>> colour_problems("Green nodes are healthy.")
    ["'Green' is #009E73, healthy is drawn #56B4E9"]
    """
    out: list[str] = []
    text = _NOT_A_COLOUR.sub("", body.replace("\n", " "))
    for sentence in re.split(r"(?<=[.;?!])\s", text):
        pending: str | None = None
        for match in _WORD.finditer(sentence):
            word = match.group(1)
            if word.lower() in COLOUR_WORDS:
                if pending is not None:
                    out.append(f"{pending!r} names no node state")
                pending = word
            elif pending is not None:
                state = STATE_WORDS[word.lower()]
                if STATE_COLOURS[state] != COLOUR_WORDS[pending.lower()]:
                    out.append(f"{pending!r} is {COLOUR_WORDS[pending.lower()]}, {state} is "
                               f"drawn {STATE_COLOURS[state]}")
                pending = None
        if pending is not None:
            out.append(f"{pending!r} names no node state")
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_colour_words_name_the_colours_the_network_draws(name: str) -> None:
    problems = [f"{s.title}: {p}" for s in load_tour(name) for p in colour_problems(s.body)]
    assert not problems, "\n".join(problems)


def test_the_colour_words_cover_every_state_colour() -> None:
    assert set(STATE_COLOURS.values()) <= set(COLOUR_WORDS.values())


# ---------------------------------------------------------------- the picture and the summary
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_network_draws_defaulted_exactly_what_the_summary_counts(name: str) -> None:
    """A node drawn ``defaulted`` is an institution in the run's ``defaulted`` list (from the
    step of its default event on); a spent fund is drawn ``drained``, never ``defaulted``.
    A peg whose stablecoin is broken and a bridge whose claims are under-backed are the
    ``defaulted`` nodes outside the list."""
    run = first_run(name)
    ns, ev = run.node_states, run.events
    ns = ns[~ns["kind"].isin(["trader", "cohort", "peg", "bridge"])]
    down = ns[ns["state"] == "defaulted"]
    assert set(down["node"]) == set(run.summary["defaulted"])
    first_down = down.groupby("node")["step"].min()
    defaults = ev[ev["kind"] == "default"].groupby("venue")["step"].min()
    assert first_down.to_dict() == defaults.reindex(first_down.index).to_dict()
    funds = ns[ns["kind"] == "fund"]
    assert "defaulted" not in set(funds["state"])
    drained = funds[funds["state"] == "drained"].groupby("node")["step"].min()
    exhausted = ev[ev["kind"] == "fund_exhausted"].groupby("agent")["step"].min()
    assert set(drained.index) == set(run.summary["funds_exhausted"])
    assert drained.to_dict() == exhausted.reindex(drained.index).to_dict()
