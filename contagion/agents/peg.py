"""An algorithmic stablecoin's peg (Terra's market module): mint/burn arbitrage and a reserve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from contagion.mechanics.amm import arbitrage_to_price
from contagion.mechanics.peg import ConversionTrade, burn_rate, conversion_arbitrage, mint_rate

if TYPE_CHECKING:
    from contagion.agents.pool import AMMPool
    from contagion.model import ContagionModel
    from contagion.params import PegParams

__all__ = ["AlgorithmicPeg"]

DUST_USD = 1.0  # arbitrage round trips and reserve purchases below this are not worth a transaction


class AlgorithmicPeg(mesa.Agent):
    """Holds a stablecoin near $1 by minting and burning its governance token.

    Each step, first the reserve (if any, and while it lasts) buys the stablecoin in its
    pool when the pool's spot is below ``defend_below_price``; then arbitrageurs (the
    outside world) run the mint/burn round trip of
    :func:`~contagion.mechanics.peg.conversion_arbitrage` up to the protocol's capacity:
    below the peg they buy the stablecoin, burn it for newly minted token and sell the
    token into the token's pool, whose price falls; more token is minted for each dollar
    next time. That is the reflexive loop (the death spiral when the run is larger than
    what the token's market can absorb).

    Minting and burning create and destroy units by design: :meth:`net_issued_units` says
    how many, and :meth:`ContagionModel.total_units` subtracts them, so the conservation
    check still catches any other creation of units.
    """

    kind = "peg"

    def __init__(self, model: ContagionModel, params: PegParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        market = model.market
        self.stable = market.index[params.stable]
        self.token = market.index[params.token]
        self.stable_pool: AMMPool = model.pools[params.stable_pool]
        self.token_pool: AMMPool = model.pools[params.token_pool]
        self.oracle = model.oracles[params.token_oracle] if params.token_oracle else None
        self.reserve_asset = (market.index[params.reserve_asset] if params.reserve_asset
                              else market.numeraire)
        self.reserve_units = params.reserve_usd / float(market.price[self.reserve_asset])
        self.reserve_stable_units = 0.0  # the stablecoin the reserve bought
        self.reserve_spent_usd = 0.0
        self.reserve_exhausted = params.reserve_usd == 0.0
        self.stable_burned = 0.0
        self.stable_minted = 0.0
        self.token_minted = 0.0
        self.token_burned = 0.0
        self.step_burned_usd = 0.0

    # ------------------------------------------------------------------ views
    @property
    def stable_supply_units(self) -> float:
        """Circulating stablecoin: the starting supply, less burned, plus minted."""
        return self.params.stable_supply_units - self.stable_burned + self.stable_minted

    @property
    def token_supply_units(self) -> float:
        """Circulating token: the starting supply, plus minted, less burned."""
        return self.params.token_supply_units + self.token_minted - self.token_burned

    def token_price(self) -> float:
        """The token price the protocol converts at: its oracle's, else the token pool's spot."""
        if self.oracle is not None:
            return float(self.oracle.price)
        return self.token_pool.spot

    def reserve_usd(self) -> float:
        """The reserve's value at market prices (excluding the stablecoin it bought)."""
        return self.reserve_units * float(self.model.market.price[self.reserve_asset])

    def holdings(self) -> dict[int, float]:
        """Units the reserve holds: what is left of it and the stablecoin it bought."""
        out = {self.reserve_asset: self.reserve_units}
        out[self.stable] = out.get(self.stable, 0.0) + self.reserve_stable_units
        return out

    def net_issued_units(self) -> dict[int, float]:
        """Units created (positive) or destroyed (negative) by minting and burning."""
        return {self.stable: self.stable_minted - self.stable_burned,
                self.token: self.token_minted - self.token_burned}

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """The reserve defends the peg, then arbitrageurs mint and burn."""
        self.step_burned_usd = 0.0
        self._defend()
        self._arbitrage()

    def _defend(self) -> None:
        if self.reserve_exhausted or self.stable_pool.spot >= self.params.defend_below_price:
            return
        pool, market = self.stable_pool, self.model.market
        value = self.reserve_usd()
        budget = min(self.params.reserve_spend_usd_per_step, value)
        _, want_usd = arbitrage_to_price(pool.reserve_base, pool.reserve_quote, 1.0,
                                         pool.params.fee_frac, budget)
        if want_usd < DUST_USD:
            return
        if self.reserve_asset == market.numeraire:
            usd = want_usd
            self.reserve_units -= usd
        else:  # sold to the outside world at its depth
            units = min(self.reserve_units, want_usd / float(market.price[self.reserve_asset]))
            usd = market.sell(self.reserve_asset, units)
            self.reserve_units -= units
        got = pool.buy_base(usd)
        self.reserve_stable_units += got
        self.reserve_spent_usd += usd
        left = self.reserve_usd()
        ev, step = self.model.events, self.model.steps
        stable = market.assets[self.stable]
        eid = ev.add("fund_draw", step=step, venue=f"the {stable} peg", agent=f"{self.name} reserve",
                     asset=stable, amount=got, value_usd=usd, price=pool.spot,
                     cause_id=int(market.last_move_event[self.stable]), purpose="peg_defence",
                     fund=f"{self.name} reserve", balance_after_usd=left, peg=self.name,
                     pool=pool.name, spot_after=pool.spot,
                     detail=f"{self.name}'s reserve bought {got:,.0f} {stable} for "
                            f"${usd:,.0f} in {pool.name} to defend the peg (spot now "
                            f"{pool.spot:.4f}); ${left:,.0f} left")
        pool.attribute(eid)  # the reserve's purchase lifted the stable's pool
        if self.reserve_asset != market.numeraire:
            market.moved(self.reserve_asset, eid)  # and its sale moved the reserve asset
        if left < DUST_USD:
            self.reserve_exhausted = True
            ev.add("fund_exhausted", step=step, venue=f"the {stable} peg",
                   agent=f"{self.name} reserve",
                   value_usd=self.reserve_spent_usd, cause_id=eid, purpose="peg_defence",
                   fund=f"{self.name} reserve", peg=self.name,
                   detail=f"{self.name}'s reserve is spent (${self.reserve_spent_usd:,.0f} in "
                          f"all): nothing but mint/burn arbitrage defends the peg now")

    def _arbitrage(self) -> None:
        p = self.params
        price = self.token_price()
        if p.mint_capacity_usd_per_step <= 0 or not price > 0:
            return
        sp, tp = self.stable_pool, self.token_pool
        if min(sp.reserve_base, sp.reserve_quote, tp.reserve_base, tp.reserve_quote) <= 0.0:
            return  # a drained pool (float underflow after enormous sales): nothing to trade
        fees = {"buy_fee_frac": sp.params.fee_frac, "sell_fee_frac": tp.params.fee_frac}
        below = conversion_arbitrage(sp.reserve_base, sp.reserve_quote, tp.reserve_base,
                                     tp.reserve_quote, burn_rate(price, p.swap_spread_frac),
                                     max_units=p.mint_capacity_usd_per_step, **fees)
        if below.paid_usd >= DUST_USD:
            self._burn_stable(below)
            return
        rate = mint_rate(price, p.swap_spread_frac)
        fees = {"buy_fee_frac": tp.params.fee_frac, "sell_fee_frac": sp.params.fee_frac}
        above = conversion_arbitrage(tp.reserve_base, tp.reserve_quote, sp.reserve_base,
                                     sp.reserve_quote, rate,
                                     max_units=p.mint_capacity_usd_per_step / rate, **fees)
        if above.paid_usd >= DUST_USD:
            self._mint_stable(above)

    def _burn_stable(self, trade: ConversionTrade) -> None:
        """Below the peg: buy the stablecoin, burn it, mint token, sell the token."""
        sp, tp, market = self.stable_pool, self.token_pool, self.model.market
        burned = sp.buy_base(trade.paid_usd)
        minted = burned * trade.converted_units / trade.bought_units
        received = tp.sell_base(minted)
        market.outside_receives(market.numeraire, received - trade.paid_usd)
        self.stable_burned += burned
        self.token_minted += minted
        self.step_burned_usd = burned
        stable, token = market.assets[self.stable], market.assets[self.token]
        eid = self.model.events.add(
            "token_sale", step=self.model.steps, venue=f"{self.name} arbitrageurs", agent=tp.name,
            asset=token,
            amount=minted, value_usd=received, price=tp.spot,
            cause_id=int(market.last_move_event[self.stable]), purpose="burn_arbitrage",
            burned_asset=stable, burned_units=burned, spot_after=tp.spot, burn_pool=sp.name,
            burn_price=trade.paid_usd / burned, token_price=self.token_price(),
            supply_after=self.token_supply_units,
            detail=f"arbitrageurs bought {burned:,.0f} {stable} at {trade.paid_usd / burned:.4f} "
                   f"in {sp.name}, burned it for {minted:,.4g} newly minted {token} (at "
                   f"${self.token_price():,.4g}) and sold that into {tp.name} "
                   f"({token} spot now {tp.spot:,.4g}; supply {self.token_supply_units:,.4g})")
        sp.attribute(eid)  # the arbitrageurs bought the stablecoin here
        market.moved(self.token, eid, tp)  # and sold the minted token here

    def _mint_stable(self, trade: ConversionTrade) -> None:
        """Above the peg: buy token, burn it, mint the stablecoin, sell the stablecoin."""
        sp, tp, market = self.stable_pool, self.token_pool, self.model.market
        burned = tp.buy_base(trade.paid_usd)
        minted = burned * trade.converted_units / trade.bought_units
        received = sp.sell_base(minted)
        market.outside_receives(market.numeraire, received - trade.paid_usd)
        self.token_burned += burned
        self.stable_minted += minted
        stable, token = market.assets[self.stable], market.assets[self.token]
        eid = self.model.events.add(
            "token_sale", step=self.model.steps, venue=f"{self.name} arbitrageurs", agent=sp.name,
            asset=stable,
            amount=minted, value_usd=received, price=sp.spot,
            cause_id=int(market.last_move_event[self.stable]), purpose="mint_arbitrage",
            burned_asset=token, burned_units=burned, spot_after=sp.spot,
            detail=f"arbitrageurs burned {burned:,.4g} {token} for {minted:,.0f} newly minted "
                   f"{stable} and sold it into {sp.name} ({stable} spot now {sp.spot:.4f})")
        tp.attribute(eid)  # the arbitrageurs bought the token here
        market.moved(self.stable, eid, sp)  # and sold the minted stablecoin here
