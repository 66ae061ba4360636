"""Small validators used by every parameter dataclass and every mechanics function.

Each raises :class:`~contagion.errors.ParameterError` naming the parameter, the value and
the allowed range, so that a bad value never passes silently or gets clamped. Scalars go
through :func:`check_real`, :func:`check_int` and :func:`check_choice`; arrays through
:func:`check_array` (vectorised, no Python loop), :func:`check_vector` and
:func:`check_exposure_matrix`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError

__all__ = [
    "check_array",
    "check_bool",
    "check_choice",
    "check_exposure_matrix",
    "check_int",
    "check_real",
    "check_vector",
    "clip_rounding",
    "scalar_or_array",
]

#: A negative result within this fraction of the scale of the quantities it came from is
#: floating-point rounding (a difference of two nearly equal sums), not a real deficit.
ROUNDING_REL = 1e-9


def _num(v: float) -> str:
    """A bound as a person writes it: 50,000,000 rather than 5e+07, 0.95 as 0.95."""
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:g}"


def _fmt_range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{_num(low)} {'<' if low_open else '<='} ")
    parts.append("x")
    if high is not None:
        parts.append(f" {'<' if high_open else '<='} {_num(high)}")
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
    def refuse(prefix: str = "") -> ParameterError:  # the message is built only to refuse
        allowed = _fmt_range(low, high, low_open, high_open)
        if allow_inf and high is not None:
            allowed += ", or inf (unlimited)"
        return ParameterError(name, value, prefix + allowed)

    if isinstance(value, bool) or not isinstance(value, Real):
        raise refuse("a number, ")
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise refuse()
    if low is not None and (x < low or (low_open and x == low)):
        raise refuse()
    if high is not None and (x > high or (high_open and x == high)) and not (
            allow_inf and x == math.inf):  # inf means unlimited where it is allowed
        raise refuse()
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
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(name, value, f"an integer, {_fmt_range(low, high, False, False)}")
    x = int(value)
    if (low is not None and x < low) or (high is not None and x > high):
        raise ParameterError(name, value, _fmt_range(low, high, False, False))
    return x


def scalar_or_array(arr: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """A 0-d result as a Python float, anything else as the array (vectorised functions
    return what they were given: a scalar for scalars)."""
    return float(arr) if arr.ndim == 0 else arr


def clip_rounding(value: float, scale: float, rel: float = ROUNDING_REL) -> float:
    """``value``, or 0.0 when it is negative by no more than ``rel * |scale|``: rounding.

    For a difference that is zero in exact arithmetic (what is left of a claim paid in
    full, ``nominal - (nominal * index) / index``) the float result can be a tiny negative;
    ``scale`` is the size of the quantities subtracted. A larger negative is returned as is,
    so a validator downstream still refuses it.

    Examples
    --------
    >>> clip_rounding(-3.28e-09, 1.3e8)
    0.0
    >>> clip_rounding(-1.0, 1.3e8)
    -1.0
    >>> clip_rounding(2.5, 1.0)
    2.5
    """
    if value < 0.0 and -value <= rel * abs(scale):
        return 0.0
    return value


def check_utc_timestamp(name: str, value: Any) -> int:
    """An ISO 8601 timestamp (no zone means UTC) as int64 nanoseconds since the epoch (UTC).

    Examples
    --------
    >>> check_utc_timestamp("start", "2022-06-12T00:00:00Z")
    1654992000000000000
    >>> check_utc_timestamp("start", "2022-06-12 00:00") == check_utc_timestamp(
    ...     "start", "2022-06-12T02:00+02:00")
    True
    >>> check_utc_timestamp("start", "12 June")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'start' = '12 June' is invalid: allowed an ISO 8601 ...
    """
    import datetime as dt

    allowed = "an ISO 8601 timestamp such as 2022-06-12T00:00:00Z (no zone means UTC)"
    if not isinstance(value, str):
        raise ParameterError(name, value, allowed)
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ParameterError(name, value, allowed) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (when - epoch) // dt.timedelta(microseconds=1) * 1000


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (not 0/1, not a string), else raise.

    Examples
    --------
    >>> check_bool("cross_margin", True)
    True
    >>> check_bool("cross_margin", 1)
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'cross_margin' = 1 is invalid: allowed true or false
    """
    if not isinstance(value, bool):
        raise ParameterError(name, value, "true or false")
    return value


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


