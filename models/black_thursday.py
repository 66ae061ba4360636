"""MakerDAO's "Black Thursday" (12-13 March 2020): zero-bid collateral auctions.

One Maker-like venue lends the stablecoin (USDC standing for DAI) against ETH in vaults
closed whole and auctioned when below 150% collateral (``liquidation_mode="auction"``);
its price feed is an Oracle Security Module that publishes hourly, an hour late. ETH
halves; gas spikes; the keepers whose bots do not adapt to high gas stop bidding, and the
lots bitten during the spike go to a lone keeper for nothing. Every zero-bid lot leaves
its whole debt uncovered: the surplus buffer pays the first of it and the rest is the
loss that Maker's MKR debt auction had to cover.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real

__all__ = ["black_thursday"]

STEP_MINUTES = 15.0
SHOCK_START_STEP = 8
ETH_START_USD = 200.0
FIRST_LIQUIDATION_USD = 171.0
LIQUIDATION_RATIO = 1.5
PENALTY_FRAC = 0.13
GAS_COST_USD = 5.0
KEEPER_MAX_GAS_MULTIPLE = 7.0
DEBT_AUCTION_CAPACITY_USD = 3e7


def black_thursday(
    *,
    n_traders: int = 1000,
    steps: int = 144,
    shock_frac: float = 0.5,
    shock_duration_steps: int = 96,
    oracle_delay_steps: int = 4,
    gas_spike_multiplier: float = 6.0,
    gas_spike_start_step: int = 56,
    gas_spike_duration_steps: int = 32,
    keeper_bidders: int = 4,
    surplus_buffer_usd: float = 5e5,
) -> Scenario:
    """Build the Black Thursday scenario (15-minute steps: 144 steps are 36 hours).

    Parameters
    ----------
    n_traders : int
        Vault owners (90% of them) and other traders, 1 to 50,000,000; balances scale with
        it, so the market's size in dollars does not.
    steps : int
        Steps of 15 minutes (1 to 1,000,000); the default runs 36 hours.
    shock_frac : float
        ETH's fall, 0 <= x < 1 (0: no crash).
    shock_duration_steps : int
        Steps the fall takes, from step 8 (two hours in); 96 is 24 hours.
    oracle_delay_steps : int
        The OSM's delay: every ``oracle_delay_steps`` steps it publishes the price that
        many steps old (4: hourly, an hour late); 0: every step, the current price.
    gas_spike_multiplier : float
        Gas price during the spike as a multiple of normal, 1 <= x <= 1,000. 1 switches
        off the named cause: no spike, every keeper keeps bidding.
    gas_spike_start_step, gas_spike_duration_steps : int
        When the spike starts and how many steps it lasts (default: hours 14 to 22, the
        steepest part of the fall, ETH from ~$141 to ~$112).
    keeper_bidders : int
        Keepers bidding in the auctions, 1 to 1,000; their bots' gas tolerances are spread
        evenly up to 7x normal (4 keepers: 2.5x, 4x, 5.5x, 7x, so a 6x spike leaves one;
        with 8, two stay and keep the auctions competitive).
    surplus_buffer_usd : float
        Maker's surplus, the protocol's own equity that absorbs bad debt first (>= 0).

    Notes
    -----
    Facts it is calibrated on (``scenario-facts.md``, section 1):

    * ETH fell about 50% over 24-36 h, "from around $200 to below $100"; Maker's
      liquidations started with ETH at $171 (Dragonfly,
      https://medium.com/dragonfly-research/daos-ex-machina-an-in-depth-timeline-of-makers-recent-crisis-66d2ae39dd65;
      https://dark-forest.tacitvs.eth.limo/hacks/makerdao-black-thursday;
      https://blog.makerdao.com/il-collasso-del-mercato-del-12-13-marzo-2020-come-ha-impattato-makerdao/).
      Here ETH starts at $200 and falls ``shock_frac`` log-linearly; no vault starts
      below 175% collateral (117% of the 150% ratio), so the first vaults are bitten when
      the OSM shows about $168-171.
    * Mean gas price up 6x to ~80 gwei (Glassnode via
      https://www.blockstockandbarrel.com/post/what-happened-at-makerdao-on-12-13-mar-2020);
      the OSM delayed prices by an hour and keepers' scripts did not adapt to high gas;
      36% of liquidations were won with 0-DAI bids, $8.32M of ETH went for zero bids, the
      protocol lost 5.67M DAI (WhiteRabbit,
      https://medium.com/@whiterabbit_hq/black-thursday-for-makerdao-8-32-million-was-liquidated-for-0-dai-36b83cac56b6).
    * The surplus went from +$500k to -$4M (https://ledgerlife.io/makerdao-protocol-auctions-mkr-tokens-to-cover-bad-debt/);
      the MKR debt auction raised 5.3M DAI (Smith+Crown,
      https://smithandcrown.com/briefings/makerdao-completes-mkr-auction-following-the-minting-of-new-tokens-due-to-system-failure/).
      Losses are taken as the band 4-6.65M DAI.

    Scale and outcome: the vaults owe about $93-105M in total (seeds 1-3) whatever
    ``n_traders``, the order of Maker's DAI debt then (~$100M+; not in the facts file, an
    order of magnitude only), at ~385% collateral overall. So compare ratios: Maker lost
    4-6.65% of ~$100M (less if its debt was larger). With the defaults and 1,000 traders
    the model bites ~14% of the debt, 31-44% of its auctions end in zero bids, $6.7-8.4M
    of ETH goes for nothing and the bad debt is $4.7-5.8M, 4.5-6.0% of the debt (seeds
    1-3). With ``gas_spike_multiplier=1`` there are no zero bids and no bad debt. With
    ``oracle_delay_steps=0`` vaults are bitten 5-7 steps earlier, with collateral worth
    ~149% of their debt at market instead of ~143% (the bad debt moves either way: it
    depends on which vaults the spike catches).

    Stylised: one vault type (ETH-A: 150% ratio, 13% penalty; 70% of owners repay debt
    from their wallet when their vault nears the ratio); one auction round per step (a lot
    bitten in a step can clear in it); keepers value a lot at what selling it on the
    external market would fetch, sell what they win there, and have ample DAI; competing
    keepers bid the value less 3%, a lone keeper bids 0, lots without bidders wait; a
    keeper's bids on a lot cost $5 of gas normally ($30 at 6x), so in the spike lots worth
    under $1,000 find no bidder. The gas spike is a flat window, not a path. The surplus
    buffer is the venue's equity (``reserve_usd``, which the liquidation penalties also
    feed); the MKR debt auction is its fund (``MKR-DebtAuction``, $30M of MKR holders'
    capacity, drawn on for what the surplus cannot pay); only beyond it would the loss be
    socialised. DAI's premium, network congestion beyond gas prices, and the DAI side of
    the market are not modelled.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    check_int("oracle_delay_steps", oracle_delay_steps, low=0, high=10_000)
    check_real("gas_spike_multiplier", gas_spike_multiplier, low=1, high=1000)
    check_int("gas_spike_start_step", gas_spike_start_step, low=0)
    check_int("gas_spike_duration_steps", gas_spike_duration_steps, low=0)
    check_int("keeper_bidders", keeper_bidders, low=1, high=1000)
    check_real("surplus_buffer_usd", surplus_buffer_usd, low=0)
    wealth_scale = 1000 / n_traders
    lt = 1 / LIQUIDATION_RATIO
    return Scenario(
        name="black_thursday",
        description=f"MakerDAO, 12-13 March 2020: ETH falls {shock_frac:.0%}, gas "
                    f"x{gas_spike_multiplier:g}, {keeper_bidders} keepers bid in collateral "
                    "auctions.",
        market=MarketParams(steps=steps, step_minutes=STEP_MINUTES),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_START_USD,
                        external_depth_usd=1e9),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                            shock_start_step=SHOCK_START_STEP,
                            shock_duration_steps=shock_duration_steps, vol_per_step=0.003),
        ),
        oracles=(
            OracleParams(name="ETH-OSM", asset="ETH", source="external",
                         heartbeat_steps=max(oracle_delay_steps, 1),
                         deviation_threshold_frac=1.0, delay_steps=oracle_delay_steps),
        ),
        lending=(
            LendingParams(
                name="Maker", insurance_fund="MKR-DebtAuction",
                collateral=(CollateralParams(
                    asset="ETH", oracle="ETH-OSM", liquidation_threshold=lt,
                    ltv=lt * FIRST_LIQUIDATION_USD / ETH_START_USD,
                    liquidation_bonus=PENALTY_FRAC),),
                reserve_usd=surplus_buffer_usd, retail_supply_usd=1.6e8, share_of_traders=0.9,
                mean_health_factor=3.5, liquidation_mode="auction",
                auction_penalty_frac=PENALTY_FRAC, auction_discount_frac=0.03,
                auction_lone_bid_frac=0.0),
        ),
        funds=(InsuranceFundParams(name="MKR-DebtAuction", balance_usd=DEBT_AUCTION_CAPACITY_USD),),
        liquidators=(LiquidatorParams(
            name="Keepers", capital_usd=2e7, max_liquidations_per_step=50,
            gas_cost_usd=GAS_COST_USD, gas_spike_multiplier=gas_spike_multiplier,
            gas_spike_start_step=gas_spike_start_step,
            gas_spike_duration_steps=gas_spike_duration_steps, bidders=keeper_bidders,
            bidder_max_gas_multiple=KEEPER_MAX_GAS_MULTIPLE),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=8.5e5 * wealth_scale,
                             cross_margin=False, topup_share=0.7, agent_limit=5000),
    )
