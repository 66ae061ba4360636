"""The mechanics: pure functions (arrays or matrices in, values out) the agents call.

Modules
-------
lending
    Float model of over-collateralised lending: health factor, close factor, liquidation.
aave, compound
    Exact integer ports of Aave V3's and Compound V2's liquidation arithmetic (and Aave's
    interest-rate curve and indices).
perp
    Perpetual futures margining and liquidation prices (generic, Hyperliquid, Binance).
funding
    Perp funding: premium index, clamped and capped rate, payments (dYdX v4 vectors).
options, portfolio_margin
    Black-Scholes / Black-76 prices, greeks and volatility surfaces; Deribit-style
    scenario-based portfolio margin, greeks per account and riskiest-first liquidation order.
dydx
    Exact dYdX v4 liquidation maths (fillable price, bankruptcy quote, insurance fund).
adl
    Auto-deleveraging rankings and the greedy fill down the ADL queue.
amm
    Uniswap V2 constant-product pools, exact and vectorised, and arbitrage to a price.
uniswap_v3
    Exact integer ports of Uniswap v3-core's TickMath, SqrtPriceMath, SwapMath and swap loop.
clearing, debtrank
    Interbank clearing (Eisenberg-Noe, Rogers-Veraart) and DebtRank distress propagation.
risk
    Value at risk, expected shortfall, EWMA volatility and volatility-driven margins.
price_path, price_model
    Exogenous price paths (a stylised crash, jump-diffusion, a replayed history) and their
    joint noise (correlation or factor loadings, Student-t, GARCH(1,1)).

Submodules are not imported here; import them directly, e.g.
``from contagion.mechanics.lending import health_factor``.
"""
