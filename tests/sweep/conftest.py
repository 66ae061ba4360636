"""Shared helpers of the sweep tests: tiny specs (150 traders, 30 steps) written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TINY_FIXED = "n_traders = 150\nsteps = 30\n"


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a spec: ``write_spec(sweep=..., swept=..., fixed=..., extra=...)`` -> its path.

    ``sweep`` is the body of the ``[sweep]`` table (``name``, ``root_seed`` and ``out`` are
    filled in unless given); ``fixed`` defaults to the tiny run size.
    """

    def write(*, sweep: str = "", swept: str = "", fixed: str = TINY_FIXED, extra: str = "",
              name: str = "spec") -> Path:
        head = sweep
        if "root_seed" not in head:
            head += "\nroot_seed = 20261124"
        if "out =" not in head:
            head += f'\nout = "{(tmp_path / "out").as_posix()}"'
        text = f"[sweep]\n{head}\n\n[fixed]\n{fixed}\n\n[swept]\n{swept}\n\n{extra}\n"
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        return path

    return write
