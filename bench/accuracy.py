"""Accuracy of every exact quantity of ``bonkl`` against mpmath, in its hardest regime.

Run ``python bench/accuracy.py`` (the full case grids, under a minute) or
``python bench/accuracy.py --quick`` (the smaller grids the tests run, with the same
extremes). Prints one markdown table, computed afresh: per quantity (and per output of a
quantity with several), the hardest regime tested, the number of cases, the worst relative
error against an independent mpmath computation and the case where it was seen, and the
tolerance ``tests/test_accuracy.py`` asserts; then a note for each quantity whose tolerance
is looser than 1e-10, and the date, machine and time of the run.

The case grids and the comparison live in ``tests/accuracy_sweep.py``, the mpmath references
in ``tests/mp_reference.py``; both are shared with the tests.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from accuracy_sweep import QUANTITIES, evaluate, markdown  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the tests' smaller grids")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = [row for quantity in QUANTITIES for row in evaluate(quantity, args.quick)]
    elapsed = time.perf_counter() - start
    print(markdown(rows))
    print(f"\n`python bench/accuracy.py{' --quick' if args.quick else ''}`: "
          f"{sum(r.cases for r in rows)} comparisons in {elapsed:.0f} s on "
          f"{datetime.date.today().isoformat()}, {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}.")


if __name__ == "__main__":
    main()
