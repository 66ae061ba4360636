"""The harness itself: it passes a clean refusal and catches each defect it exists to find."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_harness import assert_refused


def test_a_clean_refusal_passes(tmp_path: Path) -> None:
    r = assert_refused(["run", "--set", "shock_frac=1.5"], cwd=tmp_path, names=["shock_frac"])
    assert r.code == 2 and "1.5" in r.err


def test_argparse_usage_errors_count_as_refusals(tmp_path: Path) -> None:
    assert_refused(["run", "--steps", "many"], cwd=tmp_path, names=["--steps", "many"])


def test_a_run_that_succeeds_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="expected exit"):
        assert_refused(["scenarios"], cwd=tmp_path)


def test_a_message_that_does_not_name_the_input_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="does not name"):
        assert_refused(["run", "--set", "shock_frac=1.5"], cwd=tmp_path, names=["n_traders"])


def test_a_deleted_file_is_caught(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    # --force on a bad scenario: nothing may be deleted before the input is checked
    assert_refused(["run", "--set", "shock_frac=1.5", "--out", str(out), "--force"],
                   cwd=tmp_path, names=["shock_frac"])
    assert (out / "mine.txt").read_text() == "keep me"
