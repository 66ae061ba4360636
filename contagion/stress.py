"""Stress a venue exposure network: shock some nodes, clear the rest, rank importance.

Works on any graph in the exchange format of :mod:`contagion.network`, the model's own or a
user's (``read_network``). Nodes may carry ``external_assets_usd`` (assets outside the
network) and ``external_liabilities_usd`` (what they owe outside creditors: depositors,
suppliers); ``credit`` edges ``lender -> borrower`` carry the amount lent. A shock wipes out a
fraction of a node's external assets; Eisenberg-Noe clearing then gives every node's
payments, recovery rate, default and default generation, and DebtRank the distress that
spreads through the same exposures.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from contagion.errors import NetworkFormatError, ParameterError
from contagion.mechanics.clearing import eisenberg_noe
from contagion.mechanics.debtrank import debtrank, systemic_importance
from contagion.validation import check_real

__all__ = ["check_shocks", "credit_layer", "stress_network"]

_INSTITUTION_KINDS = ("lending", "perp", "custodial", "firm", "bank", "venue")


def credit_layer(G: nx.MultiDiGraph) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Names, liabilities matrix (``L[i, j]``: i owes j), external assets and external
    liabilities of the institutions in ``G`` (nodes of an institution kind, or any node with
    an ``external_assets_usd`` attribute)."""
    names = [n for n, d in G.nodes(data=True)
             if d.get("kind") in _INSTITUTION_KINDS or "external_assets_usd" in d]
    if not names:
        raise NetworkFormatError("the network has no institutions: give nodes a kind such as "
                                 "'lending', 'custodial', 'firm' or an external_assets_usd")
    idx = {n: i for i, n in enumerate(names)}
    n = len(names)
    L = np.zeros((n, n))
    for s, d, data in G.edges(data=True):
        if data.get("type") == "credit" and s in idx and d in idx and s != d:
            L[idx[d], idx[s]] += float(data["weight"])  # the borrower owes the lender
    ext = np.array([float(G.nodes[x].get("external_assets_usd", 0.0)) for x in names])
    ext_liab = np.array([float(G.nodes[x].get("external_liabilities_usd", 0.0)) for x in names])
    if (ext < 0).any() or (ext_liab < 0).any():
        bad = names[int(np.flatnonzero((ext < 0) | (ext_liab < 0))[0])]
        raise NetworkFormatError(f"node {bad!r} has a negative external_assets_usd or "
                                 "external_liabilities_usd")
    return names, L, ext, ext_liab


def check_shocks(names: list[str], shocks: Mapping[str, float]) -> None:
    """Each shocked node is an institution of the network and loses 0 to 1 of its assets."""
    for node, frac in shocks.items():
        if node not in names:
            raise ParameterError("shock", node, "an institution of the network: " + ", ".join(names))
        check_real(f"shock[{node}]", frac, low=0, high=1)


def stress_network(G: nx.MultiDiGraph, shocks: Mapping[str, float], *,
                   alpha: float = 1.0, beta: float = 1.0) -> pd.DataFrame:
    """Shock nodes of ``G`` and clear the network.

    Parameters
    ----------
    G : the exposure network.
    shocks : node -> fraction of its external assets lost (0 to 1).
    alpha, beta : Rogers-Veraart recovery on external and interbank assets of defaulters
        (1, 1: plain Eisenberg-Noe).

    Returns
    -------
    DataFrame, one row per institution: ``node, external_assets_usd, liabilities_usd,
    payments_usd, recovery_rate, defaulted, default_generation, equity_usd,
    debtrank_distress, systemic_importance``.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("Fund", kind="firm", external_assets_usd=100.0)
    >>> G.add_node("Exchange", kind="custodial", external_assets_usd=50.0,
    ...            external_liabilities_usd=120.0)
    >>> _ = G.add_edge("Exchange", "Fund", key="credit", type="credit", weight=80.0)
    >>> out = stress_network(G, {"Fund": 0.6})
    >>> out[["node", "defaulted", "default_generation"]].values.tolist()
    [['Fund', True, 1], ['Exchange', True, 2]]
    """
    names, L, ext, ext_liab = credit_layer(G)
    check_shocks(names, shocks)
    shocked = ext.copy()
    for node, frac in shocks.items():
        shocked[names.index(node)] *= 1.0 - frac
    # outside creditors are one sink node that owes nothing
    n = len(names)
    L_full = np.zeros((n + 1, n + 1))
    L_full[:n, :n] = L
    L_full[:n, n] = ext_liab
    res = eisenberg_noe(L_full, np.append(shocked, 0.0), alpha=alpha, beta=beta)
    exposures = L.T  # exposures[i, j]: what i lent to j
    equity0 = np.maximum(ext + L.sum(axis=0) - L.sum(axis=1) - ext_liab, 0.0)
    h0 = np.zeros(n)
    for node, frac in shocks.items():
        i = names.index(node)
        h0[i] = min(1.0, frac * ext[i] / equity0[i]) if equity0[i] > 0 else 1.0
    safe_equity = np.where(equity0 > 0, equity0, 1e-12)
    dr = debtrank(exposures, safe_equity, h0)
    importance = systemic_importance(exposures, safe_equity)
    generation = np.where(res.defaulted[:n], res.default_round[:n] + 1, 0)
    return pd.DataFrame({
        "node": names,
        "external_assets_usd": shocked,
        "liabilities_usd": L_full[:n].sum(axis=1),
        "payments_usd": res.payments[:n],
        "recovery_rate": res.recovery_rate[:n],
        "defaulted": res.defaulted[:n],
        "default_generation": generation,
        "equity_usd": res.equity[:n],
        "debtrank_distress": dr.distress,
        "systemic_importance": importance,
    })
