"""The ``bonkl`` command line: exact best-of-n and KL-regularisation numbers for a sample file.

``bonkl analyze FILE --n 1 4 16`` and ``bonkl targets FILE --beta 0.1 1``; ``FILE`` is the
``reference`` stage's format (:mod:`bonkl.plumbing.userfile`): ``prob`` or ``logprob``, ``reward``,
optional ``outcome`` and ``count``. Output is an aligned table, or CSV / JSON for machines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from bonkl import bestofn, tilt
from bonkl.divergence import kl_from_logs
from bonkl.plumbing.userfile import ReferenceFileError, load_user_file

ANALYZE_COLUMNS = """\
columns (all KL values in nats):
  n                   samples per best-of-n draw
  kl                  exact KL(best-of-n || reference), ties sharing their group's mass
  kl_formula          log n - (n-1)/n, the formula used across the literature (an upper bound)
  expected_estimator  E[D_n(p(y))] over best-of-n draws y: the paper's estimator, exactly
  win_rate            P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2, Y best-of-n, Z from the reference
  win_rate_bound      n/(n+1), the win rate's upper bound (equality without reward ties)
"""

TARGETS_COLUMNS = """\
rows, one per method and parameter:
  reverse_kl       argmax E r - beta KL(pi || p): the Gibbs target p e^(r/beta) / Z
  forward_kl       argmax E r - beta KL(p || pi): beta p / (Lam - r), Lam from sum = 1
  kl_constrained   argmax E r subject to KL(pi || p) <= delta: the tilt with KL = delta
columns:
  kl               KL(target || reference) in nats
  expected_reward  E_target[r]
  top_mass         the target's mass on the top-reward outcomes C*
  lagrange         1/beta of the tilt (reverse_kl, kl_constrained) or Lam (forward_kl)
"""


def _reference(args) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    table = load_user_file(args.file, normalize=args.normalize)
    return table, table["prob"].to_numpy(), table["reward"].to_numpy()


def analyze(args) -> pd.DataFrame:
    """Per n: exact KL, formula, expected estimator, exact win rate and its bound (paper A)."""
    _, p, r = _reference(args)
    n = np.asarray(args.n, dtype=float)
    return pd.DataFrame({
        "n": np.asarray(args.n, dtype=np.int64),
        "kl": bestofn.kl(p, r, n),
        "kl_formula": bestofn.kl_formula(n),
        "expected_estimator": bestofn.expected_kl_estimator(p, r, n),
        "win_rate": bestofn.win_rate(p, r, n),
        "win_rate_bound": n / (n + 1.0),
    })


def _target_row(method: str, parameter: str, value: float, target, lagrange: float,
                p: np.ndarray, r: np.ndarray) -> dict:
    with np.errstate(divide="ignore"):
        kl = float(kl_from_logs(np.log(target), np.log(p)))
    top = r == np.max(r)
    return {"method": method, "parameter": parameter, "value": value, "kl": kl,
            "expected_reward": float(target @ r), "top_mass": float(target[top].sum()),
            "lagrange": lagrange}


def targets(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reverse- and forward-KL targets per beta and the KL-constrained optimum per delta.

    Returns the summary rows and the per-outcome table (reference and every target).
    """
    table, p, r = _reference(args)
    rows, columns = [], {}
    for beta in args.beta:
        reverse = tilt.reverse_kl_target(p, r, beta)
        forward, lam = tilt.forward_kl_target(p, r, beta)
        rows.append(_target_row("reverse_kl", "beta", beta, reverse, 1.0 / beta, p, r))
        rows.append(_target_row("forward_kl", "beta", beta, forward, lam, p, r))
        columns[f"reverse_kl_beta={beta:g}"] = reverse
        columns[f"forward_kl_beta={beta:g}"] = forward
    for delta in args.delta:
        optimum, lam = tilt.kl_constrained(p, r, delta)
        rows.append(_target_row("kl_constrained", "delta", delta, optimum, lam, p, r))
        columns[f"kl_constrained_delta={delta:g}"] = optimum
    per_outcome = table[["outcome", "prob", "reward"]].assign(**columns)
    return pd.DataFrame(rows), per_outcome


def _emit(frame: pd.DataFrame, fmt: str, out) -> None:
    if fmt == "csv":
        frame.to_csv(out, index=False, float_format="%.17g")
    elif fmt == "json":
        json.dump(frame.to_dict(orient="records"), out, indent=2)
        out.write("\n")
    else:
        out.write(tabulate(frame, headers="keys", tablefmt="simple", showindex=False,
                           floatfmt=".10g") + "\n")


def _positive_int(text: str) -> int:
    value = float(text)
    if not np.isfinite(value) or value < 1 or value != int(value) or value > 1e15:
        raise argparse.ArgumentTypeError(f"n must be an integer from 1 to 1e15, got {text!r}")
    return int(value)


def _number(low: float, inclusive: bool):
    def parse(text: str) -> float:
        value = float(text)
        if not np.isfinite(value) or value < low or (value == low and not inclusive):
            sign = ">=" if inclusive else ">"
            raise argparse.ArgumentTypeError(f"expected a finite number {sign} {low}, got {text!r}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bonkl",
        description="Exact best-of-n and KL-regularisation numbers for your own model's "
                    "samples: a CSV or Parquet file with columns prob or logprob (natural "
                    "log), reward, and optionally outcome and count.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("file", type=Path, help="sample file (CSV or Parquet)")
    common.add_argument("--normalize", action="store_true",
                        help="rescale the probabilities to sum to 1 (a sample of outcomes)")
    common.add_argument("--format", choices=["table", "csv", "json"], default="table",
                        help="output format (default: an aligned table)")
    fmt = argparse.RawDescriptionHelpFormatter
    analyze_parser = commands.add_parser(
        "analyze", parents=[common], formatter_class=fmt, epilog=ANALYZE_COLUMNS,
        help="best-of-n KL, formula, estimator and win rate per n",
        description="Best-of-n against the file's reference, exactly (paper A).")
    analyze_parser.add_argument("--n", type=_positive_int, nargs="+", required=True,
                                help="values of n (samples per best-of-n draw)")
    targets_parser = commands.add_parser(
        "targets", parents=[common], formatter_class=fmt, epilog=TARGETS_COLUMNS,
        help="reverse-/forward-KL targets and the KL-constrained optimum",
        description="Optimal policies of KL-regularised and KL-constrained RL on the file's "
                    "outcomes (papers B and C).")
    targets_parser.add_argument("--beta", type=_number(0.0, False), nargs="+", required=True,
                                help="regularisation strengths beta > 0")
    targets_parser.add_argument("--delta", type=_number(0.0, True), nargs="*", default=[],
                                help="KL budgets (nats) for the KL-constrained optimum")
    targets_parser.add_argument("--output", type=Path,
                                help="also write each target's per-outcome probabilities "
                                     "to this CSV file")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "analyze":
            result = analyze(args)
        else:
            result, per_outcome = targets(args)
            if args.output is not None:
                per_outcome.to_csv(args.output, index=False, float_format="%.17g")
    except ReferenceFileError as err:
        print(f"bonkl: error: {err}", file=sys.stderr)
        return 2
    _emit(result, args.format, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
