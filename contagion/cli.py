"""The ``contagion`` command: parses arguments and calls library functions.

``contagion dashboard [--host H] [--port P] [--scenario NAME] [--cache-dir DIR]`` starts the
Dash app;
``contagion run [SCENARIO|FILE] [--steps N] [--seed S] [--set key=value ...] [--out DIR]
[--positions FILE]`` runs one simulation headless (from the user's own books with
``--positions``), writes its outputs and prints a one-screen summary;
``contagion network FILE --shock NODE=FRAC`` stresses an exposure network;
``contagion sweep SPEC [--workers N] [--scheduler tcp://HOST:8786] [--out DIR] [--resume]
[--smoke] [--serial]`` runs a parameter sweep; ``contagion report RESULTS_DIR`` analyses it;
``contagion scenarios`` lists the presets and their parameters, ``contagion scenarios show
NAME [--format toml|json]`` writes one as a scenario file and ``contagion scenarios schema``
prints the JSON Schema of scenario files; wherever a preset name is taken, a scenario
file's path (``mine.toml``) is taken too. Every input is checked before any work starts
(scenario, ``--set``, files, the ``--out`` destination); bad input exits with status 2 and a
message naming the parameter, file or destination and what is allowed; a disk fault while
writing exits with status 1 and one line; nothing is half-written, and ``--force`` replaces
only a previous run's outputs, never a user's files.

The CLI is the composition root: it is the one place in ``contagion`` that imports the
scenario presets of ``models`` (lazily, inside the commands).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contagion.errors import ContagionError, ParameterError

if TYPE_CHECKING:
    from contagion.scenario import Scenario

# Only the standard library and contagion.errors load at import: ``contagion --help`` and a
# bad option answer without numpy, pandas or Mesa (each command imports what it needs).

__all__ = ["build_scenario", "format_summary", "main"]

log = logging.getLogger("contagion")


def build_scenario(name: str, settings: Sequence[str]) -> Scenario:
    """The preset (or scenario file) ``name`` with ``key=value`` settings applied.

    A key that is a parameter of the preset function (``n_traders``, ``shock_frac``...;
    a file's are ``n_traders`` and ``steps``) is passed to it; a dotted key
    (``lending.LendA.reserve_usd``) replaces that field of the built scenario. Values are
    converted to the parameter's type.
    """
    from contagion.scenario import _coerce, override
    from models import get_scenario, scenario_parameters

    preset = scenario_parameters(name)
    kwargs: dict[str, Any] = {}
    dotted: list[tuple[str, str]] = []
    for item in settings:
        if "=" not in item:
            raise ParameterError("--set", item, "key=value")
        key, value = (x.strip() for x in item.split("=", 1))
        if not key:
            raise ParameterError("--set", item, "key=value with a key, e.g. n_traders=500")
        if key in preset:
            kwargs[key] = _coerce(key, preset[key], value)
        elif "." in key:
            dotted.append((key, value))
        else:
            raise ParameterError(key, value, f"a parameter of scenario {name!r} ("
                                 + ", ".join(preset) + ") or a dotted path such as "
                                 "lending.LendA.reserve_usd")
    try:
        scenario = get_scenario(name, **kwargs)
    except ParameterError as exc:
        if not kwargs or any(k in exc.name for k in kwargs):
            raise
        given = ", ".join(f"{k} = {v!r}" for k, v in kwargs.items())
        raise ParameterError(exc.name, exc.value, exc.allowed,
                             (f"{exc.hint}; " if exc.hint else "") + f"after setting {given}"
                             ) from None
    for key, value in dotted:
        scenario = override(scenario, key, value)
    return scenario


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def format_summary(s: dict[str, Any], events: Any = None) -> str:
    """A one-screen text summary of a run."""
    lines = [
        f"scenario {s.get('scenario')}  seed {s.get('seed')}  steps {s.get('steps')}  "
        f"traders {s.get('n_traders'):,}",
        "",
        f"defaults            {s['defaults']}  {', '.join(s['defaulted']) or '-'}",
        f"venues hit          {', '.join(s['venues_hit']) or '-'}",
        f"cascade depth       {s['cascade_depth']} generation(s)",
        f"liquidations        {s['liquidations']:,} ({s['accounts_liquidated']:,} accounts), "
        f"volume {_usd(s['liquidation_volume_usd'])}",
        f"bad debt            {_usd(s['bad_debt_usd'])} realised, "
        f"{_usd(s['insolvent_debt_usd'])} still underwater",
        f"insurance funds     {_usd(s['fund_used_usd'])} used, balances "
        f"{-s['fund_depletion_frac']:+.0%} net of fees; "
        f"exhausted: {', '.join(s['funds_exhausted']) or '-'}",
        f"socialised losses   {_usd(s['socialised_usd'])}",
        f"auto-deleveraging   {_usd(s['adl_usd'])}",
        f"worst pool impact   {s['worst_pool_impact_frac']:+.1%} in one step",
    ]
    by_venue = {v: b for v, b in s["bad_debt_by_venue"].items() if b > 0}
    if by_venue:
        lines.append("bad debt by venue   " + ", ".join(f"{v} {_usd(b)}" for v, b in by_venue.items()))
    if events is not None and s["defaults"]:
        from contagion.metrics import cascade_path

        lines += ["", "cascade path:"]
        lines += [f"  {p}" for p in cascade_path(events)]
    return "\n".join(lines)


@contextlib.contextmanager
def _naming_file(path: str) -> Iterator[None]:
    """Name the network file in an error about its contents that does not name it."""
    from contagion.errors import NetworkFormatError

    try:
        yield
    except NetworkFormatError as exc:
        if path in str(exc):
            raise
        raise NetworkFormatError(f"{path}: {exc}") from None


def _network_world(args: argparse.Namespace) -> Scenario:
    """The scenario of ``run --network FILE --shock NODE=FRAC``: the file's institutions as
    banks, its credit edges as loans (see :mod:`models.network_world`)."""
    from contagion.network import read_network
    from contagion.scenario import override
    from models.network_world import network_scenario

    if args.scenario is not None:
        raise ParameterError("scenario", args.scenario, "no scenario with --network",
                             "the network file is the world: drop the scenario name")
    with _naming_file(args.network):
        scenario = network_scenario(read_network(args.network), _parse_shocks(args.shock),
                                    name=Path(args.network).stem)
    for item in args.set or []:
        key, sep, value = (x.strip() for x in item.partition("="))
        if not sep or "." not in key:
            raise ParameterError("--set", item, "a dotted key=value such as "
                                 "clearing.external_assets_frac=0 (a network has no presets)")
        scenario = override(scenario, key, value)
    return scenario


def _read_world(path: str, scenario: Scenario) -> Any:
    """The world graph in ``path``, checked against ``scenario`` before anything runs
    (errors name the file and the node or edge)."""
    from contagion.world import check_world, read_world

    G = read_world(path)
    try:
        check_world(G, scenario)
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc.name}", exc.value, exc.allowed, exc.hint) from None
    return G


def _parse_shocks(items: Sequence[str] | None) -> dict[str, float]:
    shocks: dict[str, float] = {}
    for item in items or []:
        node, sep, frac = item.rpartition("=")
        if not sep or not node:
            raise ParameterError("--shock", item, "NODE=FRACTION, e.g. AlphaFund=0.6")
        try:
            shocks[node] = float(frac)
        except ValueError:
            raise ParameterError(f"--shock {node}", frac, "a number, 0 <= x <= 1") from None
    return shocks


#: Characters a default output folder's name keeps as typed; anything else (``/``, spaces,
#: quotes...) or a name longer than :data:`MAX_FOLDER_NAME` falls back to a short hash.
_FOLDER_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+=,-")
MAX_FOLDER_NAME = 96


def default_out(label: str, seed: int, extras: Sequence[str] = ()) -> Path:
    """The default output folder of a run: ``runs/<label>-seed<seed>``, then each of
    ``extras`` (the ``--set`` overrides as typed, ``steps=N``, ``positions=<file stem>``...)
    joined by ``-``, so two runs that differ in anything they were given write to two
    folders: ``runs/default-seed7-shock_frac=0.5-cross_margin=false``. When that name would
    be long (over :data:`MAX_FOLDER_NAME` characters) or hold characters unsafe in a file
    name, the extras become a short stable hash: ``runs/default-seed7-3f9c2a1b7e``.

    Examples
    --------
    >>> default_out("default", 0).as_posix()
    'runs/default-seed0'
    >>> default_out("default", 7, ["shock_frac=0.5", "cross_margin=false"]).as_posix()
    'runs/default-seed7-shock_frac=0.5-cross_margin=false'
    >>> default_out("default", 0, ["name=a/b"]).as_posix()
    'runs/default-seed0-2e990759ba'
    """
    import hashlib

    def safe(text: str) -> bool:
        return bool(text) and not text.startswith(".") and set(text) <= _FOLDER_SAFE

    head = f"{label}-seed{seed}" if safe(label) else f"run-seed{seed}"
    extras = [e.strip() for e in extras]
    name = "-".join([head, *extras])
    if not (safe(label) and all(safe(e) for e in extras)) or len(name) > MAX_FOLDER_NAME:
        digest = hashlib.sha256("\n".join([label, *extras]).encode()).hexdigest()[:10]
        name = f"{head}-{digest}"
    return Path("runs") / name


def _run_label(args: argparse.Namespace) -> str:
    """What a run's default folder is named after: the preset, or a file's stem."""
    if args.network is not None:
        return Path(args.network).stem
    ref = args.scenario or "default"
    from models import is_scenario_file

    return Path(ref).stem if is_scenario_file(ref) else ref


def _run_extras(args: argparse.Namespace) -> list[str]:
    """The inputs besides scenario and seed that change a run, for its folder's name."""
    extras = [f"steps={args.steps}"] if args.steps is not None else []
    extras += ["=".join(x.strip() for x in item.split("=", 1)) for item in args.set or []]
    extras += [f"shock.{item.strip()}" for item in args.shock or []]
    if args.positions is not None:
        extras.append(f"positions={Path(args.positions).stem}")
    if args.world is not None:
        extras.append(f"world={Path(args.world).stem}")
    return extras


def _check_shocks_in_run(scenario: Scenario, steps: int | None,
                         settings: Sequence[str]) -> str | None:
    """Refuse a shock that starts after the run ends (it would silently not happen).

    Against the scenario's own horizon always; against a shorter ``--steps`` when the user
    set that shock's start (``--set shock_start_step=100 --steps 50``). A preset's own shock
    cut off by a short ``--steps`` (a quick smoke run) runs: the note to print when it does
    is returned.
    """
    from contagion.scenario import SHOCK_START_FIELDS, late_shock

    error = late_shock(scenario)
    if error is not None:
        raise error
    if steps is None or steps >= scenario.market.steps:
        return None
    error = late_shock(scenario, steps)
    if error is None:
        return None
    keys = [item.split("=", 1)[0].strip() for item in settings]
    if any(k.rsplit(".", 1)[-1] in SHOCK_START_FIELDS for k in keys):
        raise error
    return (f"contagion: note: the run ends at step {steps}, before {error.name} = "
            f"{error.value}: that shock is not simulated")


def _cmd_run(args: argparse.Namespace) -> int:
    from contagion.output import check_destination
    from contagion.scenario import override

    # everything is checked first: scenario, overrides, shocks, destination, files
    if args.network is not None:
        scenario = _network_world(args)
    else:
        if args.shock:
            raise ParameterError("--shock", args.shock, "only with --network FILE")
        scenario = build_scenario(args.scenario or "default", args.set or [])
    if args.steps is not None and args.steps > scenario.market.steps:
        scenario = override(scenario, "market.steps", args.steps)
    note = _check_shocks_in_run(scenario, args.steps, args.set or [])
    out = (Path(args.out) if args.out is not None
           else default_out(_run_label(args), args.seed, _run_extras(args)))
    check_destination(out, overwrite=args.force)
    positions = None
    if args.positions is not None:  # every row checked before anything is built or written
        from contagion.positions import check_positions, read_positions

        positions = check_positions(read_positions(args.positions), scenario)
    world = _read_world(args.world, scenario) if args.world is not None else None

    from contagion.output import write_run
    from contagion.runner import simulate

    if note:  # every check passed: say what this short run leaves out
        print(note, file=sys.stderr)
    result = simulate(scenario, seed=args.seed, steps=args.steps, positions=positions,
                      world=world)
    write_run(result, out, overwrite=args.force, csv=args.csv)
    print(format_summary(result.summary, result.events))
    also = "; events.csv, series.csv" if args.csv else ""
    print(f"\noutputs written to {out}/ (events, series, venues, node_states, exposures: Parquet; "
          f"network.json; summary.json; scenario.toml; positions.parquet; world.json{also})")
    return 0


def _cmd_network(args: argparse.Namespace) -> int:
    from contagion.network import read_network
    from contagion.stress import check_shocks, credit_layer, stress_network

    shocks = _parse_shocks(args.shock)
    out = None
    if args.out is not None:
        from contagion.output import check_output_file

        out = check_output_file(args.out, overwrite=args.force)
    with _naming_file(args.file):
        G = read_network(args.file)
        check_shocks(credit_layer(G)[0], shocks)
    table = stress_network(G, shocks)
    if out is not None:
        import os

        from contagion.errors import OutputError

        tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
        try:
            table.to_csv(tmp, index=False)
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write {str(out)!r}: {exc.strerror or exc}; nothing was "
                              "written") from None
    with_money = table.assign(**{c: table[c].map(_usd) for c in
                                 ("external_assets_usd", "liabilities_usd", "payments_usd")})
    print(with_money.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\n{int(table['defaulted'].sum())} of {len(table)} institutions default; "
          f"cascade depth {int(table['default_generation'].max())}")
    return 0


