"""The run form: which preset parameters a user can edit, and their validation.

Allowed ranges are not repeated here: each value is checked by building the preset with it,
so the message next to a field is the preset's own :class:`ParameterError` (parameter name,
value, allowed range), the same one the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contagion.errors import ParameterError
from contagion.scenario import Scenario, truncated_shock
from models import get_scenario, scenario_parameters

__all__ = ["FIELDS", "Field", "build", "coerce", "fields_for", "validate"]


@dataclass(frozen=True)
class Field:
    """One editable parameter of a preset."""

    key: str
    label: str
    kind: str  # number | int | bool | choice
    choices: tuple[str, ...] = ()
    step: float | None = None
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("n_traders", "Traders", "int", step=100, help="number of trader accounts"),
    Field("shock_frac", "Shock size", "number", step=0.01,
          help="fraction the shocked asset's price falls (0: no shock)"),
    Field("shock_duration_steps", "Shock duration (steps)", "int", step=1,
          help="steps the fall takes (a step's length depends on the preset)"),
    Field("mean_leverage", "Perp leverage (mean)", "number", step=0.5,
          help="mean leverage of the perpetual-futures accounts"),
    Field("oracle_delay_steps", "Oracle delay (steps)", "int", step=1,
          help="steps the oracles' prices lag the market (0: no lag)"),
    Field("oracle_heartbeat_steps", "Oracle heartbeat (steps)", "int", step=1),
    Field("twap_window_steps", "TWAP window (steps)", "int", step=1),
    Field("liquidator_capital_usd", "Liquidator capital per step ($)", "number", step=1e6,
          help="debt the liquidators can repay per step"),
    Field("liquidator_max_per_step", "Liquidations per step (max)", "int", step=10),
    Field("insurance_fund_scale", "Insurance funds (x)", "number", step=0.5,
          help="multiplier of every insurance fund's balance"),
    Field("amm_depth_scale", "AMM depth (x)", "number", step=0.25,
          help="multiplier of the pools' liquidity"),
    Field("cross_margin", "Cross-margin", "bool"),
    Field("cross_margin_settlement_steps", "Cross-margin settlement (steps)", "int", step=1),
    Field("settlement_delay_steps", "Settlement window (steps)", "int", step=1,
          help="steps from an exchange's loan recall to its settlement"),
    Field("await_settlement", "Wait for recalls", "bool",
          help="an exchange that cannot pay freezes withdrawals until its recalls settle"),
    Field("shortfall_policy", "After the fund: ", "choice", choices=("adl", "socialise"),
          help="what a perp venue does with losses once its insurance fund is empty"),
    Field("solvency_proofs", "Exchange publishes solvency proofs", "bool"),
    Field("proof_kind", "Solvency proof", "choice",
          choices=("reserves", "liabilities", "exact"),
          help="reserves-only attestation, a proof of liabilities too, or the true ratio"),
    Field("proof_every_steps", "Proof every (steps)", "int", step=1,
          help="steps between snapshots of the books"),
    Field("proof_lag_steps", "Proof lag (steps)", "int", step=1,
          help="steps from a snapshot to its publication"),
    Field("hidden_liabilities_frac", "Customer balances left out", "number", step=0.01,
          help="share of deposits the exchange's own report omits"),
    Field("borrowed_reserves_usd", "Reserves borrowed per snapshot ($)", "number", step=5e7),
    Field("token_drop_step", "Token falls at step", "int", step=1),
    Field("dynamic_margin", "Dynamic perp margin", "bool"),
    Field("depth_drop_frac", "Order-book depth drop", "number", step=0.01,
          help="fraction of market depth and arbitrage capacity lost in the collapse"),
    Field("depth_collapse_steps", "Depth collapse (steps)", "int", step=1,
          help="steps before depth starts to recover (5 minutes each)"),
    Field("usde_oracle", "USDe collateral priced from", "choice", choices=("internal", "external"),
          help="the venue's own thin USDe book, or the external market"),
    Field("usde_selloff_usd", "USDe sell-off per step ($)", "number", step=1e5,
          help="USDe dumped into the venue's book each step of the sell-off"),
    Field("gas_spike_multiplier", "Gas spike (x normal)", "number", step=0.5,
          help="gas price during the spike; keepers whose bots do not pay it stop bidding"),
    Field("gas_spike_start_step", "Gas spike start (step)", "int", step=1),
    Field("gas_spike_duration_steps", "Gas spike duration (steps)", "int", step=1),
    Field("keeper_bidders", "Keepers bidding in auctions", "int", step=1,
          help="keepers with gas tolerances spread up to 7x normal"),
    Field("surplus_buffer_usd", "Surplus buffer ($)", "number", step=1e5,
          help="the protocol's surplus, first to absorb bad debt"),
    Field("discount_frac", "stETH discount (exogenous)", "number", step=0.01,
          help="stETH's discount to ETH at the end of the market's own basis path"),
    Field("celsius_forced_selling", "Celsius fire-sells its stETH in the run", "bool"),
    Field("threeac_loan_usd", "Celsius's loan to 3AC ($)", "number", step=5e7,
          help="0: no loan, 3AC's default cannot hit Celsius"),
    Field("loop_health_factor", "stETH loops' health factor (mean)", "number", step=0.05,
          help="leveraged stETH borrowers at the lender; at least LT/LTV = 1.174"),
    Field("writedown_frac", "External assets written off", "number", step=0.05,
          help="fraction of the shocked bank's external assets written off (0: no shock)"),
    Field("writedown_step", "Write-down at step", "int", step=1,
          help="the step of the write-down; the cascade then advances one round a step"),
    Field("shocked_bank", "Bank written down (index)", "int", step=1,
          help="index of the bank written down (0: the first, A or the Hub; Gai-Kapadia: -1 = "
               "the most contagious one)"),
    Field("n_banks", "Banks", "int", step=10, help="number of banks in the random network"),
    Field("mean_degree", "Mean degree z", "number", step=0.5,
          help="mean number of debtors (and of creditors) per bank"),
    Field("capital_frac", "Capital (share of assets)", "number", step=0.01,
          help="each bank's capital as a share of its $1B of assets"),
    Field("interbank_frac", "Interbank assets (share)", "number", step=0.05,
          help="share of a lending bank's assets lent to other banks"),
    Field("seed_graph", "Network seed", "int", step=1, help="seed of the random network"),
    Field("periphery_loan_to_equity", "Small banks' loan to the hub / equity", "number",
          step=0.25, help="above 1 the hub's failure wipes out the small banks"),
    Field("rehypothecation_frac", "Deposits lent to the sister firm", "number", step=0.025,
          help="share of FTX's customer deposits lent to Alameda (0: kept liquid)"),
    Field("ftt_dump_usd", "FTT dumped ($)", "number", step=1e7,
          help="FTT a large holder sells into the FTT pool over 12 hours (0: no dump)"),
    Field("run_speed_frac", "Run speed", "number", step=0.05,
          help="share of a running depositor's balance withdrawn per step at full stress"),
    Field("pump_usd", "Spot buys to pump the oracle ($)", "number", step=5e5,
          help="the attacker's buys in the thin pool its venue's oracle reads (0: no pump)"),
    Field("upnl_collateral", "Unrealised PnL counts as collateral", "bool",
          help="off: a position's paper profit cannot be borrowed against"),
    Field("oracle_source", "Perp venue's oracle reads", "choice",
          choices=("pool_spot", "external"),
          help="the thin pool's spot price, or the external market"),
    Field("initial_sell_usd", "First UST sale on Curve ($)", "number", step=5e3,
          help="UST sold into the Curve-like pool (scaled $85M; 0: no run starts)"),
    Field("mint_capacity_usd_per_step", "UST burned per hour, at most ($)", "number", step=1e4,
          help="Terra's mint/burn capacity (0: no reflexive LUNA minting)"),
    Field("reserve_usd", "LFG reserve ($)", "number", step=None,
          help="BTC reserve that buys UST below $0.99 (0: none)"),
    Field("sophistication_ordered", "Large holders run first", "bool",
          help="larger depositors leave at a smaller depeg (off: in random order)"),
    Field("n_assets", "Assets", "int", step=5, help="number of assets the banks can hold"),
    Field("diversification", "Assets per bank", "int", step=1,
          help="each bank holds this many assets, an equal amount of each"),
    Field("leverage", "Leverage (assets / equity)", "number", step=1,
          help="a bank fails when its portfolio loses 1 / leverage of its value"),
    Field("alpha", "Price impact alpha", "number", step=None,
          help="selling a fraction x of an asset's shares lowers its price by exp(-alpha x) "
               "(1.0536: selling 10% costs 10%; 0: no price impact)"),
    # issue 12's markets and issue 13's mechanisms
    Field("shock_start_step", "Shock starts at step", "int", step=1),
    Field("correlation", "Correlation of the majors", "number", step=0.05,
          help="correlation of ETH, BTC and SOL's noise (0: independent)"),
    Field("fat_tails", "Fat tails (Student-t noise)", "bool"),
    Field("joint_tails", "Joint tails (one t draw for all)", "bool",
          help="off: each asset's tails are its own"),
    Field("depeg_frac", "Depeg (fall below $1)", "number", step=0.01,
          help="how far the stablecoin falls below its peg"),
    Field("depeg_start_step", "Depeg starts at step", "int", step=1),
    Field("depeg_duration_steps", "Depeg duration (steps)", "int", step=1),
    Field("supplier_run", "Suppliers run", "bool",
          help="off: suppliers stay whatever the pool's losses"),
    Field("supply_usd", "Supplied to the pool ($)", "number", step=1e6),
    Field("withdraw_frac_per_step", "Run speed (share a step)", "number", step=0.05,
          help="share of a running supplier's deposit asked back per step"),
    Field("liquidations_per_step", "Liquidations per step (max)", "int", step=1),
    Field("funding", "Perp funding", "bool", help="off: no funding payments"),
    Field("long_share", "Longs (share of traders)", "number", step=0.05),
    Field("premium_sensitivity", "Premium per unit of imbalance", "number", step=0.005,
          help="how far the perp trades from the index per unit of open-interest imbalance"),
    Field("pool_kind", "Pool kind", "choice", choices=("v3", "v2"),
          help="a concentrated-liquidity (V3) pool or a constant-product (V2) one"),
    Field("lp_withdraw_below_frac", "LPs leave after a fall of", "number", step=0.01),
    Field("lp_withdraw_frac_per_step", "LPs' withdrawal (share a step)", "number", step=0.05),
    Field("pool_eth", "Pool ETH", "number", step=500.0),
    Field("hedged_share", "Delta-hedged books (share)", "number", step=0.05),
    Field("option_share", "Option books (share of traders)", "number", step=0.05),
    Field("price_range_frac", "Portfolio-margin price range", "number", step=0.01,
          help="the largest move the venue's scenarios try, each way"),
    Field("token_drop_frac", "Exchange token's fall", "number", step=0.05,
          help="what starts the run on the exchange"),
    Field("derive_thresholds", "Thresholds follow depth", "bool",
          help="off: the liquidation thresholds set by hand"),
    Field("isolate_alt", "Isolate ALT (debt ceiling)", "bool"),
    Field("debt_ceiling_usd", "Debt ceiling ($)", "number", step=5e5),
    Field("volatility_margin_frac", "Volatility margin", "number", step=0.05,
          help="the fall a derived threshold allows for during a liquidation"),
    Field("releverage_above_hf", "Loop above health factor", "number", step=None,
          help="borrowers loop while their health factor is above this (100: nobody loops)"),
    Field("aas_notional_usd", "Defaulting member's position ($)", "number", step=1e7),
    Field("skin_in_the_game_usd", "House's skin in the game ($)", "number", step=1e6),
    Field("default_fund_usd", "Default fund ($)", "number", step=1e6),
    Field("assessment_multiple", "Assessments (x contribution)", "number", step=0.5),
    Field("beta_cash_usd", "BetaFund's cash ($)", "number", step=1e6),
    Field("leftover_rule", "Aave v3.3 leftover rule", "bool",
          help="off: a liquidation may leave a position with less than $1,000"),
    Field("keeper_capital_usd", "Keeper's capital per step ($)", "number", step=5e3),
    Field("gas_cost_usd", "Gas per liquidation ($)", "number", step=5.0),
    Field("emode", "E-mode category", "bool",
          help="off: USDx borrows on its own listing (LTV 75%)"),
    Field("loop_above_hf", "Loop above health factor", "number", step=None,
          help="borrowers loop while their health factor is above this (100: nobody loops)"),
    Field("exploit_frac", "Bridge drained (share of its ETH)", "number", step=0.1,
          help="share of the bridge's locked collateral an attacker takes (0: no exploit)"),
    Field("halt_steps", "Bridge halt (steps)", "int", step=1,
          help="hours the bridge is halted from the exploit's hour (0: no halt)"),
    Field("halt_discount_frac", "Claim's discount while halted", "number", step=0.05,
          help="how much further the bridged claim trades below its backing while the bridge "
               "is halted"),
    Field("recapitalise_step", "Bridge refilled at step", "int", step=1,
          help="hour a backer puts the stolen collateral back (-1: never)"),
    Field("finality_steps", "Bridge finality (steps)", "int", step=1,
          help="hours a transfer across the bridge takes"),
    Field("bridged_margin", "Cross-margin crosses the bridge", "bool",
          help="off: the perp venue's margin calls do not cross the bridge"),
)


def fields_for(scenario: str) -> list[tuple[Field, Any]]:
    """The form fields the preset has, each with its default value."""
    params = scenario_parameters(scenario)
    return [(f, params[f.key]) for f in FIELDS if f.key in params]


def coerce(field: Field, value: Any) -> Any:
    """A form value as the preset expects it (numbers arrive as int/float or None)."""
    if field.kind == "bool":
        return bool(value)  # a checklist's value is a list: non-empty means on
    if value is None or value == "":
        raise ParameterError(field.key, value, "a value", "the field is empty")
    if field.kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    return value


def validate(scenario: str, values: dict[str, Any]) -> dict[str, str]:
    """Per field, the error message ('' when valid) for these form values."""
    errors: dict[str, str] = {}
    by_key = {f.key: f for f, _ in fields_for(scenario)}
    for key, raw in values.items():
        field = by_key.get(key)
        if field is None:
            continue
        try:
            built = get_scenario(scenario, **{key: coerce(field, raw)})
            truncated = truncated_shock(built) if key == "shock_duration_steps" else None
            if truncated is not None:
                raise truncated
            errors[key] = ""
        except ParameterError as exc:
            errors[key] = f"{exc.value!r} is not allowed: {exc.allowed}" + (
                f" ({exc.hint})" if exc.hint else "")
    return errors


def build(scenario: str, values: dict[str, Any]) -> Scenario:
    """The scenario for these form values (raises ParameterError naming a bad one)."""
    by_key = {f.key: f for f, _ in fields_for(scenario)}
    kwargs = {k: coerce(by_key[k], v) for k, v in values.items() if k in by_key}
    built = get_scenario(scenario, **kwargs)
    truncated = truncated_shock(built) if "shock_duration_steps" in kwargs else None
    if truncated is not None:
        raise truncated
    return built
