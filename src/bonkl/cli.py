"""The ``bonkl`` command line: best-of-n and KL-regularisation numbers for a model's samples.

``bonkl analyze FILE --by prompt --n 1 4 16`` gives, per prompt and n, best-of-n's KL and
win rate from ``bonkl.sampled``: exact where a prompt's completions enumerate its
support (their probabilities sum to 1), estimated with an interval otherwise; ``--summary``
gives the mean over prompts per n. ``bonkl analyze FILE --n ...`` (one prompt) and ``bonkl
targets FILE --beta ...`` are exact computations on a file that enumerates the support.
``FILE`` is read by :func:`bonkl.plumbing.userfile.load_samples` (CSV, TSV, JSON Lines,
Parquet; vLLM's and OpenAI's outputs; TRL's rows). Output is an aligned table, or CSV / JSON
for machines; warnings, notes and progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from bonkl import bestofn, sampled, tilt
from bonkl.divergence import kl_from_logs
from bonkl.plumbing import verify as reproduction
from bonkl.plumbing.formats import LAYOUTS, shown
from bonkl.plumbing.userfile import (
    LOGPROB_TOLERANCE,
    REWARDS,
    Columns,
    ReferenceFileError,
    load_samples,
    load_user_file,
)

#: The first columns of ``analyze --by prompt``, in this order (the interface).
PER_PROMPT_COLUMNS = ["prompt", "n", "candidates", "kl", "kl_low", "kl_high", "formula",
                      "win_rate", "win_rate_low", "win_rate_high", "method"]
#: The first columns of ``analyze --by prompt --summary``.
SUMMARY_COLUMNS = ["n", "prompts", "kl_mean", "kl_mean_low", "kl_mean_high", "win_rate_mean"]
#: Files above this many bytes show progress on stderr even when it is not a terminal.
PROGRESS_BYTES = 64 * 2**20
#: Prompts named one by one in a warning; beyond, a summary of them.
NAMED_PROMPTS = 5

ANALYZE_COLUMNS = """\
with --by prompt, one row per (prompt, n) (all KL values in nats):
  prompt              the prompt
  n                   samples per best-of-n draw
  candidates          the prompt's samples in the file (its counts summed)
  kl                  KL(best-of-n || reference): exact, or the estimate of --estimator
  kl_low, kl_high     its interval at --level (equal to kl where exact)
  formula             log n - (n-1)/n, the formula used across the literature
  win_rate            P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2, Y best-of-n, Z from the reference
  win_rate_low, win_rate_high   its interval
  method              exact (the completions enumerate the support: their probabilities
                      sum to 1), exact-normalised (--normalize: the seen completions taken
                      as the whole support), or the estimator's name
then (table format; --summary alone for CSV / JSON) one row per n over prompts:
  n, prompts, kl_mean, kl_mean_low, kl_mean_high (an interval from the prompts),
  win_rate_mean; prompts with a single candidate are left out, with a note.
without --by (one prompt whose probabilities sum to 1, or --normalize), exact:
  n, kl, kl_formula, expected_estimator (E[D_n(p(y))] over best-of-n draws y), win_rate,
  win_rate_bound (n/(n+1))
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


def _columns(args) -> Columns:
    return Columns(prompt=args.prompt_column, outcome=args.completion_column,
                   logprob=args.logprob_column, reward=args.reward or args.reward_column)


def _say(kind: str, message: str) -> None:
    print(f"bonkl: {kind}{message}", file=sys.stderr, flush=True)


def _progress(path: Path):
    """A progress printer on stderr when it is a terminal or the file is long, else ``None``."""
    try:
        long_file = path.stat().st_size > PROGRESS_BYTES
    except OSError:
        long_file = False
    if sys.stderr.isatty() or long_file:
        return lambda message: _say("", f"{path}: {message}")
    return None


def read_samples(args) -> pd.DataFrame:
    """The file's canonical samples frame (:func:`bonkl.plumbing.userfile.load_samples`)."""
    return load_samples(args.file, _columns(args), layout=args.format_in,
                        tolerance=args.tolerance, progress=_progress(args.file))


_NOT_ENUMERATED = {
    "analyze": "`bonkl analyze FILE --by prompt --n ...` estimates best-of-n from samples, "
               "with intervals",
    "targets": "the targets need every outcome of the prompt with its probability",
}


def _reference(args) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One prompt's outcomes as a reference: probabilities summing to 1, or --normalize."""
    table = load_user_file(args.file, args.normalize, _columns(args), layout=args.format_in,
                           tolerance=args.tolerance, normalize_hint=_NOT_ENUMERATED[args.command],
                           prompts_hint="pass --by prompt for one row per prompt and n"
                           if args.command == "analyze" else "targets take one prompt")
    if args.normalize:
        _warn_normalized(pd.Series([table.attrs["log_seen_mass"]], index=[""]))
    return table, table["prob"].to_numpy(), table["reward"].to_numpy()


