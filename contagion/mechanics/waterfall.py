"""A clearing house's default waterfall, its default fund (Cover 2) and initial margin.

Pure functions: numbers in, numbers out. :class:`~contagion.agents.clearing_house.ClearingHouse`
calls them when a member defaults; the validation report checks the engine's waterfall
events against :func:`default_waterfall` on the same inputs.

The layers, in order (the standard order of CCP rulebooks, CPMI-IOSCO PFMI Principle 4 and
13; e.g. https://www.vurtrix.com/published/511 "Table 1: The Standard Default Waterfall
Layers", and https://acadifi.com/community/ccp-loss-allocation-default-waterfall-assessment-powers-frm):

1. ``defaulter_margin``: the defaulter's initial margin;
2. ``defaulter_fund``: the defaulter's default-fund contribution;
3. ``skin_in_the_game``: the clearing house's own capital committed before members';
4. ``survivors_fund``: the surviving members' default-fund contributions, pro rata to them;
5. ``assessments``: cash calls on the survivors, pro rata to their contributions and capped
   at ``assessment_multiple`` times each one's contribution;

and what is left is ``residual``, the loss the waterfall could not cover (in practice the
CCP's recovery tools: variation-margin gains haircutting, tear-up).

Nasdaq Clearing, September 2018: Einar Aas's close-out loss exceeded his collateral and
default-fund contribution; "the default fund ... has been impacted by an amount of EUR 107
million in addition to the EUR 7 million that was Nasdaq's junior capital"
(https://rss.globenewswire.com/news-release/2018/09/13/1570629/0/en/Statement-from-Nasdaq-Clearing.html):
a loss of 114 beyond the defaulter's own resources, 7 taken by the house, 107 by the
survivors' fund (tests/mechanics/test_waterfall.py runs those numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from contagion.errors import ParameterError

__all__ = ["WATERFALL_LAYERS", "WaterfallResult", "allocate_fund", "cover2_fund_usd",
           "default_waterfall", "initial_margin_usd"]

#: The waterfall's layers, in the order they pay.
WATERFALL_LAYERS = ("defaulter_margin", "defaulter_fund", "skin_in_the_game", "survivors_fund",
                    "assessments")


@dataclass(frozen=True)
class WaterfallResult:
    """What each layer of the waterfall paid for one defaulter's loss (USD).

    ``survivors_fund_usd`` and ``assessments_usd`` are per survivor, in the order given;
    ``residual_usd`` is what no layer covered.
    """

    loss_usd: float
    defaulter_margin_usd: float
    defaulter_fund_usd: float
    skin_in_the_game_usd: float
    survivors_fund_usd: NDArray[np.float64]
    assessments_usd: NDArray[np.float64]
    residual_usd: float

    @property
    def survivor_loss_usd(self) -> NDArray[np.float64]:
        """Each survivor's loss: its fund contribution consumed plus its assessment."""
        return self.survivors_fund_usd + self.assessments_usd

    def layers(self) -> tuple[tuple[str, float], ...]:
        """``(layer, paid)`` for each layer of :data:`WATERFALL_LAYERS`, in order."""
        return (("defaulter_margin", self.defaulter_margin_usd),
                ("defaulter_fund", self.defaulter_fund_usd),
                ("skin_in_the_game", self.skin_in_the_game_usd),
                ("survivors_fund", float(self.survivors_fund_usd.sum())),
                ("assessments", float(self.assessments_usd.sum())))


def _amount(name: str, x: float) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.floating | np.integer) \
            or not math.isfinite(float(x)) or x < 0:
        raise ParameterError(name, x, "a finite number >= 0")
    return float(x)


