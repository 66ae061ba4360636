"""The mechanics: pure functions (arrays or matrices in, values out) the agents call.

Modules
-------
lending
    Float model of over-collateralised lending: health factor, close factor, liquidation.
aave, compound
    Exact integer ports of Aave V3's and Compound V2's liquidation arithmetic.
perp
    Perpetual futures margining and liquidation prices (generic, Hyperliquid, Binance).
dydx
    Exact dYdX v4 liquidation maths (fillable price, bankruptcy quote, insurance fund).
adl
    Auto-deleveraging rankings and the greedy fill down the ADL queue.
amm
    Uniswap V2 constant-product pools, exact and vectorised, and arbitrage to a price.
clearing, debtrank
    Interbank clearing (Eisenberg-Noe, Rogers-Veraart) and DebtRank distress propagation.
risk
    Value at risk, expected shortfall, EWMA volatility and volatility-driven margins.
price_path
    Exogenous price paths: a stylised crash and jump-diffusion.

Submodules are not imported here; import them directly, e.g.
``from contagion.mechanics.lending import health_factor``.
"""
