"""Textbook interbank contagion as engine presets: Eisenberg-Noe, Gai-Kapadia, DebtRank.

The banks are the engine's custodial institutions (:class:`~contagion.params.CustodialParams`):
deposits are their liabilities to the outside, credit links their interbank loans, illiquid
assets their external assets, and nothing else happens - no run (``run_speed_frac = 0``), no
token, no lending protocol or perp venue, a few hundred depositors. At ``writedown_step`` one
bank writes off part of its external assets (an ``asset_writedown`` event). With
``freeze_when_insolvent`` a bank defaults when its books show assets below liabilities; a loan
is marked down to the borrower's clearing recovery from the step after the borrower's default
(:meth:`~contagion.agents.custodial.CustodialExchange.book_assets_usd`), so the cascade
advances one round per step and the dashboard plays it round by round, with the event log's
cause chain (write-down -> freeze -> default -> loan loss -> freeze ...) and the narrative.

* :func:`eisenberg_noe_demo`: four banks in a ring, cleared by Eisenberg-Noe (pro-rata
  recovery); the defaults per step are the rounds of the fictitious default algorithm.
* :func:`gai_kapadia_demo`: a directed Erdos-Renyi network with Gai & Kapadia's balance
  sheets and zero recovery; the defaults per step are the rounds of the pure cascade of
  :mod:`models.classic.gai_kapadia`.
* :func:`debtrank_demo`: a core-periphery network where the most systemic bank by DebtRank
  is a mid-sized hub, not the largest bank.

These presets are textbook models, not histories: no figure in them comes from
``scenario-facts.md``; the numbers are the papers' (Gai-Kapadia's 4% capital and 20%
interbank assets) or chosen to be worked by hand.

References
----------
Eisenberg, L. and Noe, T. H. (2001). Systemic risk in financial systems. Management Science
47(2), 236-249. https://doi.org/10.1287/mnsc.47.2.236.9835

Gai, P. and Kapadia, S. (2010). Contagion in financial networks. Proceedings of the Royal
Society A 466, 2401-2423. https://doi.org/10.1098/rspa.2009.0410

Battiston, S., Puliga, M., Kaushik, R., Tasca, P. and Caldarelli, G. (2012). DebtRank: too
central to fail? Scientific Reports 2, 541. https://doi.org/10.1038/srep00541
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
import numpy as np
from scipy import sparse

from contagion.errors import ParameterError
from contagion.params import (
    AssetParams,
    ClearingParams,
    CreditLinkParams,
    CustodialParams,
    MarketParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real
from models.classic.gai_kapadia import cascade_size

__all__ = [
    "DEBTRANK_BANKS",
    "EN_BANKS",
    "debtrank_demo",
    "eisenberg_noe_demo",
    "gai_kapadia_demo",
    "gai_kapadia_graph",
]

MUSD = 1e6
DEPOSITORS_PER_BANK = 20  # expected depositors per bank (each bank needs at least one)
PRO_RATA = ClearingParams()  # plain Eisenberg-Noe
ZERO_RECOVERY = ClearingParams(external_assets_frac=0.0, interbank_receipts_frac=0.0)


@dataclass(frozen=True)
class _Bank:
    name: str
    external_usd: float
    deposits_usd: float


def _banks_scenario(name: str, description: str, banks: list[_Bank],
                    loans: list[tuple[str, str, float]], *, shocked: str, writedown_frac: float,
                    writedown_step: int, n_traders: int, steps: int,
                    clearing: ClearingParams = PRO_RATA,
                    writedowns: dict[str, float] | None = None) -> Scenario:
    """A market of banks only: ``loans`` are ``(lender, borrower, usd)``; ``writedowns``
    (bank -> fraction), when given, replaces the one ``shocked`` bank's ``writedown_frac``."""
    net_lent: dict[str, float] = {}  # lent minus borrowed
    for lender, borrower, usd in loans:
        net_lent[lender] = net_lent.get(lender, 0.0) + usd
        net_lent[borrower] = net_lent.get(borrower, 0.0) - usd
    share = min(1.0, DEPOSITORS_PER_BANK / n_traders)
    custodial = tuple(
        CustodialParams(
            name=b.name, token=None, deposits_usd=b.deposits_usd, liquid_reserve_frac=0.0,
            supply_to=None, supply_to_lending_frac=0.0, token_holdings_usd=0.0,
            equity_buffer_frac=(b.external_usd + net_lent.get(b.name, 0.0)) / b.deposits_usd - 1,
            run_speed_frac=0.0, solvency_proofs=False, share_of_traders=share,
            freeze_when_insolvent=True,
            writedown_frac=(writedowns.get(b.name, 0.0) if writedowns is not None
                            else writedown_frac if b.name == shocked else 0.0),
            writedown_step=writedown_step)
        for b in banks)
    return Scenario(
        name=name, description=description,
        market=MarketParams(steps=steps, step_minutes=24 * 60.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),),
        custodial=custodial,
        credit_links=tuple(CreditLinkParams(lender=lender, borrower=borrower, amount_usd=usd)
                           for lender, borrower, usd in loans),
        clearing=clearing,
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * 1000 / n_traders,
                             cross_margin=False, cross_margin_share=0.0, topup_share=0.0),
    )


