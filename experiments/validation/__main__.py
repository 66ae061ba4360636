"""``python -m experiments.validation [--small] [--out DIR] [--no-figures]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.validation.checks import FULL, SMALL
from experiments.validation.report import write_validation

DEFAULT_OUT = Path(__file__).parent / "report"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.validation",
                                 description="Run every model-vs-source check; write one page.")
    ap.add_argument("--small", action="store_true", help="the reduced version the tests run")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="output directory (default experiments/validation/report)")
    ap.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    args = ap.parse_args(argv)
    out, sections = write_validation(args.out, SMALL if args.small else FULL,
                                     draw_figures=not args.no_figures)
    checks = [c for s in sections for c in s.checks]
    bad = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(bad)} of {len(checks)} checks agree -> {out / 'report.md'}")
    for c in bad:
        print(f"DOES NOT AGREE: {c.claim}: {c.observed}"
              + (f" (residual: {c.residual_text})" if c.verdicts else ""), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