def _warn_normalized(log_mass: pd.Series) -> None:
    """--normalize: name each prompt whose seen mass is not 1, or summarise them."""
    mass = np.exp(log_mass.to_numpy(dtype=float))
    off = np.flatnonzero(np.abs(mass - 1.0) > sampled.SUM_TOLERANCE)
    if not off.size:
        return
    prompts = log_mass.index.to_numpy()[off]
    values = mass[off]
    order = np.argsort(values, kind="stable")
    named = "; ".join((f"prompt {shown(prompts[k])}: " if prompts[k] != "" else "")
                      + f"{values[k]:.3g}" for k in order[:NAMED_PROMPTS])
    if off.size > NAMED_PROMPTS:
        named = (f"{off.size} prompts, from {values.min():.3g} to {values.max():.3g} (median "
                 f"{np.median(values):.3g}); the lowest: {named}")
    _say("warning: ", "--normalize treats the seen completions as the whole support and "
         "rescales them to sum to 1, so the numbers are those of that rescaled distribution, "
         "not of the model (rescaling a sample invents atoms and biases the KL low). Seen "
         f"mass (sum of the distinct completions' probabilities): {named}")


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


def _first(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns + [c for c in frame.columns if c not in columns]]


def analyze_by_prompt(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (prompt, n) and the summary over prompts per n (``bonkl.sampled``),
    with the notes and warnings the file calls for on stderr."""
    samples = read_samples(args)
    if args.normalize:
        _warn_normalized(sampled.log_seen_mass(samples))
    try:
        table = sampled.analyze(samples, args.n, estimator=args.estimator, level=args.level,
                                support="enumerated" if args.normalize else "auto")
    except ValueError as err:
        raise ReferenceFileError(f"{args.file}: {err}") from None
    table = _first(table.reset_index(drop=True), PER_PROMPT_COLUMNS)
    _warn_beyond_candidates(table)
    summary = _first(sampled.summarize(table, level=args.level).reset_index(drop=True),
                     SUMMARY_COLUMNS)
    return table, summary


def note_single_candidates(table: pd.DataFrame) -> None:
    """The note of a printed summary: the prompts with one candidate it leaves out."""
    prompts = table.drop_duplicates("prompt")
    single = prompts.loc[prompts["candidates"] == 1, "prompt"].to_numpy()
    if single.size:
        names = ", ".join(shown(p) for p in single[:NAMED_PROMPTS])
        _say("note: ", f"{single.size} prompt{'s' if single.size > 1 else ''} with a single "
             f"candidate left out of the summary over prompts ({names}"
             f"{', …' if single.size > NAMED_PROMPTS else ''})")


def _warn_beyond_candidates(table: pd.DataFrame) -> None:
    """A warning per n above some prompt's number of candidates, where it is estimated."""
    estimated = table["method"].isin(list(sampled.ESTIMATORS))
    beyond = table[estimated & (table["n"] > table["candidates"])]
    for n, rows in beyond.groupby("n", sort=True):
        _say("warning: ", f"n = {n} exceeds the candidates of {rows['prompt'].nunique()} "
             f"prompt(s) (fewest: {int(rows['candidates'].min())}, prompt "
             f"{shown(rows.loc[rows['candidates'].idxmin(), 'prompt'])}); an estimate of "
             "best-of-n beyond the number of samples extrapolates: trust its interval less")


def draw_figure(table: pd.DataFrame, path: Path, reward: str) -> None:
    """Paper A's Fig. 4 for the file at ``path``: per prompt (the first few), the KL with its
    interval against n beside the formula, one series per method
    (:func:`bonkl.plots.samples.estimates_by_prompt`)."""
    from bonkl.plots import samples as sample_plots  # matplotlib only when drawing
    from bonkl.plots.style import set_style

    set_style()
    fig, _ = sample_plots.estimates_by_prompt(table.assign(estimator=table["method"],
                                                           reward=reward))
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


def _level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a level in (0, 1), got {text!r}")
    return value


def _estimators_help() -> str:
    return "estimators (--estimator):\n" + "".join(
        textwrap.fill(description, width=90, initial_indent=f"  {name:<18}  ",
                      subsequent_indent=" " * 22) + "\n"
        for name, description in sampled.ESTIMATORS.items())


def parser() -> argparse.ArgumentParser:
    """The ``bonkl`` command's argument parser: one subcommand per task."""
    top = argparse.ArgumentParser(
        prog="bonkl",
        description="Best-of-n and KL-regularisation numbers for your own model's samples: a "
                    "CSV, TSV, JSON Lines or Parquet file (or vLLM's / OpenAI's outputs), one "
                    "row per sample, with the reference model's log-prob of each completion, "
                    "its reward (or --reward loglik|neg-length), and optionally prompt, "
                    "completion, count and num_tokens.",
    )
    top.add_argument("--version", action="version",
                     version=f"%(prog)s {metadata.version('bonkl')}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("file", type=Path,
                        help="sample file (.csv, .tsv, .jsonl, .json, .parquet; .gz for text)")
    common.add_argument("--format-in", choices=LAYOUTS, default="auto",
                        help="the file's layout: rows (one sample per row), vllm (RequestOutput "
                             "per line), openai (chat or legacy completion per line); default: "
                             "auto-detected from the first line")
    common.add_argument("--normalize", action="store_true",
                        help="treat each prompt's seen completions as its whole support "
                             "(rescaled to sum to 1; warns with the seen mass). Right only "
                             "when they are every outcome; a sample is not its reference")
    common.add_argument("--tolerance", type=_number(0.0, True), default=LOGPROB_TOLERANCE,
                        metavar="NATS",
                        help="nats by which duplicate rows' log-probs may differ (batch noise; "
                             f"they are averaged); default {LOGPROB_TOLERANCE:g}")
    common.add_argument("--prompt-column", default="prompt", metavar="NAME",
                        help="the prompt's column (default: prompt)")
    common.add_argument("--completion-column", metavar="NAME",
                        help="the completion's column; identical completions of a prompt are "
                             "one outcome (default: completion, else outcome)")
    common.add_argument("--logprob-column", metavar="NAME",
                        help="the column of the reference model's log-prob of each completion, "
                             "in nats, summed over its tokens (a list is summed); default: "
                             "logprob, prob (probabilities), logprobs or cumulative_logprob")
    common.add_argument("--reward-column", default="reward", metavar="NAME",
                        help="the reward's column (default: reward)")
    common.add_argument("--reward", metavar="loglik|neg-length|COLUMN",
                        help="the reward: loglik (the reference log-prob), neg-length "
                             "(minus num_tokens, or the completion's length in characters), "
                             "or a column (paper A, Fig. 4); default: --reward-column")
    common.add_argument("--format", choices=["table", "csv", "json"], default="table",
                        help="output format (default: an aligned table)")
    fmt = argparse.RawDescriptionHelpFormatter
    analyze_parser = commands.add_parser(
        "analyze", parents=[common], formatter_class=fmt,
        epilog=ANALYZE_COLUMNS + _estimators_help(),
        help="best-of-n KL and win rate per n: exact, or estimated with intervals",
        description="Best-of-n against the reference model (paper A). With --by prompt: per "
                    "prompt, exact where its completions enumerate the support, estimated "
                    "with an interval where they are samples of it.")
    analyze_parser.add_argument("--n", type=_positive_int, nargs="+", required=True,
                                help="values of n (samples per best-of-n draw)")
    analyze_parser.add_argument("--by", choices=["prompt"],
                                help="one row per prompt and n, and a summary over prompts")
    analyze_parser.add_argument("--summary", action="store_true",
                                help="with --by prompt: print only the summary over prompts")
    analyze_parser.add_argument("--estimator", choices=list(sampled.ESTIMATORS),
                                help="with --by prompt: the estimator of sampled prompts "
                                     f"(default: {sampled.DEFAULT_ESTIMATOR})")
    analyze_parser.add_argument("--level", type=_level, default=0.95,
                                help="with --by prompt: the intervals' level (default: 0.95)")
    analyze_parser.add_argument("--figure", type=Path, metavar="OUT.png",
                                help="with --by prompt: draw the KL and its interval against n "
                                     "for the first prompts, beside the formula (paper A, "
                                     "Fig. 4), to this file")
    targets_parser = commands.add_parser(
        "targets", parents=[common], formatter_class=fmt, epilog=TARGETS_COLUMNS,
        help="reverse-/forward-KL targets and the KL-constrained optimum",
        description="Optimal policies of KL-regularised and KL-constrained RL on the outcomes "
                    "of a file that enumerates them (papers B and C).")
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


def _run(command: argparse.ArgumentParser, args) -> list[tuple[pd.DataFrame, str]]:
    """The tables to print, each with its title (for the table format)."""
    if args.command == "targets":
        result, per_outcome = targets(args)
        if args.output is not None:
            per_outcome.to_csv(args.output, index=False, float_format="%.17g")
        return [(result, "")]
    if args.by != "prompt":
        return [(analyze(args), "")]
    table, summary = analyze_by_prompt(args)
    if args.figure is not None:
        draw_figure(table, args.figure, args.reward or args.reward_column)
    if args.summary or args.format == "table":
        note_single_candidates(table)
    if args.summary:
        return [(summary, "")]
    if args.format == "table":
        return [(table, "per prompt and n:"), (summary, "\nover prompts, per n:")]
    return [(table, "")]


def main(argv: list[str] | None = None) -> int:
    """Run ``bonkl`` on ``argv``; the exit status (2 for a bad file or argument)."""
    command = parser()
    args = command.parse_args(argv)
    if args.command == "verify":
        return run_verify(args)
    if args.command == "analyze" and args.by is None and (
            args.summary or args.figure or args.estimator):
        command.error("--summary, --figure and --estimator need --by prompt")
    if args.reward in REWARDS and args.reward_column != "reward":
        command.error(f"--reward {args.reward} computes the reward; drop --reward-column")
    try:
        tables = _run(command, args)
    except ReferenceFileError as err:
        print(f"bonkl: error: {err}", file=sys.stderr)
        return 2
    try:
        for frame, title in tables:
            _emit(frame, args.format, sys.stdout, title)
        sys.stdout.flush()
    except BrokenPipeError:  # a reader that closed the pipe (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