def _check_common(n_traders: int, steps: int, writedown_frac: float, writedown_step: int) -> None:
    check_int("n_traders", n_traders, low=1, high=2000)
    check_int("steps", steps, low=1, high=1000)
    check_real("writedown_frac", writedown_frac, low=0, high=1)
    check_int("writedown_step", writedown_step, low=1, high=steps)


# ---------------------------------------------------------------------- Eisenberg-Noe
EN_BANKS = ("A", "B", "C", "D")


def eisenberg_noe_demo(*, n_traders: int = 200, steps: int = 10, shocked_bank: int = 0,
                       writedown_frac: float = 0.4, writedown_step: int = 2) -> Scenario:
    """Four banks in a ring, cleared by Eisenberg-Noe: a write-down at A topples A, B, C.

    Balance sheets in $M (external assets + loan = deposits + borrowing + equity):

    ====  ========  ==========  ========  ============  ======
    bank  external  lent to     deposits  borrowed      equity
    ====  ========  ==========  ========  ============  ======
    A     100       D 10        65        from B 40     5
    B     50        A 40        55        from C 30     5
    C     37        B 30        45        from D 20     2
    D     30        C 20        35        from A 10     5
    ====  ========  ==========  ========  ============  ======

    So A owes B 40, B owes C 30, C owes D 20 and D owes A 10; depositors are paid pro rata
    with the banks (Eisenberg-Noe, no seniority). At ``writedown_step`` A writes off 40% of
    its external assets (100 -> 60). Worked by hand, round by round (the fictitious
    default algorithm):

    * Round 0 (step ``writedown_step``): A has ``60 + 10 = 70`` against ``65 + 40 = 105``:
      A defaults and pays ``70 / 105 = 2/3`` of what it owes (B gets 26.67 of 40).
    * Round 1 (next step): B has ``50 + 26.67 = 76.67`` against ``55 + 30 = 85``: B
      defaults and pays ``76.67 / 85 = 90.2%`` (C gets 27.06 of 30).
    * Round 2: C has ``37 + 27.06 = 64.06`` against ``45 + 20 = 65``: C defaults and pays
      ``98.6%`` (D gets 19.71 of 20).
    * D has ``30 + 19.71 = 49.71`` against ``35 + 10 = 45``: it survives with equity 4.71 and
      pays A its 10 in full, which is what A's payment above assumed: the clearing vector is
      ``p = (70, 76.67, 64.06, 45)`` and depositors recover 66.7%, 90.2%, 98.6% and 100%.

    The engine's per-step defaults equal these rounds (``tests/classic/
    test_interbank_presets.py`` checks them against
    :func:`contagion.mechanics.clearing.eisenberg_noe` on the engine's own matrices).

    Stylised: no cash, no runs, no fire sales; one step is one round (labelled a day).

    Parameters
    ----------
    n_traders : int
        Depositors drawn from this many traders (1 to 2,000; about 20 per bank).
    steps : int
        Length of the run (1 to 1,000).
    shocked_bank : int
        The bank written down: 0 = A, 1 = B, 2 = C, 3 = D.
    writedown_frac : float
        Fraction of its external assets written off, 0 to 1 (0: no shock, no default; A
        survives up to 5%, which takes its equity to exactly zero).
    writedown_step : int
        The step of the write-down (1 to ``steps``).
    """
    _check_common(n_traders, steps, writedown_frac, writedown_step)
    check_int("shocked_bank", shocked_bank, low=0, high=len(EN_BANKS) - 1)
    banks = [_Bank("A", 100 * MUSD, 65 * MUSD), _Bank("B", 50 * MUSD, 55 * MUSD),
             _Bank("C", 37 * MUSD, 45 * MUSD), _Bank("D", 30 * MUSD, 35 * MUSD)]
    loans = [("B", "A", 40 * MUSD), ("C", "B", 30 * MUSD), ("D", "C", 20 * MUSD),
             ("A", "D", 10 * MUSD)]
    shocked = EN_BANKS[shocked_bank]
    return _banks_scenario(
        "classic_eisenberg_noe",
        f"Eisenberg-Noe: four banks in a ring; {shocked} writes off {writedown_frac:.0%} of its "
        f"external assets at step {writedown_step}; defaults spread one clearing round a step.",
        banks, loans, shocked=shocked, writedown_frac=writedown_frac,
        writedown_step=writedown_step, n_traders=n_traders, steps=steps)


