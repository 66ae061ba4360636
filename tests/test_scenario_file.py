"""Scenario files: every preset round-trips through TOML and JSON to an equal scenario and
byte-identical runs; the shipped files are the presets; bad files are refused before anything
runs, naming the file and the key path; the JSON Schema is valid and describes the files."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest

from contagion.errors import ScenarioFileError
from contagion.runner import simulate
from contagion.scenario_file import dump_json, dumps, json_schema, load, loads, save
from models import SCENARIO_FILES, SCENARIOS, get_scenario, scenario_parameters

jsonschema = pytest.importorskip("jsonschema")


def _small(name: str) -> dict[str, int]:
    return {"n_traders": 300} if "n_traders" in scenario_parameters(name) else {}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_preset_round_trips_to_an_equal_scenario(name: str) -> None:
    sc = get_scenario(name)
    assert loads(dumps(sc)) == sc
    assert loads(dump_json(sc), fmt="json") == sc


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_preset_run_from_its_file_has_byte_identical_events(name: str) -> None:
    sc = get_scenario(name, **_small(name))
    from_file = loads(dumps(sc), source=f"{name}.toml")
    a, b = simulate(sc, seed=3), simulate(from_file, seed=3)
    pa, pb = io.BytesIO(), io.BytesIO()
    a.events.to_parquet(pa, index=False)
    b.events.to_parquet(pb, index=False)
    assert len(a.events) > 0
    assert pa.getvalue() == pb.getvalue()
    assert a.events.to_csv(index=False) == b.events.to_csv(index=False)
    assert a.series.equals(b.series)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_shipped_scenario_files_are_the_presets(name: str) -> None:
    path = SCENARIO_FILES / f"{name}.toml"
    assert path.read_text(encoding="utf-8") == dumps(get_scenario(name)), (
        f"{path} is stale: regenerate it with `contagion scenarios show {name} > {path}`")
    assert get_scenario(str(path)) == get_scenario(name)


def test_every_optional_field_defaults_to_none() -> None:
    """A file says None by leaving a key out, which is only right if None is the default."""
    import dataclasses
    import typing

    from contagion import params
    from contagion.scenario import Scenario

    classes = [getattr(params, n) for n in params.__all__] + [Scenario]
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if type(None) in typing.get_args(hints[f.name]):
                assert f.default is None, f"{cls.__name__}.{f.name}"


def test_file_parameters_and_dotted_overrides(tmp_path: Path) -> None:
    path = save(get_scenario("default"), tmp_path / "mine.toml")
    assert scenario_parameters(str(path)) == {"n_traders": 1000, "steps": 144}
    sc = get_scenario(str(path), n_traders=250, steps=40)
    assert (sc.traders.n_traders, sc.market.steps) == (250, 40)
    from contagion.cli import build_scenario

    sc = build_scenario(str(path), ["n_traders=120", "lending.LendA.close_factor=0.4"])
    assert sc.traders.n_traders == 120 and sc.lending[0].close_factor == 0.4
    with pytest.raises(Exception, match="shock_frac"):
        get_scenario(str(path), shock_frac=0.2)  # presets' own parameters are not a file's


def test_a_file_edited_on_disk_is_read_again(tmp_path: Path) -> None:
    path = save(get_scenario("default"), tmp_path / "mine.toml")
    assert get_scenario(str(path)).traders.n_traders == 1000
    text = path.read_text().replace("n_traders = 1000", "n_traders = 1234\n")
    path.write_text(text)
    assert get_scenario(str(path)).traders.n_traders == 1234


def _default_text() -> str:
    return dumps(get_scenario("default"))


def _set(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BAD_FILES = [
    # (change to the default scenario's text, words the message must contain)
    (lambda t: _set(t, "close_factor = 0.5", "close_factor = 1.5"),
     "parameter 'lending[LendA].close_factor' = 1.5 is invalid: allowed 0 < x <= 1"),
    (lambda t: _set(t, "liquidation_threshold = 0.825", "liquidation_threshold = 1.2"),
     "'lending[LendA].collateral[ETH].liquidation_threshold' = 1.2"),
    (lambda t: _set(t, "close_factor = 0.5", "close_factor = \"half\""),
     "key 'lending[LendA].close_factor' must be a number, got a string ('half')"),
    (lambda t: _set(t, "n_traders = 1000", "n_traders = 1000.5"),
     "key 'traders.n_traders' must be an integer, got a number (1000.5)"),
    (lambda t: _set(t, "cross_margin = true", "cross_margin = 1"),
     "key 'traders.cross_margin' must be true or false"),
    (lambda t: _set(t, "close_factor = 0.5", "close_factr = 0.5"),
     "key 'lending[LendA].close_factr' is not a field of LendingParams; allowed: name,"),
    (lambda t: _set(t, "[market]", "[markets]"), "key 'markets' is not a field of Scenario"),
    (lambda t: _set(t, 'name = "LendA"\n', ""), "key 'lending[0]' is missing required key(s): name"),
    (lambda t: _set(t, 'oracle = "ETH-feed"', 'oracle = "nope"'),
     "'lending[LendA].collateral[ETH].oracle' = 'nope' is invalid: allowed an oracle of 'ETH'"),
    (lambda t: _set(t, "[market]", "[market"), "not valid TOML"),
    (lambda t: _set(t, "[[assets]]", "assets = 3\n[[assets]]"),
     "key 'market.assets' is not a field of MarketParams"),
    (lambda t: _set(t, 'kind = "volatile"', 'kind = "meme"'),
     "'assets[ETH].kind' = 'meme' is invalid"),
    (lambda t: t.replace("[[lending.collateral]]", "collateral = 5\n[[lending.collateral]]", 1),
     "not valid TOML"),
]


@pytest.mark.parametrize(("change", "words"), BAD_FILES)
def test_bad_files_are_refused_naming_the_key(change, words, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = change(_default_text())
    with pytest.raises(ScenarioFileError) as info:
        loads(text, source="mine.toml")
    message = str(info.value)
    assert message.startswith("mine.toml: ")
    assert words in message, message


def test_wrong_shapes_are_refused(tmp_path: Path) -> None:
    data = tomllib.loads(_default_text())
    data["custodial"][0]["asset_holdings_usd"] = [["ETH"]]
    with pytest.raises(ScenarioFileError, match=r"custodial\[CEX\]\.asset_holdings_usd\[0\]' "
                                                r"must be an array of 2 items"):
        loads(json.dumps(data), fmt="json", source="x.json")
    data = tomllib.loads(_default_text())
    data["lending"] = {"name": "LendA"}
    with pytest.raises(ScenarioFileError, match=r"key 'lending' must be an array"):
        loads(json.dumps(data), fmt="json", source="x.json")
    with pytest.raises(ScenarioFileError, match="a scenario must be a table"):
        loads("[1, 2]", fmt="json", source="x.json")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="no such scenario file"):
        load(tmp_path / "nope.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioFileError, match=r"not UTF-8 text \(byte 11\)"):
        load(bad)
    with pytest.raises(ScenarioFileError, match=r"not UTF-8 text"):
        get_scenario(str(bad))
    with pytest.raises(Exception, match=r"a \.toml or \.json file"):
        load(tmp_path / "mine.yaml")


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = save(get_scenario("default"), tmp_path / "mine.toml")
    before = path.read_text()
    import contagion.scenario_file as sf

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(sf.os, "replace", boom)
    with pytest.raises(OSError):
        save(get_scenario("ftx"), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


def test_the_json_schema_is_valid_and_describes_every_shipped_file() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in SCENARIOS:
        data = tomllib.loads((SCENARIO_FILES / f"{name}.toml").read_text())
        assert not list(validator.iter_errors(data)), name
    json.dumps(schema, allow_nan=False)  # strict JSON: no Infinity anywhere
    data = tomllib.loads(_default_text())
    data["lending"][0]["close_factr"] = 0.5
    assert list(validator.iter_errors(data))  # unknown keys are errors for editors too
    data = tomllib.loads(_default_text())
    data["traders"]["n_traders"] = "many"
    assert list(validator.iter_errors(data))
    lending = schema["$defs"]["LendingParams"]
    assert set(lending["required"]) == {"name", "collateral"}
    assert "close_factor" in lending["properties"] and lending["description"]


def test_the_shipped_json_schema_is_current() -> None:
    path = SCENARIO_FILES / "scenario.schema.json"
    assert json.loads(path.read_text()) == json_schema(), (
        f"{path} is stale: regenerate it with `contagion scenarios schema > {path}`")
