"""The ``bonkl`` command line: exact best-of-n and KL-regularisation numbers for a sample file.

``bonkl analyze FILE --n 1 4 16``, ``bonkl analyze FILE --by prompt --n 1 4 16`` (one row per
prompt and n, and a summary over prompts) and ``bonkl targets FILE --beta 0.1 1``. ``FILE``
is CSV, Parquet or JSON Lines, one row per sample (:mod:`bonkl.plumbing.userfile`): ``prompt``,
``completion`` (or ``outcome``), ``logprob`` (or ``prob``), ``reward`` (or a reward computed
from the file: ``--reward loglik|neg-length``), optional ``count`` and ``num_tokens``. Output
is an aligned table, or CSV / JSON for machines.
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
from bonkl.plots import samples as sample_plots
from bonkl.plots.style import set_style
from bonkl.plumbing import verify as reproduction
from bonkl.plumbing.userfile import REWARDS, Columns, ReferenceFileError, load_samples
from bonkl.study import samples

ANALYZE_COLUMNS = """\
columns (all KL values in nats):
  n                   samples per best-of-n draw
  kl                  exact KL(best-of-n || reference), ties sharing their group's mass
  kl_formula          log n - (n-1)/n, the formula used across the literature (an upper bound)
  expected_estimator  E[D_n(p(y))] over best-of-n draws y: the paper's estimator, exactly
  win_rate            P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2, Y best-of-n, Z from the reference
  win_rate_bound      n/(n+1), the win rate's upper bound (equality without reward ties)