# ---------------------------------------------------------------------- Gai-Kapadia
def gai_kapadia_graph(n_banks: int, mean_degree: float, seed_graph: int) -> nx.DiGraph:
    """The directed Erdos-Renyi interbank network: an edge ``i -> j`` is a loan from i to j,
    each ordered pair with probability ``mean_degree / (n_banks - 1)``.

    Examples
    --------
    >>> G = gai_kapadia_graph(40, 3.0, 7)
    >>> G.number_of_nodes(), G.is_directed()
    (40, True)
    """
    p = mean_degree / (n_banks - 1)
    return nx.gnp_random_graph(n_banks, p, seed=seed_graph, directed=True)


def _creditors_of(G: nx.DiGraph) -> tuple[sparse.csr_matrix, np.ndarray]:
    n = G.number_of_nodes()
    edges = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
    m = sparse.csr_matrix((np.ones(len(edges), dtype=np.int64), (edges[:, 0], edges[:, 1])),
                          shape=(n, n))
    return m, np.bincount(edges[:, 0], minlength=n)


def most_contagious_bank(G: nx.DiGraph, *, interbank_frac: float, capital_frac: float) -> int:
    """The bank whose failure topples the most banks in the pure Gai-Kapadia cascade (rule
    ``"gt"``: a loss equal to capital is survived, as on the engine); the first on ties."""
    creditors_of, degree = _creditors_of(G)
    ib, cap = Fraction(str(interbank_frac)), Fraction(str(capital_frac))
    sizes = [cascade_size(creditors_of, degree, b, ib=ib, cap=cap, rule="gt")
             for b in range(G.number_of_nodes())]
    return int(np.argmax(sizes))


