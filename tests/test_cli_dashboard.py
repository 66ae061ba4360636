"""``contagion dashboard --cache-dir DIR``: a bad directory is refused with a message naming
the option (exit status 2, no traceback) before Dash loads; a good one reaches the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contagion.cli import main


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("contagion: error: ") and "--cache-dir" in err
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
