"""The bridge's events get sentences of their own, from their fields (issue 13)."""

from __future__ import annotations

from contagion.runner import simulate
from dashboard.narrative import step_narrative
from models import get_scenario


def test_exploit_halt_reprice_refill_and_resume_are_told() -> None:
    run = simulate(get_scenario("bridge_exploit", n_traders=200, recapitalise_step=30),
                   seed=0)
    ev, s = run.events, run.series
    exploit = " ".join(step_narrative(ev, s, 12))
    assert "An attacker drained 120,000 ETH" in exploit
    assert "backed 40%, down from 100%" in exploit
    assert "Portal halted for 24 steps" in exploit
    assert "Portal's wETH fell to 40% of its underlying" in exploit
    refill = " ".join(step_narrative(ev, s, 30))
    assert "A backer put 120,000 ETH" in refill and "fully backed again" in refill
    assert "is worth 100% of its underlying again" in refill
    resume = " ".join(step_narrative(ev, s, 36))
    assert "Portal resumed" in resume
    assert "$0 cross-margin transfer" not in resume  # empty calls are not news