def gai_kapadia_demo(*, n_traders: int = 200, steps: int = 30, n_banks: int = 40,
                     mean_degree: float = 3.0, capital_frac: float = 0.04,
                     interbank_frac: float = 0.2, seed_graph: int = 1, shocked_bank: int = -1,
                     writedown_frac: float = 1.0, writedown_step: int = 2) -> Scenario:
    """Gai & Kapadia (2010) on the engine: a random interbank network, zero recovery.

    ``n_banks`` banks ("B00", "B01", ...) lend to each other on a directed Erdos-Renyi graph
    (:func:`gai_kapadia_graph`: loan ``i -> j`` with probability ``mean_degree / (n - 1)``).
    Each bank has $1B of assets; ``interbank_frac`` of them (if it lends at all) are loans
    split evenly over its debtors, the rest external assets; its capital is
    ``capital_frac`` of $1B. Recovery on a defaulted loan is zero (the paper's assumption;
    here Rogers-Veraart clearing with no recovery, ``ClearingParams(0, 0)``). At
    ``writedown_step`` the shocked bank loses ``writedown_frac`` of its external assets (all
    of them by default, as in the paper) and defaults; a bank with ``k`` debtors of which
    ``m`` have defaulted has lost ``m * interbank_frac / k`` of $1B and defaults when that
    exceeds its capital. Each step is one round of the cascade, the same rounds as the pure
    model of :mod:`models.classic.gai_kapadia` on the same graph (checked in
    ``tests/classic/test_interbank_presets.py``) with its rule ``"gt"``: like
    Eisenberg-Noe, the engine counts a bank that loses exactly its capital as solvent (the
    paper's numbers put banks with 5 debtors on that knife-edge).

    Stylised: the paper's balance sheets have deposits as the residual. Deposits must stay
    well above zero on the engine, so a bank that borrows more than ~46% of $1B carries more
    external assets and deposits; the cascade depends only on each lender's interbank book
    and capital, which are the paper's.

    Parameters
    ----------
    n_traders : int
        Depositors drawn from this many traders (1 to 2,000; about 20 per bank).
    steps : int
        Length of the run (1 to 1,000).
    n_banks : int
        Number of banks, 2 to 200.
    mean_degree : float
        Mean number of debtors (and creditors) per bank, ``0 < z <= n_banks - 1``; the
        contagion window of the paper is roughly ``1 < z < 8``.
    capital_frac, interbank_frac : float
        Capital and interbank assets as fractions of a bank's $1B (``0 < x < 1``).
    seed_graph : int
        Seed of the random network (``>= 0``).
    shocked_bank : int
        Index of the bank written down; -1 (the default): the bank whose failure topples the
        most banks in the pure cascade.
    writedown_frac : float
        Fraction of the shocked bank's external assets written off, 0 to 1 (0: no shock, no
        defaults).
    writedown_step : int
        The step of the write-down (1 to ``steps``).
    """
    _check_common(n_traders, steps, writedown_frac, writedown_step)
    n = check_int("n_banks", n_banks, low=2, high=200)
    z = check_real("mean_degree", mean_degree, low=0, high=n - 1, low_open=True)
    cap = check_real("capital_frac", capital_frac, low=0, high=1, low_open=True, high_open=True)
    ib = check_real("interbank_frac", interbank_frac, low=0, high=1, low_open=True,
                    high_open=True)
    if cap >= 0.5:
        raise ParameterError("capital_frac", capital_frac, "0 < x < 0.5",
                             "deposits fund at least half of each bank")
    seed = check_int("seed_graph", seed_graph, low=0, high=2**32 - 1)
    shocked_bank = check_int("shocked_bank", shocked_bank, low=-1, high=n - 1)
    G = gai_kapadia_graph(n, z, seed)
    if shocked_bank < 0:
        shocked_bank = most_contagious_bank(G, interbank_frac=ib, capital_frac=cap)
    size = 1e9
    names = [f"B{i:02d}" for i in range(n)]
    loans = [(names[i], names[j], ib * size / G.out_degree(i)) for i, j in G.edges()]
    borrowed = np.zeros(n)
    for i, j in G.edges():
        borrowed[j] += ib * size / G.out_degree(i)
    banks = []
    for i in range(n):
        interbank = ib * size if G.out_degree(i) > 0 else 0.0
        capital = cap * size
        total = max(size, capital + borrowed[i] + size / 2)  # deposits >= $0.5B
        banks.append(_Bank(names[i], total - interbank, total - capital - borrowed[i]))
    return _banks_scenario(
        "classic_gai_kapadia",
        f"Gai-Kapadia: {n} banks, mean degree {z:g}, capital {cap:.0%}, interbank assets "
        f"{ib:.0%}, zero recovery; {names[shocked_bank]} loses {writedown_frac:.0%} of its "
        f"external assets at step {writedown_step}.",
        banks, loans, shocked=names[shocked_bank], writedown_frac=writedown_frac,
        writedown_step=writedown_step, n_traders=n_traders, steps=steps, clearing=ZERO_RECOVERY)


# ---------------------------------------------------------------------- DebtRank
DEBTRANK_BANKS = ("Hub", "Giant", "CoreA", "CoreB", *(f"Small{k}" for k in range(1, 9)))


