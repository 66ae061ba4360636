"""The exception hierarchy of contagion.

Every error the library raises on purpose is a :class:`ContagionError`, so callers can
catch precisely. The subclasses also inherit the matching built-in (``ValueError``,
``KeyError``...), so code that already catches those keeps working.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ContagionError",
    "InvariantError",
    "NetworkFormatError",
    "OutputError",
    "ParameterError",
    "PositionsError",
    "PriceFileError",
    "RunCancelled",
    "RunFileError",
    "ScenarioFileError",
    "UnknownScenarioError",
]


class ContagionError(Exception):
    """Base class of every error raised on purpose by contagion."""


class ParameterError(ContagionError, ValueError):
    """A parameter is outside its allowed range or of the wrong type.

    Parameters
    ----------
    name : str
        Dotted name of the parameter, e.g. ``"lending[LendA].liquidation_bonus"``.
    value : object
        The offending value.
    allowed : str
        The allowed range or set, in words, e.g. ``"0 <= x <= 0.5"``.
    hint : str, optional
        How to fix it.

    Examples
    --------
    >>> err = ParameterError("shock_frac", 1.5, "0 <= x < 1")
    >>> str(err)
    "parameter 'shock_frac' = 1.5 is invalid: allowed 0 <= x < 1"
    """

    def __init__(self, name: str, value: Any, allowed: str, hint: str | None = None) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        self.hint = hint
        msg = f"parameter {name!r} = {value!r} is invalid: allowed {allowed}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnknownScenarioError(ContagionError, KeyError):
    """A scenario name is not in the registry."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown scenario {name!r}; known scenarios: {', '.join(known)} "
                         "(or a scenario file's path, ending .toml or .json)")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class NetworkFormatError(ContagionError, ValueError):
    """A user-supplied exposure network cannot be read."""


class RunFileError(ContagionError, ValueError):
    """A run directory (written by ``contagion.output.write_run``) cannot be read back."""


class ScenarioFileError(ContagionError, ValueError):
    """A scenario file cannot be read: bad syntax, an unknown or missing key, a wrong type,
    or a value out of range. The message names the file and the key path."""


class PositionsError(ContagionError, ValueError):
    """A positions file (a user's own books, ``contagion run --positions FILE``) is unusable.

    ``problems`` lists ``(row, column, message)`` for the first problems found (``row`` is
    1-based, header excluded, or ``None`` for a problem with the whole file); ``total`` counts
    them all. The message shows the first :data:`SHOWN` of them.
    """

    SHOWN = 50

    def __init__(self, source: str, problems: list[tuple[int | None, str | None, str]],
                 total: int | None = None, hint: str | None = None) -> None:
        self.source = source
        self.problems = problems
        self.total = len(problems) if total is None else total
        self.hint = hint
        head = f"{source}: {self.total:,} problem{'s' if self.total != 1 else ''}"
        if self.total > self.SHOWN:
            head += f" (the first {self.SHOWN} shown)"
        lines = [head + "; nothing was run:"]
        for row, column, message in problems[: self.SHOWN]:
            where = ", ".join(x for x in (f"row {row}" if row is not None else "",
                                          f"column {column}" if column else "") if x)
            lines.append(f"  {where}: {message}" if where else f"  {message}")
        if self.total > self.SHOWN:
            lines.append(f"  ... and {self.total - self.SHOWN:,} more")
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))


class RunCancelled(ContagionError):
    """A run was cancelled by its caller (e.g. the dashboard's Cancel button)."""


class InvariantError(ContagionError, RuntimeError):
    """An accounting invariant of the simulation was broken (a bug, please report it)."""


class OutputError(ContagionError, OSError):
    """A disk or operating-system fault while writing outputs (a full disk, an I/O error, a
    directory made read-only mid-run): the message names the destination and the fault, and
    nothing half-written is left behind. The command line exits with :attr:`exit_status` 1,
    not 2: the input was fine, the machine failed."""

    exit_status = 1

    def __str__(self) -> str:  # OSError would format (errno, strerror) pairs
        return str(self.args[0]) if self.args else ""


class PriceFileError(ScenarioFileError):
    """A price history a scenario replays (``PricePathParams(kind="replay", file=...)``)
    cannot be used: a missing file or column, a bad value, unsorted timestamps, or too short
    a history for the run. The message names the file and, where there is one, the row
    (1-based, header excluded) and the column."""
