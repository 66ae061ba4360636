"""Vectorised account books: a venue's accounts as a struct of numpy arrays.

A venue checks every account at once on these arrays; no Python object per account.
``owner`` maps each row to its holder: a trader id in ``[0, n_traders)``, or
``n_traders + k`` for the k-th institution (a trading firm), or ``-1`` for the outside
world (the perp venue's external market makers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["DepositBook", "LendingBook", "PerpBook"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass
class LendingBook:
    """Borrowers at a lending protocol: collateral units per asset, stablecoin debt and
    debt in units of each other asset the protocol lends (``LendingParams.borrow``)."""

    collateral: F64  # (n, k) units of each accepted collateral asset
    debt: F64  # (n,) stablecoin owed
    owner: I64  # (n,)
    debt_units: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # (n, m) units owed

    def __post_init__(self) -> None:
        if self.debt_units.shape[0] != self.debt.shape[0]:
            if self.debt_units.size:
                raise ValueError(f"debt_units has {self.debt_units.shape[0]} rows, debt "
                                 f"{self.debt.shape[0]}")
            self.debt_units = np.zeros((self.debt.shape[0], self.debt_units.shape[1]))

    def __len__(self) -> int:
        return int(self.debt.shape[0])

    @property
    def nbytes(self) -> int:
        return (self.collateral.nbytes + self.debt.nbytes + self.owner.nbytes
                + self.debt_units.nbytes)


@dataclass
class PerpBook:
    """Perpetual-futures accounts: stablecoin collateral, signed size and average entry price
    in each of the venue's markets.

    ``size`` and ``entry`` are ``(n, m)``: one column per market, the venue's primary market
    first (``PerpParams.market_assets``); a vector given for either is one market. An
    account's positions in every market share its ``collateral`` (cross margin within the
    venue). Row 0 is the outside world's market makers, the counterparty of the net open
    interest and of every liquidation order in each market. ``cross`` marks accounts margined
    together with their owner's deposit at a custodial exchange.
    """

    collateral: F64  # (n,)
    size: F64  # (n, m) signed units, long > 0
    entry: F64  # (n, m) average entry price
    owner: I64  # (n,)
    cross: NDArray[np.bool_]  # (n,)
    # options (PerpParams.options): (n, k) signed units of each listed series and the
    # average premium paid per unit; k = 0 (empty) at a venue that lists none
    opt_size: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    opt_entry: F64 = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        if self.size.ndim == 1:
            self.size = self.size.reshape(-1, 1)
        if self.entry.ndim == 1:
            self.entry = self.entry.reshape(-1, 1)
        n = self.size.shape[0]
        if self.opt_size.size == 0 and self.opt_size.shape[0] != n:
            self.opt_size = np.zeros((n, 0))
        if self.opt_entry.size == 0 and self.opt_entry.shape[0] != n:
            self.opt_entry = np.zeros((n, self.opt_size.shape[1]))

    @property
    def series(self) -> int:
        """Number of option series (columns of ``opt_size``)."""
        return int(self.opt_size.shape[1])

    def __len__(self) -> int:
        return int(self.size.shape[0])

    @property
    def markets(self) -> int:
        """Number of markets (columns of ``size``)."""
        return int(self.size.shape[1])

    def cash(self) -> float:
        """Stablecoin the venue holds for these accounts: ``sum(collateral - size*entry)``
        over accounts and markets.

        Notes
        -----
        Trades between rows move ``size*price`` of cash from buyer to seller, so this sum is
        invariant under trading: it changes only by deposits, withdrawals, fees and draws.
        """
        held = self.collateral
        for k in range(self.markets):
            held = held - self.size[:, k] * self.entry[:, k]
        for j in range(self.series):  # premiums paid (options; none at most venues)
            held = held - self.opt_size[:, j] * self.opt_entry[:, j]
        return float(np.sum(held))

    def cash_scale(self) -> float:
        """``sum(|collateral| + |size*entry|)``: the size of the terms :meth:`cash` adds up,
        the scale of its rounding (positions of 1e19 units pumped to $1e9 leave a cash
        of 1e8 below the resolution of sums of 1e28)."""
        total = np.abs(self.collateral).sum()
        for k in range(self.markets):
            total += np.abs(self.size[:, k] * self.entry[:, k]).sum()
        for j in range(self.series):
            total += np.abs(self.opt_size[:, j] * self.opt_entry[:, j]).sum()
        return float(total)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.collateral, self.size, self.entry, self.owner, self.cross,
                                      self.opt_size, self.opt_entry))


@dataclass
class DepositBook:
    """Customer stablecoin deposits at a custodial exchange and each depositor's run trigger.

    ``row_of[trader]`` is that trader's row, or -1 if it has no deposit here.
    """

    balance: F64
    owner: I64
    run_threshold: F64  # stress above which this depositor starts to withdraw
    row_of: NDArray[np.int32]

    def rows_of(self, owners: I64) -> tuple[I64, NDArray[np.bool_]]:
        """Rows of ``owners`` (0 where they have none) and a mask of those that have one."""
        rows = self.row_of[owners].astype(np.int64)
        has = rows >= 0
        return np.where(has, rows, 0), has

    def __len__(self) -> int:
        return int(self.balance.shape[0])

    @property
    def nbytes(self) -> int:
        return (self.balance.nbytes + self.owner.nbytes + self.run_threshold.nbytes
                + self.row_of.nbytes)
