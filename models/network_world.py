"""A user's exposure network as a world to simulate: ``contagion run --network FILE``.

The file is what ``contagion network`` reads (node-link JSON or GraphML, see
:func:`contagion.network.read_network`): institutions (nodes of an institution kind, or any
node with an ``external_assets_usd``) with ``external_assets_usd`` and
``external_liabilities_usd``, and ``credit`` edges ``lender -> borrower`` whose ``weight`` is
the amount lent. Each institution becomes a bank of the engine (a custodial institution of
:mod:`models.classic.interbank`: its outside creditors are its depositors, its loans credit
links, its external assets illiquid holdings, and it defaults when its books show assets
below liabilities), and ``--shock NODE=FRAC`` writes off that fraction of the node's external
assets at step 1. The cascade then advances one clearing round per step, so the run's
defaults by step are the rounds of Eisenberg-Noe's fictitious default algorithm, and its
final recovery rates are those of ``contagion network`` on the same file.

An institution with no outside creditors still needs one depositor: it gets a deposit of
:data:`MIN_DEPOSIT_USD` ($1), with a dollar more of assets so its equity is unchanged (its
shock still writes off FRAC of its own external assets, not of that dollar).
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from contagion.errors import NetworkFormatError, ParameterError
from contagion.params import ClearingParams
from contagion.scenario import Scenario
from contagion.stress import check_shocks, credit_layer
from models.classic.interbank import DEPOSITORS_PER_BANK, _Bank, _banks_scenario

__all__ = ["MIN_DEPOSIT_USD", "network_scenario"]

MIN_DEPOSIT_USD = 1.0
MAX_BANKS = 2000


def network_scenario(G: nx.MultiDiGraph, shocks: Mapping[str, float], *, name: str = "network",
                     clearing: ClearingParams | None = None) -> Scenario:
    """The scenario that simulates network ``G`` after ``shocks`` (node -> fraction of its
    external assets written off at step 1).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("Fund", kind="firm", external_assets_usd=100.0)
    >>> G.add_node("Exchange", kind="custodial", external_assets_usd=50.0,
    ...            external_liabilities_usd=120.0)
    >>> _ = G.add_edge("Exchange", "Fund", key="credit", type="credit", weight=80.0)
    >>> sc = network_scenario(G, {"Fund": 0.6})
    >>> [(c.name, c.deposits_usd, round(c.writedown_frac * 101, 6)) for c in sc.custodial]
    [('Fund', 1.0, 60.0), ('Exchange', 120.0, 0.0)]
    >>> [(x.lender, x.borrower, x.amount_usd) for x in sc.credit_links]
    [('Exchange', 'Fund', 80.0)]
    """
    names, L, ext, ext_liab = credit_layer(G)
    if len(names) > MAX_BANKS:
        raise NetworkFormatError(f"the network has {len(names):,} institutions; a simulation "
                                 f"takes at most {MAX_BANKS:,} (use `contagion network` to "
                                 "clear larger ones)")
    check_shocks(names, shocks)
    if not any(frac > 0 for frac in shocks.values()):
        raise ParameterError("--shock", dict(shocks), "at least one NODE=FRAC with FRAC > 0",
                             "without a shock nothing happens")
    pad = [MIN_DEPOSIT_USD if ext_liab[i] <= 0 else 0.0 for i in range(len(names))]
    banks = [_Bank(name=str(node), external_usd=float(ext[i]) + pad[i],
                   deposits_usd=float(ext_liab[i]) + pad[i]) for i, node in enumerate(names)]
    loans = [(str(names[j]), str(names[i]), float(L[i, j]))
             for i in range(len(names)) for j in range(len(names)) if L[i, j] > 0]
    # the shock writes off FRAC of the node's own external assets, not of the padding dollar
    writedowns = {str(node): float(frac) * float(ext[names.index(node)])
                  / (float(ext[names.index(node)]) + pad[names.index(node)])
                  for node, frac in shocks.items() if ext[names.index(node)] > 0}
    try:
        return _banks_scenario(
            name, f"the exposure network of {len(names)} institutions, shocked at step 1",
            banks, loans, shocked="", writedown_frac=0.0, writedown_step=1,
            n_traders=min(DEPOSITORS_PER_BANK * len(banks), 50_000), steps=len(banks) + 2,
            clearing=clearing or ClearingParams(), writedowns=writedowns)
    except ParameterError as exc:
        node = exc.name.split("[", 1)[-1].split("]", 1)[0] if "[" in exc.name else exc.name
        raise NetworkFormatError(f"node {node!r} cannot be simulated: {exc}") from None
