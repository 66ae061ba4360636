"""A leveraged trading firm (a 3AC or an Alameda) financed by loans from venues."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from contagion.institution import BalanceSheet, CreditPosition

if TYPE_CHECKING:
    from contagion.agents.lending import LendingProtocol
    from contagion.model import ContagionModel
    from contagion.params import FirmParams

__all__ = ["TradingFirm"]


class TradingFirm(mesa.Agent):
    """Borrows unsecured from venues and runs a leveraged collateral position at a lender.

    Its equity is its cash plus the net value of its lending account at market prices,
    minus its loans. It defaults when that equity is negative, or when a recalled loan
    falls due and it cannot pay; its lenders then recover what clearing gives them.
    """

    kind = "firm"

    def __init__(self, model: ContagionModel, params: FirmParams, *, holder: int,
                 lending: LendingProtocol, row: int) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.holder = holder
        self.lending = lending
        self.row = row
        self.cash_usd = float(params.cash_usd)
        self.borrowings: dict[str, float] = {}
        self.defaulted = False
        self.default_step = -1

    def account_net_usd(self) -> float:
        """Collateral at market minus debt, at its lending protocol (numeraire units)."""
        v = self.lending
        price = self.model.market.quote_prices(v.asset_ids)
        debt = v.book.debt[self.row]
        if v.debt_asset_ids.size:  # borrowed assets, at market too
            debt = debt + v.book.debt_units[self.row] @ self.model.market.quote_prices(
                v.debt_asset_ids)
        return float((v.book.collateral[self.row] * price).sum() - debt)

    def assets_usd(self) -> float:
        return self.cash_usd + max(self.account_net_usd(), 0.0)

    def liabilities_usd(self) -> float:
        return sum(self.borrowings.values())

    def equity_usd(self) -> float:
        return self.assets_usd() - self.liabilities_usd()

    # ------------------------------------------------------------------ institution
    def balance_sheet(self) -> BalanceSheet:
        """Cash and its account's net value against its loans; at risk under 10% equity."""
        assets, loans = self.assets_usd(), self.liabilities_usd()
        return BalanceSheet(assets_usd=assets, liabilities_usd=loans,
                            at_risk=int(assets - loans < 0.1 * max(loans, 1.0)))

    def network_state(self) -> str:
        return "at_risk" if self.balance_sheet().at_risk else "healthy"

    def credit_position(self) -> CreditPosition:
        return CreditPosition(external_assets_usd=self.assets_usd(),
                              owed=tuple(self.borrowings.items()))

    def on_default(self, event_id: int) -> None:
        """Nothing before the clearing."""

    def after_default(self, event_id: int) -> None:
        """Nothing more: its lenders' loan losses are logged by the model."""

    def holdings(self) -> dict[int, float]:
        return {self.model.market.numeraire: self.cash_usd}

    def repay_loan(self, lender: str, amount: float) -> float:
        """Repay a recalled loan from cash; default if it cannot."""
        if self.defaulted:
            return 0.0
        paid = min(amount, self.cash_usd)
        self.cash_usd -= paid
        self.borrowings[lender] -= paid
        if paid < amount - 1e-6:
            eid = self.model.events.add(
                "loan_loss", step=self.model.steps, venue=lender, agent=self.name,
                value_usd=amount - paid, reason="missed_recall", recalled_usd=amount,
                detail=f"{self.name} could not repay ${amount - paid:,.0f} "
                                                f"recalled by {lender}")
            self.model.report_default(self, eid, "missed_recall", f"{self.name} missed a loan recall")
        return paid

    def step(self) -> None:
        """Default when insolvent at market prices."""
        if self.defaulted or self.equity_usd() >= 0:
            return
        cause = int(self.model.market.last_move_event[self.lending.asset_ids].max())
        assets, loans = self.assets_usd(), self.liabilities_usd()
        self.model.report_default(
            self, cause, "assets_below_loans",
            f"{self.name}'s assets (${assets:,.0f}) fell below its loans (${loans:,.0f})",
            assets_usd=assets, liabilities_usd=loans)