def _amounts(name: str, x: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if not np.isfinite(a).all() or (a < 0).any():
        raise ParameterError(name, x, "finite numbers >= 0")
    return a


def default_waterfall(loss_usd: float, *, margin_usd: float, fund_usd: float, sitg_usd: float,
                      survivor_fund_usd: ArrayLike, assessment_multiple: float) -> WaterfallResult:
    """Run one defaulter's loss through the waterfall.

    Parameters
    ----------
    loss_usd : float
        The defaulter's loss to the house: what it owes (unpaid variation margin) plus the
        cost of closing out its position.
    margin_usd, fund_usd : float
        Its initial margin and its default-fund contribution (still in the fund).
    sitg_usd : float
        The house's skin in the game still available.
    survivor_fund_usd : array_like
        Each surviving member's contribution still in the fund.
    assessment_multiple : float
        Each survivor can be called for at most this multiple of its contribution.

    Notes
    -----
    Each layer pays ``min(left, layer)``; within the survivors' layers a survivor pays
    ``share_i = c_i / sum(c)`` of the layer's payment (pro rata to its contribution ``c_i``),
    so with caps ``assessment_multiple * c_i`` proportional to the shares, pro rata reaches
    every cap at once and needs no redistribution.

    Examples
    --------
    >>> r = default_waterfall(100.0, margin_usd=40.0, fund_usd=10.0, sitg_usd=5.0,
    ...                       survivor_fund_usd=[20.0, 10.0], assessment_multiple=1.0)
    >>> [round(x, 6) for _, x in r.layers()], r.residual_usd
    ([40.0, 10.0, 5.0, 30.0, 15.0], 0.0)
    >>> r.survivor_loss_usd.tolist()
    [30.0, 15.0]
    """
    left = _amount("loss_usd", loss_usd)
    paid = []
    for name, layer in (("margin_usd", margin_usd), ("fund_usd", fund_usd),
                        ("sitg_usd", sitg_usd)):
        take = min(left, _amount(name, layer))
        paid.append(take)
        left -= take
    c = _amounts("survivor_fund_usd", survivor_fund_usd)
    mult = _amount("assessment_multiple", assessment_multiple)
    total = float(c.sum())
    share = c / total if total > 0 else np.zeros_like(c)
    from_fund = min(left, total)
    fund_paid = share * from_fund
    left -= from_fund
    from_calls = min(left, mult * total)
    calls = share * from_calls
    left -= from_calls
    return WaterfallResult(loss_usd=float(loss_usd), defaulter_margin_usd=paid[0],
                           defaulter_fund_usd=paid[1], skin_in_the_game_usd=paid[2],
                           survivors_fund_usd=fund_paid, assessments_usd=calls,
                           residual_usd=max(left, 0.0))


def cover2_fund_usd(stress_loss_usd: ArrayLike, margin_usd: ArrayLike) -> float:
    """The default fund "Cover 2" asks for: the two largest uncovered stress losses.

    PFMI Principle 4, key consideration 4: a CCP with a more complex risk profile or
    systemically important in several jurisdictions should maintain financial resources
    "sufficient to cover a wide range of potential stress scenarios that should include, but
    not be limited to, the default of the two
    participants and their affiliates that would potentially cause the largest aggregate
    credit exposure to the CCP in extreme but plausible market conditions"
    (https://www.bis.org/cpmi/publ/d101a.pdf). The exposure a member's default leaves is its
    stress loss less its initial margin, ``u_i = max(L_i - IM_i, 0)``; the fund is
    ``u_(1) + u_(2)``, the two largest.

    Examples
    --------
    >>> cover2_fund_usd([100.0, 50.0, 80.0, 10.0], [40.0, 20.0, 30.0, 20.0])
    110.0
    """
    loss = _amounts("stress_loss_usd", stress_loss_usd)
    im = _amounts("margin_usd", margin_usd)
    if loss.shape != im.shape:
        raise ParameterError("margin_usd", im.size, f"{loss.size} margins, one per member")
    uncovered = np.sort(np.maximum(loss - im, 0.0))[::-1]
    return float(uncovered[:2].sum())


def allocate_fund(total_usd: float, weights: ArrayLike) -> NDArray[np.float64]:
    """Split a default fund among members pro rata to ``weights`` (e.g. their initial
    margins, as most CCPs do); equal shares if every weight is zero.

    >>> allocate_fund(90.0, [2.0, 1.0, 0.0]).tolist()
    [60.0, 30.0, 0.0]
    """
    total = _amount("total_usd", total_usd)
    w = _amounts("weights", weights)
    if w.size == 0:
        return w
    s = float(w.sum())
    return total * (w / s if s > 0 else np.full(w.size, 1.0 / w.size))


def initial_margin_usd(notional_usd: ArrayLike, *, vol_per_step: float,
                       margin_period_steps: int, z_score: float) -> NDArray[np.float64]:
    """Initial margin sized from volatility: ``|N| z sigma sqrt(T)``.

    A parametric value-at-risk over the margin period of risk ``T`` steps (the time to
    close out a defaulter), ``sigma`` the price's volatility per step and ``z`` the normal
    quantile of the confidence (2.326 for 99%, the PFMI minimum for initial margin,
    Principle 6 key consideration 3).

    >>> initial_margin_usd([1e6, -2e6], vol_per_step=0.01, margin_period_steps=4,
    ...                    z_score=2.5).tolist()
    [50000.0, 100000.0]
    """
    n = np.abs(np.asarray(notional_usd, dtype=np.float64).reshape(-1))
    vol = _amount("vol_per_step", vol_per_step)
    z = _amount("z_score", z_score)
    steps = _amount("margin_period_steps", margin_period_steps)
    return n * (z * vol * math.sqrt(steps))
