"""Positions files: the books a run starts from, written out and read back in.

Every run writes the books it started from as ``positions.parquet`` (:func:`positions_frame`),
and ``contagion run SCENARIO --positions FILE`` (or ``ContagionModel(..., positions=frame)``)
starts from a user's own books instead of random ones. The format (docs/positions.md) is
long, one row per position:

``account`` (int64)
    the holder: a trader ``0..n_traders-1``; a firm ``n_traders + k`` (the k-th of the
    scenario's firms, only at its lender); ``-1`` the outside world (the perp venues' market
    makers).
``venue``, ``kind``, ``asset`` (str)
    where and what: ``collateral`` (units of an accepted asset at a lender; stablecoin margin
    at a perp venue), ``debt`` (owed to a lender: the stablecoin or an asset it lends,
    ``LendingParams.borrow``; several per account), ``perp`` (signed size in units
    of the venue's asset), ``option`` (signed size in units of a series the perp venue
    lists; ``asset`` is the series' name, :func:`option_labels`), ``deposit`` (stablecoin
    at a custodial exchange), ``wallet`` (stablecoin in the trader's own wallet; venue
    ``wallet``).
``amount`` (float64)
    units of ``asset`` (USD for the numeraire: margin, stablecoin debt, deposits, wallets).
``entry_price`` (float64)
    a perp position's average entry price, an option position's premium per unit; empty on
    every other row.
``cross_margined`` (bool, optional)
    on ``perp`` rows: the account is margined with its owner's deposit at the custodial
    exchange the venue is wired to.
``tops_up`` (bool, optional)
    on ``wallet`` rows: the trader adds margin or repays debt from its wallet near
    liquidation.
``run_threshold`` (float64, optional)
    on ``deposit`` rows: the exchange's stress above which this depositor starts to withdraw.

An optional column that is absent, or an empty cell, means "as the scenario draws it":
``cross_margined`` and ``tops_up`` take the trader's random policy (the scenario's
``cross_margin_share`` and ``topup_share``); ``run_threshold`` is set from the deposit's
size rank (larger depositors run first). A firm without rows keeps the account its
scenario gives it; a perp venue without rows of account -1 gets the engine's outside
market makers (the traders' net opposite position, ten times the open interest as margin).

Exact reproduction: the model draws the random books as it always does (the same random
numbers are consumed, so everything drawn after them is unchanged) and then replaces them
with the file's before anything uses them. A run's ``positions.parquet`` read back with the
same scenario and seed therefore reproduces the run byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pyarrow import csv as pa_csv

from contagion.book import DepositBook, LendingBook, PerpBook
from contagion.errors import PositionsError

if TYPE_CHECKING:
    from contagion.scenario import Scenario

__all__ = ["COLUMNS", "KINDS", "MAX_FILE_BYTES", "Positions", "StartingBooks", "check_positions", "copy_book",
           "option_labels", "positions_frame", "read_positions", "starting_books"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

COLUMNS = ("account", "venue", "kind", "asset", "amount", "entry_price", "cross_margined",
           "tops_up", "run_threshold")
REQUIRED = ("account", "venue", "kind", "asset", "amount")
KINDS = ("collateral", "debt", "perp", "deposit", "wallet", "option")
COLLATERAL, DEBT, PERP, DEPOSIT, WALLET, OPTION = range(6)
WALLET_VENUE = "wallet"
LENDING, PERP_VENUE, CUSTODIAL, WALLETS = range(4)
KINDS_AT = {LENDING: (COLLATERAL, DEBT), PERP_VENUE: (COLLATERAL, PERP, OPTION),
            CUSTODIAL: (DEPOSIT,), WALLETS: (WALLET,)}
VENUE_TYPE = {LENDING: "lending venue", PERP_VENUE: "perp venue", CUSTODIAL: "custodial exchange",
              WALLETS: "wallets"}
OUTSIDE = -1
MAX_FILE_BYTES = 1 << 30  # 1 GiB: about 15 million rows of CSV
KEPT = 1000  # problems kept on the error (the message shows PositionsError.SHOWN)
DEPOSIT_TOL_USD = 1.0
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


# ---------------------------------------------------------------------- reading
def read_positions(path: str | Path) -> pd.DataFrame:
    """Read a positions file: CSV (UTF-8) or Parquet, by its suffix.

    Cells are read as written (CSV as text) and checked by :func:`check_positions`; rows
    that are entirely empty are dropped, but rows keep their numbers (``attrs["rows"]``).
    Raises :class:`PositionsError` for a missing, empty, oversized or unreadable file.
    """
    p = Path(path)
    src = f"positions file {p}"
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise PositionsError(src, [(None, None, f"unknown file type {p.suffix or '(none)'!r}: "
                                    "a positions file is .csv (UTF-8) or .parquet")])
    if not p.is_file():
        raise PositionsError(src, [(None, None, "no such file")])
    size = p.stat().st_size
    if size == 0:
        raise PositionsError(src, [(None, None, "the file is empty: it needs a header row "
                                    "(account,venue,kind,asset,amount,...) and positions")])
    if size > MAX_FILE_BYTES:
        raise PositionsError(src, [(None, None, f"the file is {size / 2**20:,.0f} MiB; at most "
                                    f"{MAX_FILE_BYTES / 2**20:,.0f} MiB are read (use Parquet, "
                                    "about 5x smaller than CSV)")])
    if suffix == ".csv":
        frame = _read_csv(p, src)
        blank = np.ones(len(frame), dtype=bool)
        for col in frame.columns:
            blank &= _empty(frame[col])
        rows = np.flatnonzero(~blank) + 1
        frame = frame.loc[~blank].reset_index(drop=True)
    else:
        try:
            frame = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise PositionsError(src, [(None, None, f"not a readable Parquet file: {exc}")]) from None
        rows = np.arange(1, len(frame) + 1)
    frame.attrs["rows"] = rows
    frame.attrs["source"] = src
    return frame


def _read_csv(path: Path, src: str) -> pd.DataFrame:
    """Every cell of a UTF-8 CSV as text (pyarrow's reader); blank lines kept as empty rows."""
    import csv

    with path.open("rb") as fh:
        head = fh.readline()
    try:
        names = next(csv.reader([head.decode("utf-8-sig")]), [])
    except UnicodeDecodeError as exc:
        raise PositionsError(src, [(None, None, f"not UTF-8 text (byte {exc.start} of the header):"
                                    " save it as CSV UTF-8")]) from None
    if not [x for x in names if x.strip()]:
        raise PositionsError(src, [(None, None, "the first line is empty: it must be the header "
                                    "(account,venue,kind,asset,amount,...)")])
    try:
        table = pa_csv.read_csv(
            path, parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        text = str(exc)
        if "UTF8" in text or "utf8" in text.lower():
            raise PositionsError(src, [(None, None, "not UTF-8 text: save it as CSV UTF-8")]) from None
        raise PositionsError(src, [(None, None, f"not a readable CSV: {text}")]) from None
    return table.to_pandas()


# ---------------------------------------------------------------------- parsing cells
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$|^[+-]?(inf|infinity|nan)$"


def _empty(col: pd.Series) -> NDArray[np.bool_]:
    """Cells that are NA or blank text."""
    if pd.api.types.is_string_dtype(col) or col.dtype == object:
        return np.array(pc.equal(_arrow_text(col), "").to_numpy(zero_copy_only=False), dtype=bool)
    return np.array(col.isna().to_numpy(), dtype=bool)


def _categories(col: pd.Series, names: list[str]
                ) -> tuple[I64, NDArray[np.bool_], Callable[[int], str]]:
    """Index of each cell in ``names`` (-1 if absent or empty), which cells are empty, and
    each cell's text (for messages); vectorised by factorising the column."""
    codes, uniques = pd.factorize(col)
    texts = [str(u.item() if isinstance(u, np.generic) else u).strip() for u in uniques]
    lookup = {x: j for j, x in enumerate(names)}
    index = np.array([lookup.get(t, -1) for t in texts] + [-1], dtype=np.int64)
    blank = np.array([not t for t in texts] + [True])
    texts.append("")
    return index[codes], blank[codes], lambda i: texts[codes[i]]


def _arrow_text(col: pd.Series) -> pa.Array:
    """Cells as trimmed UTF-8 strings, missing cells as ''."""
    try:
        arr = pa.array(col, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        miss = col.isna()
        arr = pa.array(col.astype(object).where(~miss, "").map(str), type=pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


def _number(col: pd.Series) -> tuple[F64, NDArray[np.bool_], NDArray[np.bool_]]:
    """(values, missing, not-a-number): NaN cells count as missing. Text is parsed by
    Arrow (correctly rounded: a float written with ``repr`` reads back exactly)."""
    if pd.api.types.is_bool_dtype(col):
        miss = col.isna().to_numpy()
        return np.full(len(col), np.nan), miss, ~miss
    if pd.api.types.is_numeric_dtype(col):
        v = np.array(col.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return v, np.isnan(v), np.zeros(v.size, dtype=bool)
    text = _arrow_text(col)
    valid = pc.match_substring_regex(text, _NUMBER, ignore_case=True)
    v = pc.cast(pc.if_else(valid, text, pa.scalar(None, pa.string())), pa.float64())
    values = v.to_numpy(zero_copy_only=False).astype(np.float64)
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    valid_np = valid.to_numpy(zero_copy_only=False)
    return values, empty | (valid_np & np.isnan(values)), ~empty & ~valid_np


def _flag(col: pd.Series) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """A yes/no cell as -1 (missing), 0 or 1, and which cells are neither."""
    if pd.api.types.is_bool_dtype(col):
        miss = col.isna().to_numpy()
        out = np.where(miss, -1, col.to_numpy(dtype=bool, na_value=False)).astype(np.int8)
        return out, np.zeros(len(col), dtype=bool)
    codes, uniques = pd.factorize(col)
    value = []
    for u in uniques:
        t = str(u.item() if isinstance(u, np.generic) else u).strip().lower()
        value.append(1 if t in _TRUE else 0 if t in _FALSE else -1 if t in ("", "nan") else -2)
    out = np.array([*value, -1], dtype=np.int8)[codes]
    return np.where(out == -2, -1, out).astype(np.int8), out == -2


# ---------------------------------------------------------------------- problems
class _Problems:
    """Problems found by vectorised checks; messages are written for the first few only."""

    def __init__(self, rows: I64) -> None:
        self.rows = rows
        self.file: list[tuple[int | None, str | None, str]] = []
        self.checks: list[tuple[I64, str, Callable[[int], str]]] = []

    def add(self, mask: NDArray[np.bool_], column: str, message: Callable[[int], str]) -> None:
        idx = np.flatnonzero(mask)
        if idx.size:
            self.checks.append((idx, column, message))

    def add_one(self, i: int, column: str, text: str) -> None:
        self.checks.append((np.array([i], dtype=np.int64), column, lambda _: text))

    def __bool__(self) -> bool:
        return bool(self.file or self.checks)

    def raise_if_any(self, source: str, hint: str | None = None) -> None:
        if not self:
            return
        total = len(self.file) + sum(idx.size for idx, _, _ in self.checks)
        found: list[tuple[int, int, str, str]] = []
        for order, (idx, column, message) in enumerate(self.checks):
            found += [(int(self.rows[i]), order, column, message(int(i))) for i in idx[:KEPT]]
        found.sort(key=lambda x: (x[0], x[1]))
        rows = [(r, c, m) for r, _, c, m in found[:KEPT]]
        raise PositionsError(source, [*self.file, *rows], total=total, hint=hint)


# ---------------------------------------------------------------------- checked positions
@dataclass(frozen=True, eq=False)
class Positions:
    """A positions table checked against one scenario, as arrays (one entry per row).

    ``venue`` indexes :func:`venue_names` (lending, perp, custodial venues, then
    ``wallet``); ``kind`` indexes :data:`KINDS`; ``asset`` indexes ``scenario.assets``;
    ``cross_margined`` and ``tops_up`` are -1 where the file leaves them to the scenario;
    ``run_threshold`` is NaN there. Build with :func:`check_positions`.
    """

    scenario: Scenario
    account: I64
    venue: I64
    kind: I64
    asset: I64
    amount: F64
    entry_price: F64
    cross_margined: NDArray[np.int8]
    tops_up: NDArray[np.int8]
    run_threshold: F64

    def __len__(self) -> int:
        return int(self.account.size)

    def _at(self, venue: int) -> I64:
        return np.flatnonzero(self.venue == venue)

    def lending_book(self, i: int, drawn: LendingBook) -> LendingBook:
        """Lending venue ``i``'s book from the file; firms without rows keep ``drawn``'s."""
        sc = self.scenario
        n = sc.traders.n_traders
        sel = self._at(i)
        acc, kind, amount = self.account[sel], self.kind[sel], self.amount[sel]
        owners = np.unique(acc)
        firms = drawn.owner[drawn.owner >= n]
        kept = firms[~np.isin(firms, owners)]
        owners = np.sort(np.concatenate([owners, kept]))
        column = np.full(len(sc.assets), -1, dtype=np.int64)
        index = {a.name: j for j, a in enumerate(sc.assets)}
        collateral_assets = [c.asset for c in sc.lending[i].collateral]
        column[[index[a] for a in collateral_assets]] = np.arange(len(collateral_assets))
        collateral = np.zeros((owners.size, len(collateral_assets)))
        debt = np.zeros(owners.size)
        borrowed = [b.asset for b in sc.lending[i].borrow]
        debt_column = np.full(len(sc.assets), -1, dtype=np.int64)
        debt_column[[index[a] for a in borrowed]] = np.arange(len(borrowed))
        debt_units = np.zeros((owners.size, len(borrowed)))
        r = np.searchsorted(owners, acc)
        asset = self.asset[sel]
        c = kind == COLLATERAL
        collateral[r[c], column[asset[c]]] = amount[c]
        d = (kind == DEBT) & (asset == index[sc.market.numeraire])
        debt[r[d]] = amount[d]
        u = (kind == DEBT) & ~d
        debt_units[r[u], debt_column[asset[u]]] = amount[u]
        if kept.size:
            from_row = np.searchsorted(drawn.owner, kept) if np.all(np.diff(drawn.owner) > 0) \
                else np.array([int(np.flatnonzero(drawn.owner == h)[0]) for h in kept])
            to_row = np.searchsorted(owners, kept)
            collateral[to_row] = drawn.collateral[from_row]
            debt[to_row] = drawn.debt[from_row]
            debt_units[to_row] = drawn.debt_units[from_row]
        return LendingBook(collateral=collateral, debt=debt, owner=owners.astype(np.int64),
                           debt_units=debt_units)

    def perp_book(self, i: int, price: float | F64, drawn_cross: NDArray[np.bool_]) -> PerpBook:
        """Perp venue ``i``'s book from the file, the outside world's market makers in row 0.

        ``price``: each market's price (the venue's ``market_assets`` order), the entry of a
        position the file leaves flat and of the market makers where nothing nets.
        """
        sc = self.scenario
        pv = sc.perps[i]
        prices = np.atleast_1d(np.asarray(price, dtype=np.float64))
        k = prices.size
        names = asset_names(sc)
        index = {a: j for j, a in enumerate(names)}
        column = np.full(len(names), -1, dtype=np.int64)
        column[[index[a] for a in pv.market_assets]] = np.arange(k)
        sel = self._at(len(sc.lending) + i)
        acc, kind, amount = self.account[sel], self.kind[sel], self.amount[sel]
        traders = np.unique(acc[acc >= 0])
        m = traders.size
        collateral, size = np.zeros(m + 1), np.zeros((m + 1, k))
        entry, cross = np.tile(prices, (m + 1, 1)), np.zeros(m + 1, dtype=bool)
        r = np.where(acc >= 0, np.searchsorted(traders, acc) + 1, 0)
        c, p = kind == COLLATERAL, kind == PERP
        col = column[self.asset[sel]]
        collateral[r[c]] = amount[c]
        size[r[p], col[p]] = amount[p]
        entry[r[p], col[p]] = self.entry_price[sel][p]
        flag = self.cross_margined[sel][p]
        effective = np.where(flag < 0, drawn_cross[np.maximum(acc[p], 0)], flag == 1)
        cross[r[p][effective]] = True  # an account is cross-margined if any of its rows says so
        cross[0] = False
        outside = acc == OUTSIDE
        oi = 0.0
        for j in range(k):
            if not (outside & p & (col == j)).any():  # the engine's market makers: net opposite
                net = float(size[1:, j].sum())
                size[0, j] = -net
                entry[0, j] = float((size[1:, j] * entry[1:, j]).sum() / net) if net != 0 \
                    else float(prices[j])
            oi += float(np.abs(size[1:, j]).sum() * prices[j])
        extra: dict[str, F64] = {}
        if pv.options:  # as the drawn books: every series opens at its start value
            labels = option_labels(sc, pv)
            series = np.full(len(names), -1, dtype=np.int64)
            series[[index[x] for x in labels]] = np.arange(len(labels))
            o = kind == OPTION
            s_of = series[self.asset[sel]]
            opt_size = np.zeros((m + 1, len(labels)))
            opt_entry = np.tile(_option_start_values(sc, pv, prices), (m + 1, 1))
            opt_size[r[o], s_of[o]] = amount[o]
            opt_entry[r[o], s_of[o]] = self.entry_price[sel][o]
            given = np.zeros(len(labels), dtype=bool)
            given[s_of[o & outside]] = True
            opt_size[0, ~given] = -opt_size[1:].sum(axis=0)[~given]
            cols = np.array([pv.market_assets.index(x.asset) for x in pv.options], dtype=np.int64)
            oi += float((np.abs(opt_size[1:]) * prices[cols]).sum())
            extra = {"opt_size": opt_size, "opt_entry": opt_entry}
        if not (outside & c).any():
            collateral[0] = 10.0 * oi + 1.0
        return PerpBook(collateral=collateral, size=size, entry=entry,
                        owner=np.concatenate([[OUTSIDE], traders]).astype(np.int64), cross=cross,
                        **extra)

    def deposit_book(self, i: int) -> DepositBook:
        """Custodial exchange ``i``'s deposits from the file."""
        sc = self.scenario
        c = sc.custodial[i]
        sel = self._at(len(sc.lending) + len(sc.perps) + i)
        order = np.argsort(self.account[sel], kind="stable")
        owners = self.account[sel][order]
        balance = self.amount[sel][order]
        threshold = self.run_threshold[sel][order]
        m = owners.size
        missing = np.isnan(threshold)
        if missing.any():  # as the engine draws them, the uniform part at its mean
            rank = np.argsort(np.argsort(-balance, kind="stable"), kind="stable") / max(m - 1, 1)
            spread = (1.0 - c.run_stress_threshold) * 0.8
            threshold[missing] = (c.run_stress_threshold
                                  + spread * (0.5 * rank + 0.25))[missing]
        row_of = np.full(sc.traders.n_traders, -1, dtype=np.int32)
        row_of[owners] = np.arange(m, dtype=np.int32)
        return DepositBook(balance=balance, owner=owners.astype(np.int64), run_threshold=threshold,
                           row_of=row_of)

    def traders(self, drawn_tops_up: NDArray[np.bool_], drawn_cross: NDArray[np.bool_]
                ) -> tuple[F64, NDArray[np.bool_], NDArray[np.bool_]]:
        """Wallets, top-up policies and cross-margin flags of the traders."""
        n = self.scenario.traders.n_traders
        wallet = np.zeros(n)
        w = self.kind == WALLET
        wallet[self.account[w]] = self.amount[w]
        tops_up = drawn_tops_up.copy()
        given = w & (self.tops_up >= 0)
        tops_up[self.account[given]] = self.tops_up[given] == 1
        cross = drawn_cross.copy()
        p = (self.kind == PERP) & (self.account >= 0)
        acc, flag = self.account[p], self.cross_margined[p]
        effective = np.where(flag < 0, drawn_cross[acc], flag == 1)
        cross[acc] = False
        cross[acc[effective]] = True
        return wallet, tops_up, cross


def venue_names(scenario: Scenario) -> list[str]:
    """Venues a positions file may name, in the order of exports: lending, perp, custodial
    venues, then ``wallet``."""
    return [*(v.name for v in scenario.lending), *(v.name for v in scenario.perps),
            *(c.name for c in scenario.custodial), WALLET_VENUE]


def option_labels(scenario: Scenario, venue: Any) -> list[str]:
    """Names of a perp venue's option series in positions files, Deribit-style
    ``ASSET-<days>D-<strike>-C|P``, the strike in USD at the start (``strike_frac`` x the
    asset's initial price): e.g. ``ETH-7D-2000-P``.

    >>> from models import get_scenario
    >>> desk = get_scenario("options_desk")
    >>> option_labels(desk, desk.perps[0])
    ['ETH-7D-1800-P', 'ETH-7D-2000-P', 'ETH-7D-2000-C', 'ETH-30D-2200-C']
    """
    price = {a.name: a.initial_price_usd for a in scenario.assets}
    return [f"{o.asset}-{o.expiry_days:g}D-{o.strike_frac * price[o.asset]:.10g}-"
            f"{'C' if o.kind == 'call' else 'P'}" for o in venue.options]


def asset_names(scenario: Scenario) -> list[str]:
    """What the ``asset`` column may name: the scenario's assets, then the option series
    of its perp venues (:func:`option_labels`, each name once)."""
    names = [a.name for a in scenario.assets]
    for pv in scenario.perps:
        names += [x for x in option_labels(scenario, pv) if x not in names]
    return names


def _option_start_values(scenario: Scenario, venue: Any, prices: F64) -> F64:
    """Each series' Black-76 value at the start, as the drawn books open them."""
    from contagion.build import option_series
    from contagion.mechanics.options import bsm_price

    cols, is_call, strike, expiry, vol = option_series(scenario, venue, prices)
    return np.asarray(bsm_price(is_call, prices[cols], strike, expiry, vol), dtype=np.float64)


def _venue_types(scenario: Scenario) -> I64:
    return np.array([LENDING] * len(scenario.lending) + [PERP_VENUE] * len(scenario.perps)
                    + [CUSTODIAL] * len(scenario.custodial) + [WALLETS], dtype=np.int64)


def _listing(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names) if names else "(none)"


def check_positions(frame: pd.DataFrame, scenario: Scenario, *, source: str | None = None
                    ) -> Positions:
    """Check a positions table against ``scenario``; return it as :class:`Positions`.

    Every row is checked (venue, kind, asset accepted there, signs, numbers, account range,
    entry prices, flags, duplicates), then each venue's totals; all problems are raised
    together as one :class:`PositionsError` naming each row (1-based, header excluded) and
    column. The file's deposits at each custodial exchange must total the scenario's
    ``deposits_usd`` within $1 (its balance sheet is built from that figure).
    """
    src = source or str(frame.attrs.get("source", "positions"))
    rows = np.asarray(frame.attrs.get("rows", np.arange(1, len(frame) + 1)), dtype=np.int64)
    if rows.size != len(frame):
        rows = np.arange(1, len(frame) + 1)
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    problems = _Problems(rows)
    for col in REQUIRED:
        if col not in columns:
            problems.file.append((None, col, "missing column; required: " + ", ".join(REQUIRED)))
    for col in columns:
        if col not in COLUMNS:
            problems.file.append((None, col, f"unknown column; the columns are {', '.join(COLUMNS)}"))
    if len(set(columns)) < len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        problems.file.append((None, dup[0], "the column appears twice"))
    if problems:
        problems.raise_if_any(src)
    if len(frame) == 0:
        raise PositionsError(src, [(None, None, "the file has a header but no positions")])

    sc = scenario
    n = sc.traders.n_traders
    numeraire = sc.market.numeraire
    venues = venue_names(sc)
    vtype = _venue_types(sc)
    assets = asset_names(sc)  # the scenario's assets, then option series
    firms = list(sc.firms)
    firm_venue = np.array([venues.index(f.lending) for f in firms], dtype=np.int64)
    n_rows = len(frame)

    def raw(col: str) -> Callable[[int], str]:
        values = frame[col]

        def cell(i: int) -> str:
            x = values.iloc[i]
            if pd.isna(x) or (isinstance(x, str) and not x.strip()):
                return "empty"
            return repr(x.item() if isinstance(x, np.generic) else x)
        return cell

    # -- cells
    acc_f, acc_miss, acc_bad = _number(frame["account"])
    v, venue_miss, venue_text = _categories(frame["venue"], venues)
    k, kind_miss, kind_text = _categories(frame["kind"], list(KINDS))
    a, asset_miss, asset_text = _categories(frame["asset"], assets)
    amount, amount_miss, amount_bad = _number(frame["amount"])
    empty_f = np.full(n_rows, np.nan)
    no = np.zeros(n_rows, dtype=bool)
    entry, entry_miss, entry_bad = (_number(frame["entry_price"]) if "entry_price" in columns
                                    else (empty_f, ~no, no))
    threshold, thr_miss, thr_bad = (_number(frame["run_threshold"]) if "run_threshold" in columns
                                    else (empty_f.copy(), ~no, no))
    unset = np.full(n_rows, -1, dtype=np.int8)
    cross, cross_bad = _flag(frame["cross_margined"]) if "cross_margined" in columns else (unset, no)
    tops, tops_bad = _flag(frame["tops_up"]) if "tops_up" in columns else (unset.copy(), no)

    whole = ~acc_miss & ~acc_bad & np.isfinite(acc_f) & (acc_f == np.floor(acc_f)) & \
        (np.abs(np.nan_to_num(acc_f)) < 2**53)
    account = np.where(whole, np.nan_to_num(acc_f), -2).astype(np.int64)
    vt = np.where(v >= 0, vtype[np.maximum(v, 0)], -1)

    yield_venues = [y.name for y in sc.yield_venues]
    firm_ids = (f", firm {n} at its lender" if len(firms) == 1 else
                f", firms {n}..{n + len(firms) - 1} at their lenders" if firms else "")
    ids = (f"traders 0..{n - 1} (n_traders = {n})" + firm_ids
           + (", -1 the outside world at perp venues" if sc.perps else ""))
    problems.add(acc_miss, "account", lambda i: "empty; an account id is required: " + ids)
    problems.add(~acc_miss & ~whole, "account",
                 lambda i: f"{raw('account')(i)} is not an integer account id: {ids}")

    def bad_venue(i: int) -> str:
        name = venue_text(i)
        what = (f"{name!r} is a yield venue: its deposits are drawn from the scenario (a "
                "positions file holds lending, perp and custodial venues and wallets)"
                if name in yield_venues else f"{name!r} is not a venue of scenario {sc.name}")
        return f"{what}; allowed: {_listing(venues)}"

    problems.add(venue_miss, "venue", lambda i: f"empty; allowed: {_listing(venues)}")
    problems.add(~venue_miss & (v < 0), "venue", bad_venue)
    problems.add(kind_miss, "kind", lambda i: f"empty; allowed: {', '.join(KINDS)}")
    problems.add(~kind_miss & (k < 0), "kind",
                 lambda i: f"{kind_text(i)!r} is not a kind; allowed: {', '.join(KINDS)}")
    problems.add(asset_miss, "asset", lambda i: f"empty; the scenario's assets: {_listing(assets)}")
    problems.add(amount_miss, "amount", lambda i: f"{raw('amount')(i)}: a number is required")
    problems.add(amount_bad, "amount", lambda i: f"{raw('amount')(i)} is not a number")
    inf = ~amount_miss & ~amount_bad & ~np.isfinite(amount)
    problems.add(inf, "amount", lambda i: f"{raw('amount')(i)}: a finite number is required")

    # -- kind at venue
    known = (v >= 0) & (k >= 0)
    kind_ok = np.zeros(n_rows, dtype=bool)
    for t, kinds in KINDS_AT.items():
        kind_ok |= (vt == t) & np.isin(k, kinds)

    def wrong_kind(i: int) -> str:
        t = int(vt[i])
        at = venue_text(i)
        allowed = ", ".join(KINDS[x] for x in KINDS_AT[t])
        place = "wallet rows" if t == WALLETS else f"{VENUE_TYPE[t]} {at}"
        hint = ""
        if k[i] == WALLET:
            hint = f" (wallet rows have venue {WALLET_VENUE!r})"
        elif k[i] == PERP and t == LENDING:
            hint = " (perp positions are held at perp venues: " + _listing(
                [p.name for p in sc.perps]) + ")"
        return f"{KINDS[k[i]]!r} is not held at {place}; allowed there: {allowed}{hint}"

    problems.add(known & ~kind_ok, "kind", wrong_kind)
    ok = known & kind_ok

    # -- asset accepted at venue for that kind
    accepted = np.zeros((len(venues), len(KINDS), len(assets)), dtype=bool)
    num = assets.index(numeraire)
    for i_v, lv in enumerate(sc.lending):
        for c in lv.collateral:
            accepted[i_v, COLLATERAL, assets.index(c.asset)] = True
        accepted[i_v, DEBT, num] = True
        for b in lv.borrow:
            accepted[i_v, DEBT, assets.index(b.asset)] = True
    for j, pv in enumerate(sc.perps):
        accepted[len(sc.lending) + j, COLLATERAL, num] = True
        for market in pv.market_assets:
            accepted[len(sc.lending) + j, PERP, assets.index(market)] = True
        for label in option_labels(sc, pv):
            accepted[len(sc.lending) + j, OPTION, assets.index(label)] = True
    for j in range(len(sc.custodial)):
        accepted[len(sc.lending) + len(sc.perps) + j, DEPOSIT, num] = True
    accepted[len(venues) - 1, WALLET, num] = True
    asset_ok = ok & (a >= 0)
    asset_ok[asset_ok] = accepted[v[asset_ok], k[asset_ok], a[asset_ok]]

    def wrong_asset(i: int) -> str:
        at, x, kd, t = venue_text(i), asset_text(i), int(k[i]), int(vt[i])
        if t == LENDING and kd == COLLATERAL:
            lv = sc.lending[int(v[i])]
            return f"{x!r} is not collateral at {at}; it accepts {_listing([c.asset for c in lv.collateral])}"
        if kd == DEBT:
            lent = [numeraire, *(b.asset for b in sc.lending[int(v[i])].borrow)]
            return (f"{x!r} is not lent at {at}; it lends {_listing(lent)} (list an asset under "
                    f"lending[{at}].borrow to lend it)")
        if t == PERP_VENUE and kd == COLLATERAL:
            return (f"margin at {at} is in {numeraire} only: perp venues take only stablecoin "
                    "margin today")
        if kd == PERP:
            markets = sc.perps[int(v[i]) - len(sc.lending)].market_assets
            return (f"{x!r} is not a market of {at}; it lists {_listing(markets)} (add a market "
                    f"with perps.{at}.markets in the scenario)")
        if kd == OPTION:
            listed = option_labels(sc, sc.perps[int(v[i]) - len(sc.lending)])
            return (f"{x!r} is not an option series of {at}; it lists {_listing(listed)} "
                    f"(ASSET-<days>D-<strike>-C|P; add series with [[perps.options]])")
        what = "deposits" if kd == DEPOSIT else "wallets"
        return f"{what} are in {numeraire} only"

    problems.add(ok & ~asset_miss & ~asset_ok, "asset", wrong_asset)
    ok &= asset_ok

    # -- amounts, entry prices, flags
    good_amount = ~amount_miss & ~amount_bad & np.isfinite(amount)
    signed = (k == PERP) | (k == OPTION)
    problems.add(ok & good_amount & ~signed & (amount < 0), "amount",
                 lambda i: f"{float(amount[i])!r}: a {KINDS[k[i]]} amount must be >= 0 (only perp "
                           "and option sizes are signed)")
    is_perp = ok & signed
    problems.add(entry_bad, "entry_price", lambda i: f"{raw('entry_price')(i)} is not a number")
    problems.add(is_perp & entry_miss, "entry_price",
                 lambda i: (f"{raw('entry_price')(i) if 'entry_price' in columns else 'no column'}: "
                            f"{'an' if k[i] == OPTION else 'a'} {KINDS[k[i]]} row needs its "
                            "entry price"
                            + (" (the premium paid per unit)" if k[i] == OPTION else "")
                            + ", a number > 0"))
    # the outside world's entry is the engine's bookkeeping (its net position's cash) and
    # may be any finite number; a trader's is a price
    outside_row = whole & (account == OUTSIDE)
    problems.add(is_perp & ~entry_miss & ~entry_bad & ~np.isfinite(entry)
                 | is_perp & ~outside_row & (entry <= 0), "entry_price",
                 lambda i: f"{float(entry[i])!r}: an entry price must be a finite number > 0")
    problems.add(known & ~signed & ~entry_miss & ~entry_bad, "entry_price",
                 lambda i: f"{float(entry[i])!r}: only perp and option rows have an entry price "
                           "(leave it empty)")
    problems.add(cross_bad, "cross_margined",
                 lambda i: f"{raw('cross_margined')(i)}: true, false or empty")
    problems.add(known & (k != PERP) & (cross == 1), "cross_margined",
                 lambda i: "only perp rows are cross-margined (leave it false or empty)")
    problems.add(is_perp & (account == OUTSIDE) & (cross == 1), "cross_margined",
                 lambda i: "the outside world (account -1) has no deposit to cross-margin with")
    problems.add(tops_bad, "tops_up", lambda i: f"{raw('tops_up')(i)}: true, false or empty")
    problems.add(known & (k != WALLET) & (tops == 1), "tops_up",
                 lambda i: "the top-up policy is set on wallet rows (leave it false or empty)")
    problems.add(thr_bad, "run_threshold", lambda i: f"{raw('run_threshold')(i)} is not a number")
    problems.add(known & (k != DEPOSIT) & ~thr_miss & ~thr_bad, "run_threshold",
                 lambda i: f"{float(threshold[i])!r}: only deposit rows have a run threshold (leave it "
                           "empty)")
    problems.add((k == DEPOSIT) & ~thr_miss & ~thr_bad & ~((threshold >= 0) & (threshold <= 1)),
                 "run_threshold", lambda i: f"{float(threshold[i])!r}: a run threshold is a stress level, "
                                            "0 <= x <= 1")

    # -- who may hold what where
    firm_k = account - n
    is_firm = whole & (firm_k >= 0) & (firm_k < len(firms))
    firm_ok = is_firm & (v == firm_venue[np.clip(firm_k, 0, max(len(firms) - 1, 0))]
                         if firms else no)
    outside_ok = whole & (account == OUTSIDE) & (vt == PERP_VENUE)
    trader = whole & (account >= 0) & (account < n)
    beyond = whole & ~trader & ~is_firm & (account != OUTSIDE)
    problems.add(beyond, "account", lambda i: f"{account[i]} is out of range: {ids}")

    def misplaced(i: int) -> str:
        if account[i] == OUTSIDE:
            return ("account -1 (the outside world) holds positions only at perp venues ("
                    f"{_listing([p.name for p in sc.perps])}): the market makers' margin and size")
        f = firms[int(firm_k[i])]
        return (f"account {account[i]} is firm {f.name}'s id (n_traders + {firm_k[i]}): a firm "
                f"holds collateral and debt only at its lender {f.lending}")

    problems.add(known & ((account == OUTSIDE) & ~outside_ok | is_firm & ~firm_ok), "account",
                 misplaced)

    # -- duplicates: one int64 key per row, a stable sort puts each key's first row first
    keyed = whole & (v >= 0) & (k >= 0) & (a >= 0) & (account >= OUTSIDE)
    key = np.where(keyed, (((account + 1) * len(venues) + v) * len(KINDS) + k) * len(assets) + a,
                   -1 - np.arange(n_rows))
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    same = np.concatenate([[False], sorted_key[1:] == sorted_key[:-1]])
    if same.any():
        group_start = np.maximum.accumulate(np.where(same, 0, np.arange(n_rows)))
        first = np.empty(n_rows, dtype=np.int64)
        first[order] = order[group_start]
        later = np.zeros(n_rows, dtype=bool)
        later[order[same]] = True
        problems.add(later, "account", lambda i: (
            f"duplicates row {rows[first[i]]}: one row per (account, venue, kind, asset); add the "
            "amounts up"))

    hint = None
    big = whole & (account >= n)
    if (beyond | big & is_firm & ~firm_ok).any():
        top = int(account[big].max())
        hint = (f"The file has accounts up to {top} but scenario {sc.name} has n_traders = {n} "
                f"(trader ids 0..{n - 1}); if they are traders, run with --set n_traders={top + 1}"
                + (" (firms' ids are n_traders + k, so they move too)" if firms else ""))
    problems.raise_if_any(src, hint)

    pos = Positions(scenario=sc, account=account, venue=v, kind=k, asset=a, amount=amount,
                    entry_price=np.where(signed, entry, np.nan), cross_margined=cross,
                    tops_up=tops, run_threshold=np.where(k == DEPOSIT, threshold, np.nan))
    _check_totals(pos, problems)
    problems.raise_if_any(src)
    return pos


def _check_totals(pos: Positions, problems: _Problems) -> None:
    """Venue-level checks: deposits match each exchange's balance sheet; an explicit outside
    perp position nets the traders' to zero."""
    sc = pos.scenario
    base = len(sc.lending) + len(sc.perps)
    for j, c in enumerate(sc.custodial):
        sel = (pos.venue == base + j)
        total = float(pos.amount[sel].sum())
        if abs(total - c.deposits_usd) > DEPOSIT_TOL_USD:
            problems.file.append((
                None, "amount",
                f"deposits at custodial exchange {c.name} total ${total:,.2f} but the scenario's "
                f"deposits_usd is ${c.deposits_usd:,.2f}; they must agree within "
                f"${DEPOSIT_TOL_USD:.0f} (its reserves, supply to lenders and loans are built "
                f"from that figure): run with --set custodial.{c.name}.deposits_usd={total:.2f}"))
    names = asset_names(sc)
    index = {a: j for j, a in enumerate(names)}
    for j, pv in enumerate(sc.perps):
        listed = [(PERP, market) for market in pv.market_assets]
        listed += [(OPTION, label) for label in option_labels(sc, pv)]
        for kind, market in listed:  # each market and series nets on its own
            sel = (pos.venue == len(sc.lending) + j) & (pos.kind == kind) \
                & (pos.asset == index[market])
            outside = sel & (pos.account == OUTSIDE)
            if not outside.any():
                continue
            sizes = pos.amount[sel]
            net = float(sizes.sum())
            if abs(net) > 1e-9 * float(np.abs(sizes).sum()):
                i = int(np.flatnonzero(outside)[0])
                want = -float(pos.amount[sel & ~outside].sum())
                where = (f"{pv.name}'s {market} options" if kind == OPTION else pv.name
                         if len(pv.market_assets) == 1 else f"{pv.name}'s {market} market")
                problems.add_one(i, "amount", (
                    f"the outside world's size at {where} must net the traders' positions to "
                    f"zero: {want!r} (or leave account -1's {KINDS[kind]} row out and the engine "
                    "sets it)"))


# ---------------------------------------------------------------------- export
def copy_book(book: Any) -> Any:
    """A copy of a book (a dataclass of arrays) that shares no array with it."""
    return replace(book, **{f.name: getattr(book, f.name).copy() for f in fields(book)})


@dataclass
class StartingBooks:
    """Copies of every book as a run starts (after set-up, before step 1), for export.

    Taken as each venue's book is built, before venues add accounts of their own making
    (perp lenders' deposits, an attacker's account: those come from the scenario).
    """

    scenario: Scenario
    lending: list[LendingBook]
    perps: list[PerpBook]
    custodial: list[DepositBook]
    wallet_usd: F64
    tops_up: NDArray[np.bool_]



def positions_frame(books: StartingBooks) -> pd.DataFrame:
    """The starting books as a positions table (the format of :func:`check_positions`).

    Rows go venue by venue (lending, perp, custodial venues, then wallets), by account,
    then kind and asset in the scenario's order; lending collateral of zero is left out.
    Same books, same bytes. The pandas view of :func:`positions_table`.
    """
    return positions_table(books).to_pandas()


def positions_table(books: StartingBooks) -> pa.Table:
    """:func:`positions_frame` as an Arrow table: what ``positions.parquet`` is written
    from (at a million accounts the pandas round trip cost more than the file's writing)."""
    sc = books.scenario
    assets = asset_names(sc)
    num = assets.index(sc.market.numeraire)
    parts: list[dict[str, np.ndarray]] = []

    def part(venue: int, account: I64, kind: int | I64, asset: int | I64, amount: F64,
             **extra: np.ndarray) -> None:
        size = account.size
        parts.append({"account": account.astype(np.int64), "venue": np.full(size, venue),
                      "kind": np.broadcast_to(np.asarray(kind, dtype=np.int64), (size,)),
                      "asset": np.broadcast_to(np.asarray(asset, dtype=np.int64), (size,)),
                      "amount": amount.astype(np.float64), **extra})

    for i, (lv, b) in enumerate(zip(sc.lending, books.lending, strict=True)):
        col_asset = np.array([assets.index(c.asset) for c in lv.collateral], dtype=np.int64)
        debt_asset = np.array([assets.index(d.asset) for d in lv.borrow], dtype=np.int64)
        r, j = np.nonzero(b.collateral)
        ru, ju = np.nonzero(b.debt_units)  # debts in borrowed assets: nonzero ones only
        account = np.concatenate([b.owner[r], b.owner, b.owner[ru]])
        kind = np.concatenate([np.full(r.size, COLLATERAL), np.full(len(b) + ru.size, DEBT)])
        col = np.concatenate([j, np.zeros(len(b), dtype=np.int64), ju + 1])
        order = np.lexsort((col, kind, account))
        asset = np.concatenate([col_asset[j], np.full(len(b), num), debt_asset[ju]])
        part(i, account[order], kind[order], asset[order],
             np.concatenate([b.collateral[r, j], b.debt, b.debt_units[ru, ju]])[order])
    for i, (pv, pb) in enumerate(zip(sc.perps, books.perps, strict=True)):
        m, k = len(pb), pb.markets  # per account: its margin, one row per market, options
        account = np.repeat(pb.owner, k + 1)
        place = np.tile(np.arange(k + 1), m)
        kind = np.tile([COLLATERAL, *[PERP] * k], m)
        asset = np.tile([num, *(assets.index(a) for a in pv.market_assets)], m)
        amount = np.column_stack([pb.collateral, pb.size]).ravel()
        entry = np.column_stack([np.full(m, np.nan), pb.entry]).ravel()
        cross = np.column_stack([np.zeros(m, dtype=bool), *[pb.cross] * k]).ravel()
        if pb.series:  # open option positions only: a flat series opens at its start value
            labels = np.array([assets.index(x) for x in option_labels(sc, pv)], dtype=np.int64)
            r, s_ = np.nonzero(pb.opt_size)
            account = np.concatenate([account, pb.owner[r]])
            place = np.concatenate([place, k + 1 + s_])
            kind = np.concatenate([kind, np.full(r.size, OPTION)])
            asset = np.concatenate([asset, labels[s_]])
            amount = np.concatenate([amount, pb.opt_size[r, s_]])
            entry = np.concatenate([entry, pb.opt_entry[r, s_]])
            cross = np.concatenate([cross, np.zeros(r.size, dtype=bool)])
        order = np.lexsort((place, account))
        part(len(sc.lending) + i, account[order], kind[order], asset[order], amount[order],
             entry_price=entry[order], cross_margined=cross[order])
    base = len(sc.lending) + len(sc.perps)
    for i, db in enumerate(books.custodial):
        order = np.argsort(db.owner, kind="stable")
        part(base + i, db.owner[order], DEPOSIT, num, db.balance[order],
             run_threshold=db.run_threshold[order])
    n = books.wallet_usd.size
    part(base + len(sc.custodial), np.arange(n, dtype=np.int64), WALLET, num, books.wallet_usd,
         tops_up=books.tops_up.astype(bool))

    def column(col: str, fill: Any) -> np.ndarray:
        return np.concatenate([p[col] if col in p else np.full(p["account"].size, fill)
                               for p in parts])

    names = {"venue": venue_names(sc), "kind": list(KINDS), "asset": assets}
    return pa.table({
        "account": column("account", 0).astype(np.int64),
        **{c: pc.cast(pa.DictionaryArray.from_arrays(column(c, 0).astype(np.int32),
                                                     pa.array(names[c], type=pa.string())),
                      pa.string())
           for c in ("venue", "kind", "asset")},
        "amount": column("amount", np.nan).astype(np.float64),
        "entry_price": column("entry_price", np.nan).astype(np.float64),
        "cross_margined": column("cross_margined", False).astype(bool),
        "tops_up": column("tops_up", False).astype(bool),
        "run_threshold": column("run_threshold", np.nan).astype(np.float64),
    })


def starting_books(frame: pd.DataFrame, scenario: Scenario) -> StartingBooks:
    """The inverse of :func:`positions_frame`: the starting books a positions table
    exported from a run of ``scenario`` describes (``read_run`` uses it).

    The table is checked (:func:`check_positions`) and built by the same code that starts a
    run from it, so ``positions_frame(starting_books(t, sc))`` equals ``t``. An exported
    table names every account, market and flag, so nothing is drawn or defaulted: books
    come back with their accounts in ascending order (the order of the table).
    """
    pos = check_positions(frame, scenario, source="positions.parquet")
    sc = scenario
    empty = LendingBook(collateral=np.zeros((0, 0)), debt=np.zeros(0),
                        owner=np.zeros(0, dtype=np.int64))
    prices = {a.name: float(a.initial_price_usd) for a in sc.assets}
    n = sc.traders.n_traders
    undrawn = np.zeros(n, dtype=bool)
    wallet, tops_up, _ = pos.traders(undrawn, undrawn)
    return StartingBooks(
        scenario=sc,
        lending=[pos.lending_book(i, empty) for i in range(len(sc.lending))],
        perps=[pos.perp_book(i, np.array([prices[a] for a in pv.market_assets]), undrawn)
               for i, pv in enumerate(sc.perps)],
        custodial=[pos.deposit_book(i) for i in range(len(sc.custodial))],
        wallet_usd=wallet, tops_up=tops_up)
