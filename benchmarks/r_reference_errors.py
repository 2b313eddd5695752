"""Largest relative error against R, per quantity, over every reference case.

Runs `regression-analyzer analyze` on each table of tests/reference/ (as the tests do) and
prints, per quantity, the worst relative error, where it occurred and the tolerance the tests
allow. Run by hand:

    python benchmarks/r_reference_errors.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.r_reference import CASES, Pair, pairs, run_case


def main() -> None:
    worst: dict[str, tuple[Pair, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            report, rows = run_case(case, Path(tmp) / case)
            for pair in pairs(case, report, rows):
                if pair.quantity not in worst or pair.error > worst[pair.quantity][0].error:
                    worst[pair.quantity] = (pair, case)
    print(f"{len(CASES)} cases: {', '.join(CASES)}")
    print(f"{'quantity':<38} {'max rel. error':>14} {'allowed':>8}  where")
    for quantity, (pair, case) in sorted(worst.items()):
        where = f"{case} {pair.where}".strip()
        print(f"{quantity:<38} {pair.error:>14.2e} {pair.tolerance:>8.0e}  {where}")


if __name__ == "__main__":
    main()
