"""Generated bad inputs of ``contagion sweep`` and ``contagion report`` (issue 11).

Every case must be refused before any run starts: exit 2 (bad input) or 1 (a fault), no
traceback, a message on stderr naming the input, and nothing added, changed or removed
under the working directory (nor in a results folder being resumed or reported on).

The cases are deterministic tables: spec files of every shape (bytes that are not UTF-8,
TOML syntax errors, unknown keys, wrong types of every ``[sweep]`` field, bad values for
each kind of parameter, designs too big to plan, names that would escape the results
folder, output folders that must not be used), damaged manifests on ``--resume``, scheduler
addresses and worker counts, and results folders that are not a sweep's.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest
from fuzz_harness import assert_refused

from contagion.sweep import parse_spec, run_sweep

Case = tuple[str, Any, list[str]]

SWEEP_HEAD = (
    'name = "fz"\nroot_seed = 7\nreplications = 1\nout = "res"\n'
    'metrics = ["defaults", "bad_debt_usd", "cross_venue", "insolvent_debt_usd", '
    '"liquidation_volume_usd"]\n'
)
FIXED = "n_traders = 150\nsteps = 20\n"
SWEPT = "shock_frac = [0.1, 0.4]\n"


def spec_text(*, sweep: str = SWEEP_HEAD, fixed: str = FIXED, swept: str = SWEPT, extra: str = "") -> str:
    return f"[sweep]\n{sweep}\n[fixed]\n{fixed}\n[swept]\n{swept}\n{extra}\n"


def head(**changes: str | None) -> str:
    """The [sweep] table with some keys replaced (a TOML value) or removed (None)."""
    keys = {"name": '"fz"', "root_seed": "7", "replications": "1", "out": '"out"'}
    for k, v in changes.items():
        if v is None:
            keys.pop(k, None)
        else:
            keys[k] = v
    return "".join(f"{k} = {v}\n" for k, v in keys.items())


# --------------------------------------------------------------------------- spec files
RAW_FILES: list[tuple[str, bytes, list[str]]] = [
    ("latin-1 byte", '[sweep]\nname = "café"\nroot_seed = 1\n'.encode("latin-1"), ["spec", "UTF-8"]),
    ("0xff start", b"\xff\xfe[sweep]\n", ["spec", "UTF-8"]),
    ("utf-16", "[sweep]\nroot_seed = 1\n".encode("utf-16"), ["spec", "UTF-8"]),
    ("lone continuation byte", b"[sweep]\nroot_seed = 1\n# \x80\n", ["spec", "UTF-8"]),
    ("binary junk", bytes(range(256)) * 4, ["spec"]),
    ("empty", b"", ["spec", "empty"]),
    ("only whitespace", b"  \n\n\t\n", ["spec", "empty"]),
    ("only comments", b"# a spec\n# nothing here\n", ["spec", "empty"]),
    ("unclosed table", b"[sweep\nname = 1\n", ["spec", "TOML"]),
    ("value missing", b"[sweep]\nname =\n", ["spec", "TOML"]),
    ("unclosed list", b"[sweep]\nroot_seed = 1\n[swept]\nshock_frac = [0.1,\n", ["spec", "TOML"]),
    ("key missing", b"= 1\n", ["spec", "TOML"]),
    ("table twice", b"[sweep]\nroot_seed = 1\n[sweep]\nname = 'x'\n", ["spec", "TOML"]),
    ("key twice", b"[sweep]\nroot_seed = 1\nroot_seed = 2\n", ["spec", "TOML"]),
    ("unterminated string", b'[sweep]\nname = "fz\nroot_seed = 1\n', ["spec", "TOML"]),
    ("bad escape", b'[sweep]\nname = "a\\qb"\nroot_seed = 1\n', ["spec", "TOML"]),
    ("json not toml", b'{"sweep": {"root_seed": 1}}', ["spec", "TOML"]),
    ("bare word", b"hello\n", ["spec", "TOML"]),
    ("NUL byte", b"[sweep]\nroot_seed = 1\x00\n", ["spec"]),
    ("no sweep table, only swept", b"[swept]\nshock_frac = [0.1]\n", ["sweep.root_seed"]),
]


@pytest.mark.parametrize(("label", "data", "names"), RAW_FILES, ids=[c[0] for c in RAW_FILES])
def test_spec_file_bytes(tmp_path: Path, label: str, data: bytes, names: list[str]) -> None:
    (tmp_path / "spec.toml").write_bytes(data)
    assert_refused(["sweep", "spec.toml", "--serial"], cwd=tmp_path, names=names)


def test_spec_missing_directory_special_and_huge(tmp_path: Path) -> None:
    assert_refused(["sweep", "absent.toml"], cwd=tmp_path, names=["spec", "absent.toml"])
    (tmp_path / "adir.toml").mkdir()
    assert_refused(["sweep", "adir.toml"], cwd=tmp_path, names=["spec", "adir.toml", "directory"])
    assert_refused(["sweep", "."], cwd=tmp_path, names=["spec", "directory"])
    assert_refused(["sweep", "/dev/null"], cwd=tmp_path, names=["spec", "/dev/null", "regular file"])
    with (tmp_path / "huge.toml").open("wb") as fh:  # sparse: no 20 MB written
        fh.truncate(20_000_000)
    assert_refused(["sweep", "huge.toml"], cwd=tmp_path, names=["spec", "huge.toml"])
    assert_refused(["sweep", ""], cwd=tmp_path, names=["spec", "not a file name"])
    assert_refused(["sweep", "a\x00b.toml"], cwd=tmp_path, names=["spec", "not a file name"])


SCENARIO_FILES: list[tuple[str, Callable[[Path], object]]] = [
    ("a folder", lambda d: (d / "sc.toml").mkdir()),
    ("not UTF-8", lambda d: (d / "sc.toml").write_bytes(b"\xff\xfe")),
    ("not TOML", lambda d: (d / "sc.toml").write_text("[market\n")),
    ("empty", lambda d: (d / "sc.toml").write_text("")),
    ("missing", lambda d: None),
    ("not a scenario", lambda d: (d / "sc.toml").write_text("[sweep]\nroot_seed = 1\n")),
]


@pytest.mark.parametrize(("label", "make"), SCENARIO_FILES, ids=[c[0] for c in SCENARIO_FILES])
def test_bad_scenario_file_of_a_spec(tmp_path: Path, label: str, make: Callable[[Path], object]) -> None:
    make(tmp_path)
    (tmp_path / "spec.toml").write_text(spec_text(sweep=head(scenario='"sc.toml"')))
    assert_refused(["sweep", "spec.toml", "--serial"], cwd=tmp_path, names=["sweep.scenario"], codes=(2,))


# ------------------------------------------------------------------ keys, types, values
SPEC_CASES: list[Case] = [
    # unknown tables and keys
    ("unknown table", spec_text(sweep=head(), extra="[sweeps]\nx = 1\n"), ["sweeps", "unknown key"]),
    ("unknown sweep key", spec_text(sweep=head(nam='"x"')), ["sweep.nam", "unknown key"]),
    ("unknown smoke key", spec_text(sweep=head(), extra="[smoke]\nfoo = 1\n"), ["smoke.foo"]),
    (
        "unknown range key",
        spec_text(sweep=head(design='"random"', points="3"), swept="shock_frac = { lo = 0.1, high = 0.5 }"),
        ["swept.shock_frac.lo"],
    ),
    (
        "unknown parameter",
        spec_text(sweep=head(), swept="mean_levrage = [2.0]"),
        ["swept.mean_levrage", "mean_leverage"],
    ),
    ("unknown fixed parameter", spec_text(sweep=head(), fixed="n_trader = 150"), ["fixed.n_trader"]),
    (
        "unknown dotted venue",
        spec_text(sweep=head(), swept='"lending.LendZ.reserve_usd" = [1.0]'),
        ["swept.lending.LendZ.reserve_usd", "LendZ"],
    ),
    (
        "unknown dotted field",
        spec_text(sweep=head(), swept='"lending.LendA.nope" = [1.0]'),
        ["swept.lending.LendA.nope"],
    ),
    ("dotted group", spec_text(sweep=head(), swept='"lending.LendA" = [1.0]'), ["swept.lending.LendA"]),
    (
        "dotted below a value",
        spec_text(sweep=head(), swept='"market.steps.x" = [1]'),
        ["swept.market.steps.x"],
    ),
    ("swept identity column", spec_text(sweep=head(), swept="seed = [1, 2]"), ["swept.seed"]),
    (
        "fixed and swept",
        spec_text(sweep=head(), fixed="n_traders = 150\nshock_frac = 0.1", swept="shock_frac = [0.2]"),
        ["fixed.shock_frac"],
    ),
    (
        "smoke adds a swept key",
        spec_text(sweep=head(), extra="[smoke]\nswept.mean_leverage = [2.0]\n"),
        ["smoke.swept.mean_leverage"],
    ),
    (
        "smoke fixes a swept key",
        spec_text(sweep=head(), extra="[smoke]\nfixed.shock_frac = 0.2\n"),
        ["smoke.fixed.shock_frac"],
    ),
    ("unknown scenario", spec_text(sweep=head(scenario='"nope"')), ["sweep.scenario", "nope"]),
    ("missing scenario file", spec_text(sweep=head(scenario='"absent.toml"')), ["sweep.scenario"]),
    ("unknown design", spec_text(sweep=head(design='"sobol"')), ["sweep.design", "sobol"]),
    (
        "unknown metric",
        spec_text(sweep=head(metrics='["defaults", "defaultz"]')),
        ["sweep.metrics", "defaultz"],
    ),
    ("root_seed missing", spec_text(sweep=head(root_seed=None)), ["sweep.root_seed"]),
    (
        "lhs without points",
        spec_text(sweep=head(design='"lhs"'), swept="shock_frac = { low = 0.1, high = 0.5 }"),
        ["sweep.points"],
    ),
    ("grid with points", spec_text(sweep=head(points="4")), ["sweep.points"]),
    ("smoke points on a grid", spec_text(sweep=head(), extra="[smoke]\npoints = 2\n"), ["smoke.points"]),
    (
        "paired lengths differ",
        spec_text(sweep=head(design='"paired"'), swept="shock_frac = [0.1, 0.2]\nmean_leverage = [2.0]"),
        ["swept.mean_leverage", "equal length"],
    ),
    ("random without swept", spec_text(sweep=head(design='"random"', points="3"), swept=""), ["swept"]),
]

# wrong types of every [sweep] field
FIELD_VALUES = {
    "name": ["1", '["a"]', "true", '""', '"   "', "{ a = 1 }"],
    "scenario": ["1", '["default"]', "true"],
    "design": ["1", '["grid"]', "true", '"GRID"'],
    "replications": ["0", "-1", '"2"', "1.5", "true", "[1]"],
    "root_seed": ["-1", '"x"', "1.5", "true", "[1]", "-9223372036854775808"],
    "out": ["1", '["a"]', "true"],
    "metrics": ['"defaults"', "[]", "[1]", '["defaults", "defaults"]', '[""]', "true"],
}
for field, values in FIELD_VALUES.items():
    for value in values:
        SPEC_CASES.append(
            (f"sweep.{field} = {value}", spec_text(sweep=head(**{field: value})), [f"sweep.{field}"])
        )
for field, value in (
    ("points", '"3"'),
    ("points", "0"),
    ("points", "-2"),
    ("points", "2.5"),
    ("points", "true"),
):
    SPEC_CASES.append(
        (
            f"sweep.points = {value} (random)",
            spec_text(
                sweep=head(design='"random"', points=value), swept="shock_frac = { low = 0.1, high = 0.5 }"
            ),
            [f"sweep.{field}"],
        )
    )
for table, value in (("fixed", "3"), ("swept", '"x"'), ("smoke", "[1]")):
    tables = {"fixed": FIXED, "swept": SWEPT}
    tables.pop(table, None)
    body = "".join(f"[{t}]\n{b}\n" for t, b in tables.items())
    SPEC_CASES.append((f"{table} is not a table", f"{table} = {value}\n[sweep]\n{head()}\n{body}", [table]))
for table, value in (("smoke.replications", "0"), ("smoke.out", "1"), ("smoke.fixed", "3")):
    key = table.split(".")[1]
    SPEC_CASES.append(
        (f"{table} = {value}", spec_text(sweep=head(), extra=f"[smoke]\n{key} = {value}\n"), [table])
    )

# bad values, per kind of parameter (names: the key)
AXIS_VALUES: dict[str, list[str]] = {
    # int parameters
    "n_traders": ["[150, 1.5]", '["150"]', "[true]", "[0]", "[-1]", "[100000000000]"],
    "steps": ["[0]", "[2.5]", '["ten"]', "[1000001]"],
    "oracle_delay_steps": ["[-1]", "[10001]", "[0.5]"],
    "liquidator_max_per_step": ["[-5]", "[false]"],
    # float parameters
    "shock_frac": ["[0.2, 1.5]", "[1.0]", "[-0.1]", '["0.2"]', "[true]", "[nan]", "[inf]"],
    "mean_leverage": ["[0.5]", "[11.0]", "[-inf]", '["high"]'],
    "amm_depth_scale": ["[0.0]", "[-1.0]", "[1e7]"],
    "insurance_fund_scale": ["[-0.5]", "[nan]"],
    "liquidator_capital_usd": ["[-1.0]", "[nan]"],
    # bools
    "cross_margin": ['[true, "maybe"]', "[1]", "[0.5]"],
    "solvency_proofs": ['["yes"]', "[0]"],
    # choices
    "shortfall_policy": ['["nope"]', "[1]", "[true]", '[""]'],
    # dotted paths to fields of the scenario
    '"lending.LendA.reserve_usd"': ['["x"]', "[true]", "[-1.0]"],
    '"market.steps"': ["[0]", "[1.5]"],
    '"perps.PerpX.shortfall_policy"': ['["nope"]', "[3]"],
    # shapes of an axis
    "twap_window_steps": [
        "[]",
        "[[1, 2]]",
        "[{ a = 1 }]",
        "[3, 3]",
        "3",
        '"3"',
        "{ low = 1, high = 5, integer = true }",
    ],
}
for key, values in AXIS_VALUES.items():
    bare = key.strip('"')
    for value in values:
        fixed = (
            FIXED
            if bare not in ("n_traders", "steps", "market.steps")
            else ("steps = 20" if bare == "n_traders" else "n_traders = 150")
        )
        SPEC_CASES.append(
            (
                f"swept {bare} = {value}",
                spec_text(sweep=head(), fixed=fixed, swept=f"{key} = {value}"),
                [f"swept.{bare}"],
            )
        )
        if value.startswith("[") and not value.startswith("[[") and "," not in value and value != "[]":
            scalar = value[1:-1]
            if scalar.startswith("{"):
                continue
            fixed_line = f"{key} = {scalar}"
            base = "" if bare in ("n_traders", "steps", "market.steps") else FIXED
            other = {
                "n_traders": "steps = 20",
                "steps": "n_traders = 150",
                "market.steps": "n_traders = 150",
            }.get(bare, "")
            SPEC_CASES.append(
                (
                    f"fixed {bare} = {scalar}",
                    spec_text(
                        sweep=head(), fixed=f"{base}{other}\n{fixed_line}", swept="mean_leverage = [2.0]"
                    ),
                    [f"fixed.{bare}"],
                )
            )

# ranges of the random and lhs designs
RANGES = [
    ("shock_frac", "{ low = 0.5, high = 0.1 }"),
    ("shock_frac", "{ low = 0.1 }"),
    ("shock_frac", "{ low = 0.1, high = 0.1 }"),
    ("shock_frac", '{ low = "0", high = 1 }'),
    ("shock_frac", "{ low = 0.0, high = 0.5, log = true }"),
    ("shock_frac", "{ low = 0.1, high = nan }"),
    ("shock_frac", "{ low = 0.1, high = 0.5, log = 1 }"),
    ("shock_frac", "{ low = 0.1, high = 0.9, integer = 1 }"),
    ("n_traders", "{ low = 100, high = 200 }"),
    ("n_traders", "{ low = 100.5, high = 200.5, integer = true }"),
    ("cross_margin", "{ low = 0, high = 1 }"),
    ("shortfall_policy", "{ low = 0, high = 1 }"),
    ("shock_frac", "{ low = 0.5, high = 1.5 }"),
]
for key, rng in RANGES:
    for design in ("random", "lhs"):
        SPEC_CASES.append(
            (
                f"{design} {key} = {rng}",
                spec_text(
                    sweep=head(design=f'"{design}"', points="3"),
                    swept=f"{key} = {rng}",
                    fixed="steps = 20" if key == "n_traders" else FIXED,
                ),
                [f"swept.{key}"],
            )
        )

# designs too big to plan: refused at once (no expansion, no memory)
BIG = "\n".join(
    f"{k} = [{', '.join(str(v) for v in vals)}]"
    for k, vals in {
        "shock_frac": [round(0.05 * i, 2) for i in range(10)],
        "mean_leverage": [1.0 + i for i in range(10)],
        "n_traders": list(range(150, 160)),
        "steps": list(range(20, 30)),
        "oracle_delay_steps": list(range(10)),
        "twap_window_steps": list(range(1, 11)),
        "oracle_heartbeat_steps": list(range(1, 11)),
        "shock_start_step": list(range(10)),
        "shock_duration_steps": list(range(1, 11)),
    }.items()
)
SPEC_CASES += [
    (
        "1e9 replications",
        spec_text(sweep=head(replications="1_000_000_000")),
        ["sweep.replications", "1,000,000"],
    ),
    (
        "1e18 replications",
        spec_text(sweep=head(replications="1_000_000_000_000_000_000")),
        ["sweep.replications"],
    ),
    (
        "1e9-point grid",
        spec_text(sweep=head(), fixed="", swept=BIG),
        ["swept", "shock_frac 10", "mean_leverage 10", "1,000,000,000", "1,000,000"],
    ),
    (
        "1e9 random points",
        spec_text(
            sweep=head(design='"random"', points="1_000_000_000"),
            swept="shock_frac = { low = 0.1, high = 0.5 }",
        ),
        ["sweep.points"],
    ),
    (
        "1e9 lhs points",
        spec_text(
            sweep=head(design='"lhs"', points="1_000_000_000"), swept="shock_frac = { low = 0.1, high = 0.5 }"
        ),
        ["sweep.points"],
    ),
    (
        "grid x replications",
        spec_text(sweep=head(replications="600000")),
        ["sweep.replications", "1,200,000"],
    ),
]

# names that would write outside the results folder
for name in (
    '"../x"',
    '"../../etc"',
    '"/abs"',
    '"a/b"',
    '""',
    '"   "',
    '"."',
    '".."',
    '".hidden"',
    r'"a\\b"',
    '"' + "x" * 101 + '"',
    r'"a\u0000b"',
    r'"tab\there"',
    '"new\\nline"',
    '"~"',
):
    SPEC_CASES.append((f"name {name[:20]}", spec_text(sweep=head(name=name)), ["sweep.name"]))
# ... and output folders in the spec
for out in ('"/"', '"."', '".."', '"spec.toml/x"', '"/sys/x"', '"/proc/1/x"'):
    SPEC_CASES.append((f"out = {out}", spec_text(sweep=head(out=out)), ["sweep.out"]))


@pytest.mark.parametrize(("label", "text", "names"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_bad_spec(tmp_path: Path, label: str, text: str, names: list[str]) -> None:
    (tmp_path / "spec.toml").write_text(text, encoding="utf-8")
    assert_refused(["sweep", "spec.toml", "--serial"], cwd=tmp_path, names=names, timeout=20)


def test_a_spec_whose_file_name_is_not_a_name(tmp_path: Path) -> None:
    (tmp_path / ".hidden.toml").write_text(spec_text(sweep=head(name=None)))
    assert_refused(["sweep", ".hidden.toml", "--serial"], cwd=tmp_path, names=["sweep.name", ".hidden.toml"])


def test_bad_smoke_variants(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(spec_text(sweep=head(), extra='[smoke]\nout = "/"\n'))
    assert_refused(["sweep", "spec.toml", "--serial", "--smoke"], cwd=tmp_path, names=["smoke.out"])
    (tmp_path / "spec.toml").write_text(spec_text(sweep=head(), extra="[smoke]\nreplications = 2_000_000\n"))
    assert_refused(
        ["sweep", "spec.toml", "--serial", "--smoke"], cwd=tmp_path, names=["sweep.replications", "4,000,000"]
    )


# ----------------------------------------------------------------------- command line
def _good_spec(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(spec_text(sweep=head()))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")


OUT_ARGS = [
    (".", ["--out", "current folder"]),
    ("..", ["--out", "parent"]),
    ("/", ["--out", "root"]),
    ("spec.toml", ["--out", "is a file"]),
    ("spec.toml/sub", ["--out", "is a file"]),
    ("/sys/x", ["--out", "not writable"]),
    ("mine", ["--out", "not empty"]),
    ("", ["--out"]),
    ("~", ["--out", "home"]),
]


@pytest.mark.parametrize(("out", "names"), OUT_ARGS, ids=[o or "empty" for o, _ in OUT_ARGS])
def test_bad_sweep_out(tmp_path: Path, out: str, names: list[str]) -> None:
    _good_spec(tmp_path)
    assert_refused(["sweep", "spec.toml", "--serial", "--out", out], cwd=tmp_path, names=names)


WORKERS = [
    ("0", ["--workers"]),
    ("-1", ["--workers"]),
    ("5000", ["--workers", "1024"]),
    ("x", ["--workers"]),
    ("1.5", ["--workers"]),
    ("", ["--workers"]),
    ("99999999999999999999", ["--workers"]),
]


@pytest.mark.parametrize(("workers", "names"), WORKERS, ids=[w or "empty" for w, _ in WORKERS])
def test_bad_workers(tmp_path: Path, workers: str, names: list[str]) -> None:
    _good_spec(tmp_path)
    assert_refused(["sweep", "spec.toml", "--workers", workers], cwd=tmp_path, names=names)


SCHEDULERS = [
    "foo",
    "tcp://",
    "http://x:y",
    "http://x:8786",
    "tcp://host:0",
    "tcp://host:65536",
    "tcp://host:99999999999",
    "tcp://:8786",
    "tcp://host:",
    "tcp://ho st:8786",
    "tcp://host:8786/path",
    "",
    " ",
    "tcp://[::1:8786",
    "tcp://host:-1",
    "host",
    "tcp://host:8786:1",
    "file:///tmp/scheduler.json",
    "tcp://h\x00:1",
    "tcp://-host:1",
]


@pytest.mark.parametrize("address", SCHEDULERS, ids=[repr(a) for a in SCHEDULERS])
def test_bad_scheduler_is_refused_before_connecting(tmp_path: Path, address: str) -> None:
    _good_spec(tmp_path)
    assert_refused(
        ["sweep", "spec.toml", "--scheduler", address],
        cwd=tmp_path,
        names=["--scheduler"],
        codes=(2,),
        timeout=5,
    )


def test_serial_with_a_scheduler(tmp_path: Path) -> None:
    _good_spec(tmp_path)
    assert_refused(
        ["sweep", "spec.toml", "--serial", "--scheduler", "tcp://127.0.0.1:9"],
        cwd=tmp_path,
        names=["--serial"],
    )


UNREACHABLE = ["tcp://127.0.0.1:9", "127.0.0.1:9", "tls://127.0.0.1:9", "tcp://nonexistent.invalid:8786"]


@pytest.mark.parametrize("address", UNREACHABLE)
def test_unreachable_scheduler_fails_within_the_timeout(tmp_path: Path, address: str) -> None:
    _good_spec(tmp_path)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        r = assert_refused(
            ["sweep", "spec.toml", "--scheduler", address],
            cwd=tmp_path,
            names=[address, "cannot connect"],
            codes=(1,),
            timeout=15,
        )
    assert len(r.err.strip().splitlines()) == 1


# --------------------------------------------------------------------- resume manifests
@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-run sweep of the spec in ``spec_text()`` (its out: ``res``)."""
    root = tmp_path_factory.mktemp("finished")
    (root / "spec.toml").write_text(spec_text())
    old = Path.cwd()
    os.chdir(root)
    try:
        run_sweep(
            parse_spec(
                {
                    "sweep": {
                        "name": "fz",
                        "root_seed": 7,
                        "replications": 1,
                        "out": "res",
                        "metrics": [
                            "defaults",
                            "bad_debt_usd",
                            "cross_venue",
                            "insolvent_debt_usd",
                            "liquidation_volume_usd",
                        ],
                    },
                    "fixed": {"n_traders": 150, "steps": 20},
                    "swept": {"shock_frac": [0.1, 0.4]},
                }
            ),
            backend="serial",
        )
    finally:
        os.chdir(old)
    return root / "res"


