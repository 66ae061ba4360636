"""Sweep specs: parsing, validation against the scenario, smoke variants, design points, seeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from contagion.errors import ContagionError
from contagion.sweep import (
    SpecError,
    apply_smoke,
    check_spec,
    derive_seeds,
    design_points,
    load_spec,
    parse_spec,
    plan_runs,
    run_sweep,
    sweep_command,
)

BAD_SPECS = [  # (sweep table, swept table, fixed table or None, expected message)
    ("", "mean_levrage = [2.0, 4.0]", None,
     r"^swept\.mean_levrage: unknown parameter of scenario 'default' \(did you mean 'mean_leverage'"),
    ("", 'cross_margin = [true, "maybe"]', None, r"^swept\.cross_margin: value 'maybe' is not a bool"),
    ("", "n_traders = [150, 200.5]", "steps = 30", r"^swept\.n_traders: value 200\.5 is not an int"),
    ("", 'shock_frac = ["0.2"]', None, r"^swept\.shock_frac: value '0\.2' is not a number"),
    ("", "shock_frac = []", None, r"^swept\.shock_frac: empty range"),
    ('design = "random"\npoints = 4', "shock_frac = { low = 0.5, high = 0.1 }", None,
     r"^swept\.shock_frac: empty range"),
    ('scenario = "nope"', "shock_frac = [0.1]", None, r"^sweep\.scenario: unknown scenario 'nope'"),
    ('design = "sobol"', "shock_frac = [0.1]", None, r"^sweep\.design: unknown design 'sobol'"),
    ('design = "lhs"', "shock_frac = { low = 0.1, high = 0.5 }", None,
     r"^sweep\.points: the lhs design needs points"),
    ("points = 4", "shock_frac = [0.1]", None, r"^sweep\.points: only for the random and lhs"),
    ("replications = 0", "shock_frac = [0.1]", None, r"^sweep\.replications: must be an integer >= 1"),
    ("root_seed = -1", "shock_frac = [0.1]", None, r"^sweep\.root_seed: must be an integer >= 0"),
    ("replicatons = 2", "shock_frac = [0.1]", None, r"^sweep\.replicatons: unknown key"),
    ('design = "paired"', "shock_frac = [0.1, 0.2]\nmean_leverage = [2.0]", None,
     r"^swept\.mean_leverage: a paired design needs lists of equal length"),
    ("", "shock_frac = { low = 0.1, high = 0.5 }", None, r"^swept\.shock_frac: a grid design needs a list"),
    ('design = "random"\npoints = 3', "n_traders = { low = 100, high = 200 }", "steps = 30",
     r"^swept\.n_traders: an integer parameter needs integer = true"),
    ("", "shock_frac = [0.2, 1.5]", None,
     r"^swept\.shock_frac: value 1\.5 at point 1 is rejected: parameter 'shock_frac' = 1\.5"),
    ("", '"lending.LendZ.reserve_usd" = [1.0]', None,
     r"^swept\.lending\.LendZ\.reserve_usd: unknown parameter path: no 'LendZ' in lending"),
    ("", "shock_frac = [0.1]", "n_trader = 150",
     r"^fixed\.n_trader: unknown parameter of scenario 'default'"),
    ("", "shock_frac = [0.1]", "n_traders = 0", r"^fixed\.n_traders: parameter 'n_traders' = 0"),
    ('metrics = ["defaults", "defaultz"]', "shock_frac = [0.1]", None,
     r"^sweep\.metrics: unknown metric 'defaultz'"),
    ("", "seed = [1, 2]", None, r"^swept\.seed: unknown parameter"),
]


@pytest.mark.parametrize(("sweep", "swept", "fixed", "message"), BAD_SPECS)
def test_bad_spec_is_rejected_naming_the_key_and_nothing_is_written(
        write_spec: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        sweep: str, swept: str, fixed: str | None, message: str) -> None:
    kwargs = {} if fixed is None else {"fixed": fixed}
    path = write_spec(sweep=sweep, swept=swept, **kwargs)
    with pytest.raises(SpecError, match=message):
        run_sweep(load_spec(path), backend="serial")
    assert sweep_command(str(path), workers=None, scheduler=None, out=None, resume=False,
                         smoke=False, serial=True) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("contagion: error: ")
    assert not (tmp_path / "out").exists()


def test_spec_error_is_a_contagion_error_and_a_value_error() -> None:
    err = SpecError("swept.x", "empty range")
    assert isinstance(err, ContagionError) and isinstance(err, ValueError)
    assert err.key == "swept.x" and str(err) == "swept.x: empty range"


def test_missing_or_malformed_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^spec: no such file"):
        load_spec(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\nname = 1")
    with pytest.raises(SpecError, match=r"^spec: .* is not valid TOML"):
        load_spec(bad)


def test_non_empty_output_directory_is_refused_without_resume(
        write_spec: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    spec = load_spec(write_spec(swept="shock_frac = [0.1]"))
    with pytest.raises(SpecError, match=r"^sweep\.out: .* is not empty; pass --resume"):
        run_sweep(spec, backend="serial")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]


def test_spec_reads_every_table_and_names_default_to_the_file(write_spec: Callable[..., Path]) -> None:
    path = write_spec(sweep='replications = 3\nmetrics = ["defaults"]',
                      swept="mean_leverage = [2, 8]\ncross_margin = [true, false]",
                      fixed='n_traders = 150\nsteps = 30\n"perps.PerpX.maintenance_margin_frac" = 0.04',
                      name="lev")
    spec = load_spec(path)
    assert (spec.name, spec.scenario, spec.design, spec.replications) == ("lev", "default", "grid", 3)
    assert spec.metrics == ("defaults",)
    assert spec.fixed["perps.PerpX.maintenance_margin_frac"] == 0.04
    checked = check_spec(spec)
    assert checked.swept["mean_leverage"] == (2.0, 8.0)  # ints for a float parameter -> floats
    assert all(isinstance(v, float) for v in checked.swept["mean_leverage"])


def test_smoke_table_shrinks_the_sweep_and_writes_elsewhere(write_spec: Callable[..., Path]) -> None:
    path = write_spec(sweep="replications = 8",
                      swept="mean_leverage = [2.0, 4.0, 6.0, 8.0]\nshock_frac = [0.1, 0.3]",
                      fixed="n_traders = 1000\nsteps = 30",
                      extra="[smoke]\nreplications = 2\nswept.mean_leverage = [2.0, 8.0]\n"
                            "fixed.n_traders = 150\n")
    spec = load_spec(path)
    small = apply_smoke(spec)
    assert small.replications == 2
    assert small.swept == {"mean_leverage": (2.0, 8.0), "shock_frac": (0.1, 0.3)}
    assert small.fixed == {"n_traders": 150, "steps": 30}
    assert str(small.out_dir) == str(spec.out_dir) + "-smoke"
    assert len(design_points(small)) == 4


def test_smoke_cannot_add_a_swept_parameter(write_spec: Callable[..., Path]) -> None:
    path = write_spec(swept="shock_frac = [0.1, 0.3]", extra="[smoke.swept]\nmean_leverage = [2.0]\n")
    with pytest.raises(SpecError, match=r"^smoke\.swept\.mean_leverage: is not swept"):
        load_spec(path)


def test_grid_enumerates_every_combination_first_key_slowest() -> None:
    spec = parse_spec({"sweep": {"name": "g", "root_seed": 1},
                       "swept": {"a": [1, 2, 3], "b": ["x", "y"]}})
    points = design_points(spec)
    assert [(p["a"], p["b"]) for p in points] == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]


def test_paired_design_takes_the_ith_value_of_every_list() -> None:
    spec = parse_spec({"sweep": {"name": "p", "root_seed": 1, "design": "paired"},
                       "swept": {"a": [1, 2, 3], "b": [10, 20, 30]}})
    assert design_points(spec) == [{"a": 1, "b": 10}, {"a": 2, "b": 20}, {"a": 3, "b": 30}]


def test_lhs_puts_one_point_in_each_stratum_of_every_dimension() -> None:
    spec = parse_spec({"sweep": {"name": "l", "root_seed": 5, "design": "lhs", "points": 10},
                       "swept": {"x": {"low": 0.0, "high": 10.0},
                                 "n": {"low": 1, "high": 10, "integer": True},
                                 "c": {"low": 1e3, "high": 1e5, "log": True}}})
    points = design_points(spec)
    assert sorted(int(p["x"]) for p in points) == list(range(10))
    assert sorted(p["n"] for p in points) == list(range(1, 11))
    logs = np.log10([p["c"] for p in points])
    assert sorted(np.floor((logs - 3) / 0.2).astype(int).tolist()) == list(range(10))
    assert design_points(spec) == points  # reproducible from the root seed


def test_random_design_is_reproducible_within_bounds_and_samples_choices() -> None:
    raw = {"sweep": {"name": "r", "root_seed": 3, "design": "random", "points": 50},
           "swept": {"x": {"low": 0.2, "high": 0.4}, "flag": [True, False]}}
    points = design_points(parse_spec(raw))
    assert len(points) == 50 and all(0.2 <= p["x"] < 0.4 for p in points)
    assert {p["flag"] for p in points} == {True, False}
    assert design_points(parse_spec(raw)) == points
    raw["sweep"]["root_seed"] = 4
    assert design_points(parse_spec(raw)) != points


def test_seeds_come_from_seedsequence_spawn_in_run_order() -> None:
    root = 20261124
    children = np.random.SeedSequence(root).spawn(6)
    expected = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
    runs = plan_runs(3, 2, root)
    assert [r.seed for r in runs] == expected == derive_seeds(root, 6)
    assert [(r.point, r.replication) for r in runs] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [r.run_id for r in runs][:2] == ["p00000-r000", "p00000-r001"]
    assert len({r.run_id for r in runs}) == 6


def test_the_documented_spec_example_parses_and_checks() -> None:
    import textwrap
    import tomllib

    import contagion.sweep

    doc = contagion.sweep.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n``grid``", 1)[0]
    data = tomllib.loads(textwrap.dedent(block))
    spec = check_spec(parse_spec(data))
    assert spec.name == "leverage_shock" and spec.replications == 8
    assert len(design_points(spec)) == 20
    small = check_spec(apply_smoke(spec))
    assert small.fixed["n_traders"] == 150 and len(design_points(small)) == 10
