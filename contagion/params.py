"""Frozen, validated parameters: the one source of defaults for the engine.

Every dataclass here is keyword-only and frozen, and checks its fields in
``__post_init__``; a bad value raises :class:`~contagion.errors.ParameterError` with the
parameter's dotted name, the value and the allowed range. Variants are made with
:func:`dataclasses.replace` (or :func:`contagion.scenario.override` for dotted keys).

A field's own range is declared on it, ``fee_frac: Annotated[float, Real(low=0, high=0.1)]``
(:mod:`contagion.constraints`): ``check_fields`` checks those first, in field order, and the
JSON Schema of a scenario file carries them. Checks across fields follow in code.

Units: prices in USD, amounts in asset units, ``*_usd`` in USD, ``*_frac`` as fractions,
``*_steps`` in model steps (``MarketParams.step_minutes`` minutes each).

Sizes that must be positive have a lower bound where a smaller value is no longer physical
(:data:`MIN_PRICE_USD` for initial prices, :data:`MIN_USD` for market depth and wealth,
:data:`MIN_UNITS` for pool reserves); fractions and other sizes may be as small as any
float, subnormal included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated

from contagion.constraints import Bool, Int, Name, OneOf, Real, Text, check_fields
from contagion.errors import ParameterError
from contagion.validation import check_real, check_utc_timestamp

if TYPE_CHECKING:
    from contagion.mechanics.options import VolSurface
    from contagion.mechanics.portfolio_margin import PortfolioMarginParams

__all__ = [
    "AssetParams",
    "BorrowParams",
    "BridgeParams",
    "ClearingHouseParams",
    "ClearingMemberParams",
    "ClearingParams",
    "CollateralParams",
    "CreditLinkParams",
    "CustodialParams",
    "EModeParams",
    "ExploitParams",
    "FirmParams",
    "InsuranceFundParams",
    "InterestRateParams",
    "LendingParams",
    "LiquidatorParams",
    "LiquidityShockParams",
    "MarketParams",
    "OptionSeriesParams",
    "OracleParams",
    "PegParams",
    "PerpMarketParams",
    "PerpParams",
    "PoolManipulationParams",
    "PoolParams",
    "PriceModelParams",
    "PricePathParams",
    "SupplierRunParams",
    "TraderParams",
    "VolSurfaceParams",
    "YieldVenueParams",
]

ASSET_KINDS = ("stable", "volatile", "venue_token", "algo_stable")
PATH_KINDS = ("crash", "gbm_jump", "flat", "replay")
ORACLE_SOURCES = ("external", "pool_spot", "pool_twap")
SHORTFALL_POLICIES = ("adl", "socialise")
LIQUIDATION_MODES = ("fixed_bonus", "auction")
CLOSE_FACTOR_RULES = ("v3.0", "v3.3")
IMPACT_MODELS = ("per_dollar", "per_unit")
PROOF_KINDS = ("exact", "reserves", "liabilities")  # contagion.mechanics.solvency_proof
INNOVATION_KINDS = ("normal", "student_t")

#: Lower bounds of sizes that must be positive, below which a value means nothing
#: physically and only breaks the arithmetic (1e-310 is a float, not a pool): a price of
#: a trillionth of a dollar (the cheapest traded tokens cost ~1e-8), a millionth of a
#: dollar of depth or wealth, a billionth of a unit in a pool (a gwei of ETH).
MIN_PRICE_USD = 1e-12
MIN_USD = 1e-6
MIN_UNITS = 1e-9
#: Upper bounds likewise: a quadrillion dollars (all the world's financial assets are
#: ~5e14), a trillion dollars a unit, a quintillion units (meme tokens have ~1e15). Their
#: products stay far from float overflow (1e308); ``inf`` stays allowed where a field says
#: so (an unlimited depth or capital).
MAX_USD = 1e15
MAX_PRICE_USD = 1e12
MAX_UNITS = 1e18


def _name(prefix: str, obj: object) -> str:
    label = getattr(obj, "name", None) or getattr(obj, "asset", None)
    return f"{prefix}[{label}]" if label else prefix


@dataclass(frozen=True, kw_only=True)
class AssetParams:
    """An asset: the numeraire stablecoin, a volatile collateral asset or a venue token.

    ``issuer`` names the venue whose token this is; when that venue defaults the token's
    market price falls by ``crash_on_issuer_default_frac``.

    ``kind="algo_stable"``: a stablecoin other than the numeraire (UST) whose $1 peg is held
    by a mechanism (:class:`PegParams`), not by cash; it starts at 1.0 and trades at its
    market price like any other non-stable asset.

    ``underlying`` makes this a liquid-staking token (stETH on ETH): its external price is
    the underlying's price times a ratio, and the asset's :class:`PricePathParams` is the
    path of that ratio (starting at ``initial_price_usd`` / the underlying's price), so a
    ``"crash"`` path with ``shock_frac`` is a widening discount. Flows of the token itself
    (liquidations, fire sales) move only the ratio. There is no redemption at par (stETH
    withdrawals were only enabled in 2023): arbitrage repairs the discount only as fast as
    its pools' ``arb_capacity_usd_per_step`` allows.

    ``impact_model``: how selling ``q`` units into the external market moves the price.
    ``"per_dollar"`` (the default): by ``exp(-q p / depth)`` at the current price ``p``,
    so ``external_depth_usd`` is the dollar flow that moves the price one log unit and a
    second sale moves an already fallen price less. ``"per_unit"``: by
    ``exp(-q p0 / depth)`` with ``p0`` the initial price, so the cumulative impact of
    selling ``x`` units in any number of sales is exactly ``exp(-a x)``, ``a = p0 / depth``
    (the fire-sale literature's market impact, Caccioli et al. 2014).
    """

    name: Annotated[str, Name()]
    kind: Annotated[str, OneOf(ASSET_KINDS)]
    initial_price_usd: Annotated[float, Real(low=MIN_PRICE_USD, high=MAX_PRICE_USD)]
    issuer: str | None = None
    crash_on_issuer_default_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.9
    external_depth_usd: Annotated[float, Real(low=MIN_USD, high=MAX_USD, allow_inf=True)] = 5e8
    underlying: str | None = None
    impact_model: Annotated[str, OneOf(IMPACT_MODELS)] = "per_dollar"

    def __post_init__(self) -> None:
        where = _name("assets", self)
        check_fields(self, where)
        if self.kind == "venue_token" and not self.issuer:
            raise ParameterError(f"{where}.issuer", self.issuer, "the name of the issuing venue",
                                 "a venue token needs an issuer")
        if self.kind == "stable" and self.initial_price_usd != 1.0:
            raise ParameterError(f"{where}.initial_price_usd", self.initial_price_usd, "exactly 1.0",
                                 "the numeraire stablecoin starts at one dollar (it may depeg later: "
                                 "market.numeraire_oracle and a path)")
        if self.kind == "algo_stable" and self.initial_price_usd != 1.0:
            raise ParameterError(f"{where}.initial_price_usd", self.initial_price_usd, "exactly 1.0",
                                 "a pegged stablecoin starts at its $1 peg")
        if self.underlying is not None and (not isinstance(self.underlying, str)
                                            or self.kind == "stable"
                                            or self.underlying in ("", self.name)):
            raise ParameterError(f"{where}.underlying", self.underlying,
                                 "None, or the name of another, non-stable asset",
                                 "a liquid-staking token is non-stable and priced off another asset")


@dataclass(frozen=True, kw_only=True)
class PricePathParams:
    """The exogenous price path of one asset.

    ``crash``: a linear fall of ``shock_frac`` over ``shock_duration_steps`` from
    ``shock_start_step`` (plus GBM noise of ``vol_per_step``). ``gbm_jump``: geometric
    Brownian motion with Poisson jumps. ``flat``: constant (plus noise if ``vol_per_step``).
    For a liquid-staking token (an asset with an ``underlying``) it is the path of its ratio
    to the underlying: ``shock_frac`` is then a widening discount.

    ``replay``: a recorded history, ``column`` of the CSV or Parquet ``file`` against its
    timestamps in ``time_column`` (default ``"timestamp"``), resampled to the step (the
    last price at or before each step's time) and rescaled so it starts at the asset's
    initial price: it replays the history's relative moves
    (:func:`contagion.mechanics.price_path.replay_path`). ``start`` (ISO 8601, no zone
    means UTC; default the first timestamp) is the recorded time of step 0: replay the
    13 June 2022 sell-off from a month's file with ``start = "2022-06-12T00:00:00Z"``. A
    relative ``file`` in a scenario file is relative to that file's folder. A history
    shorter than the run is refused, not held flat. The other fields do not apply to a
    replay, nor ``file``, ``column``, ``time_column`` and ``start`` to the other kinds.
    """

    asset: str
    kind: Annotated[str, OneOf(PATH_KINDS)] = "crash"
    shock_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.35
    shock_start_step: Annotated[int, Int(low=0)] = 12
    shock_duration_steps: Annotated[int, Int(low=1)] = 36
    vol_per_step: Annotated[float, Real(low=0, high=0.5)] = 0.002
    drift_per_step: Annotated[float, Real(low=-0.1, high=0.1)] = 0.0
    jump_rate_per_step: Annotated[float, Real(low=0, high=1)] = 0.0
    jump_mean: Annotated[float, Real(low=-1, high=1)] = -0.05
    jump_std: Annotated[float, Real(low=0, high=1)] = 0.03
    file: str | None = None
    column: str | None = None
    time_column: str | None = None
    start: str | None = None

    def __post_init__(self) -> None:
        where = _name("paths", self)
        check_fields(self, where)
        if self.kind == "replay":
            for key in ("file", "column"):
                value = getattr(self, key)
                if not isinstance(value, str) or not value.strip():
                    raise ParameterError(f"{where}.{key}", value, "a non-empty string",
                                         f"a replay path needs the price history's {key}")
            if self.time_column is not None and (not isinstance(self.time_column, str)
                                                 or not self.time_column.strip()):
                raise ParameterError(f"{where}.time_column", self.time_column,
                                     "None (the column 'timestamp') or a non-empty string")
            if self.start is not None:
                check_utc_timestamp(f"{where}.start", self.start)


@dataclass(frozen=True, kw_only=True)
class PoolParams:
    """A Uniswap pool of ``base`` against the stablecoin, V2 or V3 (``kind``).

    ``kind = "v2"`` is a constant-product pool, ``"v3"`` one of concentrated liquidity.

    Arbitrageurs move the pool toward the external price, trading at most
    ``arb_capacity_usd_per_step`` of notional a step, so liquidation selling leaves a
    price impact that arbitrage only repairs over time (and carries to the external
    market, whose depth is the asset's ``external_depth_usd``).

    A V3 pool holds the value of the V2 pool of the same ``reserve_base`` (twice
    ``reserve_base`` at the start price ``P0``), split over ``v3_ranges``: each
    ``(half_width_frac, share)`` is a position from ``P0 / (1 + w)`` to ``P0 * (1 + w)``
    (rounded out to ``tick_spacing``; ``w = inf``: the full range, which trades exactly as
    the V2 pool) holding ``share`` of the value; shares sum to 1. Its swaps run v3-core's
    integer maths (:mod:`contagion.mechanics.uniswap_v3`) with the fee ``fee_frac * 1e6``
    rounded to whole pips (hundredths of a bip). Once its spot is more than
    ``lp_withdraw_below_frac`` below ``P0``, its LPs pull ``lp_withdraw_frac_per_step`` of
    the in-range liquidity each step (a ``liquidity_withdrawal`` event), thinning the pool
    in a crisis. The V3 fields are inert for a V2 pool (a scenario rejects a V2 pool with
    ``lp_withdraw_frac_per_step > 0``).
    """

    name: Annotated[str, Name()]
    base: str
    reserve_base: Annotated[float, Real(low=MIN_UNITS, high=MAX_UNITS)]
    fee_frac: Annotated[float, Real(low=0, high=0.1)] = 0.003
    arb_capacity_usd_per_step: Annotated[float, Real(low=0, high=MAX_USD, allow_inf=True)] = 1e6
    kind: Annotated[str, OneOf(("v2", "v3"))] = "v2"
    v3_ranges: tuple[tuple[float, float], ...] = ((math.inf, 1.0),)
    tick_spacing: Annotated[int, Int(low=1, high=16_383)] = 60
    lp_withdraw_below_frac: Annotated[float, Real(low=0, high=1)] = 1.0
    lp_withdraw_frac_per_step: Annotated[float, Real(low=0, high=1)] = 0.0

    def __post_init__(self) -> None:
        where = _name("pools", self)
        check_fields(self, where)
        if self.kind == "v2":  # V3-only fields are inert; scenario.py rejects a V2 withdrawal
            return
        if not self.v3_ranges:
            raise ParameterError(f"{where}.v3_ranges", self.v3_ranges,
                                 "at least one (half_width_frac, share) pair")
        for i, (width, share) in enumerate(self.v3_ranges):
            check_real(f"{where}.v3_ranges[{i}].half_width_frac", width, low=0, low_open=True,
                       allow_inf=True)
            check_real(f"{where}.v3_ranges[{i}].share", share, low=0, high=1, low_open=True)
        total = sum(share for _, share in self.v3_ranges)
        if abs(total - 1.0) > 1e-9:
            raise ParameterError(f"{where}.v3_ranges", self.v3_ranges,
                                 "shares that sum to 1", f"they sum to {total:g}")


@dataclass(frozen=True, kw_only=True)
class PoolManipulationParams:
    """An attacker pushing a thin pool's price (Mango Markets, October 2022).

    From ``start_step`` for ``duration_steps`` steps the attacker trades
    ``notional_usd_per_step`` into ``pool`` each step, buying the base (``"pump"``) or
    selling it (``"dump"``), after arbitrageurs have acted; an oracle that reads the pool's
    spot or TWAP passes the manipulated price to the venues that trust it. ``actor`` names
    who trades in the event log (an attacker, or e.g. panic sellers in a sell-off).
    """

    pool: str
    start_step: Annotated[int, Int(low=0)]
    duration_steps: Annotated[int, Int(low=1)]
    notional_usd_per_step: Annotated[float, Real(low=0, high=MAX_USD, low_open=True)]
    direction: Annotated[str, OneOf(("pump", "dump"))] = "pump"
    actor: Annotated[str, Text("a non-empty description of who trades, e.g. 'panic sellers'")] = (
        "an attacker")

    def __post_init__(self) -> None:
        check_fields(self, f"manipulations[{self.pool}]")


@dataclass(frozen=True, kw_only=True)
class OracleParams:
    """A price feed: what it reads, how often it publishes and how late.

    It reads ``source`` (the external market price, a pool's spot price, or a pool's
    TWAP over ``twap_window_steps``), observes it ``delay_steps`` late, and publishes when
    the observed value moved more than ``deviation_threshold_frac`` from the last
    publication or ``heartbeat_steps`` have passed (Chainlink-style).
    """

    name: Annotated[str, Name()]
    asset: str
    source: Annotated[str, OneOf(ORACLE_SOURCES)] = "external"
    pool: str | None = None
    twap_window_steps: Annotated[int, Int(low=1, high=10_000)] = 6
    heartbeat_steps: Annotated[int, Int(low=1, high=100_000)] = 12
    deviation_threshold_frac: Annotated[float, Real(low=0, high=1)] = 0.005
    delay_steps: Annotated[int, Int(low=0, high=10_000)] = 0

    def __post_init__(self) -> None:
        where = _name("oracles", self)
        check_fields(self, where)
        if self.source != "external" and not self.pool:
            raise ParameterError(f"{where}.pool", self.pool, "the name of a pool",
                                 f"source {self.source!r} reads a pool")


def _check_ltv_threshold_bonus(where: str, ltv: float, threshold: float, bonus: float) -> None:
    """An LTV at most the liquidation threshold, and a bonus that leaves a position just below
    HF 1 solvent after its liquidation: ``(1 + bonus) * threshold < 1``."""
    if ltv > threshold:
        raise ParameterError(f"{where}.ltv", ltv, f"ltv <= liquidation_threshold = {threshold}")
    if threshold * (1 + bonus) >= 1:
        raise ParameterError(
            f"{where}.liquidation_bonus", bonus,
            f"(1 + bonus) * liquidation_threshold < 1, i.e. bonus < {1 / threshold - 1:.4f}",
            "otherwise liquidating a position at HF just below 1 creates bad debt")


@dataclass(frozen=True, kw_only=True)
class CollateralParams:
    """Risk parameters of one collateral asset at a lending protocol (Aave V3 names).

    Collateral quality (all off by default):

    ``threshold_from_liquidity``: the threshold follows the liquidity that liquidates the
    asset. At set-up and at every step the venue prices a stress sale of
    ``stress_sale_frac`` of all the collateral it holds in this asset into its liquidation
    route (its pool, else the external market at its current depth) and sets
    ``LT = min(liquidation_threshold, (1 - volatility_margin_frac)(1 - slippage) /
    (1 + liquidation_bonus))`` rounded down to whole basis points, as Aave stores it
    (:func:`contagion.mechanics.collateral.liquidity_adjusted_threshold`); the LTV keeps
    its hand-set distance below it (at least 0). ``liquidation_threshold`` and ``ltv`` are
    then ceilings: thin liquidity only tightens them. During the run a new value is put in
    force only when it differs from the one in force by ``update_min_bps`` or more (a risk
    steward's minimum change), and moves at most ``update_max_bps`` a step towards the
    derived value (its largest change; the LTV follows), each change a
    ``risk_parameter_update`` event; debts drawn at set-up use the derived values.

    ``supply_cap_units`` (Aave's ``supplyCap``): no new supply of the asset once the
    venue holds that many units as collateral (borrowers' loops are cut to fit).

    ``isolated`` (Aave v3 isolation mode): an account holding this asset as collateral
    borrows only the venue's stablecoin (generated books put its debt there), and all such
    accounts together owe at most ``debt_ceiling_usd`` (Aave's ``debtCeiling``): debts
    drawn at set-up are scaled down to fit it, and new borrowing stops at it. An account
    (a firm, a positions-file row) that holds it beside other collateral has it supplied but
    not as collateral, as Aave does: it adds nothing to its health factor or borrowing power,
    keepers do not seize it, and its debt is not under the ceiling; of two isolated assets
    held alone, the one worth most at the start counts.
    """

    asset: str
    oracle: str
    ltv: Annotated[float, Real(low=0, high=1, high_open=True)]
    liquidation_threshold: Annotated[float, Real(low=0, high=1, low_open=True, high_open=True)]
    liquidation_bonus: Annotated[float, Real(low=0, high=0.5)]
    pool: str | None = None
    threshold_from_liquidity: Annotated[bool, Bool()] = False
    volatility_margin_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    stress_sale_frac: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.5
    update_min_bps: Annotated[int, Int(low=1, high=10_000)] = 1
    update_max_bps: Annotated[int, Int(low=1, high=10_000)] = 10_000
    supply_cap_units: Annotated[float, Real(low=0, high=MAX_UNITS, allow_inf=True)] = math.inf
    isolated: Annotated[bool, Bool()] = False
    debt_ceiling_usd: Annotated[float, Real(low=0, high=MAX_USD, allow_inf=True)] = math.inf

    def __post_init__(self) -> None:
        where = _name("collateral", self)
        check_fields(self, where)
        if self.update_max_bps < self.update_min_bps:
            raise ParameterError(f"{where}.update_max_bps", self.update_max_bps,
                                 f">= update_min_bps = {self.update_min_bps}",
                                 "the largest change cannot be under the smallest")
        if math.isfinite(self.debt_ceiling_usd) and not self.isolated:
            raise ParameterError(f"{where}.debt_ceiling_usd", self.debt_ceiling_usd,
                                 "inf unless isolated = true",
                                 "a debt ceiling is isolation mode's (Aave v3)")
        _check_ltv_threshold_bonus(where, self.ltv, self.liquidation_threshold,
                                   self.liquidation_bonus)


@dataclass(frozen=True, kw_only=True)
class InterestRateParams:
    """A reserve's interest: Aave V3's kinked utilisation curve, accrued through indices.

    Utilisation ``U = debt / (cash + debt)``; the yearly borrow rate is ``base_rate +
    slope1 * U / optimal_utilisation`` up to the kink and ``base_rate + slope1 + slope2 *
    (U - optimal) / (1 - optimal)`` above it; suppliers earn ``borrow rate * U * (1 -
    reserve_factor)``, the rest of the borrowers' interest is the protocol's (its equity).
    Each step (``MarketParams.step_minutes``) debts grow by the compounded borrow rate and
    suppliers' claims by the linear supply rate (:mod:`contagion.mechanics.lending`). The
    optimal ratio has Aave's range (1%-99%) and each rate Aave's cap (1000% a year);
    Aave's configurator also asks ``slope1 <= slope2`` and a sum under the cap, which the
    engine does not need.
    """

    optimal_utilisation: Annotated[float, Real(low=0.01, high=0.99)] = 0.9
    base_rate: Annotated[float, Real(low=0, high=10)] = 0.0
    slope1: Annotated[float, Real(low=0, high=10)] = 0.04
    slope2: Annotated[float, Real(low=0, high=10)] = 0.6
    reserve_factor: Annotated[float, Real(low=0, high=1)] = 0.1

    def __post_init__(self) -> None:
        check_fields(self, "rates")


@dataclass(frozen=True, kw_only=True)
class SupplierRunParams:
    """Outside (retail) suppliers of a lending protocol's stablecoin who may run.

    Their supply is split into ``cohorts`` equal cohorts whose thresholds are spread evenly
    from the ``min_`` to the ``max_`` value of each trigger (cohort 0 has the ``min_`` ones):
    a cohort starts to leave, for good, once utilisation reaches its ``utilisation``
    threshold, or the venue's bad debt reaches its share of the suppliers' claims, or (with
    ``depeg_oracle``) the supplied stablecoin's oracle price falls below ``1 -`` its depeg
    threshold. A leaving cohort asks for ``withdraw_frac_per_step`` of its starting claim a
    step until it is out, paid out of the venue's cash only: at 100% utilisation
    withdrawals freeze and the demand waits. Thresholds of 1 all but switch a trigger off
    (bad debt as large as the claims, a stablecoin at $0; utilisation only at 100%).
    """

    cohorts: Annotated[int, Int(low=1, high=1000)] = 10
    min_utilisation: Annotated[float, Real(low=0, high=1)] = 0.95
    max_utilisation: Annotated[float, Real(low=0, high=1)] = 1.0
    min_bad_debt_frac: Annotated[float, Real(low=0, high=1)] = 0.001
    max_bad_debt_frac: Annotated[float, Real(low=0, high=1)] = 0.05
    depeg_oracle: str | None = None
    min_depeg_frac: Annotated[float, Real(low=0, high=1)] = 0.005
    max_depeg_frac: Annotated[float, Real(low=0, high=1)] = 0.1
    withdraw_frac_per_step: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.25

    def __post_init__(self) -> None:
        check_fields(self, "supplier_run")


@dataclass(frozen=True, kw_only=True)
class BorrowParams:
    """An asset a lending protocol lends besides the numeraire (an Aave borrowable reserve).

    Borrowers owe it in units, valued at ``oracle``'s price, so its rise lowers their health
    factor (a short squeeze). A liquidator repaying this debt buys the asset first, from
    the venue's liquidity route for it (``pool``, or the first pool of the asset) or the
    external market: with price impact. ``retail_supply_usd``: the outside suppliers'
    deposits of the asset at the start (valued at its initial price). ``debt_share``: the
    share of each generated borrower's debt drawn in this asset (the rest stays in the
    numeraire); positions files set debts row by row instead.
    """

    asset: str
    oracle: str
    retail_supply_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 5e7
    debt_share: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    pool: str | None = None
    rates: InterestRateParams | None = None

    def __post_init__(self) -> None:
        check_fields(self, _name("borrow", self))


@dataclass(frozen=True, kw_only=True)
class EModeParams:
    """An Aave v3 efficiency-mode category: correlated assets lent against each other on
    better terms.

    ``assets`` names the category's assets: collateral assets of the venue, its borrowed
    assets, and its stablecoin (the scenario's numeraire) when it is in the category. An
    account whose every debt is in the category is in e-mode (its owner would opt in: it
    only gains): its collateral in the category counts with this ``ltv`` and
    ``liquidation_threshold`` and is seized with this ``liquidation_bonus``; its other
    collateral keeps its own (as Aave's ``GenericLogic`` and ``LiquidationLogic`` do for an
    asset of the user's category). Membership is fixed at set-up; an e-mode account whose
    category lacks the stablecoin does not loop (it could not borrow it and stay in).
    """

    name: Annotated[str, Name()]
    assets: tuple[str, ...]
    ltv: Annotated[float, Real(low=0, high=1, high_open=True)]
    liquidation_threshold: Annotated[float, Real(low=0, high=1, low_open=True, high_open=True)]
    liquidation_bonus: Annotated[float, Real(low=0, high=0.5)]

    def __post_init__(self) -> None:
        where = f"emode[{self.name}]"
        check_fields(self, where)
        if (not isinstance(self.assets, tuple) or not self.assets
                or not all(isinstance(a, str) and a for a in self.assets)
                or len(set(self.assets)) != len(self.assets)):
            raise ParameterError(f"{where}.assets", self.assets,
                                 "a non-empty tuple of distinct asset names")
        _check_ltv_threshold_bonus(where, self.ltv, self.liquidation_threshold,
                                   self.liquidation_bonus)


@dataclass(frozen=True, kw_only=True)
class LendingParams:
    """An Aave-V3-like lending protocol lending the stablecoin against collateral.

    ``liquidation_mode``: ``"fixed_bonus"`` (Aave: keepers repay part of the debt for
    collateral at a bonus) or ``"auction"`` (Maker "flip"): an unsafe vault is closed whole,
    its collateral auctioned for the debt plus ``auction_penalty_frac``; with two or more
    keepers bidding the lot clears at its value less ``auction_discount_frac``, with one at
    ``auction_lone_bid_frac`` of it (0: the zero-DAI bids), with none it waits. See
    :mod:`contagion.mechanics.auction`. Auction mode takes exactly one collateral asset.

    ``borrow``: assets lent besides the numeraire (:class:`BorrowParams`); an account may owe
    several. A liquidation repays one debt reserve against one collateral (the account's
    largest of each, as keepers choose), with the close factor of ``close_factor_rule``:
    ``"v3.0"`` (``close_factor`` of the reserve's debt, all of it below
    ``full_close_below_hf``) or ``"v3.3"`` (all of the reserve's debt unless both reserves
    are worth ``>= min_close_base_usd`` and HF > ``full_close_below_hf``; then at most
    ``close_factor`` of the account's total debt).

    New borrowing during the run (off by default, ``releverage_above_hf = inf``): traders
    who manage their positions (those who top up) and whose health factor rises above
    ``releverage_above_hf`` (prices rose) loop: they borrow the stablecoin back towards
    ``releverage_to_hf``, buy their main collateral with it through the venue's route and
    supply it. Aave's borrow checks bound each loop: the new debt fits within the LTV
    (``sum(collateral * price * ltv) >= debt``), the venue's ``borrow_cap_usd`` (Aave's
    ``borrowCap`` of its stablecoin), each isolated collateral's debt ceiling, each
    asset's supply cap and the venue's cash (a ``borrow`` event per venue and asset says
    what was borrowed and what each bound held back).

    ``emode`` (:class:`EModeParams`, Aave v3's efficiency mode): one category of correlated
    assets with a higher LTV and threshold and a lower bonus for accounts inside it.

    ``leftover_rule`` (v3.3, needs ``close_factor_rule = "v3.3"``; off by default): a
    liquidation must repay all of the reserve's debt, take all the collateral, or leave both
    worth at least ``min_close_base_usd / 2`` (Aave's ``MIN_LEFTOVER_BASE``); keepers shrink
    one that would leave less, as Aave's ``LiquidationDataProvider`` does, and leave alone
    an account where no liquidation passes (see
    :func:`contagion.mechanics.lending.leftover_adjusted`).
    """

    name: Annotated[str, Name()]
    collateral: tuple[CollateralParams, ...]
    token: str | None = None
    insurance_fund: str | None = None
    reserve_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 1e6
    retail_supply_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 1e8
    close_factor: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.5
    full_close_below_hf: Annotated[float, Real(low=0, high=1)] = 0.95
    protocol_fee_frac: Annotated[float, Real(low=0, high=1)] = 0.1
    bad_debt_dust_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 1.0
    share_of_traders: Annotated[float, Real(low=0, high=1)] = 0.4
    mean_health_factor: Annotated[float, Real(low=1.0, high=10, low_open=True)] = 1.6
    liquidation_mode: Annotated[str, OneOf(LIQUIDATION_MODES)] = "fixed_bonus"
    auction_penalty_frac: Annotated[float, Real(low=0, high=1)] = 0.13
    auction_discount_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.03
    auction_lone_bid_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    borrow: tuple[BorrowParams, ...] = ()
    close_factor_rule: Annotated[str, OneOf(CLOSE_FACTOR_RULES)] = "v3.0"
    min_close_base_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 2000.0
    leftover_rule: Annotated[bool, Bool()] = False
    rates: InterestRateParams | None = None
    supplier_run: SupplierRunParams | None = None
    borrow_cap_usd: Annotated[float, Real(low=0, high=MAX_USD, allow_inf=True)] = math.inf
    releverage_above_hf: Annotated[float, Real(low=1, low_open=True, allow_inf=True)] = math.inf
    releverage_to_hf: Annotated[float, Real(low=1, high=100, low_open=True)] = 1.5
    emode: EModeParams | None = None

    def __post_init__(self) -> None:
        where = _name("lending", self)
        check_fields(self, where)
        if math.isfinite(self.releverage_above_hf) and (
                self.releverage_to_hf >= self.releverage_above_hf):
            raise ParameterError(f"{where}.releverage_to_hf", self.releverage_to_hf,
                                 f"< releverage_above_hf = {self.releverage_above_hf}",
                                 "borrowers re-lever down to a lower health factor")
        if self.emode is not None and self.liquidation_mode == "auction":
            raise ParameterError(f"{where}.emode", self.emode.name, "None in auction mode",
                                 "a Maker vault type has one collateral and one debt")
        if math.isfinite(self.releverage_above_hf) and self.liquidation_mode == "auction":
            raise ParameterError(f"{where}.releverage_above_hf", self.releverage_above_hf,
                                 "inf in auction mode", "vaults on auction read HF = inf")
        if not self.collateral:
            raise ParameterError(f"{where}.collateral", self.collateral, "at least one asset")
        assets = [c.asset for c in self.collateral]
        if len(set(assets)) != len(assets):
            raise ParameterError(f"{where}.collateral", assets, "each asset at most once")
        borrowed = [b.asset for b in self.borrow]
        if len(set(borrowed)) != len(borrowed):
            raise ParameterError(f"{where}.borrow", borrowed, "each asset at most once")
        shares = sum(b.debt_share for b in self.borrow)
        if shares >= 1:
            raise ParameterError(f"{where}.borrow", shares, "debt shares summing to < 1",
                                 "the rest of a generated borrower's debt is in the numeraire")
        if self.borrow and self.liquidation_mode == "auction":
            raise ParameterError(f"{where}.borrow", borrowed, "empty in auction mode",
                                 "a Maker vault owes the venue's own stablecoin only")
        if self.leftover_rule and self.close_factor_rule != "v3.3":
            raise ParameterError(f"{where}.leftover_rule", self.leftover_rule,
                                 'false unless close_factor_rule = "v3.3"',
                                 "the leftover rule came with v3.3's close factor")
        if self.leftover_rule and self.liquidation_mode == "auction":
            raise ParameterError(f"{where}.leftover_rule", self.leftover_rule,
                                 "false in auction mode", "an auction closes a vault whole")
        if self.liquidation_mode == "auction" and len(self.collateral) != 1:
            raise ParameterError(f"{where}.collateral", assets, "exactly one asset in auction mode",
                                 "a Maker vault type holds one collateral: one venue per asset")


@dataclass(frozen=True, kw_only=True)
class PerpMarketParams:
    """One more market of a perp venue: its asset, the oracle that marks it and its margins.

    The venue's own ``asset``/``oracle`` is its first (primary) market; ``PerpParams.markets``
    lists the others. A margin fraction left out is the venue's. An account's positions in all
    the venue's markets share its collateral (cross margin within the venue).
    """

    asset: str
    oracle: str
    initial_margin_frac: float | None = None
    maintenance_margin_frac: float | None = None

    def __post_init__(self) -> None:
        where = _name("markets", self)
        check_fields(self, where)
        # optional: checked here when given (the venue's fraction applies otherwise)
        if self.initial_margin_frac is not None:
            check_real(f"{where}.initial_margin_frac", self.initial_margin_frac, low=0, high=1,
                       low_open=True)
        if self.maintenance_margin_frac is not None:
            check_real(f"{where}.maintenance_margin_frac", self.maintenance_margin_frac, low=0,
                       high=1 if self.initial_margin_frac is None else self.initial_margin_frac,
                       low_open=True)


# ----------------------------------------------------------------- options and portfolio margin
OPTION_KINDS = ("call", "put")
MARGIN_MODELS = ("standard", "portfolio")


def _check_axis(name: str, values: tuple[float, ...]) -> None:
    if not isinstance(values, tuple) or not values:
        raise ParameterError(name, values, "a non-empty list of numbers")
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int | float) or not (0 < x < 1e6):
            raise ParameterError(f"{name}[{i}]", x, "0 < x < 1e6")
        if i and x <= values[i - 1]:
            raise ParameterError(f"{name}[{i}]", x, f"> {name}[{i - 1}] = {values[i - 1]:g}",
                                 "the axis must be strictly increasing")


@dataclass(frozen=True, kw_only=True)
class OptionSeriesParams:
    """One listed series of European options of a perp venue (USD-settled, linear).

    ``strike_frac``: the strike as a fraction of the asset's price at the start (1.0 at the
    money); ``expiry_days``: days from the start to expiry, when every position settles its
    intrinsic value. Marked with Black-76 on the venue's mark (rate 0) at the vol of the
    asset's :class:`VolSurfaceParams`. Needs ``PerpParams.margin_model = "portfolio"``.
    """

    asset: str
    kind: Annotated[str, OneOf(OPTION_KINDS)] = "call"
    strike_frac: Annotated[float, Real(low=0, high=100, low_open=True)] = 1.0
    expiry_days: Annotated[float, Real(low=0, high=3650, low_open=True)] = 30.0

    def __post_init__(self) -> None:
        check_fields(self, _name("options", self))


@dataclass(frozen=True, kw_only=True)
class VolSurfaceParams:
    """Implied volatilities of one asset's options: ``vols[i][j]`` at ``expiries_days[i]``
    and moneyness (strike / forward) ``moneyness[j]`` (annual, 0.6 for 60%); linear in vol
    along moneyness, in total variance along expiry, flat outside the grid
    (:class:`contagion.mechanics.options.VolSurface`)."""

    asset: str
    expiries_days: tuple[float, ...] = (30.0,)
    moneyness: tuple[float, ...] = (1.0,)
    vols: tuple[tuple[float, ...], ...] = ((0.6,),)

    def __post_init__(self) -> None:
        where = _name("vol_surfaces", self)
        check_fields(self, where)
        _check_axis(f"{where}.expiries_days", self.expiries_days)
        _check_axis(f"{where}.moneyness", self.moneyness)
        self.surface()  # checks the vols' shape and range, naming the entry

    def surface(self) -> VolSurface:
        """The surface as :class:`~contagion.mechanics.options.VolSurface` (expiries in years)."""
        from contagion.mechanics.options import VolSurface

        return VolSurface(expiries_yrs=tuple(d / 365.0 for d in self.expiries_days),
                          strikes=tuple(float(x) for x in self.moneyness), vols=self.vols,
                          name=_name("vol_surfaces", self))


@dataclass(frozen=True, kw_only=True)
class PerpParams:
    """A perpetual-futures venue on one asset, marked to its oracle.

    Liquidation when equity < maintenance margin; the position is closed into the
    external order book (slippage and impact from ``external_depth_usd``); negative equity
    is paid by the insurance fund, then by ``shortfall_policy``: ``"adl"`` closes the most
    profitable, most leveraged opposite positions at the bankruptcy price (BitMEX ranking),
    ``"socialise"`` haircuts every account in profit pro rata.

    ``upnl_collateral``: unrealised profit counts toward what an account may withdraw or
    borrow (Mango Markets v3 counted it in account health); otherwise only collateral
    beyond the initial margin, less unrealised losses, can leave. See
    :func:`contagion.agents.perp.withdrawable_usd` and :class:`ExploitParams`.
    ``lender_deposits_usd``: stablecoin deposited by lenders who hold no position (Mango
    v3's lending side), one account of the outside world: cash other accounts can borrow,
    and a claim that shares in socialised losses.
    ``markets``: the venue's markets beyond its primary ``asset`` (:class:`PerpMarketParams`);
    an account's positions in all of them share its collateral (cross margin within the
    venue): equity is collateral plus the PnL of every market, maintenance margin the sum of
    each market's ``|size| * mark * maintenance_margin_frac``.

    ``funding`` (off by default): every ``funding_interval_steps`` steps each market's
    longs pay its shorts (or the reverse) ``size * index * rate``
    (:meth:`contagion.agents.perp.PerpVenue.pay_funding`). The rate is quoted per
    ``funding_period_hours`` (8 at Binance, BitMEX, dYdX) as
    ``F = P + clamp(interest_rate_frac - P, -funding_clamp_frac, funding_clamp_frac)``,
    capped at ``+-funding_cap_frac``, and paid pro rata to the interval's minutes
    (``MarketParams.step_minutes``). ``P`` is the premium of the perp over its index
    averaged over the interval; each step it is ``premium_sensitivity`` times the
    traders' net long notional over the market's order-book depth, within
    ``+-max_liquidation_slippage_frac`` (:func:`contagion.mechanics.funding.imbalance_premium`).

    ``margin_model = "portfolio"`` (default ``"standard"``): every account's maintenance
    margin is its worst loss over a grid of price moves (``pm_moves_per_side`` evenly
    spaced moves up and down to ``+-pm_price_range_frac``, and none) x implied-vol moves
    (``pm_vol_up_frac``/``pm_vol_down_frac`` at 30 days, scaled ``(30/dte)^pm_vega_power``),
    plus the contingencies, Deribit-style
    (:mod:`contagion.mechanics.portfolio_margin`); a liquidation closes the riskiest
    positions first and stops once equity covers the margin. ``options`` lists European
    option series (:class:`OptionSeriesParams`; portfolio margin only), priced on
    ``Scenario.vol_surfaces``: ``option_share_of_traders`` of the venue's traders hold one
    series (long with probability ``option_long_share``, the notional their perp position
    would have had), ``option_hedge_frac`` of them delta-hedged with the perp; an option
    closed by a liquidation trades with the outside market makers at its value less (a
    sale) or plus (a purchase) ``option_liquidation_spread_frac``. The drawn positions of
    a portfolio-margin venue are scaled down so that each account's initial margin
    (``pm_initial_margin_multiple`` x maintenance) is at most 95% of its collateral. See
    ``docs/portfolio-margin.md``.
    """

    name: Annotated[str, Name()]
    asset: str
    oracle: str
    insurance_fund: str | None = None
    initial_margin_frac: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.1
    maintenance_margin_frac: Annotated[float, Real(low=0, high=1, low_open=True,
                                                   narrowed_by="initial_margin_frac")] = 0.05
    liquidation_fee_frac: Annotated[float, Real(low=0, high=0.1)] = 0.01
    shortfall_policy: Annotated[str, OneOf(SHORTFALL_POLICIES)] = "adl"
    dynamic_margin: Annotated[bool, Bool()] = False
    dynamic_margin_halflife_steps: Annotated[int, Int(low=1)] = 12
    dynamic_margin_horizon_steps: Annotated[int, Int(low=1)] = 12
    share_of_traders: Annotated[float, Real(low=0, high=1)] = 0.4
    mean_leverage: Annotated[float, Real(low=1, narrowed_by="initial_margin_frac")] = 5.0
    long_share: Annotated[float, Real(low=0, high=1)] = 0.7
    max_liquidation_slippage_frac: Annotated[float, Real(low=0, high=0.5)] = 0.05
    upnl_collateral: Annotated[bool, Bool()] = False
    lender_deposits_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    markets: tuple[PerpMarketParams, ...] = ()
    funding: Annotated[bool, Bool()] = False
    funding_interval_steps: Annotated[int, Int(low=1, high=1_000_000)] = 1
    funding_period_hours: Annotated[float, Real(low=0, high=10_000, low_open=True)] = 8.0
    interest_rate_frac: Annotated[float, Real(low=-0.01, high=0.01)] = 0.0001
    funding_clamp_frac: Annotated[float, Real(low=0, high=0.01)] = 0.0005
    funding_cap_frac: Annotated[float, Real(low=0, high=1)] = 0.0075
    premium_sensitivity: Annotated[float, Real(low=0, high=1_000)] = 1.0
    # options and portfolio margin (docs/portfolio-margin.md; off by default)
    options: tuple[OptionSeriesParams, ...] = ()
    margin_model: Annotated[str, OneOf(MARGIN_MODELS)] = "standard"
    pm_price_range_frac: Annotated[float, Real(low=0, high=1, low_open=True, high_open=True)] = 0.16
    pm_moves_per_side: Annotated[int, Int(low=1, high=500)] = 4
    pm_vol_up_frac: Annotated[float, Real(low=0, high=10)] = 0.38
    pm_vol_down_frac: Annotated[float, Real(low=0, high=1)] = 0.38
    pm_vega_power: Annotated[float, Real(low=0, high=2)] = 0.30
    pm_dte_floor_days: Annotated[float, Real(low=0, high=365, low_open=True)] = 1.0
    pm_extended_pnl_frac: Annotated[float, Real(low=0, high=1)] = 0.0
    pm_short_option_contingency_frac: Annotated[float, Real(low=0, high=1)] = 0.01
    pm_offset_perp_contingency_frac: Annotated[float, Real(low=0, high=1)] = 0.01
    pm_vega_offset_contingency_frac: Annotated[float, Real(low=0, high=1)] = 0.0
    pm_initial_margin_multiple: Annotated[float, Real(low=1, high=100)] = 2.0
    option_share_of_traders: Annotated[float, Real(low=0, high=1)] = 0.0
    option_long_share: Annotated[float, Real(low=0, high=1)] = 0.5
    option_hedge_frac: Annotated[float, Real(low=0, high=1)] = 0.0
    option_liquidation_spread_frac: Annotated[float, Real(low=0, high=0.5)] = 0.02

    def __post_init__(self) -> None:
        where = _name("perps", self)
        check_fields(self, where)
        check_real(f"{where}.maintenance_margin_frac", self.maintenance_margin_frac, low=0,
                   high=self.initial_margin_frac, low_open=True)
        check_real(f"{where}.mean_leverage", self.mean_leverage, low=1,
                   high=1 / self.initial_margin_frac)
        seen = [self.asset]
        for mk in self.markets:
            at = f"{where}.markets[{mk.asset}]"
            if mk.asset in seen:
                raise ParameterError(f"{at}.asset", mk.asset,
                                     "each asset at most once, the primary market "
                                     f"{self.asset!r} included")
            seen.append(mk.asset)
            imf, mmf = self.market_initial_margin_fracs[len(seen) - 1], \
                self.market_maintenance_margin_fracs[len(seen) - 1]
            check_real(f"{at}.maintenance_margin_frac", mmf, low=0, high=imf, low_open=True)
        self._check_options(where)

    def _check_options(self, where: str) -> None:
        """Options and portfolio margin: the series' assets are markets of the venue, options
        need ``margin_model = "portfolio"``."""
        for o in self.options:
            if o.asset not in self.market_assets:
                raise ParameterError(f"{where}.options[{o.asset}].asset", o.asset,
                                     "one of the venue's market assets "
                                     + ", ".join(self.market_assets))
        if self.options and self.margin_model != "portfolio":
            raise ParameterError(f"{where}.margin_model", self.margin_model, "'portfolio'",
                                 "a venue listing options margins them with portfolio margin "
                                 "(standard per-position margin of options is not modelled)")

    def pm_params(self) -> PortfolioMarginParams:
        """The venue's portfolio-margin grid and add-ons (the ``pm_*`` fields); the extended
        table (Deribit's moves, vol up) counts only when ``pm_extended_pnl_frac > 0``."""
        from contagion.mechanics.portfolio_margin import (
            DERIBIT_EXTENDED_MOVES,
            PortfolioMarginParams,
        )

        return PortfolioMarginParams(
            price_range_frac=self.pm_price_range_frac, price_steps=2 * self.pm_moves_per_side + 1,
            vol_up_frac=self.pm_vol_up_frac, vol_down_frac=self.pm_vol_down_frac,
            vega_power=self.pm_vega_power, dte_floor_days=self.pm_dte_floor_days,
            extended_moves=DERIBIT_EXTENDED_MOVES if self.pm_extended_pnl_frac > 0 else (),
            extended_pnl_frac=self.pm_extended_pnl_frac or 1.0,
            short_option_contingency_frac=self.pm_short_option_contingency_frac,
            offset_perp_contingency_frac=self.pm_offset_perp_contingency_frac,
            vega_offset_contingency_frac=self.pm_vega_offset_contingency_frac,
            initial_margin_multiple=self.pm_initial_margin_multiple)

    @property
    def market_assets(self) -> tuple[str, ...]:
        """Every market's asset, the primary ``asset`` first."""
        return (self.asset, *(mk.asset for mk in self.markets))

    @property
    def market_oracles(self) -> tuple[str, ...]:
        """Every market's oracle, the primary ``oracle`` first."""
        return (self.oracle, *(mk.oracle for mk in self.markets))

    @property
    def market_initial_margin_fracs(self) -> tuple[float, ...]:
        """Every market's initial margin fraction (the venue's where a market gives none)."""
        return (self.initial_margin_frac, *(
            self.initial_margin_frac if mk.initial_margin_frac is None else mk.initial_margin_frac
            for mk in self.markets))

    @property
    def market_maintenance_margin_fracs(self) -> tuple[float, ...]:
        """Every market's maintenance margin fraction (the venue's where a market gives none)."""
        return (self.maintenance_margin_frac, *(
            self.maintenance_margin_frac if mk.maintenance_margin_frac is None
            else mk.maintenance_margin_frac for mk in self.markets))


@dataclass(frozen=True, kw_only=True)
class CustodialParams:
    """A custodial exchange: customer deposits, what it does with them, and its run.

    Of customer deposits it keeps ``liquid_reserve_frac`` in the stablecoin, supplies
    ``supply_to_lending_frac`` to ``supply_to`` and lends through credit links; it also holds
    ``token_holdings_usd`` of its own token. Each step depositors withdraw
    ``run_speed_frac * stress`` of their balance, where stress grows with the fall of its
    token and, when it publishes ``solvency_proofs``, with its reserve shortfall. It pays
    from reserves, then sells its token into its pool, recalls its lending supply and calls
    its loans (repaid after ``settlement_delay_steps``); when it cannot pay, or its assets
    fall below its liabilities, it defaults and its creditors recover pro rata.

    ``asset_holdings_usd`` are other assets it holds, as ``(asset, usd at the start)`` pairs
    (Celsius's stETH): marked to market in its assets and solvency proofs and, with
    ``sell_assets_in_run``, sold into their pools (after its own token) to raise cash in a run.

    ``freeze_when_insolvent``: when a borrower's default (a loan loss) leaves its assets
    below its liabilities it freezes withdrawals and defaults at once, run or no run
    (BlockFi and Genesis after FTX, November 2022); otherwise only a run it cannot pay
    brings it down. The test uses its books (``CustodialExchange.book_assets_usd``): a loan
    is marked down once its borrower has defaulted, from the step after the default.

    ``writedown_frac`` of its illiquid (external) assets is written off at step
    ``writedown_step`` (an ``asset_writedown`` event; 0, the default: never), the shock of the
    interbank models (``models.classic.interbank``). The write-down is a loss like a loan
    loss: with ``freeze_when_insolvent`` the exchange defaults in that step if its assets
    fall below its liabilities.

    ``liquidate_on_default``: when it defaults it sells all its held assets at once into
    their pools (the external market when an asset has no pool), one ``asset_sale`` event
    per asset caused by the default, and its creditors recover the proceeds (the fire sales
    of Caccioli et al. 2014, ``models.classic.fire_sales_preset``); False (the default): it
    keeps them. For ``freeze_when_insolvent`` its books mark held assets at the prices of
    the step's start, before any exchange acts: a fall in their value is a loss like a loan
    loss, and another holder's fire sale reaches its books one step later, so a fire-sale
    cascade advances one round per step.

    ``await_settlement``: a run it cannot pay while loans it recalled are still in their
    settlement window freezes withdrawals (``withdrawal_freeze``, reason
    ``awaiting_settlement``) instead of defaulting, until the recalls fall due
    (``settlement_delay_steps`` after they were made). Repaid, it reopens withdrawals; if a
    borrower defaulted inside the window it books the loss (``settlement_failed``) and
    defaults if that leaves it insolvent or still unable to pay. False (the default): the
    run brings it down in the step the recalls are made, so the delay never matters.

    Solvency proofs (``contagion.mechanics.solvency_proof``, ``docs/solvency-proofs.md``):
    with ``solvency_proofs`` its depositors' stress also grows with the shortfall of the
    reserve ratio it publishes (3 x (1 - ratio)). ``proof_kind`` ``"exact"`` (the default)
    publishes the true ratio every step. ``"reserves"`` publishes a reserves-only attestation:
    its reserves (plus ``borrowed_reserves_usd``, borrowed for each snapshot and returned
    after it) against the liabilities it reports, which leave out ``hidden_liabilities_frac``
    of its customer deposits. ``"liabilities"`` adds a proof of liabilities (a Merkle sum
    tree or a zero-knowledge proof every customer checks): every deposit is shown, and the
    snapshot loan too. These two kinds take a snapshot every ``proof_every_steps`` steps
    (steps ``every``, ``2 every``, ...) and publish it ``proof_lag_steps`` later
    (``solvency_proof`` events); between proofs depositors see the last one, before the
    first they see none. Each proof moves every depositor's run threshold from the one it
    was drawn with by ``proof_threshold_weight`` x (ratio - 1), held within
    ``[run_stress_threshold, 1]``.
    """

    name: Annotated[str, Name()]
    token: str | None = None
    deposits_usd: Annotated[float, Real(low=MIN_USD, high=MAX_USD)] = 2e8
    liquid_reserve_frac: Annotated[float, Real(low=0, high=1)] = 0.45
    supply_to: str | None = None
    supply_to_lending_frac: Annotated[float, Real(low=0, high=1)] = 0.15
    token_holdings_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 2e7
    equity_buffer_frac: Annotated[float, Real(low=-0.5, high=100)] = 0.05
    run_speed_frac: Annotated[float, Real(low=0, high=1)] = 0.1
    run_stress_threshold: Annotated[float, Real(low=0, high=1)] = 0.05
    solvency_proofs: Annotated[bool, Bool()] = True
    settlement_delay_steps: Annotated[int, Int(low=0, high=10_000)] = 6
    share_of_traders: Annotated[float, Real(low=0, high=1)] = 0.5
    asset_holdings_usd: tuple[tuple[str, float], ...] = ()
    sell_assets_in_run: Annotated[bool, Bool()] = True
    freeze_when_insolvent: Annotated[bool, Bool()] = False
    writedown_frac: Annotated[float, Real(low=0, high=1)] = 0.0
    writedown_step: Annotated[int, Int(low=1, high=1_000_000)] = 1
    liquidate_on_default: Annotated[bool, Bool()] = False
    await_settlement: Annotated[bool, Bool()] = False
    proof_kind: Annotated[str, OneOf(PROOF_KINDS)] = "exact"
    proof_every_steps: Annotated[int, Int(low=1, high=1_000_000)] = 1
    proof_lag_steps: Annotated[int, Int(low=0, high=1_000_000)] = 0
    hidden_liabilities_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    borrowed_reserves_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    proof_threshold_weight: Annotated[float, Real(low=0, high=10)] = 0.5

    def __post_init__(self) -> None:
        where = _name("custodial", self)
        check_fields(self, where)
        self._check_proofs(where)
        if self.liquid_reserve_frac + self.supply_to_lending_frac > 1:
            raise ParameterError(f"{where}.supply_to_lending_frac", self.supply_to_lending_frac,
                                 f"<= 1 - liquid_reserve_frac = {1 - self.liquid_reserve_frac:g}")
        held = [asset for asset, _ in self.asset_holdings_usd]
        if len(set(held)) != len(held):
            raise ParameterError(f"{where}.asset_holdings_usd", held, "each asset at most once")
        for asset, usd in self.asset_holdings_usd:
            check_real(f"{where}.asset_holdings_usd[{asset}]", usd, low=0, high=MAX_USD)

    def _check_proofs(self, where: str) -> None:
        """Proof settings need proofs; the exact ratio is every step, unlagged, unhidden."""
        if not self.solvency_proofs and self.proof_kind != "exact":
            raise ParameterError(f"{where}.proof_kind", self.proof_kind,
                                 "'exact' unless solvency_proofs is true",
                                 "an exchange that publishes no proofs has no proof kind")
        if self.proof_kind != "exact":
            return
        for field, value, default in (("proof_every_steps", self.proof_every_steps, 1),
                                      ("proof_lag_steps", self.proof_lag_steps, 0),
                                      ("hidden_liabilities_frac", self.hidden_liabilities_frac, 0),
                                      ("borrowed_reserves_usd", self.borrowed_reserves_usd, 0)):
            if value != default:
                raise ParameterError(f"{where}.{field}", value,
                                     f"{default} with proof_kind 'exact'",
                                     "the exact ratio is the true one, published every step; "
                                     "choose proof_kind 'reserves' or 'liabilities'")


@dataclass(frozen=True, kw_only=True)
class FirmParams:
    """A leveraged trading firm (a 3AC or Alameda): borrows from venues through credit
    links and holds a leveraged collateral position at a lending protocol."""

    name: Annotated[str, Name()]
    lending: str
    collateral_usd: tuple[tuple[str, float], ...]
    health_factor: Annotated[float, Real(low=1, high=100, low_open=True)] = 1.35
    cash_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0

    def __post_init__(self) -> None:
        where = _name("firms", self)
        check_fields(self, where)
        if not self.collateral_usd:
            raise ParameterError(f"{where}.collateral_usd", self.collateral_usd,
                                 "at least one (asset, usd) pair")
        for asset, usd in self.collateral_usd:
            check_real(f"{where}.collateral_usd[{asset}]", usd, low=0, high=MAX_USD)


@dataclass(frozen=True, kw_only=True)
class CreditLinkParams:
    """An unsecured loan of the stablecoin from one institution to another."""

    lender: str
    borrower: str
    amount_usd: Annotated[float, Real(low=0, high=MAX_USD, low_open=True)]

    def __post_init__(self) -> None:
        where = f"credit[{self.lender}->{self.borrower}]"
        check_fields(self, where)
        if self.lender == self.borrower:
            raise ParameterError(f"{where}.borrower", self.borrower, "a different institution")


@dataclass(frozen=True, kw_only=True)
class InsuranceFundParams:
    """A fund that absorbs a venue's bad debt before losses are socialised."""

    name: Annotated[str, Name()]
    balance_usd: Annotated[float, Real(low=0, high=MAX_USD)]

    def __post_init__(self) -> None:
        check_fields(self, _name("funds", self))


@dataclass(frozen=True, kw_only=True)
class LiquidatorParams:
    """Liquidation bots: capital, throughput (liquidation latency) and costs.

    Each step they repay at most ``capital_usd`` of debt across at most
    ``max_liquidations_per_step`` accounts, and only where the bonus beats the price
    impact of selling the collateral plus ``gas_cost_usd`` by ``min_profit_usd``. Those
    limits are the liquidation latency: an account can stay liquidatable for several steps.

    Gas: from ``gas_spike_start_step`` for ``gas_spike_duration_steps`` steps gas costs
    ``gas_spike_multiplier`` times ``gas_cost_usd``. In auction mode (see
    :class:`LendingParams`) they are ``bidders`` keepers; keeper ``k`` of ``K`` stops
    bidding while gas exceeds ``1 + (bidder_max_gas_multiple - 1) * k / K`` times normal
    (bots that do not adapt to high gas), and each bids on at most
    ``max_liquidations_per_step`` lots a step.
    """

    name: Annotated[str, Name()]
    capital_usd: Annotated[float, Real(low=0, high=MAX_USD, allow_inf=True)] = 2e7
    max_liquidations_per_step: Annotated[int, Int(low=0)] = 200
    gas_cost_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 20.0
    min_profit_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    gas_spike_multiplier: Annotated[float, Real(low=1, high=1000)] = 1.0
    gas_spike_start_step: Annotated[int, Int(low=0)] = 0
    gas_spike_duration_steps: Annotated[int, Int(low=0)] = 0
    bidders: Annotated[int, Int(low=1, high=1000)] = 3
    bidder_max_gas_multiple: Annotated[float, Real(low=1, high=1000)] = 10.0

    def __post_init__(self) -> None:
        check_fields(self, _name("liquidators", self))


@dataclass(frozen=True, kw_only=True)
class TraderParams:
    """The trader population: how many, how big, and how they behave.

    ``cross_margin_share`` of perp traders margin their perp account with their deposit at
    the custodial exchange (one collateral pool across venues); the rest are isolated.
    A margin call on that deposit settles after ``cross_margin_settlement_steps`` (a
    cross-venue or cross-chain transfer: withdrawal, bridge, deposit); until then the perp
    venue carries it unfunded, and loses it if the exchange defaults in that window.
    ``topup_share`` add margin from their wallet when close to liquidation.
    ``agent_limit``: at most this many Trader agents; above it, one agent stands for a
    cohort of accounts that share a policy.
    """

    n_traders: Annotated[int, Int(low=1, high=50_000_000)] = 1000
    mean_wealth_usd: Annotated[float, Real(low=MIN_USD, high=MAX_USD)] = 2e5
    wealth_sigma: Annotated[float, Real(low=0, high=5)] = 1.2
    wallet_frac: Annotated[float, Real(low=0, high=1)] = 0.15
    cross_margin: Annotated[bool, Bool()] = True
    cross_margin_share: Annotated[float, Real(low=0, high=1)] = 0.3
    cross_margin_haircut_frac: Annotated[float, Real(low=0, high=1)] = 0.1
    cross_margin_settlement_steps: Annotated[int, Int(low=0, high=10_000)] = 0
    topup_share: Annotated[float, Real(low=0, high=1)] = 0.3
    topup_below_margin_ratio: Annotated[float, Real(low=1, high=10)] = 1.2
    agent_limit: Annotated[int, Int(low=1)] = 5000

    def __post_init__(self) -> None:
        check_fields(self, "traders")


@dataclass(frozen=True, kw_only=True)
class MarketParams:
    """Clock and market-wide settings.

    ``numeraire`` is the stablecoin every venue keeps its books in (margin, stablecoin
    debt, suppliers' claims, deposits, insurance funds): an amount ``*_usd`` in a book or
    an event is a number of its units. By default it is worth exactly $1 everywhere.

    ``numeraire_oracle`` lets it depeg: the name of an oracle of the numeraire (source
    ``"external"``). The numeraire's true USD price is then its price path (a
    :class:`PricePathParams` with ``asset`` = the numeraire: a ``crash`` of ``shock_frac``
    is a depeg to ``1 - shock_frac``; ``replay`` a recorded one; no path: it stays at $1),
    the outside market trades every asset for the numeraire at its USD price divided by
    that price, and each venue reads the numeraire's price from this oracle (the world
    graph's ``price_feed`` edge ``oracle -> venue`` keyed by the numeraire) and values every
    numeraire amount at it (see ``docs/stablecoin-risk.md``). None (the default): no depeg,
    and the engine does exactly what it did before.
    """

    steps: Annotated[int, Int(low=1, high=1_000_000)] = 144
    step_minutes: Annotated[float, Real(low=0, low_open=True)] = 5.0
    numeraire: str = "USDC"
    record_network_every: Annotated[int, Int(low=0)] = 1
    numeraire_oracle: str | None = None

    def __post_init__(self) -> None:
        check_fields(self, "market")
        if self.numeraire_oracle is not None and (not isinstance(self.numeraire_oracle, str)
                                                  or not self.numeraire_oracle.strip()):
            raise ParameterError("market.numeraire_oracle", self.numeraire_oracle,
                                 "None (the numeraire is worth $1) or the name of an oracle "
                                 "of the numeraire")


@dataclass(frozen=True, kw_only=True)
class LiquidityShockParams:
    """A collapse of order-book depth (10 October 2025: depth down ~98%).

    From ``start_step`` for ``duration_steps`` steps the external depth
    (``AssetParams.external_depth_usd``) of each of ``assets`` and the arbitrage capacity
    of every pool of those assets are multiplied by ``1 - depth_drop_frac``; afterwards
    they recover linearly to normal over ``recovery_steps``. Thinner depth means more
    price impact per dollar sold, more perp liquidation slippage, and pools that
    arbitrageurs repair more slowly. See :func:`contagion.mechanics.liquidity.depth_multiplier`.
    """

    assets: tuple[str, ...]
    start_step: Annotated[int, Int(low=0)]
    duration_steps: Annotated[int, Int(low=1)]
    depth_drop_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.98
    recovery_steps: Annotated[int, Int(low=0)] = 0
    name: Annotated[str, Name()] = "depth-collapse"

    def __post_init__(self) -> None:
        where = _name("liquidity_shocks", self)
        check_fields(self, where)
        if (not isinstance(self.assets, tuple) or not self.assets
                or not all(isinstance(a, str) and a for a in self.assets)):
            raise ParameterError(f"{where}.assets", self.assets,
                                 "a non-empty tuple of asset names")
        if len(set(self.assets)) != len(self.assets):
            raise ParameterError(f"{where}.assets", self.assets, "each asset at most once")


@dataclass(frozen=True, kw_only=True)
class PegParams:
    """An algorithmic peg (Terra's market module): mint/burn arbitrage and a reserve.

    The protocol swaps one unit of ``stable`` for one dollar of newly minted ``token`` at
    the token's price (``token_oracle``'s, or ``token_pool``'s spot when None), less
    ``swap_spread_frac``, and back. When ``stable`` trades below $1 in ``stable_pool``,
    arbitrageurs (the outside world) buy it there, burn it for token and sell the token
    into ``token_pool``; above $1 they do the reverse. At most
    ``mint_capacity_usd_per_step`` of stable is burned or minted a step (0: no mint/burn,
    no reflexivity). A reserve of ``reserve_usd`` held in ``reserve_asset`` (None: the
    numeraire; otherwise sold to the external market when needed) buys ``stable`` in
    ``stable_pool`` whenever its spot is below ``defend_below_price``, at most
    ``reserve_spend_usd_per_step`` a step, until it runs out. ``stable_supply_units`` and
    ``token_supply_units`` are the circulating supplies at the start (most of them outside
    the model), the base of the supply series.
    """

    name: Annotated[str, Name()]
    stable: str
    token: str
    stable_pool: str
    token_pool: str
    stable_supply_units: Annotated[float, Real(low=0, high=MAX_UNITS, low_open=True)]
    token_supply_units: Annotated[float, Real(low=0, high=MAX_UNITS, low_open=True)]
    token_oracle: str | None = None
    mint_capacity_usd_per_step: Annotated[float, Real(low=0, high=MAX_USD, allow_inf=True)] = 5e7
    swap_spread_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.005
    reserve_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    reserve_asset: str | None = None
    defend_below_price: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.99
    reserve_spend_usd_per_step: Annotated[float, Real(low=0, high=MAX_USD, low_open=True, allow_inf=True)] = (
        float("inf"))

    def __post_init__(self) -> None:
        where = _name("pegs", self)
        check_fields(self, where)
        if self.token == self.stable:
            raise ParameterError(f"{where}.token", self.token, f"an asset other than {self.stable!r}")


@dataclass(frozen=True, kw_only=True)
class YieldVenueParams:
    """A yield venue on a pegged stablecoin (Anchor) and the run on its deposits.

    ``share_of_traders`` of the traders hold deposits of ``asset`` worth ``deposits_usd``
    in all, sized from a Pareto law with tail index ``size_tail_alpha`` (lower: more in a
    few hands). Each holder leaves once the depeg (one minus ``pool``'s spot) reaches
    their threshold, between ``min_exit_depeg_frac`` and ``max_exit_depeg_frac`` and
    spread so that the deposits leave evenly over the log of the depeg; the largest
    holders have the lowest thresholds when ``sophistication_ordered`` (a random order
    otherwise; see :func:`contagion.mechanics.peg.exit_thresholds`). A leaver sells
    ``exit_frac_per_step`` of its deposit a step into ``pool`` (lower thresholds first in
    the queue) until it is gone.
    """

    name: Annotated[str, Name()]
    asset: str
    pool: str
    deposits_usd: Annotated[float, Real(low=MIN_USD, high=MAX_USD)]
    share_of_traders: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.4
    size_tail_alpha: Annotated[float, Real(low=0, high=100, low_open=True)] = 1.2
    min_exit_depeg_frac: Annotated[float, Real(low=0, high=1, low_open=True, high_open=True)] = 0.005
    max_exit_depeg_frac: Annotated[float, Real(low=0, high=1, low_open=True,
                                               narrowed_by="min_exit_depeg_frac")] = 0.6
    exit_frac_per_step: Annotated[float, Real(low=0, high=1, low_open=True)] = 0.25
    sophistication_ordered: Annotated[bool, Bool()] = True

    def __post_init__(self) -> None:
        where = _name("yield_venues", self)
        check_fields(self, where)
        check_real(f"{where}.max_exit_depeg_frac", self.max_exit_depeg_frac,
                   low=self.min_exit_depeg_frac, high=1)


@dataclass(frozen=True, kw_only=True)
class ExploitParams:
    """An attacker who borrows against a manipulated mark (Mango Markets, October 2022).

    At the start the attacker deposits ``collateral_usd`` at perp venue ``venue`` and opens
    a long of ``notional_usd`` at the initial mark, against the outside market makers.
    From ``start_step`` on, if ``withdraw``, each step (after the oracles publish, before
    margin checks) it withdraws everything the venue lets it take: with the venue's
    ``upnl_collateral`` that includes unrealised profit, so a pumped mark lets it drain the
    venue's cash. The pump itself is a :class:`PoolManipulationParams` on the pool the
    venue's oracle reads.
    """

    venue: str
    notional_usd: Annotated[float, Real(low=0, high=MAX_USD, low_open=True)]
    collateral_usd: Annotated[float, Real(low=0, high=MAX_USD, low_open=True)]
    start_step: Annotated[int, Int(low=0)] = 0
    withdraw: Annotated[bool, Bool()] = True

    def __post_init__(self) -> None:
        check_fields(self, f"exploits[{self.venue}]")


@dataclass(frozen=True, kw_only=True)
class ClearingParams:
    """How the institutions' credit network is cleared each step (Rogers-Veraart costs).

    A defaulting institution realises ``external_assets_frac`` of its external assets and
    passes on ``interbank_receipts_frac`` of what its debtors pay it
    (:func:`contagion.mechanics.clearing.eisenberg_noe`'s ``alpha`` and ``beta``). Both 1
    (the default) is plain Eisenberg-Noe, pro-rata recovery; both 0 is the zero recovery of
    Gai & Kapadia (2010): a defaulter's creditors get nothing.
    """

    external_assets_frac: Annotated[float, Real(low=0, high=1)] = 1.0
    interbank_receipts_frac: Annotated[float, Real(low=0, high=1)] = 1.0

    def __post_init__(self) -> None:
        check_fields(self, "clearing")


@dataclass(frozen=True, kw_only=True)
class PriceModelParams:
    """Joint noise of the stochastic price paths: correlation, fat tails, GARCH volatility.

    The exogenous paths of ``assets`` (each with its own :class:`PricePathParams`, which
    keeps its drift, crash and jumps and its ``vol_per_step``) draw their noise together
    (:mod:`contagion.mechanics.price_model`): with ``correlation`` (a matrix over
    ``assets``, in their order, unit diagonal, positive semi-definite) or
    ``factor_loadings`` (one row per asset, one column per common factor; the rest of each
    asset's variance is its own), neither meaning independent. ``innovations``:
    ``"normal"``, or ``"student_t"`` with ``dof`` degrees of freedom (unit variance): with
    ``joint_tails`` a multivariate t, whose extreme draws come to all the assets at once
    even uncorrelated; without, each asset its own t (independent paths with the same
    marginals when there is no correlation). ``garch_alpha`` / ``garch_beta``: GARCH(1,1)
    volatility clustering, with omega set so each path's unconditional variance stays its
    ``vol_per_step`` squared (variance targeting), started there; both 0 is constant
    volatility. Without a ``price_model`` (the default) each path draws its own noise.
    """

    assets: tuple[str, ...]
    correlation: tuple[tuple[float, ...], ...] = ()
    factor_loadings: tuple[tuple[float, ...], ...] = ()
    innovations: Annotated[str, OneOf(INNOVATION_KINDS)] = "normal"
    dof: Annotated[float, Real(low=2, high=1e6, low_open=True)] = 5.0
    garch_alpha: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    garch_beta: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    joint_tails: Annotated[bool, Bool()] = True

    def __post_init__(self) -> None:
        from contagion.mechanics.price_model import correlation_factor, factor_factor

        where = "price_model"
        check_fields(self, where)
        if (not isinstance(self.assets, tuple) or not self.assets
                or not all(isinstance(a, str) and a for a in self.assets)):
            raise ParameterError(f"{where}.assets", self.assets, "a non-empty list of asset names")
        if len(set(self.assets)) != len(self.assets):
            raise ParameterError(f"{where}.assets", self.assets, "distinct asset names")
        n = len(self.assets)
        if self.correlation and self.factor_loadings:
            raise ParameterError(f"{where}.factor_loadings", self.factor_loadings,
                                 "empty when a correlation matrix is given",
                                 "give a correlation matrix or factor loadings, not both")
        if self.correlation:
            if len(self.correlation) != n:
                raise ParameterError(f"{where}.correlation", self.correlation,
                                     f"{n} rows of {n} numbers, one per asset of "
                                     f"{where}.assets {list(self.assets)}")
            correlation_factor(self.correlation, name=f"{where}.correlation")
        if self.factor_loadings:
            if len(self.factor_loadings) != n:
                raise ParameterError(f"{where}.factor_loadings", self.factor_loadings,
                                     f"{n} rows, one per asset of {where}.assets "
                                     f"{list(self.assets)}")
            factor_factor(self.factor_loadings, name=f"{where}.factor_loadings")
        if self.garch_alpha + self.garch_beta >= 1.0:
            raise ParameterError(f"{where}.garch_beta", self.garch_beta,
                                 f"< 1 - garch_alpha = {1.0 - self.garch_alpha:g}",
                                 "a GARCH(1,1) with alpha + beta >= 1 has no finite "
                                 "unconditional variance")


# ----------------------------------------------------------------- clearing houses
DEFAULT_FUND_RULES = ("cover2", "fixed")


@dataclass(frozen=True, kw_only=True)
class ClearingMemberParams:
    """A member of a clearing house: an institution of the scenario (a custodial exchange or
    a trading firm) and the position it clears, ``notional_usd`` of the house's asset at its
    initial price (positive long, negative short, 0 a member with no position that still
    contributes to the default fund)."""

    name: Annotated[str, Name()]
    notional_usd: Annotated[float, Real(low=-MAX_USD, high=MAX_USD)]

    def __post_init__(self) -> None:
        check_fields(self, _name("members", self))


@dataclass(frozen=True, kw_only=True)
class ClearingHouseParams:
    """A clearing house (a CCP): members clear positions in ``asset`` through it, marked to
    ``oracle`` every step, and post initial margin and default-fund contributions.

    Each member's initial margin is ``|notional| * margin_z_score * margin_vol_per_step *
    sqrt(margin_period_steps)`` (a parametric VaR over the close-out period); the default fund
    is ``default_fund_usd`` (``default_fund_rule="fixed"``) or, with ``"cover2"``, the two
    largest losses beyond margin of a ``stress_move_frac`` move against each member
    (:func:`contagion.mechanics.waterfall.cover2_fund_usd`), at least ``default_fund_usd``; it
    is split among members pro rata to their margins. Both are paid out of the members' cash at
    set-up and stay on their books as claims on the house. Every step the house pays and
    collects variation margin in cash; a member that cannot pay it (or has defaulted elsewhere)
    is in default at the house, which closes its position (the outside market takes it over at a
    cost of ``closeout_cost_frac`` of its notional) and runs the waterfall: the defaulter's
    margin, its contribution, ``skin_in_the_game_usd`` of the house's own capital, the
    survivors' contributions, then assessments of up to ``assessment_multiple`` times each
    survivor's contribution, paid from its cash. Whatever is left haircuts the variation-margin
    gains the house pays that step.
    """

    name: Annotated[str, Name()]
    asset: str
    oracle: str
    members: tuple[ClearingMemberParams, ...]
    margin_z_score: Annotated[float, Real(low=0, high=10)] = 2.326
    margin_vol_per_step: Annotated[float, Real(low=0, high=0.5)] = 0.01
    margin_period_steps: Annotated[int, Int(low=1, high=10_000)] = 12
    default_fund_rule: Annotated[str, OneOf(DEFAULT_FUND_RULES)] = "cover2"
    default_fund_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    stress_move_frac: Annotated[float, Real(low=0, high=1)] = 0.3
    skin_in_the_game_usd: Annotated[float, Real(low=0, high=MAX_USD)] = 0.0
    assessment_multiple: Annotated[float, Real(low=0, high=100)] = 1.0
    closeout_cost_frac: Annotated[float, Real(low=0, high=1)] = 0.0

    def __post_init__(self) -> None:
        where = _name("clearing_houses", self)
        check_fields(self, where)
        if not isinstance(self.members, tuple) or not self.members or not all(
                isinstance(m, ClearingMemberParams) for m in self.members):
            raise ParameterError(f"{where}.members", self.members,
                                 "at least one member (name, notional_usd)")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ParameterError(f"{where}.members", names, "each member once")

    def resources_usd(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Each member's initial margin and default-fund contribution (USD), in the order
        of :attr:`members` (notionals are in USD at the initial price)."""
        import numpy as np

        from contagion.mechanics.waterfall import allocate_fund, cover2_fund_usd, initial_margin_usd

        notional = np.array([m.notional_usd for m in self.members])
        im = initial_margin_usd(notional, vol_per_step=self.margin_vol_per_step,
                                margin_period_steps=self.margin_period_steps,
                                z_score=self.margin_z_score)
        if self.default_fund_rule == "cover2":
            total = max(cover2_fund_usd(np.abs(notional) * self.stress_move_frac, im),
                        self.default_fund_usd)
        else:
            total = self.default_fund_usd
        df = allocate_fund(total, im)
        return tuple(float(x) for x in im), tuple(float(x) for x in df)



# ----------------------------------------------------------------- bridges
@dataclass(frozen=True, kw_only=True)
class BridgeParams:
    """A lock-and-mint bridge: ``locked_units`` of the claim's underlying sit in its contract
    on one chain, and as many claims (``asset``, an asset whose ``underlying`` is the locked
    one: ``wETH`` on ``ETH``) circulate on another (see :mod:`contagion.mechanics.bridge`).

    The claim's market price is its underlying's times ``min(1, locked / minted)``, times
    ``1 - halt_discount_frac`` while the bridge is halted. At ``exploit_step`` (-1, or
    ``exploit_frac`` 0: never) an attacker takes ``exploit_frac`` of the locked collateral to
    the outside world: the backing ratio falls and every venue that accepts the claim as
    collateral feels it; at ``recapitalise_step`` (-1: never; Jump Crypto refilled Wormhole
    the next day) a backer puts back what is missing (nothing, if nothing is). From
    ``halt_step`` (-1, or ``halt_steps`` 0: never) for ``halt_steps`` steps the bridge is
    halted: transfers across it are frozen.

    Cross-chain margin: the perp venues in ``margin_venues`` (on the far chain) receive the
    cross-margin transfers of their custodian across this bridge (a ``bridge_route`` edge each):
    a transfer settles ``finality_steps`` after the custodian's own settlement delay
    (``TraderParams.cross_margin_settlement_steps``); while the bridge is halted transfers in
    flight do not arrive (they settle on the first step after the halt) and the venues count
    no credit for deposits that cannot cross. ``finality_steps`` only matters for a bridge
    that carries margin.
    """

    name: Annotated[str, Name()]
    asset: str
    locked_units: Annotated[float, Real(low=0, high=MAX_UNITS, low_open=True)]
    finality_steps: Annotated[int, Int(low=0, high=10_000)] = 1
    halt_step: Annotated[int, Int(low=-1, high=1_000_000)] = -1
    halt_steps: Annotated[int, Int(low=0, high=1_000_000)] = 0
    halt_discount_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    exploit_step: Annotated[int, Int(low=-1, high=1_000_000)] = -1
    exploit_frac: Annotated[float, Real(low=0, high=1, high_open=True)] = 0.0
    recapitalise_step: Annotated[int, Int(low=-1, high=1_000_000)] = -1
    margin_venues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = _name("bridges", self)
        check_fields(self, where)
        if not isinstance(self.margin_venues, tuple) or not all(
                isinstance(v, str) for v in self.margin_venues):
            raise ParameterError(f"{where}.margin_venues", self.margin_venues,
                                 "a list of perp venue names")
        if len(set(self.margin_venues)) != len(self.margin_venues):
            raise ParameterError(f"{where}.margin_venues", list(self.margin_venues),
                                 "each venue once")

    def halted_at(self, step: int) -> bool:
        """Whether the bridge is halted in ``step``."""
        return self.halt_step >= 0 and self.halt_step <= step < self.halt_step + self.halt_steps


def field_names(cls: type) -> list[str]:
    """The field names of a parameter dataclass (used by the override parser)."""
    return [f.name for f in fields(cls)]
