"""Solvency proofs: a hidden hole that only a proof of liabilities finds.

A stylised scenario (daily steps, 60 days) of what the source article's "solvency proofs"
can and cannot show. One custodial exchange, CEX, holds $1B of customer deposits but only
$0.9B of assets (``equity_buffer_frac = -0.1``): a $100M hole (FTX's was $8B on $16B of
customer assets, ``../shared/research/scenario-facts.md`` section 4; here it is a tenth of the
deposits, not a half, so that the run takes weeks). Its assets are $300M of stablecoin, $200M
of its own token EXT and $400M of venture stakes, a quarter of which it writes off on day 36
(``HOLE_GROWTH_FRAC``: the hole grows while it stays hidden, as FTX's did through 2022). Its
own report of customer balances leaves out 5% of them (``hidden_liabilities_frac``), and for
each snapshot it borrows $200M that it returns after it (``borrowed_reserves_usd``).

1. With a reserves-only attestation (``proof_kind="reserves"``) depositors see
   $1.1B of reserves against $0.95B of reported liabilities: a ratio of 1.16, reassuring
   (depositors' run thresholds rise). Nobody runs until EXT falls 40% from day 40 (a large
   holder dumps it); the run then starts, after the day-36 write-off, and CEX defaults.
2. With a proof of liabilities (``proof_kind="liabilities"``, a Merkle sum tree or ZK proof
   every customer checks) every balance is shown and the snapshot loan too: $1.1B against
   $1.2B, a ratio of 0.92. Depositors run at the first proof, day ``proof_every_steps`` (plus
   ``proof_lag_steps``), before the token falls: cadence 1, 7 or 30 days moves the start,
   and a run that starts early brings CEX down before the write-off.
3. ``proof_kind="exact"`` is the engine's older switch (the true ratio every day).

A stylised scenario, not a history: round numbers chosen so the run shows the mechanism.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CustodialParams,
    MarketParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real

__all__ = ["solvency_proofs"]

DEPOSITS_USD = 1e9
HOLE_FRAC = 0.1  # true assets are 90% of deposits
HOLE_GROWTH_FRAC = 0.25  # of the venture stakes, written off on HOLE_GROWTH_STEP
HOLE_GROWTH_STEP = 36


def solvency_proofs(*, n_traders: int = 1000, steps: int = 60, proof_kind: str = "reserves",
                    proof_every_steps: int = 7, proof_lag_steps: int = 0,
                    hidden_liabilities_frac: float = 0.05,
                    borrowed_reserves_usd: float = 2e8, token_drop_frac: float = 0.4,
                    token_drop_step: int = 40) -> Scenario:
    """An exchange with a hidden hole, under a reserves-only attestation or a proof of
    liabilities.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Daily steps (1 to 1,000,000).
    proof_kind : str
        ``"reserves"`` (a reserves-only attestation), ``"liabilities"`` (with a proof of
        liabilities) or ``"exact"`` (the true ratio every day: cadence and lag must then be
        1 and 0, nothing hidden or borrowed).
    proof_every_steps : int
        Days between snapshots (1 to 1,000,000).
    proof_lag_steps : int
        Days from a snapshot to its publication (0 to 1,000,000).
    hidden_liabilities_frac : float
        Share of customer balances CEX leaves out of the liabilities it reports, 0 <= x < 1.
    borrowed_reserves_usd : float
        Borrowed for each snapshot and returned after it (0 to 1e15).
    token_drop_frac : float
        EXT's fall over two days (0 <= x < 0.9).
    token_drop_step : int
        The day EXT starts falling.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("token_drop_frac", token_drop_frac, low=0, high=0.9, high_open=True)
    check_int("token_drop_step", token_drop_step, low=0)
    exact = proof_kind == "exact"
    return Scenario(
        name="solvency_proofs",
        description=f"CEX hides a $100M hole; it publishes {proof_kind} proofs every "
                    f"{proof_every_steps} days and EXT falls {token_drop_frac:.0%} on day "
                    f"{token_drop_step}.",
        market=MarketParams(steps=steps, step_minutes=1440.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="EXT", kind="venue_token", initial_price_usd=20.0, issuer="CEX",
                        external_depth_usd=2e8, crash_on_issuer_default_frac=0.9),
        ),
        paths=(
            PricePathParams(asset="EXT", kind="crash", shock_frac=token_drop_frac,
                            shock_start_step=token_drop_step, shock_duration_steps=2,
                            vol_per_step=0.002),
        ),
        pools=(
            PoolParams(name="EXT/USDC", base="EXT", reserve_base=1_000_000,
                       arb_capacity_usd_per_step=1e6),
        ),
        custodial=(
            CustodialParams(name="CEX", token="EXT", deposits_usd=DEPOSITS_USD,
                            liquid_reserve_frac=0.3, supply_to_lending_frac=0.0,
                            token_holdings_usd=2e8, equity_buffer_frac=-HOLE_FRAC,
                            run_speed_frac=0.3, run_stress_threshold=0.05,
                            writedown_frac=HOLE_GROWTH_FRAC, writedown_step=HOLE_GROWTH_STEP,
                            solvency_proofs=True, share_of_traders=0.6,
                            proof_kind=proof_kind,
                            proof_every_steps=1 if exact else proof_every_steps,
                            proof_lag_steps=0 if exact else proof_lag_steps,
                            hidden_liabilities_frac=0.0 if exact else hidden_liabilities_frac,
                            borrowed_reserves_usd=0.0 if exact else borrowed_reserves_usd,
                            proof_threshold_weight=0.5),
        ),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e6 * 1000 / n_traders,
                             cross_margin=False, agent_limit=5000),
    )
