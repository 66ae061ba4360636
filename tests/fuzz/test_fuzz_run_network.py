"""Generated bad input for ``contagion run``, ``contagion network`` and ``contagion scenarios
show --set`` (issue 11): every case is refused before any work starts, with exit 1 or 2, no
traceback, a message naming the input, and no file added, changed or removed.

Categories: ``--set`` values drawn from the default scenario's own parameters (its preset
parameters and every dotted field: wrong types, NaN, infinities, negatives, out-of-range
values, subnormal 5e-324 and huge 1e308 where the range excludes them, empty strings, lists
and tables given one value, unknown dotted keys), shocks that start after the run ends, bad
``--out`` destinations, malformed network and world files, bad ``--shock`` strings and bad
``--positions`` files.

Nothing here may reach the engine: ``simulate`` and ``stress_network`` are replaced by a
function that raises, so a case that is not refused fails at once (and fast) instead of
running a simulation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_harness import assert_refused

from contagion.constraints import Bool, Int, OneOf, Real
from contagion.scenario import _label
from models import get_scenario, scenario_parameters

DEFAULT = get_scenario("default")
#: a small valid run: each case adds one bad input to it
SMALL = ["--set", "n_traders=50", "--steps", "2"]


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case that reaches the engine was not refused before the work started."""
    import contagion.runner
    import contagion.stress

    def reached(*args: object, **kwargs: object) -> None:
        raise AssertionError("not refused: the input reached the engine")

    monkeypatch.setattr(contagion.runner, "simulate", reached)
    monkeypatch.setattr(contagion.stress, "stress_network", reached)


def _pick(values: list[str], key: str, k: int = 2) -> list[str]:
    """``k`` of ``values``, chosen by a stable hash of ``key`` (deterministic, spread)."""
    if len(values) <= k:
        return values
    start = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(values)
    return [values[(start + i) % len(values)] for i in range(k)]


# ----------------------------------------------------------------------------- --set values
#: optional text fields that name another part of the scenario: a name it lacks is refused
_REFERENCES = ("token", "insurance_fund", "supply_to", "pool", "oracle", "issuer", "underlying",
               "lending", "asset", "base", "stable", "reserve_asset", "token_oracle", "venue",
               "lender", "borrower", "numeraire", "stable_pool", "token_pool")


def _bad_numbers(c: Real | Int | None, integer: bool) -> list[str]:
    bad = ["abc", "nan", "", "true" if not integer else "1.5"]
    if integer:
        bad += ["5e-324", "1e308", "inf", "-inf"]
    if c is None:
        return bad
    low, high = c.low, c.high
    if low is not None:
        bad.append(str(low) if getattr(c, "low_open", False) else repr(low - 1))
        if not integer and low >= 0 and not getattr(c, "low_open", False):
            bad.append("-5e-324")
        if not integer and low > 0:
            bad.append("5e-324")
        bad.append("-inf")
    if high is not None:
        bad.append(str(high) if getattr(c, "high_open", False)
                   else repr(max(high + 1, high * (1 + 1e-9))))  # 1e18 + 1 == 1e18
        bad.append("1e308")
    if not integer and not getattr(c, "allow_inf", False):
        bad.append("inf")
    return bad