def check_array(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
    ndim: int | None = None,
) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array if every entry is within the range, else raise.

    ``nan`` is always rejected, ``+-inf`` unless ``allow_inf``. The error names the first
    bad entry (in C order) and the allowed range. A float64 array is returned as is, not
    copied. The check costs two reductions (``min``, ``max``) over the array; the mask of
    bad entries is only built when there is one.

    Parameters
    ----------
    name : str
        Parameter name for the error message.
    value : array_like
        A number or an array of numbers, any shape.
    low, high : float, optional
        Bounds; ``low_open``/``high_open`` make them strict.
    allow_inf : bool, default False
        Accept ``+inf`` and ``-inf`` (still subject to the bounds).
    ndim : int, optional
        Required number of dimensions.

    Examples
    --------
    >>> check_array("debt_usd", [1.0, 2.0], low=0).tolist()
    [1.0, 2.0]
    >>> check_array("price", [3.0, 0.0, -1.0], low=0, low_open=True)
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'price' = 0.0 is invalid: allowed 0 < x, finite
    """
    lo = "" if low is None else f"{low:g} {'<' if low_open else '<='} "
    hi = "" if high is None else f" {'<' if high_open else '<='} {high:g}"
    allowed = f"{lo}x{hi}" + ("" if allow_inf else ", finite")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"a number or array of numbers, {allowed}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(name, f"array of shape {arr.shape}", f"a {ndim}-D array")
    if arr.size == 0:
        return arr
    smallest, largest = arr.min(), arr.max()  # both nan if any entry is nan
    ok = bool(smallest == smallest)
    if not allow_inf:
        ok = ok and -math.inf < smallest and largest < math.inf
    if low is not None:
        ok = ok and (smallest > low if low_open else smallest >= low)
    if high is not None:
        ok = ok and (largest < high if high_open else largest <= high)
    if ok:
        return arr
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    raise ParameterError(name, float(arr[bad].flat[0]), allowed)


def check_vector(
    name: str, value: ArrayLike, n: int | None = None, *, low: float | None = None,
) -> NDArray[np.float64]:
    """Return ``value`` as a finite 1-D float array, of length ``n`` and ``>= low`` if given.

    Examples
    --------
    >>> check_vector("external_assets", [1.0, 0.0], 2, low=0.0).tolist()
    [1.0, 0.0]
    >>> check_vector("external_assets", [1.0, -2.0], 2, low=0.0)
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'external_assets' = 'min entry -2' is invalid: \
allowed entries >= 0
    """
    arr = check_array(name, value, ndim=1)
    if n is not None and arr.shape[0] != n:
        raise ParameterError(name, f"array of length {arr.shape[0]}", f"length {n}",
                             "one per node")
    if low is not None and arr.size and arr.min() < low:
        raise ParameterError(name, f"min entry {arr.min():g}", f"entries >= {low:g}")
    return arr


def check_exposure_matrix(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return ``value`` as a finite, non-negative square matrix with a zero diagonal.

    That is, a bilateral network between ``n`` nodes, such as the liabilities of
    :func:`~contagion.mechanics.clearing.eisenberg_noe` or the exposures of
    :func:`~contagion.mechanics.debtrank.debtrank`; a node has no claim on itself.

    Examples
    --------
    >>> check_exposure_matrix("liabilities", [[0, 1], [2, 0]]).tolist()
    [[0.0, 1.0], [2.0, 0.0]]
    >>> check_exposure_matrix("liabilities", [[1, 1], [1, 0]])
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'liabilities' = 'nonzero diagonal' is invalid: \
allowed zero diagonal (a node cannot owe itself)
    """
    arr = check_array(name, value, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ParameterError(name, f"array of shape {arr.shape}", "a square (n, n) matrix")
    if arr.size and arr.min() < 0:
        raise ParameterError(name, f"min entry {arr.min():g}", "entries >= 0")
    if np.any(np.diag(arr) != 0):
        raise ParameterError(name, "nonzero diagonal", "zero diagonal",
                             hint="a node cannot owe itself")
    return arr
