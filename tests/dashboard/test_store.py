"""The run store never loses a run silently: runs leave memory for a bounded cache directory
and come back from it; a run deleted from disk to honour the budget says it has expired and
is recomputed under the same id; nothing the store did not write is ever deleted; thirty
sessions each keep their run; threads do not corrupt it."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from contagion.errors import ParameterError
from contagion.runner import RunResult, simulate
from dashboard.store import POSITIONS_FILE, RunStore, run_dirname
from models import get_scenario

FRAMES = ("events", "series", "venues", "node_states", "exposures", "positions")


def _run(seed: int, n: int = 200, steps: int = 30) -> RunResult:
    return simulate(get_scenario("default", n_traders=n, steps=steps), seed=seed)


@pytest.fixture(scope="module")
def runs() -> list[RunResult]:
    return [_run(seed) for seed in range(4)]


def assert_same(a: RunResult | None, b: RunResult | None) -> None:
    assert a is not None and b is not None
    for name in FRAMES:
        assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert list(a.network.edges(keys=True, data=True)) == list(b.network.edges(keys=True, data=True))
    assert dict(a.network.nodes(data=True)) == dict(b.network.nodes(data=True))
    assert json.dumps(a.summary, sort_keys=True) == json.dumps(b.summary, sort_keys=True)
    assert a.scenario == b.scenario and a.seed == b.seed


def _wait(store: RunStore, run_id: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.job(run_id)
        assert job is not None
        if job.finished:
            return job.status
        time.sleep(0.02)
    raise AssertionError("job did not finish")


def test_a_run_leaving_memory_is_spilled_and_read_back_equal(runs: list[RunResult]) -> None:
    with RunStore(max_runs=1) as store:
        a, b = store.put(runs[0]), store.put(runs[1])
        assert store.status(a) == "memory"  # being written: still served from memory
        store.flush()
        assert store.status(a) == "disk" and store.status(b) == "memory"
        assert (store.cache_dir / a / "events.parquet").is_file()
        assert not list((store.cache_dir / a).glob("*.csv"))  # the cache writes no CSV
        back = store.get(a)
        assert back is not runs[0]
        assert_same(back, runs[0])
        assert store.status(a) == "memory" and store.get(a) is back  # back in memory
        store.flush()
        assert store.status(b) == "disk"  # b made room
        assert_same(store.get(b), runs[1])
        assert len(store) == 1


def test_node_positions_survive_a_spill(runs: list[RunResult]) -> None:
    layout = {"LendA": {"x": 1.0, "y": 2.5}}
    with RunStore(max_runs=1) as store:
        a = store.put(runs[0])
        assert store.positions(a, lambda: layout) == layout
        store.put(runs[1])
        store.flush()
        assert (store.cache_dir / a / POSITIONS_FILE).is_file()
        assert store.get(a) is not None

        def recompute() -> dict[str, dict[str, float]]:
            raise AssertionError("positions were lost with the spill")

        assert store.positions(a, recompute) == layout


def test_positions_computed_after_a_reload_are_saved_with_the_copy(runs: list[RunResult]) -> None:
    layout = {"LendB": {"x": -3.0, "y": 0.5}}
    with RunStore(max_runs=1) as store:
        a = store.put(runs[0])
        store.put(runs[1])
        store.flush()
        assert not (store.cache_dir / a / POSITIONS_FILE).exists()  # none computed yet
        assert store.get(a) is not None  # back in memory; its disk copy stays
        assert store.positions(a, lambda: layout) == layout
        store.put(runs[2])  # a leaves memory again: only its positions need writing
        store.flush()
        assert json.loads((store.cache_dir / a / POSITIONS_FILE).read_text()) == layout
        assert store.get(a) is not None
        assert store.positions(a, lambda: {}) == layout


def test_disk_budget_expires_the_least_recently_used_and_rerun_brings_it_back() -> None:
    sc = get_scenario("default", n_traders=200, steps=30)
    with RunStore(max_runs=1, workers=1) as probe:  # how big one spilled run is
        probe.put(_run(9))
        probe.put(_run(8))
        probe.flush()
        one = probe.disk_bytes()
    assert one > 0
    with RunStore(max_runs=1, workers=1, max_disk_bytes=int(1.5 * one)) as store:
        jobs = [store.submit(sc, seed=s) for s in (0, 1, 2)]
        for job in jobs:
            assert _wait(store, job.run_id) == "done"
        store.flush()
        a, b, c = (j.run_id for j in jobs)
        assert [store.status(r) for r in (a, b, c)] == ["expired", "disk", "memory"]
        assert not (store.cache_dir / a).exists()  # deleted, oldest first
        assert store.disk_bytes() <= store.max_disk_bytes
        assert store.get(a) is None
        again = store.rerun(a)
        assert again.run_id == a and store.status(a) == "running"
        assert store.rerun(a) is again  # not started twice
        assert _wait(store, a) == "done"
        assert_same(store.get(a), simulate(sc, seed=0))  # the same run, under the same id
        assert store.status(a) == "memory"
        done = store.rerun(a)  # nothing to do: a finished job
        assert done.status == "done" and done.finished
        with pytest.raises(KeyError):
            store.rerun("never-issued")
        assert store.status("never-issued") == "unknown" and store.status(None) == "unknown"


def test_nothing_the_store_did_not_write_is_deleted(tmp_path: Path, runs: list[RunResult]) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "notes.txt").write_text("mine")
    (cache / "someone").mkdir()
    (cache / "someone" / "data.parquet").write_bytes(b"x")
    taken = cache / "taken-id"  # a directory that happens to have a run's name
    taken.mkdir()
    (taken / "keep.txt").write_text("mine too")
    store = RunStore(max_runs=1, cache_dir=cache, max_disk_bytes=0)  # every spill deleted
    store.put(runs[0], run_id="taken-id")
    ids = [store.put(r) for r in runs[1:]]
    store.flush()
    assert store.status("taken-id") == "expired"  # not written over: expired, not clobbered
    assert [store.status(i) for i in ids] == ["expired", "expired", "memory"]
    assert (taken / "keep.txt").read_text() == "mine too"
    store.close()
    assert sorted(p.name for p in cache.iterdir()) == ["notes.txt", "someone", "taken-id"]
    assert (cache / "someone" / "data.parquet").read_bytes() == b"x"


def test_close_removes_the_stores_own_runs_and_directory(tmp_path: Path,
                                                         runs: list[RunResult]) -> None:
    own = RunStore(max_runs=1)
    assert own.cache_dir.name.startswith("contagion-runs-")
    own.put(runs[0])
    own.put(runs[1])
    own.flush()
    assert own.status(next(iter(p.name for p in own.cache_dir.iterdir()))) == "disk"
    own.close()
    assert not own.cache_dir.exists()
    given = RunStore(max_runs=1, cache_dir=tmp_path)
    given.put(runs[0])
    given.put(runs[1])
    given.flush()
    assert any(tmp_path.iterdir())
    given.close()
    assert tmp_path.is_dir() and not any(tmp_path.iterdir())  # emptied, kept


def test_a_file_is_not_a_cache_dir(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(ParameterError, match="cache_dir"):
        RunStore(cache_dir=file)
    assert file.read_text() == ""


def test_any_run_id_spills_inside_the_cache(tmp_path: Path, runs: list[RunResult]) -> None:
    cache = tmp_path / "cache"
    with RunStore(max_runs=1, cache_dir=cache) as store:
        odd = ["../escape", "preset-/tmp/mine.toml-0", ".hidden", "a" * 300]
        for rid in odd:
            assert store.put(runs[0], run_id=rid) == rid
        store.put(runs[1])
        store.flush()
        assert [store.status(r) for r in odd] == ["disk"] * 4
        assert {p.name for p in cache.iterdir()} == {run_dirname(r) for r in odd}
        assert all(run_dirname(r).startswith("h-") for r in odd)
        assert_same(store.get("../escape"), runs[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_a_damaged_copy_expires_instead_of_failing(runs: list[RunResult]) -> None:
    with RunStore(max_runs=1) as store:
        a = store.put(runs[0])
        store.put(runs[1])
        store.flush()
        (store.cache_dir / a / "events.parquet").write_bytes(b"garbage")
        assert store.get(a) is None
        assert store.status(a) == "expired"
        store.flush()
        assert not (store.cache_dir / a).exists()


def test_a_run_put_again_under_its_id_replaces_the_spilled_copy(runs: list[RunResult]) -> None:
    with RunStore(max_runs=1) as store:
        store.put(runs[0], run_id="x")
        store.put(runs[1])
        store.flush()
        assert store.status("x") == "disk"
        store.put(runs[2], run_id="x")
        store.put(runs[3])
        store.flush()
        assert_same(store.get("x"), runs[2])


def test_thirty_sessions_each_keep_their_run() -> None:
    """Thirty browser sessions each start a run (8 fit in memory) and come back to it."""
    sc = get_scenario("default", n_traders=200, steps=20)
    with RunStore(max_runs=8, workers=2) as store:

        def session(seed: int) -> tuple[int, str]:
            job = store.submit(sc, seed=seed)
            assert _wait(store, job.run_id) == "done"
            return seed, job.run_id

        with ThreadPoolExecutor(max_workers=10) as sessions:
            mine = list(sessions.map(session, range(30)))
        store.flush()
        where = [store.status(rid) for _, rid in mine]
        assert where.count("memory") == 8 and where.count("disk") == 22
        for seed, rid in random.Random(0).sample(mine, len(mine)):
            back = store.get(rid)
            assert back is not None and back.seed == seed and back.summary["seed"] == seed
        for seed, rid in mine[:3]:  # spot checks, all from disk at first: equal to a fresh run
            assert_same(store.get(rid), simulate(sc, seed=seed))


def test_concurrent_puts_and_gets_do_not_corrupt(runs: list[RunResult]) -> None:
    with RunStore(max_runs=2) as store:
        ids: dict[str, int] = {}
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker(k: int) -> None:
            rng = random.Random(k)
            try:
                for _ in range(12):
                    if rng.random() < 0.4 or not ids:
                        i = rng.randrange(len(runs))
                        rid = store.put(runs[i])
                        with lock:
                            ids[rid] = i
                    else:
                        with lock:
                            rid, i = rng.choice(list(ids.items()))
                        got = store.get(rid)
                        assert got is not None, store.status(rid)
                        assert got.summary == runs[i].summary and got.seed == runs[i].seed
            except BaseException as exc:  # reported in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        store.flush()
        assert len(store) == 2
        for rid, i in ids.items():
            assert store.status(rid) in ("memory", "disk")
            assert_frame_equal(store.get(rid).events, runs[i].events)  # type: ignore[union-attr]


def test_create_app_passes_the_cache_settings_to_its_store(tmp_path: Path) -> None:
    from dashboard.app import create_app

    app = create_app("mango", cache_dir=tmp_path, max_disk_bytes=12345)
    store = app.server.config["CONTAGION_STORE"]
    assert store.cache_dir == tmp_path and store.max_disk_bytes == 12345
    store.close()
