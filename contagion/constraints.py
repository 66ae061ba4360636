r"""Parameter bounds declared once, on the fields, for the checks and for JSON Schema.

A field of a parameter dataclass (:mod:`contagion.params`) carries its allowed values as
:data:`typing.Annotated` metadata::

    fee_frac: Annotated[float, Real(low=0, high=0.1)] = 0.003

:func:`check_fields`, called first in every ``__post_init__``, runs the matching check of
:mod:`contagion.validation` on every annotated field in field order, so a bad value raises
the same :class:`~contagion.errors.ParameterError` as a hand-written ``check_real(...)``.
Checks that involve several fields (``ltv <= liquidation_threshold``) stay in
``__post_init__``, after that call.

Each constraint also implements pydantic's metadata hook ``__get_pydantic_json_schema__``,
so ``pydantic.TypeAdapter(Scenario).json_schema()`` carries the ranges (``minimum``,
``exclusiveMaximum``, ``enum``, ``pattern``...) that editors check. The hook is duck-typed:
contagion does not import pydantic.

Examples
--------
>>> from contagion.params import PoolParams
>>> dict(field_constraints(PoolParams))["fee_frac"]
Real(low=0, high=0.1, low_open=False, high_open=False, allow_inf=False, narrowed_by=None)
>>> PoolParams(name="P", base="ETH", reserve_base=1e3, fee_frac=0.5)
Traceback (most recent call last):
...
contagion.errors.ParameterError: parameter 'pools[P].fee_frac' = 0.5 is invalid: allowed 0 <= x <= 0.1
>>> Real(low=0, high=0.1).json_schema()
{'minimum': 0, 'maximum': 0.1}
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from contagion.errors import ParameterError
from contagion.validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "NAME_PATTERN",
    "Bool",
    "Constraint",
    "Int",
    "Name",
    "OneOf",
    "Real",
    "Text",
    "check_fields",
    "field_constraints",
]

NAME_ALLOWED = "a non-empty name of letters, digits, '-', '_' or '/'"
# The check accepts Unicode letters and digits (str.isalnum); a portable JSON Schema regex
# cannot say that, so the pattern is exact on ASCII and lets any non-ASCII character through.
NAME_PATTERN = "^[A-Za-z0-9_/\\u0080-\\uffff-]+$"


class Constraint:
    """Base of the field constraints: a check and the JSON Schema keywords that say it."""

    #: The field that narrows this one's range; ``__post_init__`` then checks this one
    #: itself (see :class:`Real`).
    narrowed_by: str | None = None

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`ParameterError` naming ``name`` unless ``value`` is allowed."""
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema keywords this constraint adds to the field's schema."""
        return {}

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        """pydantic's hook for ``Annotated`` metadata: the type's schema plus our keywords."""
        js = dict(handler(core_schema))
        js.update(self.json_schema())
        return js


@dataclass(frozen=True)
class Real(Constraint):
    """A real number (not a bool, not nan) in a range; ``+-inf`` only with ``allow_inf``.

    ``narrowed_by`` names the field whose value narrows this range further (for instance
    ``maintenance_margin_frac <= initial_margin_frac``). The declared range is then the
    static part, for the schema, and ``__post_init__`` checks the field with the narrowed
    range itself (so the message states the range that applies); :func:`check_fields`
    skips it.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False
    narrowed_by: str | None = None

    def check(self, name: str, value: Any) -> None:
        check_real(name, value, low=self.low, high=self.high, low_open=self.low_open,
                   high_open=self.high_open, allow_inf=self.allow_inf)

    def json_schema(self) -> dict[str, Any]:
        # JSON has no infinity: an ``allow_inf`` field's schema just says "number".
        js: dict[str, Any] = {}
        if self.low is not None:
            js["exclusiveMinimum" if self.low_open else "minimum"] = self.low
        if self.high is not None and not self.allow_inf:  # a TOML file may say inf there
            js["exclusiveMaximum" if self.high_open else "maximum"] = self.high
        return js


@dataclass(frozen=True)
class Int(Constraint):
    """An integer (not a bool) in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def check(self, name: str, value: Any) -> None:
        check_int(name, value, low=self.low, high=self.high)

    def json_schema(self) -> dict[str, Any]:
        js: dict[str, Any] = {"type": "integer"}
        if self.low is not None:
            js["minimum"] = self.low
        if self.high is not None:
            js["maximum"] = self.high
        return js


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a fixed set of values (``"adl"`` or ``"socialise"``)."""

    choices: tuple[Any, ...]

    def check(self, name: str, value: Any) -> None:
        check_choice(name, value, self.choices)

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@dataclass(frozen=True)
class Bool(Constraint):
    """``True`` or ``False``: not 0/1, not a string."""

    def check(self, name: str, value: Any) -> None:
        check_bool(name, value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Name(Constraint):
    """A name other parameters refer to: non-empty, letters, digits, ``-``, ``_``, ``/``."""

    def check(self, name: str, value: Any) -> None:
        ok = isinstance(value, str) and value and all(ch.isalnum() or ch in "-_/" for ch in value)
        if not ok:
            raise ParameterError(name, value, NAME_ALLOWED)

    def json_schema(self) -> dict[str, Any]:
        return {"minLength": 1, "pattern": NAME_PATTERN}


@dataclass(frozen=True)
class Text(Constraint):
    """A string with at least one non-blank character; ``allowed`` says what it is for."""

    allowed: str = "a non-empty text"

    def check(self, name: str, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(name, value, self.allowed)

    def json_schema(self) -> dict[str, Any]:
        return {"minLength": 1, "pattern": "\\S"}


_RULES: dict[type, tuple[tuple[str, Constraint], ...]] = {}


def field_constraints(cls: type) -> tuple[tuple[str, Constraint], ...]:
    """``(field name, constraint)`` of every constrained field of dataclass ``cls``, in
    field order (read once per class from ``Annotated[type, constraint]`` hints).

    >>> from contagion.params import PoolParams
    >>> [name for name, _ in field_constraints(PoolParams)][:4]
    ['name', 'reserve_base', 'fee_frac', 'arb_capacity_usd_per_step']
    """
    rules = _RULES.get(cls)
    if rules is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        found = []
        for f in dataclasses.fields(cls):
            ours = [m for m in getattr(hints[f.name], "__metadata__", ()) if isinstance(m, Constraint)]
            if len(ours) > 1:
                raise TypeError(f"{cls.__name__}.{f.name} has {len(ours)} constraints; give it one")
            if ours:
                found.append((f.name, ours[0]))
        rules = _RULES[cls] = tuple(found)
    return rules


def check_fields(obj: object, where: str) -> None:
    """Check every constrained field of dataclass instance ``obj``, in field order.

    The error names the field as ``f"{where}.{field}"`` (``"pools[P].fee_frac"``). Fields
    whose range is narrowed by another field (:attr:`Real.narrowed_by`) are left to the
    explicit check in ``__post_init__``.
    """
    for name, rule in field_constraints(type(obj)):
        if rule.narrowed_by is None:
            rule.check(f"{where}.{name}", getattr(obj, name))