def _leaves(obj: Any, prefix: str) -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, current value, constraint) of every field below ``obj``."""
    hints = typing.get_type_hints(type(obj), include_extras=True)
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}.{f.name}" if prefix else f.name
        meta = getattr(hints[f.name], "__metadata__", ())
        if dataclasses.is_dataclass(value):
            yield path, value, None
            yield from _leaves(value, path)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            yield path, value, None
            for x in value:
                label = _label(x)
                if label is not None:
                    yield from _leaves(x, f"{path}.{label}")
        else:
            yield path, value, meta[0] if meta else None


def _set_cases() -> list[Any]:
    cases: list[Any] = []
    for path, value, c in _leaves(DEFAULT, ""):
        leaf = path.rsplit(".", 1)[-1]
        if isinstance(value, tuple) or dataclasses.is_dataclass(value):
            bad = ["5", "x"]
        elif isinstance(value, bool) or isinstance(c, Bool):
            bad = ["maybe", "2", "", "nan"]
        elif isinstance(value, int):
            bad = _bad_numbers(c if isinstance(c, Int) else None, integer=True)
        elif isinstance(value, float):
            bad = _bad_numbers(c if isinstance(c, Real) else None, integer=False)
        elif isinstance(c, OneOf):
            bad = ["nonsense", ""]
        elif leaf in _REFERENCES:
            bad = ["NoSuchThing"]
        else:
            continue  # free text and names: renaming is allowed
        for v in _pick(bad, path):
            cases.append(pytest.param(path, v, id=f"{path}={v}"))
    return cases


SET_CASES = _set_cases()


@pytest.mark.parametrize(("key", "value"), SET_CASES)
def test_bad_dotted_set_values_are_refused(tmp_path: Path, key: str, value: str) -> None:
    leaf = key.rsplit(".", 1)[-1]
    # alternate the two commands that take --set (stable: by the case's hash)
    if int(hashlib.sha256(f"{key}={value}".encode()).hexdigest(), 16) % 2:
        argv = ["run", *SMALL, "--set", f"{key}={value}", "--out", "out"]
    else:
        argv = ["scenarios", "show", "default", "--set", f"{key}={value}"]
    assert_refused(argv, cwd=tmp_path, names=[leaf])


def _preset_cases() -> list[Any]:
    cases = []
    for name in ("default", "ftx", "mango", "classic_gai_kapadia"):
        for key, default in scenario_parameters(name).items():
            if isinstance(default, bool):
                bad = ["maybe", "", "2"]
            elif isinstance(default, int):
                bad = ["abc", "1.5", "nan", "inf", "", "5e-324", "1e308"]
            elif isinstance(default, float):
                bad = ["abc", "nan", "", "true"]
            else:
                bad = ["", "no such choice"]
            for v in _pick(bad, f"{name}.{key}", k=3):
                cases.append(pytest.param(name, key, v, id=f"{name}:{key}={v}"))
    return cases


@pytest.mark.parametrize(("scenario", "key", "value"), _preset_cases())
def test_bad_preset_parameters_are_refused(tmp_path: Path, scenario: str, key: str,
                                           value: str) -> None:
    assert_refused(["run", scenario, "--set", f"{key}={value}", "--out", "out"], cwd=tmp_path,
                   names=[key])


UNKNOWN_KEYS = [
    ("foo.bar", "foo"), ("lending.NoVenue.reserve_usd", "NoVenue"),
    ("lending.LendA.no_such_field", "no_such_field"), ("market.nope", "nope"),
    ("traders.n_traders.extra", "n_traders"), ("paths.ETH.shock_frac.x", "shock_frac"),
    ("lending.LendA.collateral.ETH.nope", "nope"), ("lending.LendA.collateral.ZZZ.ltv", "ZZZ"),
    ("perps.NoPerp.shortfall_policy", "NoPerp"), ("a..b", "a..b"), (".", "."),
    ("lending.LendA", "LendA"), ("paths.ETH", "ETH"), ("no_such_knob", "no_such_knob"),
    ("credit_links.A->B.amount_usd", "A->B"), ("custodial.CEX.asset_holdings_usd.ETH", "ETH"),
    ("", "--set"), ("market", "market"),
]


@pytest.mark.parametrize(("key", "name"), UNKNOWN_KEYS, ids=[k or "empty" for k, _ in UNKNOWN_KEYS])
@pytest.mark.parametrize("command", ["run", "show"])
def test_unknown_keys_are_refused_naming_them(tmp_path: Path, key: str, name: str,
                                              command: str) -> None:
    argv = (["run", *SMALL, "--set", f"{key}=1", "--out", "out"] if command == "run"
            else ["scenarios", "show", "default", "--set", f"{key}=1"])
    assert_refused(argv, cwd=tmp_path, names=[name])


@pytest.mark.parametrize("item", ["noequals", "=5", " = ", "n_traders"])
def test_set_items_without_a_key_are_refused(tmp_path: Path, item: str) -> None:
    assert_refused(["run", "--set", item], cwd=tmp_path, names=["--set"])


# ------------------------------------------------------------- shocks after the horizon
def _late_shock_cases() -> list[Any]:
    cases = [
        pytest.param(["run", "--set", "shock_start_step=144"], "shock_start_step", id="at-end"),
        pytest.param(["run", "--set", "shock_start_step=100000"], "shock_start_step", id="far"),
        pytest.param(["run", "--set", "shock_start_step=100", "--steps", "50"],
                     "shock_start_step", id="steps-shortens"),
        pytest.param(["run", "--set", "paths.ETH.shock_start_step=60", "--steps", "60"],
                     "shock_start_step", id="dotted-steps"),
        pytest.param(["run", "--set", "steps=10"], "shock_start_step", id="preset-steps"),
        pytest.param(["run", "--set", "market.steps=12"], "shock_start_step", id="market-steps"),
        pytest.param(["run", "black_thursday", "--set", "gas_spike_start_step=144"],
                     "gas_spike_start_step", id="gas-spike"),
        pytest.param(["run", "classic_debtrank", "--set", "writedown_step=10"], "writedown_step",
                     id="writedown"),
        pytest.param(["run", "classic_eisenberg_noe", "--set", "writedown_step=20", "--steps",
                      "15"], "writedown_step", id="writedown-preset-horizon"),
        pytest.param(["run", "ftx", "--set", "manipulations.FTT/USDC.start_step=144"],
                     "start_step", id="manipulation"),
        pytest.param(["run", "mango", "--set", "exploits.Mango.start_step=72"], "start_step",
                     id="exploit"),
        pytest.param(["run", "october_2025", "--set",
                      "liquidity_shocks.depth-collapse.start_step=100", "--steps", "90"],
                     "start_step", id="depth-collapse"),
    ]
    return cases


@pytest.mark.parametrize(("argv", "name"), _late_shock_cases())
def test_a_shock_after_the_run_ends_is_refused(tmp_path: Path, argv: list[str], name: str) -> None:
    assert_refused([*argv, "--out", "out"], cwd=tmp_path, names=[name, "allowed", "<= x <="])


# ------------------------------------------------------------------------ --out destinations
def _destinations(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "summary.json").write_text("{}")
    (tmp_path / "mixed" / "thesis.tex").write_text("keep me too")
    (tmp_path / "prev").mkdir()
    (tmp_path / "prev" / "summary.json").write_text("{}")
    return {
        "dot": ".", "dotdot": "..", "root": "/", "empty": "", "dot-slash": "./",
        "cwd-abs": str(tmp_path), "parent-abs": str(tmp_path.parent), "sub-dotdot": "mine/..",
        "file": "afile", "through-file": "afile/run", "deep-through-file": "afile/a/b/c",
        "user-dir": "mine", "mixed-dir": "mixed", "prev-run-no-force": "prev",
        "proc": "/proc/contagion-run", "sys": "/sys/contagion-run", "dev-full": "/dev/full",
        "dev-null": "/dev/null", "proc-self": "/proc/self/run",
    }


_RUN_DESTS = ["dot", "dotdot", "root", "empty", "dot-slash", "cwd-abs", "parent-abs",
              "sub-dotdot", "file", "through-file", "deep-through-file", "user-dir", "mixed-dir",
              "prev-run-no-force", "proc", "sys", "dev-full", "dev-null", "proc-self"]


@pytest.mark.parametrize(("dest", "force"), [
    *((d, False) for d in _RUN_DESTS),
    *((d, True) for d in _RUN_DESTS if d != "prev-run-no-force"),  # what --force replaces
])
def test_bad_run_destinations_are_refused_before_running(tmp_path: Path, dest: str,
                                                         force: bool) -> None:
    out = _destinations(tmp_path)[dest]
    argv = ["run", *SMALL, "--out", out, *(["--force"] if force else [])]
    assert_refused(argv, cwd=tmp_path, names=["--out"])


@pytest.mark.parametrize("dest", ["dot", "dotdot", "root", "empty", "cwd-abs", "user-dir",
                                  "file", "through-file", "proc", "dev-null-dir", "missing-dir"])
def test_bad_network_destinations_are_refused(tmp_path: Path, dest: str) -> None:
    dests = {**_destinations(tmp_path), "dev-null-dir": "/dev/null/t.csv",
             "missing-dir": "nodir/t.csv"}
    net = tmp_path / "net.json"
    net.write_text(json.dumps(_network()))
    assert_refused(["network", str(net), "--shock", "A=0.5", "--out", dests[dest]],
                   cwd=tmp_path, names=["--out"])


# ------------------------------------------------------------------------ network files
def _network(nodes: list[Any] | None = None, edges: list[Any] | None = None) -> dict[str, Any]:
    a = {"id": "A", "kind": "custodial", "external_assets_usd": 100.0,
         "external_liabilities_usd": 50.0}
    b = {"id": "B", "kind": "firm", "external_assets_usd": 80.0}
    return {"directed": True, "multigraph": True, "graph": {},
            "nodes": [a, b] if nodes is None else nodes,
            "edges": [{"source": "A", "target": "B", "type": "credit", "weight": 30.0}]
            if edges is None else edges}


_A = {"id": "A", "kind": "custodial", "external_assets_usd": 100.0}
_B = {"id": "B", "kind": "firm", "external_assets_usd": 80.0}
_E = {"source": "A", "target": "B", "type": "credit", "weight": 30.0}

#: file name -> (bytes, names the message must contain besides the file name)
NETWORK_FILES: dict[str, tuple[bytes, list[str]]] = {
    "int-ids.json": (json.dumps(_network(
        [{"id": 1, "kind": "custodial", "external_assets_usd": 1.0},
         {"id": 2, "kind": "firm", "external_assets_usd": 1.0}],
        [{"source": 1, "target": 2, "type": "credit", "weight": 1.0}])).encode(), ["1"]),
    "float-id.json": (json.dumps(_network([{**_A, "id": 1.5}, _B], [])).encode(), ["1.5"]),
    "null-id.json": (json.dumps(_network([{**_A, "id": None}, _B], [])).encode(), ["None"]),
    "empty-id.json": (json.dumps(_network([{**_A, "id": ""}, _B], [])).encode(), ["id"]),
    "list-id.json": (json.dumps(_network([{**_A, "id": ["A"]}, _B], [])).encode(), ["['A']"]),
    "text-assets.json": (json.dumps(_network([_A, {**_B, "external_assets_usd": "lots"}])).encode(),
                         ["B", "external_assets_usd"]),
    "text-liabs.json": (json.dumps(_network([{**_A, "external_liabilities_usd": "1e6 USD"},
                                             _B])).encode(), ["A", "external_liabilities_usd"]),
    "bool-assets.json": (json.dumps(_network([_A, {**_B, "external_assets_usd": True}])).encode(),
                         ["B", "external_assets_usd"]),
    "negative-assets.json": (json.dumps(_network([_A, {**_B, "external_assets_usd": -1.0}]))
                             .encode(), ["B", "external_assets_usd"]),
    "nan-assets.json": (json.dumps(_network([_A, {**_B, "external_assets_usd": float("nan")}]))
                        .encode(), ["B", "external_assets_usd"]),
    "inf-liabs.json": (json.dumps(_network([{**_A, "external_liabilities_usd": float("inf")},
                                            _B])).encode(), ["A", "external_liabilities_usd"]),
    "text-weight.json": (json.dumps(_network(edges=[{**_E, "weight": "heavy"}])).encode(),
                         ["'A' -> 'B'", "weight"]),
    "bool-weight.json": (json.dumps(_network(edges=[{**_E, "weight": True}])).encode(),
                         ["weight"]),
    "nan-weight.json": (json.dumps(_network(edges=[{**_E, "weight": float("nan")}])).encode(),
                        ["weight"]),
    "no-weight.json": (json.dumps(_network(edges=[{k: v for k, v in _E.items()
                                                   if k != "weight"}])).encode(), ["weight"]),
    "bad-type.json": (json.dumps(_network(edges=[{**_E, "type": "friendship"}])).encode(),
                      ["friendship"]),
    "self-loop.json": (json.dumps(_network(edges=[_E, {**_E, "target": "A"}])).encode(),
                       ["'A' -> 'A'", "self-loop"]),
    "duplicate-id.json": (json.dumps(_network([_A, _B, {**_A, "external_assets_usd": 7.0}]))
                          .encode(), ["'A'", "twice"]),
    "dangling-edge.json": (json.dumps(_network(edges=[{**_E, "target": "Z"}])).encode(), ["Z"]),
    "no-kind.json": (json.dumps(_network([{"id": "A"}, _B], [])).encode(), ["'A'", "kind"]),
    "number-kind.json": (json.dumps(_network([{**_A, "kind": 3}, _B], [])).encode(), ["kind"]),
    "empty.json": (b"", ["JSON"]),
    "whitespace.json": (b"  \n ", ["JSON"]),
    "non-utf8.json": (b"\xff\xfe\x00{garbage", ["UTF-8"]),
    "latin1.json": ('{"nodes": [{"id": "Caf\xe9"}]}'.encode("latin-1"), ["UTF-8"]),
    "truncated.json": (json.dumps(_network()).encode()[:-7], ["JSON"]),
    "list.json": (b"[1, 2, 3]", ["node-link"]),
    "string.json": (b'"a graph"', ["node-link"]),
    "nodes-not-list.json": (b'{"nodes": 5, "edges": []}', ["node-link"]),
    "edges-not-list.json": (b'{"nodes": [], "edges": {"a": 1}}', ["edges"]),
    "node-not-object.json": (b'{"nodes": ["A"], "edges": []}', ["nodes[0]"]),
    "edge-not-object.json": (json.dumps(_network(edges=["A->B"])).encode(), ["edges[0]"]),
    "no-institutions.json": (json.dumps(_network([{"id": "O", "kind": "oracle"}], [])).encode(),
                             ["institutions"]),
    "empty.graphml": (b"", ["empty.graphml"]),
    "garbage.graphml": (b"<graphml><node id='x'>", ["garbage.graphml"]),
    "not-xml.graphml": (b"\x00\x01binary", ["not-xml.graphml"]),
    "duplicate.graphml": (b"""<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="d0" for="node" attr.name="kind" attr.type="string"/>
