"""What every institution of the engine offers the model: the interface, not a ``kind`` string.

Lending protocols, perp venues, custodial exchanges and trading firms are different agents,
but the model's stages, the credit clearing, the venue table and the exposure picture ask
each of them the same questions. They answer through these methods, so none of those
readers dispatches on ``kind`` (which stays a label in the outputs), and adding a venue type
means writing one agent module that implements them.

``balance_sheet()``
    assets, liabilities and how many of its accounts (or itself) are at risk, for the venue
    table and the node panel.
``network_state()``
    ``healthy`` or ``at_risk`` for the exposure picture (the model marks ``defaulted``).
``credit_position()``
    for institutions in the credit network (lenders, exchanges, firms): external assets and
    what it owes to whom (a creditor's name, or :data:`~contagion.credit.OUTSIDE` for
    depositors, retail suppliers and other outside creditors), which the model clears with
    Eisenberg-Noe each step.
``on_default(event_id)`` and ``after_default(event_id)``
    what it does once the model declares its default (in stage 6, for the defaults the
    agents reported during the step): before the network is cleared (an exchange that
    liquidates on default sells its holdings) and after (its depositors learn their
    recovery); most institutions do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["OUTSIDE", "BalanceSheet", "CreditPosition", "Institution", "NetworkMember"]

#: The credit network's sink: depositors, retail suppliers and other outside creditors.
OUTSIDE = "outside"


@dataclass(frozen=True)
class BalanceSheet:
    """An institution's books at this step, in USD."""

    assets_usd: float
    liabilities_usd: float
    at_risk: int

    @property
    def equity_usd(self) -> float:
        return self.assets_usd - self.liabilities_usd


@dataclass(frozen=True)
class CreditPosition:
    """What an institution brings to the credit network: assets outside it, and nominal
    liabilities as ``(creditor, usd)`` pairs (``creditor`` may be a name the network does
    not know: then it is an outside creditor)."""

    external_assets_usd: float
    owed: tuple[tuple[str, float], ...]


@runtime_checkable
class Institution(Protocol):
    """A venue or firm the model keeps books for."""

    name: str
    kind: str
    defaulted: bool
    default_step: int

    def balance_sheet(self) -> BalanceSheet: ...

    def network_state(self) -> str: ...

    def on_default(self, event_id: int) -> None: ...

    def after_default(self, event_id: int) -> None: ...


@runtime_checkable
class NetworkMember(Institution, Protocol):
    """An institution in the credit network the model clears each step."""

    def credit_position(self) -> CreditPosition: ...