def debtrank_demo(*, n_traders: int = 200, steps: int = 10, shocked_bank: int = 0,
                  writedown_frac: float = 0.5, writedown_step: int = 2,
                  periphery_loan_to_equity: float = 1.5) -> Scenario:
    """A core-periphery network where the most systemic bank is not the largest.

    Balance sheets in $M (``r = periphery_loan_to_equity``, 1.5 by default):

    ========  ========  ======================  ==============  ==========  ======
    bank      external  lent to                 borrowed from   deposits    equity
    ========  ========  ======================  ==============  ==========  ======
    Hub       980       -                       8 Small 40r,    300         50
                                                CoreA 100,
                                                CoreB 50
    Giant     5000      CoreA 150, CoreB 150    CoreA 50,       4800        400
                                                CoreB 50
    CoreA     900       Hub 100, Giant 50       Giant 150       700         200
    CoreB     950       Hub 50, Giant 50        Giant 150       700         200
    Small1-8  160       Hub 40r                 -               120 + 40r   40
    ========  ========  ======================  ==============  ==========  ======

    (The Hub's external assets are ``500 + 320 r``, 980 at ``r = 1.5``.) Giant is by far the
    largest bank (assets $5.3B against the Hub's $0.98B), but the Hub borrows from eight
    thinly capitalised banks: DebtRank (Battiston et al. 2012,
    :func:`contagion.mechanics.debtrank.systemic_importance` on the engine's exposure network,
    weights = share of interbank assets held) ranks the Hub first with
    ``R = 0.66``, the core banks next (0.13) and Giant last but for the small banks (0.06):
    the Hub's failure costs each small bank ``min(1, 60/40) = 100%`` of its equity, CoreA
    50% and CoreB 25%, who pass part of that on to Giant; Giant's failure costs CoreA and
    CoreB a quarter of their equity and nobody else anything.

    On the engine (zero recovery, as DebtRank's fully distressed borrower): writing off
    ``writedown_frac`` of the Hub's external assets makes it default and, one step later,
    the eight small banks (9 defaults); the same write-down at Giant topples Giant alone.
    With ``r <= 1`` the small banks survive the Hub (their loss is at most their equity)
    though DebtRank still ranks the Hub first.

    Stylised: no cash, no runs; one step is one round of the cascade.

    Parameters
    ----------
    n_traders : int
        Depositors drawn from this many traders (1 to 2,000; about 20 per bank).
    steps : int
        Length of the run (1 to 1,000).
    shocked_bank : int
        The bank written down, an index into :data:`DEBTRANK_BANKS`: 0 = Hub, 1 = Giant,
        2 = CoreA, 3 = CoreB, 4-11 = Small1-Small8.
    writedown_frac : float
        Fraction of its external assets written off, 0 to 1 (0: no shock, no defaults).
    writedown_step : int
        The step of the write-down (1 to ``steps``).
    periphery_loan_to_equity : float
        Each small bank's loan to the Hub over its equity, ``0 < r <= 5``.
    """
    _check_common(n_traders, steps, writedown_frac, writedown_step)
    check_int("shocked_bank", shocked_bank, low=0, high=len(DEBTRANK_BANKS) - 1)
    r = check_real("periphery_loan_to_equity", periphery_loan_to_equity, low=0, high=5,
                   low_open=True)
    small_loan = 40 * r
    hub_external = 300 + (8 * small_loan + 150) + 50  # deposits + borrowed + equity
    banks = [_Bank("Hub", hub_external * MUSD, 300 * MUSD),
             _Bank("Giant", 5000 * MUSD, 4800 * MUSD),
             _Bank("CoreA", 900 * MUSD, 700 * MUSD),
             _Bank("CoreB", 950 * MUSD, 700 * MUSD),
             *(_Bank(f"Small{k}", 160 * MUSD, (120 + small_loan) * MUSD) for k in range(1, 9))]
    loans = [("CoreA", "Hub", 100 * MUSD), ("CoreB", "Hub", 50 * MUSD),
             ("CoreA", "Giant", 50 * MUSD), ("CoreB", "Giant", 50 * MUSD),
             ("Giant", "CoreA", 150 * MUSD), ("Giant", "CoreB", 150 * MUSD),
             *((f"Small{k}", "Hub", small_loan * MUSD) for k in range(1, 9))]
    shocked = DEBTRANK_BANKS[shocked_bank]
    return _banks_scenario(
        "classic_debtrank",
        f"DebtRank: a core-periphery network; {shocked} writes off {writedown_frac:.0%} of its "
        f"external assets at step {writedown_step}; zero recovery.",
        banks, loans, shocked=shocked, writedown_frac=writedown_frac,
        writedown_step=writedown_step, n_traders=n_traders, steps=steps, clearing=ZERO_RECOVERY)