<graph edgedefault="directed"><node id="A"><data key="d0">firm</data></node>
<node id="A"><data key="d0">custodial</data></node></graph></graphml>""", ["'A'", "twice"]),
    "text-double.graphml": (b"""<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="d0" for="node" attr.name="kind" attr.type="string"/>
<key id="d1" for="node" attr.name="external_assets_usd" attr.type="double"/>
<graph edgedefault="directed"><node id="A"><data key="d0">firm</data>
<data key="d1">lots</data></node></graph></graphml>""", ["lots"]),
    "text-string-attr.graphml": (b"""<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="d0" for="node" attr.name="kind" attr.type="string"/>
<key id="d1" for="node" attr.name="external_assets_usd" attr.type="string"/>
<graph edgedefault="directed"><node id="A"><data key="d0">firm</data>
<data key="d1">lots</data></node></graph></graphml>""", ["'A'", "external_assets_usd"]),
    "self-loop.graphml": (b"""<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="d0" for="node" attr.name="kind" attr.type="string"/>
<key id="d1" for="edge" attr.name="type" attr.type="string"/>
<key id="d2" for="edge" attr.name="weight" attr.type="double"/>
<graph edgedefault="directed"><node id="A"><data key="d0">firm</data></node>
<edge source="A" target="A" id="credit"><data key="d1">credit</data><data key="d2">1</data>
</edge></graph></graphml>""", ["'A' -> 'A'", "self-loop"]),
    "wrong-suffix.txt": (json.dumps(_network()).encode(), [".json"]),
}

#: files a world graph reads the same way (the model checks the rest against its scenario)
WORLD_FILES = ["int-ids.json", "float-id.json", "null-id.json", "list-id.json", "self-loop.json",
               "duplicate-id.json", "dangling-edge.json", "no-kind.json", "empty.json",
               "non-utf8.json", "truncated.json", "list.json", "nodes-not-list.json",
               "edge-not-object.json", "empty.graphml", "garbage.graphml", "duplicate.graphml",
               "self-loop.graphml", "wrong-suffix.txt"]


def _plant(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(NETWORK_FILES[name][0])
    return path


@pytest.mark.parametrize("name", list(NETWORK_FILES))
@pytest.mark.parametrize("command", ["network", "run-network"])
def test_malformed_network_files_are_refused_naming_the_file(tmp_path: Path, name: str,
                                                             command: str) -> None:
    path = _plant(tmp_path, name)
    argv = (["network", name, "--shock", "A=0.5"] if command == "network"
            else ["run", "--network", name, "--shock", "A=0.5", "--out", "out"])
    names = [name] + NETWORK_FILES[name][1] if name.endswith(".json") else NETWORK_FILES[name][1]
    assert_refused(argv, cwd=tmp_path, names=[*dict.fromkeys([path.name, *names])])


@pytest.mark.parametrize("name", WORLD_FILES)
def test_malformed_world_files_are_refused_naming_the_file(tmp_path: Path, name: str) -> None:
    _plant(tmp_path, name)
    assert_refused(["run", "default", *SMALL, "--world", name, "--out", "out"], cwd=tmp_path,
                   names=[name])


@pytest.mark.parametrize("missing", ["nope.json", "nope.graphml", "dir.json"])
@pytest.mark.parametrize("command", ["network", "run-network", "world"])
def test_missing_network_files_are_refused(tmp_path: Path, missing: str, command: str) -> None:
    (tmp_path / "dir.json").mkdir()
    argv = {"network": ["network", missing, "--shock", "A=0.5"],
            "run-network": ["run", "--network", missing, "--shock", "A=0.5", "--out", "out"],
            "world": ["run", *SMALL, "--world", missing, "--out", "out"]}[command]
    assert_refused(argv, cwd=tmp_path, names=[missing])


# ------------------------------------------------------------------------ --shock strings
BAD_SHOCKS = [("A", "--shock"), ("=0.5", "--shock"), ("A=", "A"), ("A=abc", "abc"),
              ("A=nan", "A"), ("A=-0.1", "A"), ("A=1.5", "A"), ("A=inf", "A"), ("A=1e308", "A"),
              ("Z=0.5", "Z"), ("", "--shock"), ("A=0.5=0.5", "A=0.5"), ("a=0.5", "a"),
              (" A =0.5", "A")]


@pytest.mark.parametrize(("shock", "name"), BAD_SHOCKS, ids=[s or "empty" for s, _ in BAD_SHOCKS])
@pytest.mark.parametrize("command", ["network", "run-network"])
def test_bad_shocks_are_refused(tmp_path: Path, shock: str, name: str, command: str) -> None:
    (tmp_path / "net.json").write_text(json.dumps(_network()))
    argv = (["network", "net.json", "--shock", shock] if command == "network"
            else ["run", "--network", "net.json", "--shock", shock, "--out", "out"])
    assert_refused(argv, cwd=tmp_path, names=[name])


@pytest.mark.parametrize("argv", [
    ["run", "--shock", "A=0.5"],
    ["run", "--network", "net.json", "--shock", "A=0"],
    ["run", "--network", "net.json"],
    ["run", "default", "--network", "net.json", "--shock", "A=0.5"],
    ["run", "--network", "net.json", "--shock", "A=0.5", "--set", "n_traders=5"],
], ids=["no-network", "zero-shock", "no-shock", "scenario-and-network", "undotted-set"])
def test_shock_and_network_misuse_is_refused(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "net.json").write_text(json.dumps(_network()))
    assert_refused([*argv, "--out", "out"], cwd=tmp_path)


# ------------------------------------------------------------------------ --positions files
_HEADER = "account,venue,kind,asset,amount,entry_price\n"
POSITIONS: dict[str, tuple[bytes, list[str]]] = {
    "empty.csv": (b"", []),
    "header-only-bad.csv": (b"who,what\n1,2\n", []),
    "non-utf8.csv": (b"\xff\xfeaccount\n\x00\x01", []),
    "text-amount.csv": ((_HEADER + "0,LendA,collateral,ETH,lots,\n").encode(), ["amount"]),
    "negative-amount.csv": ((_HEADER + "0,LendA,collateral,ETH,-5,\n").encode(), ["amount"]),
    "nan-amount.csv": ((_HEADER + "0,LendA,collateral,ETH,nan,\n").encode(), ["amount"]),
    "unknown-venue.csv": ((_HEADER + "0,NoVenue,collateral,ETH,1,\n").encode(), ["NoVenue"]),
    "unknown-asset.csv": ((_HEADER + "0,LendA,collateral,ZZZ,1,\n").encode(), ["ZZZ"]),
    "unknown-kind.csv": ((_HEADER + "0,LendA,gift,ETH,1,\n").encode(), ["gift"]),
    "account-range.csv": ((_HEADER + "999999,LendA,collateral,ETH,1,\n").encode(), ["account"]),
    "text-account.csv": ((_HEADER + "alice,LendA,collateral,ETH,1,\n").encode(), ["account"]),
    "garbage.parquet": (b"PAR1 not really parquet", []),
    "positions.txt": ((_HEADER + "0,LendA,collateral,ETH,1,\n").encode(), []),
}


@pytest.mark.parametrize("name", list(POSITIONS))
def test_bad_positions_files_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(POSITIONS[name][0])
    assert_refused(["run", *SMALL, "--positions", name, "--out", "out"], cwd=tmp_path,
                   names=[name, *POSITIONS[name][1]])


def test_a_missing_positions_file_is_refused(tmp_path: Path) -> None:
    assert_refused(["run", *SMALL, "--positions", "nope.csv", "--out", "out"], cwd=tmp_path,
                   names=["nope.csv"])


def test_the_case_count_is_a_few_hundred() -> None:
    assert len(SET_CASES) >= 200