with --by prompt, one row per (prompt, n), and also:
  prompt              the prompt
  outcomes            its number of distinct completions
  entropy             -sum p log p of its completions (nats)
  top_mass            its likeliest completion's probability
  top_reward_mass     p(C*), the mass of its best completions (the KL's cap is log 1/p(C*))
  note                says so where best-of-n is the reference (one outcome, or all tied),
                      else -
then (table format; --summary for CSV / JSON) per n over prompts: the mean and the 10%, 50%
and 90% quantiles of kl, of overstatement = kl_formula - kl, and of win_rate.
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


def _samples(args) -> pd.DataFrame:
    """The file's outcomes, each prompt normalised; one prompt unless ``--by prompt``."""
    columns = Columns(prompt=args.prompt_column, outcome=args.completion_column,
                      logprob=args.logprob_column, reward=args.reward or args.reward_column)
    table = load_samples(args.file, columns, normalize=args.normalize,
                         normalize_hint="pass --normalize")
    prompts = table["prompt"].unique()
    by_prompt = getattr(args, "by", None) == "prompt"
    if by_prompt and list(prompts) == [""]:
        raise ReferenceFileError(f"{args.file}: no column {args.prompt_column!r}; --by prompt "
                                 "needs one (name it with --prompt-column)")
    if not by_prompt and prompts.size > 1:
        raise ReferenceFileError(f"{args.file}: holds {prompts.size} prompts (column "
                                 f"{args.prompt_column!r}); pass --by prompt for one row per "
                                 "prompt and n")
    return table


def _reference(args) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    table = _samples(args)
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


def analyze_by_prompt(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (prompt, n) and the summary over prompts per n (:mod:`bonkl.study.samples`)."""
    table = samples.per_prompt(_samples(args), args.n)
    table["n"] = table["n"].astype(np.int64)
    return table, samples.summary(table)


def draw_figure(table: pd.DataFrame, path: Path) -> None:
    """Paper A's Fig. 4 for the file (:func:`bonkl.plots.samples.kl_by_prompt`) at ``path``."""
    set_style()
    fig, _ = sample_plots.kl_by_prompt(table)
    fig.savefig(path, metadata={"Software": None} if path.suffix == ".png" else None)


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


def _emit(frame: pd.DataFrame, fmt: str, out, title: str = "") -> None:
    if fmt == "csv":
        frame.to_csv(out, index=False, float_format="%.17g")
    elif fmt == "json":
        json.dump(frame.to_dict(orient="records"), out, indent=2)
        out.write("\n")
    else:
        out.write(f"{title}\n" if title else "")
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
    """The ``bonkl`` command's argument parser (``analyze`` and ``targets``)."""
    top = argparse.ArgumentParser(
        prog="bonkl",
        description="Exact best-of-n and KL-regularisation numbers for your own model's "
                    "samples: a CSV, Parquet or JSON Lines file, one row per sample, with "
                    "columns logprob or prob, reward (or --reward loglik|neg-length), and "
                    "optionally prompt, completion, count and num_tokens.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("file", type=Path, help="sample file (CSV, Parquet or JSON Lines)")
    common.add_argument("--normalize", action="store_true",
                        help="rescale each prompt's probabilities to sum to 1 (a sample of "
                             "outcomes)")
    common.add_argument("--prompt-column", default="prompt", metavar="NAME",
                        help="the prompt's column (default: prompt)")
    common.add_argument("--completion-column", metavar="NAME",
                        help="the completion's column; identical completions of a prompt are "
                             "one outcome (default: completion, else outcome)")
    common.add_argument("--logprob-column", metavar="NAME",
                        help="a column of natural-log reference probabilities (default: "
                             "logprob, or prob for probabilities)")
    common.add_argument("--reward-column", default="reward", metavar="NAME",
                        help="the reward's column (default: reward)")
    common.add_argument("--reward", metavar="loglik|neg-length|COLUMN",
                        help="the reward: loglik (the reference log-probability), neg-length "
                             "(minus the completion's length in characters, or num_tokens), "
                             "or a column (paper A, Fig. 4); default: --reward-column")
    common.add_argument("--format", choices=["table", "csv", "json"], default="table",
                        help="output format (default: an aligned table)")
    fmt = argparse.RawDescriptionHelpFormatter
    analyze_parser = commands.add_parser(
        "analyze", parents=[common], formatter_class=fmt, epilog=ANALYZE_COLUMNS,
        help="best-of-n KL, formula, estimator and win rate per n",
        description="Best-of-n against the file's reference, exactly (paper A).")
    analyze_parser.add_argument("--n", type=_positive_int, nargs="+", required=True,
                                help="values of n (samples per best-of-n draw)")
    analyze_parser.add_argument("--by", choices=["prompt"],
                                help="one row per prompt and n, and a summary over prompts")
    analyze_parser.add_argument("--summary", action="store_true",
                                help="with --by prompt: print only the summary over prompts")
    analyze_parser.add_argument("--figure", type=Path, metavar="OUT.png",
                                help="with --by prompt: draw exact KL against n per prompt "
                                     "beside the formula (paper A, Fig. 4) to this file")
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
    verify_parser = commands.add_parser(
        "verify", help="check a reproduction: every table against the committed one",
        description="After a run of the study: compare every CSV table of DIRECTORY with the "
                    "committed one (a git revision, or a directory of tables), cell by cell: "
                    "numbers within a relative tolerance, text exactly (the ledger's holds "
                    "column among it). Exit status 1 if a table differs or is missing.")
    verify_parser.add_argument("directory", type=Path, nargs="?", default=Path("figures"),
                               help="the tables a run wrote (default: figures)")
    verify_parser.add_argument("--against", default="HEAD", metavar="REV|DIR",
                               help="the committed tables: a git revision (default: HEAD) or a "
                                    "directory")
    verify_parser.add_argument("--rtol", type=_number(0.0, True), default=reproduction.RTOL,
                               help=f"relative tolerance (default: {reproduction.RTOL:g})")
    return top


def run_verify(args) -> int:
    """``bonkl verify``: print the verdict; 0 when every committed table reproduced."""
    checks = reproduction.verify(args.directory, args.against, args.rtol)
    print(reproduction.report(checks, args.rtol))
    return int(any(c.status in ("differs", "missing") for c in checks))


def main(argv: list[str] | None = None) -> int:
    """Run ``bonkl`` on ``argv``; the exit status (2 for a bad file or argument)."""
    command = parser()
    args = command.parse_args(argv)
    if args.command == "verify":
        return run_verify(args)
    if args.command == "analyze" and args.by is None and (args.summary or args.figure):
        command.error("--summary and --figure need --by prompt")
    if args.reward in REWARDS and args.reward_column != "reward":
        command.error(f"--reward {args.reward} computes the reward; drop --reward-column")
    summary = None
    try:
        if args.command == "targets":
            result, per_outcome = targets(args)
            if args.output is not None:
                per_outcome.to_csv(args.output, index=False, float_format="%.17g")
        elif args.by == "prompt":
            result, summary = analyze_by_prompt(args)
            if args.figure is not None:
                draw_figure(result, args.figure)
        else:
            result = analyze(args)
    except ReferenceFileError as err:
        print(f"bonkl: error: {err}", file=sys.stderr)
        return 2
    if summary is None:
        _emit(result, args.format, sys.stdout)
    elif args.summary:
        _emit(summary, args.format, sys.stdout)
    elif args.format == "table":
        _emit(result, args.format, sys.stdout, "per prompt and n:")
        _emit(summary, args.format, sys.stdout, "\nover prompts, per n:")
    else:
        _emit(result, args.format, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
