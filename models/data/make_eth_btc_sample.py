"""Write ``eth_btc_2022-06.csv``: a SYNTHETIC sample price history for the ``replay`` path.

Not market data. Two correlated GBM paths (5-minute steps, 432 rows = 36 hours from
2022-06-12 00:00 UTC) with a 12-hour fall (22:00 on 12 June to 10:00 on 13 June) whose
rough size echoes that day's sell-off (ETH about -25%, BTC about -20%), from
``numpy.random.default_rng(20220613)``.
Run ``python models/data/make_eth_btc_sample.py`` to rewrite it byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROWS = 432
STEP_MINUTES = 5
OUT = Path(__file__).with_name("eth_btc_2022-06.csv")


def main() -> None:
    rng = np.random.default_rng(20220613)
    chol = np.linalg.cholesky(np.array([[1.0, 0.85], [0.85, 1.0]]))
    z = rng.standard_normal((ROWS - 1, 2)) @ chol.T
    vol = np.array([0.004, 0.003])  # per 5 minutes
    t = np.arange(1, ROWS)
    fall = ((t >= 264) & (t < 408)).astype(float)  # 22:00 on 12 June to 10:00 on 13 June
    drift = np.outer(fall, np.log([0.75, 0.80]) / 144.0)
    log_p = np.log([1500.0, 26500.0]) + np.vstack([[0.0, 0.0],
                                                    np.cumsum(drift + vol * z - 0.5 * vol**2,
                                                              axis=0)])
    prices = np.exp(log_p)
    start = np.datetime64("2022-06-12T00:00")
    lines = ["timestamp,ETH,BTC"]
    for k in range(ROWS):
        ts = start + np.timedelta64(k * STEP_MINUTES, "m")
        lines.append(f"{ts}Z,{prices[k, 0]:.2f},{prices[k, 1]:.2f}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