@pytest.fixture
def results(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished sweep, in ``tmp_path/res``, with its spec in ``tmp_path``."""
    shutil.copytree(finished, tmp_path / "res")
    (tmp_path / "spec.toml").write_text(spec_text())
    return tmp_path / "res"


def _manifest(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / "manifest.json").read_text())
    return data


def _manifest_cases() -> Iterator[tuple[str, Callable[[Path], None], list[str]]]:
    def write_bytes(data: bytes) -> Callable[[Path], None]:
        return lambda res: (res / "manifest.json").write_bytes(data)

    def edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
        def apply(res: Path) -> None:
            m = _manifest(res)
            change(m)
            (res / "manifest.json").write_text(json.dumps(m))

        return apply

    yield "invalid JSON", write_bytes(b"{not json"), ["manifest.json", "JSON"]
    yield (
        "truncated JSON",
        lambda res: (res / "manifest.json").write_bytes((res / "manifest.json").read_bytes()[:200]),
        ["manifest.json", "JSON"],
    )
    yield "empty file", write_bytes(b""), ["manifest.json", "JSON"]
    yield "not UTF-8", write_bytes(b'{"name": "\xff"}'), ["manifest.json", "UTF-8"]
    yield "huge number", write_bytes(b'{"format": ' + b"9" * 5000 + b"}"), ["manifest.json"]
    for label, value in (("a list", []), ("a string", "x"), ("a number", 3), ("null", None), ("true", True)):
        yield (
            f"manifest is {label}",
            write_bytes(json.dumps(value).encode()),
            ["manifest.json", "not an object"],
        )
    for key in ("format", "name", "spec", "smoke", "points", "runs", "aligned_schema", "schema"):
        yield f"no {key}", edit(lambda m, k=key: m.pop(k)), ["manifest.json", repr(key)]
    wrong = {
        "format": 2,
        "name": 1,
        "spec": [],
        "smoke": "no",
        "points": {},
        "runs": [],
        "aligned_schema": "yes",
        "schema": "x",
    }
    for key, value in wrong.items():
        yield (
            f"{key} wrong type",
            edit(lambda m, k=key, v=value: m.__setitem__(k, v)),
            ["manifest.json", repr(key)],
        )
    yield (
        "points hold numbers",
        edit(lambda m: m.__setitem__("points", [1, 2])),
        ["manifest.json", "'points'"],
    )
    yield "runs lists differ", edit(lambda m: m["runs"]["seed"].pop()), ["manifest.json", "'runs'"]
    yield "runs without seeds", edit(lambda m: m["runs"].pop("seed")), ["manifest.json", "'runs'"]
    yield (
        "schema null but aligned",
        edit(lambda m: m.__setitem__("schema", None)),
        ["manifest.json", "'schema'"],
    )
    yield (
        "schema of an unknown type",
        edit(lambda m: m["schema"].append(["x", "float128"])),
        ["manifest.json", "'schema'"],
    )
    yield "schema pairs", edit(lambda m: m.__setitem__("schema", [["a"]])), ["manifest.json", "'schema'"]
    # a manifest of another sweep
    yield (
        "other replications",
        edit(lambda m: m["spec"].__setitem__("replications", 2)),
        ["resume", "replications"],
    )
    yield "other root seed", edit(lambda m: m["spec"].__setitem__("root_seed", 8)), ["resume", "root_seed"]
    yield "other name", edit(lambda m: m["spec"].__setitem__("name", "other")), ["resume", "name"]
    yield (
        "other swept values",
        edit(lambda m: m["spec"]["swept"].__setitem__("shock_frac", [0.2])),
        ["resume", "swept"],
    )
    yield (
        "other design points",
        edit(lambda m: m.__setitem__("points", [{"shock_frac": 0.3}] * 2)),
        ["resume", "design points"],
    )
    yield "other seeds", edit(lambda m: m["runs"].__setitem__("seed", [1, 2])), ["resume", "run seeds"]
    yield "smoke manifest", edit(lambda m: m.__setitem__("smoke", True)), ["resume", "--smoke"]
    yield "spec is empty", edit(lambda m: m.__setitem__("spec", {})), ["resume", "differs"]
    yield (
        "parts is a file",
        lambda res: (shutil.rmtree(res / "parts"), (res / "parts").write_text("x")),
        ["resume", "parts"],
    )
    yield (
        "profiles is a file",
        lambda res: (shutil.rmtree(res / "profiles"), (res / "profiles").write_text("x")),
        ["resume", "profiles"],
    )
    yield "no manifest", lambda res: (res / "manifest.json").unlink(), ["resume", "manifest.json"]
    yield (
        "manifest is a folder",
        lambda res: ((res / "manifest.json").unlink(), (res / "manifest.json").mkdir()),
        ["manifest.json"],
    )


MANIFEST_CASES = list(_manifest_cases())


@pytest.mark.parametrize(("label", "damage", "names"), MANIFEST_CASES, ids=[c[0] for c in MANIFEST_CASES])
def test_bad_manifest_on_resume(
    results: Path, tmp_path: Path, label: str, damage: Callable[[Path], None], names: list[str]
) -> None:
    damage(results)
    assert_refused(["sweep", "spec.toml", "--resume", "--serial"], cwd=tmp_path, names=names, watch=[results])


def test_resume_of_nothing(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(spec_text())
    assert_refused(["sweep", "spec.toml", "--resume", "--serial"], cwd=tmp_path, names=["resume", "res"])
    (tmp_path / "res").write_text("a file")
    assert_refused(["sweep", "spec.toml", "--resume", "--serial"], cwd=tmp_path, names=["sweep.out", "res"])
    assert_refused(
        ["sweep", "spec.toml", "--resume", "--serial", "--out", "."], cwd=tmp_path, names=["--out"]
    )


# ------------------------------------------------------------------------------ report
def _report_cases() -> Iterator[tuple[str, Callable[[Path], None], list[str]]]:
    def part(res: Path) -> Path:
        return sorted((res / "parts").glob("*.parquet"))[0]

    yield (
        "csv renamed .parquet",
        lambda res: part(res).write_text("run_id,status\na,ok\n"),
        ["results_dir", "not readable Parquet", "parts/p00000-r000.parquet"],
    )
    yield "random bytes", lambda res: part(res).write_bytes(os.urandom(300)), ["results_dir", "parts/"]
    yield "empty part", lambda res: part(res).write_bytes(b""), ["results_dir", "parts/"]
    yield (
        "truncated part",
        lambda res: part(res).write_bytes(part(res).read_bytes()[:-40]),
        ["results_dir", "parts/"],
    )
    yield (
        "other columns",
        lambda res: pd.DataFrame({"a": [1], "b": ["x"]}).to_parquet(part(res)),
        ["results_dir", "run_id"],
    )
    yield (
        "a profile as a part",
        lambda res: shutil.copy(sorted((res / "profiles").glob("*.parquet"))[0], part(res)),
        ["results_dir", "status"],
    )
    yield (
        "no rows",
        lambda res: [
            pd.DataFrame({"run_id": pd.Series([], dtype=str), "status": pd.Series([], dtype=str)}).to_parquet(
                p
            )
            for p in (res / "parts").glob("*.parquet")
        ],
        ["results_dir", "no rows"],
    )
    yield (
        "metric of strings",
        lambda res: [
            pd.read_parquet(p).assign(cross_venue="many").to_parquet(p)
            for p in (res / "parts").glob("*.parquet")
        ],
        ["results_dir", "cross_venue"],
    )
    yield "no parts", lambda res: shutil.rmtree(res / "parts"), ["results_dir", "parts"]
    yield (
        "parts is a file",
        lambda res: (shutil.rmtree(res / "parts"), (res / "parts").write_text("x")),
        ["results_dir", "parts"],
    )
    yield (
        "corrupt profile",
        lambda res: sorted((res / "profiles").glob("*.parquet"))[0].write_bytes(b"PAR1"),
        ["results_dir", "profiles/"],
    )
    yield (
        "profile of other columns",
        lambda res: pd.DataFrame({"x": [1]}).to_parquet(sorted((res / "profiles").glob("*.parquet"))[0]),
        ["results_dir", "profiles/", "step"],
    )
    yield (
        "profile exposure of strings",
        lambda res: [
            pd.read_parquet(p).assign(exposure_usd="a lot").to_parquet(p)
            for p in (res / "profiles").glob("*.parquet")
        ],
        ["results_dir", "exposure_usd"],
    )
    yield (
        "swept column of lists",
        lambda res: [
            pd.read_parquet(p).assign(shock_frac=[[0.1, 0.2]]).to_parquet(p)
            for p in (res / "parts").glob("*.parquet")
        ],
        ["results_dir", "shock_frac"],
    )
    yield "report folder is a file", lambda res: (res / "report").write_text("mine"), ["out_dir", "file"]
    yield (
        "report folder of other files",
        lambda res: ((res / "report").mkdir(), (res / "report" / "notes.txt").write_text("x")),
        ["out_dir", "other files"],
    )


REPORT_CASES = list(_report_cases())


@pytest.mark.parametrize(("label", "damage", "names"), REPORT_CASES, ids=[c[0] for c in REPORT_CASES])
def test_bad_results_for_report(
    results: Path, tmp_path: Path, label: str, damage: Callable[[Path], None], names: list[str]
) -> None:
    damage(results)
    assert_refused(["report", "res"], cwd=tmp_path, names=names, watch=[results])


REPORT_OUTS = [
    (".", "current folder"),
    ("..", "parent"),
    ("/", "root"),
    ("spec.toml", "file"),
    ("spec.toml/x", "file"),
    ("/sys/x", "not writable"),
    ("res", "other files"),
    ("res/parts", "other files"),
    ("mine", "other files"),
    ("", "--out"),
]


@pytest.mark.parametrize(("out", "says"), REPORT_OUTS, ids=[o or "empty" for o, _ in REPORT_OUTS])
def test_bad_report_out(results: Path, tmp_path: Path, out: str, says: str) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert_refused(["report", "res", "--out", out], cwd=tmp_path, names=["--out", says], watch=[results])


def test_report_of_what_is_not_a_sweep(tmp_path: Path) -> None:
    assert_refused(["report", "absent"], cwd=tmp_path, names=["results_dir", "absent"])
    (tmp_path / "empty").mkdir()
    assert_refused(["report", "empty"], cwd=tmp_path, names=["results_dir", "no parts"])
    (tmp_path / "afile").write_text("x")
    assert_refused(["report", "afile"], cwd=tmp_path, names=["results_dir", "afile"])
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("not a sweep")
    assert_refused(["report", "docs"], cwd=tmp_path, names=["results_dir", "docs"])
    assert_refused(["report", ""], cwd=tmp_path, names=["results_dir"])
    assert_refused(["report", "a\x00b"], cwd=tmp_path, names=["results_dir"])
