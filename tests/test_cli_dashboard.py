"""``contagion dashboard``: a bad ``--cache-dir``, ``--host`` or ``--port`` is refused with a
message naming the option (exit status 2, no traceback) before Dash loads; a good one reaches
the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contagion.cli import main


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], option: str = "--cache-dir") -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("contagion: error: ") and option in err
    return err


def test_a_file_is_not_a_cache_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "runs.txt"
    file.write_text("mine")
    err = _refused(["dashboard", "--cache-dir", str(file)], capsys)
    assert "not a directory" in err
    assert file.read_text() == "mine"


def test_a_cache_dir_that_cannot_be_created(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "runs.txt"
    file.write_text("")
    err = _refused(["dashboard", "--cache-dir", str(file / "cache")], capsys)
    assert "cannot create it" in err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_cache_dir_that_is_not_writable(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(["dashboard", "--cache-dir", "/proc"], capsys)  # not writable, even as root
    assert "writable" in err


def test_a_good_cache_dir_reaches_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(dashboard.app, "serve", lambda **kw: seen.update(kw))
    cache = tmp_path / "new" / "cache"
    assert main(["dashboard", "--cache-dir", str(cache), "--port", "8123"]) == 0
    assert seen["cache_dir"] == cache and cache.is_dir()
    assert seen["port"] == 8123


def test_a_host_that_does_not_resolve_is_refused_before_dash_loads(capsys) -> None:
    err = _refused(["dashboard", "--host", "no-such-host.invalid", "--port", "8123"], capsys, "--host")
    assert "'--host' = 'no-such-host.invalid'" in err and "does not resolve" in err


def test_an_address_of_another_machine_is_refused(capsys) -> None:
    err = _refused(["dashboard", "--host", "192.0.2.1", "--port", "8123"], capsys, "--host")  # TEST-NET-1
    assert "'--host' = '192.0.2.1'" in err and "cannot listen there" in err


def test_a_port_in_use_is_refused_naming_it(capsys) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = _refused(["dashboard", "--port", str(port)], capsys, "--port")
    assert f"'--port' = {port}" in err and "another program listens on it" in err
