"""What each preset is, in words a class can read: a title, a date and one line.

The dashboard's scenario menu shows these (``dashboard/presets_menu.py``) instead of the
presets' ids. A historical preset's date is the day its story turns on (the freeze, the
attack, the crash); the classic models are dated ``"textbook"``, and the default market,
``crowded_longs``, ``options_desk``, ``collateral_quality``, ``settlement_window``,
``bridge_exploit``, ``liquidation_dust``, ``emode_depeg`` and ``solvency_proofs``, which are no
one event, ``"stylised"``. Every preset of :data:`models.SCENARIOS` has an entry
(``tests/test_catalog.py`` checks it, and that each line stays under :data:`MAX_LINE_CHARS`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_LINE_CHARS", "MAX_TITLE_CHARS", "PRESET_INFO", "PresetInfo"]

#: A menu line is one sentence a teacher reads aloud: it must fit on one or two menu lines.
MAX_LINE_CHARS = 110
MAX_TITLE_CHARS = 40


@dataclass(frozen=True)
class PresetInfo:
    """A preset as the menu shows it.

    Examples
    --------
    >>> PRESET_INFO["black_thursday"].date
    '12 March 2020'
    """

    name: str   # the key in models.SCENARIOS (and Scenario.name)
    title: str  # a short name people know the event by
    date: str   # the event's day, or "textbook" / "stylised"
    line: str   # one sentence: what happens in the run


_INFO = (
    PresetInfo("default", "A crash that spreads", "stylised",
               "ETH falls 35%: liquidations, a leveraged firm and an exchange default, "
               "and the losses travel."),
    PresetInfo("ftx", "FTX and Alameda", "8 November 2022",
               "An exchange lent its customers' deposits to its sister firm; a token dump "
               "starts a run."),
    PresetInfo("mango", "Mango Markets", "11 October 2022",
               "An attacker pumps the pool an oracle reads and borrows the venue's cash "
               "against a paper profit."),
    PresetInfo("black_thursday", "Black Thursday (MakerDAO)", "12 March 2020",
               "ETH halves, gas spikes and keepers drop out: vault auctions clear at zero "
               "and leave bad debt."),
    PresetInfo("october_2025", "The October 2025 liquidations", "10 October 2025",
               "Order books empty as prices fall: insurance funds run dry and venues "
               "auto-deleverage winners."),
    PresetInfo("steth_celsius", "stETH, Celsius and 3AC", "12 June 2022",
               "3AC defaults on Celsius, which fire-sells stETH into a thin pool as "
               "depositors run."),
    PresetInfo("terra", "Terra LUNA and UST", "9 May 2022",
               "A UST sale starts a run on Anchor; the peg breaks and mint/burn arbitrage "
               "sends LUNA into a spiral."),
    PresetInfo("broad_downturn", "Broad market downturn (regime)", "13 June 2022",
               "ETH, BTC and SOL fall together with fat-tailed, correlated noise: "
               "spreading collateral buys nothing."),
    PresetInfo("broken_correlation", "Broken correlation: USDC depegs", "11 March 2023",
               "USDC, the venues' unit, loses 12% of its peg while the majors hold: USDC "
               "margin and USDC debt are worth less."),
    PresetInfo("lender_run", "A run on a lending pool (xUSD)", "3 November 2025",
               "A looped collateral loses 74%: bad debt sends suppliers out until all cash is "
               "lent and withdrawals freeze."),
    PresetInfo("crowded_longs", "Crowded longs pay funding", "stylised",
               "Longs at up to 19x pay funding for days: the bleed liquidates the most "
               "leveraged before ETH falls."),
    PresetInfo("lp_flight", "LPs leave a concentrated pool (V3)", "5 August 2024",
               "ETH falls 30% and a V3 pool's LPs pull their liquidity: liquidators cannot "
               "sell, and loans stay under water."),
    PresetInfo("options_desk", "Vol sellers under portfolio margin", "stylised",
               "ETH falls 30%: naked short puts are cut riskiest leg first while "
               "delta-hedged books mostly survive."),
    PresetInfo("settlement_window", "A recall in its settlement window", "stylised",
               "An exchange recalls a loan and waits a day for it: its borrower defaults "
               "first, and the loan is lost."),
    PresetInfo("classic_eisenberg_noe", "Eisenberg-Noe clearing", "textbook",
               "Four banks in a ring: one write-down topples three, and clearing sets "
               "what each repays."),
    PresetInfo("classic_gai_kapadia", "Gai-Kapadia contagion window", "textbook",
               "Forty banks lend at random: one bank's loss brings down all of them, a "
               "round a step."),
    PresetInfo("classic_debtrank", "DebtRank: the hub and the giant", "textbook",
               "A small, well-connected hub fails and takes eight thin banks with it; the "
               "giant matters less."),
    PresetInfo("classic_fire_sales", "Fire sales (Caccioli et al.)", "textbook",
               "No loans between banks: one failure's fire sale topples 17 of 20 through "
               "shared assets."),
    PresetInfo("collateral_quality", "Thresholds that follow depth", "stylised",
               "A thin token falls 45% as its book empties: a threshold set from its depth "
               "loses a quarter as much."),
    PresetInfo("clearing_house", "A clearing member defaults (Aas)", "11 September 2018",
               "A member's one-way bet misses a margin call: the waterfall eats the others' "
               "fund; a thin one fails."),
    PresetInfo("bridge_exploit", "A bridge is drained (Wormhole-like)", "stylised",
               "A bridge loses 60% of its ETH and halts: lenders of its claim take bad debt; "
               "margin in flight freezes."),
    PresetInfo("liquidation_dust", "Liquidation dust (Aave v3.3)", "stylised",
               "A keeper short of capital covers part of each debt: v3.3's leftover rule "
               "stops it leaving dust."),
    PresetInfo("emode_depeg", "E-mode loops meet a depeg", "stylised",
               "A synthetic dollar loses 5%: loops at e-mode's 90% LTV are all liquidated, "
               "plain-listed ones none."),
    PresetInfo("solvency_proofs", "Proof of reserves vs liabilities", "stylised",
               "An exchange hides a hole: proofs of reserves keep depositors calm, a proof "
               "of liabilities starts a run."),
)

#: Preset name -> :class:`PresetInfo`, in the menu's order (that of :data:`models.SCENARIOS`).
PRESET_INFO: dict[str, PresetInfo] = {info.name: info for info in _INFO}