def _check_listen(host: str, port: int) -> None:
    """Refuse a ``--host`` that is not an address of this machine and a ``--port`` already in
    use, before Dash loads and before the first run (the web server would otherwise print
    its own error after start-up)."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ParameterError("--host", host, "a host name or IP address of this machine, "
                             "e.g. 127.0.0.1 or 0.0.0.0", f"it does not resolve: {exc}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ParameterError("--port", port, "a free port",
                                     "another program listens on it: pick another with "
                                     "--port") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise ParameterError("--port", port, "a port this user may open (>= 1,024 "
                                     "unless root)") from None
            raise ParameterError("--host", host, "an address of this machine, e.g. "
                                 "127.0.0.1 or 0.0.0.0", f"cannot listen there: "
                                 f"{exc.strerror or exc}") from None


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from models import get_scenario

    get_scenario(args.scenario)  # an unknown preset or a bad file stops here, before Dash loads
    if not 0 < args.port < 65536:
        raise ParameterError("--port", args.port, "1 <= x <= 65,535")
    _check_listen(args.host, args.port)
    cache_dir = None
    if args.cache_dir is not None:
        from contagion.output import writable_dir

        cache_dir = writable_dir(args.cache_dir, name="--cache-dir")
    from dashboard.app import serve  # imported here: contagion itself never loads Dash

    serve(host=args.host, port=args.port, scenario=args.scenario, cache_dir=cache_dir)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from contagion.sweep import sweep_command

    if args.workers is not None and args.workers < 1:
        raise ParameterError("--workers", args.workers, "an integer >= 1")
    return sweep_command(args.spec, workers=args.workers, scheduler=args.scheduler, out=args.out,
                         resume=args.resume, smoke=args.smoke, serial=args.serial)


def _cmd_report(args: argparse.Namespace) -> int:
    from contagion.report import report_command

    return report_command(args.results_dir, out=args.out)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from models import SCENARIOS, scenario_parameters

    action = getattr(args, "action", None) or "list"
    if action == "show":
        from contagion.scenario_file import dump_json, dumps

        scenario = build_scenario(args.name, args.set or [])
        sys.stdout.write(dumps(scenario) if args.format == "toml" else dump_json(scenario))
        return 0
    if action == "world":
        import networkx as nx

        from contagion.world import build_world

        world = build_world(build_scenario(args.name, args.set or []))
        print(json.dumps(nx.node_link_data(world, edges="edges"), indent=1))
        return 0
    if action == "schema":
        from contagion.scenario_file import json_schema

        print(json.dumps(json_schema(), indent=2))
        return 0
    for name, fn in SCENARIOS.items():
        doc = (inspect.getdoc(fn) or "").splitlines()[0]
        print(f"{name}: {doc}")
        if args.verbose:
            for k, v in scenario_parameters(name).items():
                print(f"    {k} = {v!r}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="contagion", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dashboard", help="start the dashboard (Dash app) on the default scenario")
    d.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    d.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    d.add_argument("--scenario", default="default",
                   help="preset or scenario file (.toml/.json) shown on first load")
    d.add_argument("--cache-dir", metavar="DIR",
                   help="where finished runs that leave memory are kept (up to 2 GiB; created "
                        "if missing; only the dashboard's own run directories in it are ever "
                        "deleted, all of them on exit; default: a temporary directory)")
    d.set_defaults(func=_cmd_dashboard)
    r = sub.add_parser("run", help="run one simulation headless and write its outputs")
    r.add_argument("scenario", nargs="?", default=None,
                   help="preset name or scenario file (.toml/.json; default: the preset default)")
    r.add_argument("--network", metavar="FILE",
                   help="simulate an exposure network (node-link JSON or GraphML, as for "
                        "`contagion network`) instead of a scenario: its institutions as banks")
    r.add_argument("--world", metavar="FILE",
                   help="run over this world graph instead of the scenario's own (node-link "
                        "JSON or GraphML, e.g. a run's world.json or `contagion scenarios "
                        "world` with edges removed or added)")
    r.add_argument("--shock", action="append", metavar="NODE=FRAC",
                   help="with --network: write off FRAC of NODE's external assets at step 1 "
                        "(repeatable)")
    r.add_argument("--steps", type=int,
                   help="number of steps (default: the scenario's horizon); a shock you set "
                        "must start within them")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter (repeatable): a preset parameter such as "
                        "n_traders=1000000, or a dotted path such as perps.PerpX.shortfall_policy "
                        "(a list's element by its name: lending.LendB.collateral.EXT.ltv); an "
                        "unknown key, a wrong type or a value out of range is refused, naming "
                        "what is allowed")
    r.add_argument("--positions", metavar="FILE",
                   help="start from these books instead of random ones: a positions table "
                        "(CSV or Parquet; a run's positions.parquet reproduces that run; see "
                        "docs/positions.md)")
    r.add_argument("--out", help="output directory, checked before the run starts (default "
                                 "runs/<scenario>-seed<seed>, then the other options as given: "
                                 "runs/default-seed7-shock_frac=0.5-cross_margin=false; a short "
                                 "hash instead when that is long). Not the current directory or "
                                 "one above it; an existing one must be empty or hold a previous "
                                 "run's outputs")
    r.add_argument("--force", action="store_true",
                   help="replace a previous run's outputs in --out; a directory holding "
                        "anything else is refused even so (nothing of yours is deleted)")
    r.add_argument("--csv", action="store_true",
                   help="also write events.csv and series.csv (Parquet is always written; "
                        "CSV takes longer: 1.7 s for a million traders' events)")
    r.set_defaults(func=_cmd_run)
    n = sub.add_parser("network", help="stress an exposure network (node-link JSON or GraphML): "
                                       "clear it (Eisenberg-Noe) and rank it (DebtRank)")
    n.add_argument("file", help="network file, e.g. a run's network.json or your own")
    n.add_argument("--shock", action="append", metavar="NODE=FRAC",
                   help="wipe out FRAC of NODE's external assets (repeatable)")
    n.add_argument("--out", metavar="FILE",
                   help="also write the table as CSV (a new file in an existing directory, "
                        "checked before the network is read)")
    n.add_argument("--force", action="store_true", help="replace an existing --out file")
    n.set_defaults(func=_cmd_network)
    w = sub.add_parser("sweep", help="run a parameter sweep described by a TOML spec")
    w.add_argument("spec", help="sweep spec, e.g. experiments/leverage_shock.toml")
    w.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    w.add_argument("--scheduler", help="a Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    w.add_argument("--out", help="output directory (default: the spec's)")
    w.add_argument("--resume", action="store_true", help="finish an interrupted sweep")
    w.add_argument("--smoke", action="store_true", help="the spec's small version (seconds)")
    w.add_argument("--serial", action="store_true", help="one process, for debugging")
    w.set_defaults(func=_cmd_sweep)
    rp = sub.add_parser("report", help="tables and figures from a sweep's results")
    rp.add_argument("results_dir", help="a sweep's output directory")
    rp.add_argument("--out", help="report directory (default RESULTS_DIR/report)")
    rp.set_defaults(func=_cmd_report)
    s = sub.add_parser("scenarios", help="list the presets; write one as a scenario file; "
                                         "print the scenario file's JSON Schema")
    s.add_argument("-v", "--verbose", action="store_true", help="also list their parameters")
    s.set_defaults(func=_cmd_scenarios)
    s_sub = s.add_subparsers(dest="action")
    s_list = s_sub.add_parser("list", help="list the presets (the default)")
    s_list.add_argument("-v", "--verbose", action="store_true", help="also list their parameters")
    s_show = s_sub.add_parser("show", help="write a preset (or a scenario file, normalised) as a "
                                           "scenario file on standard output")
    s_show.add_argument("name", help="preset name or scenario file, e.g. default or mine.toml")
    s_show.add_argument("--format", choices=("toml", "json"), default="toml",
                        help="file format (default toml)")
    s_show.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a parameter first, as for `contagion run` (repeatable)")
    s_sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s_world = s_sub.add_parser("world", help="print a scenario's world graph (node-link JSON): "
                                             "edit its edges and run it with run --world")
    s_world.add_argument("name", help="preset name or scenario file")
    s_world.add_argument("--set", action="append", metavar="KEY=VALUE",
                         help="override a parameter first, as for `contagion run` (repeatable)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``contagion`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    from contagion.threads import limit_blas_threads

    limit_blas_threads()  # before numpy loads: small products gain nothing from more
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "steps", None) is not None and args.steps < 0:
            raise ParameterError("--steps", args.steps, "a non-negative integer")
        if getattr(args, "seed", None) is not None and args.seed < 0:
            raise ParameterError("--seed", args.seed, "a non-negative integer")
        return int(args.func(args))
    except ContagionError as exc:  # bad input: 2; a disk fault while writing: 1
        print(f"contagion: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_status", 2))
    except BrokenPipeError:  # `contagion scenarios show x | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a disk or OS fault outside the checked writers: one line, exit 1
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"contagion: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
