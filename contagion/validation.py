"""Small validators used by every parameter dataclass.

Each raises :class:`~contagion.errors.ParameterError` naming the parameter, the value and
the allowed range, so that a bad value never passes silently or gets clamped.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

from contagion.errors import ParameterError

__all__ = [
    "check_choice",
    "check_int",
    "check_real",
]


def _fmt_range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{low:g} {'<' if low_open else '<='} ")
    parts.append("x")
    if high is not None:
        parts.append(f" {'<' if high_open else '<='} {high:g}")
    text = "".join(parts)
    return "any finite number" if text == "x" else text


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float if it is a real number within the range, else raise.

    Examples
    --------
    >>> check_real("fee_frac", 0.003, low=0, high=0.1)
    0.003
    >>> check_real("fee_frac", 0.5, low=0, high=0.1)
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'fee_frac' = 0.5 is invalid: allowed 0 <= x <= 0.1
    """
    allowed = _fmt_range(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParameterError(name, value, f"a number, {allowed}")
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise ParameterError(name, value, allowed)
    if low is not None and (x < low or (low_open and x == low)):
        raise ParameterError(name, value, allowed)
    if high is not None and (x > high or (high_open and x == high)):
        raise ParameterError(name, value, allowed)
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer within ``[low, high]``, else raise.

    Examples
    --------
    >>> check_int("n_traders", 1000, low=1)
    1000
    >>> check_int("n_traders", 2.5, low=1)
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'n_traders' = 2.5 is invalid: allowed an integer, 1 <= x
    """
    allowed = _fmt_range(low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(name, value, f"an integer, {allowed}")
    x = int(value)
    if (low is not None and x < low) or (high is not None and x > high):
        raise ParameterError(name, value, allowed)
    return x


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise.

    Examples
    --------
    >>> check_choice("shortfall_policy", "adl", ("adl", "socialise"))
    'adl'
    """
    if value not in choices:
        raise ParameterError(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value
