"""Checks of the study's config that its JSON schema cannot express, run before any job.

``config/schema.yaml`` types and bounds every key; :func:`check_config` then checks what
spans several keys or needs a computation. Each failure raises :class:`ConfigError`
naming the full dotted key (a list entry with a name as ``references[3] (zipf_1000)``),
its value and what was expected:

- integers: a key the schema types ``integer`` holds an integer, not a float such as
  ``2.0e+4`` (JSON schema counts ``20000.0`` as an integer; NumPy does not);
- references: unique names; ``ties`` at most ``size``; a spike's ``masses`` sum below 1
  with one ``outcomes`` entry per mass and at least 1e-300 per outcome; every user file
  valid (:mod:`bonkl.plumbing.userfile`);
- kl_constrained: unique scenario names; one integer reward per probability, ``p`` summing
  to 1, a reward that is not constant; every δ below ``log 1/p(C*)``; an ``m_grid`` with at
  least two ``m >= 100``, where the rate fit and the O(log m / m) checks start;
- regularized: every grid and sweep with ``low < high``; mixture ``means`` and ``weights``
  (and three-action ``rewards`` and ``reference``) of one length; modes and means inside
  their grid; Fig. 2's first mode lower in reward and higher in reference mass, with both
  predicted mode switches inside the β sweep; MARA's plateaus ordered and inside
  ``[0, bins)``, ``background_reward < tau <= plateau_reward`` (the plateaus are the good
  bins), and every bin's reference mass at least 1e-300;
- winrate: ``optimum_beta.min < optimum_beta.max``;
- samples: the file is valid with every reward (:mod:`bonkl.plumbing.userfile`);
- policy_gradient: unique task names after each ``sweep`` expands
  (:func:`bonkl.rl.tasks.expand_tasks`); every task builds
  (:func:`bonkl.rl.tasks.build_task`: answers and corpus strings written in the vocabulary
  within ``max_tokens``, validity and preference in (0, 1), plateaus ordered inside
  ``[0, count)``, at least two valid answers); every ``mara_algorithms`` name a MARA
  algorithm of :data:`bonkl.mara.ALGORITHMS`; ``claim_betas``, ``figure_beta`` and each
  sweep's ``betas`` among ``betas``; ``training.group_size`` divides ``training.batch``;
  each budget a checkpoint (a multiple of ``eval_every``) and each sweep's ``steps`` a
  budget; unique dynamics names, each sweep's among them; each sweep's tasks among the task
  names and its methods vanilla or MARA algorithms; at least one run, and ``jobs`` at most
  the number of runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from jsonschema import Draft202012Validator, validators

from bonkl.mara import ALGORITHMS
from bonkl.memoryless import lattice
from bonkl.plumbing.userfile import SMALLEST_MASS, ReferenceFileError, load_user_file
from bonkl.rl.tasks import TaskSpecError, build_task, expand_tasks
from bonkl.study import regularized
from bonkl.study.bestofn import log_integer_grid
from bonkl.study.kl_constrained import RATE_FROM_M
from bonkl.study.policy_gradient import stage_runs
from bonkl.study.samples import read_config_samples
from bonkl.tilt import kl_cap

MARA_ALGORITHMS = tuple(a for a in ALGORITHMS if a != "vanilla")


class ConfigError(ValueError):
    """A config value the study cannot use; the message names the key and what was expected."""


def check_config(config: Mapping, schema: Mapping) -> None:
    """Every check of this module on a config that already passed ``schema``."""
    check_integers(config, schema)
    check_references(config["references"])
    check_kl_constrained(config["kl_constrained"])
    check_regularized(config["regularized"])
    check_winrate(config["winrate"])
    check_samples(config["samples"])
    check_policy_gradient(config["policy_gradient"])


# ---------------------------------------------------------------- helpers


def dotted(path) -> str:
    """``("a", "b", 0, "c")`` as ``a.b[0].c``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]


def ordered(low_key: str, low, high_key: str, high, why: str = "") -> None:
    """``low < high``, else an error naming both keys and values."""
    if not low < high:
        raise ConfigError(f"{low_key} ({low!r}) must be below {high_key} ({high!r}){why}")


def ordered_range(key: str, spec: Mapping, low: str = "low", high: str = "high") -> None:
    """``spec[low] < spec[high]`` for the range at ``key``."""
    ordered(f"{key}.{low}", spec[low], f"{key}.{high}", spec[high])


def same_length(key: str, spec: Mapping, first: str, second: str) -> None:
    """``spec[first]`` and ``spec[second]`` have one entry each per item."""
    if len(spec[second]) != len(spec[first]):
        raise ConfigError(f"{key}.{second} has {len(spec[second])} entries; expected one per "
                          f"entry of {key}.{first} ({len(spec[first])})")


def unique_names(key: str, entries: Sequence[Mapping]) -> None:
    """Each entry of the list at ``key`` has a ``name`` no earlier entry has."""
    first = {}
    for i, spec in enumerate(entries):
        name = spec["name"]
        if name in first:
            raise ConfigError(f"{key}[{i}].name {name!r} is already used by "
                              f"{key}[{first[name]}]; expected unique names")
        first[name] = i


def inside(key: str, value, grid_key: str, grid: Mapping) -> None:
    """``grid.low <= value <= grid.high``."""
    if not grid["low"] <= value <= grid["high"]:
        raise ConfigError(f"{key} ({value!r}) lies outside {grid_key} [{grid['low']!r}, "
                          f"{grid['high']!r}]; expected a point of the grid")


def all_inside(key: str, values: Sequence, grid_key: str, grid: Mapping) -> None:
    """Each of ``values`` inside ``grid`` (:func:`inside`), named ``key[j]``."""
    for j, value in enumerate(values):
        inside(f"{key}[{j}]", value, grid_key, grid)


# ---------------------------------------------------------------- sections


_STRICT = validators.extend(Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER
                            .redefine("integer", lambda _, value: isinstance(value, int)
                                      and not isinstance(value, bool)))


def check_integers(config: Mapping, schema: Mapping) -> None:
    """Every key the schema types ``integer`` holds a Python int (the schema's own validation,
    which accepts ``2.0``, has run before; its other errors are left to it)."""
    for error in _STRICT(schema).iter_errors(config):
        value = error.instance
        if (error.validator == "type" and error.validator_value == "integer"
                and isinstance(value, float) and value.is_integer()):
            raise ConfigError(f"{dotted(error.absolute_path)} is {value!r}; expected an integer "
                              f"(write {int(value)} without a decimal point or exponent)")


def check_references(entries: Sequence[Mapping]) -> None:
    """``references``: unique names, family parameters, user files."""
    unique_names("references", entries)
    for i, spec in enumerate(entries):
        key = f"references[{i}] ({spec['name']})"
        if spec.get("ties", 0) > spec.get("size", math.inf):
            raise ConfigError(f"{key}.ties is {spec['ties']}; expected at most size "
                              f"({spec['size']}): ties pools the size reward ranks into that "
                              "many levels")
        if spec["family"] == "spike":
            total = math.fsum(spec["masses"])
            if total >= 1:
                raise ConfigError(f"{key}.masses sum to {total!r}; expected less than 1, "
                                  "leaving mass for the bulk")
            if "outcomes" in spec:
                same_length(key, spec, "masses", "outcomes")
                for j, (mass, tied) in enumerate(zip(spec["masses"], spec["outcomes"],
                                                     strict=True)):
                    if mass / tied < SMALLEST_MASS:
                        raise ConfigError(f"{key}.masses[{j}] / outcomes[{j}] is "
                                          f"{mass / tied!r}; expected at least "
                                          f"{SMALLEST_MASS!r}, the smallest mass the study "
                                          "computes with")
        if spec["family"] == "file":
            try:
                load_user_file(spec["path"], spec.get("normalize", False))
            except ReferenceFileError as err:
                raise ConfigError(f"{key}: {err}") from None


def check_samples(section: Mapping) -> None:
    """The sample file reads with each reward of ``samples.rewards``."""
    for j, reward in enumerate(section["rewards"]):
        try:
            read_config_samples(section, reward)
        except ReferenceFileError as err:
            raise ConfigError(f"samples (path, rewards[{j}] = {reward!r}): {err}") from None


def check_kl_constrained(section: Mapping) -> None:
    """``kl_constrained``: unique scenarios, each a valid memoryless model and δ range."""
    scenarios = section["scenarios"]
    unique_names("kl_constrained.scenarios", scenarios)
    for i, spec in enumerate(scenarios):
        key = f"kl_constrained.scenarios[{i}] ({spec['name']})"
        same_length(key, spec, "p", "r")
        total = math.fsum(spec["p"])
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(f"{key}.p sums to {total!r}; expected 1 (within 1e-9)")
        try:
            lattice(spec["p"], spec["r"])
            cap = kl_cap(spec["p"], spec["r"])
        except ValueError as err:
            raise ConfigError(f"{key}: {err}") from None
        for j, delta in enumerate(spec["deltas"]):
            if not delta < cap:
                raise ConfigError(f"{key}.deltas[{j}] is {delta!r}; expected below "
                                  f"log 1/p(C*) = {cap:.6g}")
    m_grid = log_integer_grid(section["m_grid"]["max"], section["m_grid"]["points"])
    late = [m for m in m_grid if m >= RATE_FROM_M]
    if len(late) < 2:
        raise ConfigError(f"kl_constrained.m_grid gives m = {m_grid}, {len(late)} of them >= "
                          f"{RATE_FROM_M}; expected at least 2 (the rate fit and the "
                          f"O(log m / m) checks use m >= {RATE_FROM_M}): raise max or points")


def check_regularized(section: Mapping) -> None:
    """``regularized``: each example of paper C's figures is well posed."""
    key, examples = "regularized.examples", section["examples"]
    _policy_fit(f"{key}.policy_fit", examples["policy_fit"])
    _mode_switch(f"{key}.mode_switch", examples["mode_switch"])
    for name in ("three_actions_gap", "three_actions_tie"):
        same_length(f"{key}.{name}", examples[name], "rewards", "reference")
    _mara_bins(f"{key}.mara_bins", examples["mara_bins"])


def _policy_fit(key: str, spec: Mapping) -> None:
    grid_key, grid = f"{key}.grid", spec["grid"]
    ordered_range(grid_key, grid)
    same_length(f"{key}.bimodal", spec["bimodal"], "means", "weights")
    all_inside(f"{key}.bimodal.means", spec["bimodal"]["means"], grid_key, grid)
    all_inside(f"{key}.rl.reward_modes", spec["rl"]["reward_modes"], grid_key, grid)
    inside(f"{key}.rl.reference_mean", spec["rl"]["reference_mean"], grid_key, grid)


def _mode_switch(key: str, spec: Mapping) -> None:
    grid_key, grid = f"{key}.grid", spec["grid"]
    ordered_range(grid_key, grid)
    ordered_range(f"{key}.betas", spec["betas"])
    all_inside(f"{key}.reward.modes", spec["reward"]["modes"], grid_key, grid)
    all_inside(f"{key}.reference.means", spec["reference"]["means"], grid_key, grid)
    try:
        _, p, reward, low, high = regularized.mode_switch_problem(spec)
        predicted = regularized.mode_switch_crossovers(p, reward, low, high)
    except ValueError as err:
        raise ConfigError(f"{key}: {err}") from None
    sweep = spec["betas"]
    for regulariser, beta in predicted.items():
        if not sweep["low"] < beta < sweep["high"]:
            raise ConfigError(
                f"{key}.betas is [{sweep['low']!r}, {sweep['high']!r}]; expected it to contain "
                f"the {regulariser}-KL mode switch, predicted at β = {beta:.6g}")


def _mara_bins(key: str, spec: Mapping) -> None:
    bins, after = spec["bins"], 0
    for j, (start, stop) in enumerate(spec["plateaus"]):
        if not after <= start < stop <= bins:
            where = "inside [0, bins)" + (f", after plateaus[{j - 1}]" if j else "")
            raise ConfigError(f"{key}.plateaus[{j}] is [{start}, {stop}]; expected a "
                              f"[start, stop) bin range with {after} <= start < stop <= {bins} "
                              f"({where})")
        after = stop
    why = ": the plateaus are MARA's good bins (reward >= tau), the rest are not"
    ordered(f"{key}.background_reward", spec["background_reward"], f"{key}.tau", spec["tau"],
            why)
    if not spec["tau"] <= spec["plateau_reward"]:
        raise ConfigError(f"{key}.tau ({spec['tau']!r}) must be at most {key}.plateau_reward "
                          f"({spec['plateau_reward']!r}){why}")
    p, _ = regularized.bins_reference(spec)
    if p.min() < SMALLEST_MASS:
        raise ConfigError(f"{key}.decay is {spec['decay']!r} with {bins} bins: the last bin's "
                          f"reference mass is {p.min():.3g}; expected at least {SMALLEST_MASS!r}, "
                          "the smallest mass the study computes with (decay·(bins − 1) below "
                          "about 690)")


def check_winrate(section: Mapping) -> None:
    """``winrate``: the optimum's β range is ordered."""
    ordered_range("winrate.optimum_beta", section["optimum_beta"], "min", "max")


def check_policy_gradient(section: Mapping) -> None:
    """``policy_gradient``: tasks, MARA algorithms, βs, dynamics and jobs."""
    key = "policy_gradient"
    tasks = expand_tasks(section["tasks"])
    first = {}
    for name, spec, i in tasks:
        where = f"{key}.tasks[{i}] ({name})"
        if name in first:
            raise ConfigError(f"{key}.tasks[{i}] gives the task name {name!r}, already given by "
                              f"{key}.tasks[{first[name]}]; expected unique names")
        first[name] = i
        try:
            build_task(name, spec, key=where)
        except TaskSpecError as err:
            raise ConfigError(str(err)) from None
    for regularizer, names in section["mara_algorithms"].items():
        for j, name in enumerate(names):
            if name not in MARA_ALGORITHMS:
                raise ConfigError(f"{key}.mara_algorithms.{regularizer}[{j}] is {name!r}; expected "
                                  f"one of {list(MARA_ALGORITHMS)} (bonkl.mara.ALGORITHMS)")
    betas = section["betas"]
    for j, beta in enumerate(section["claim_betas"]):
        if beta not in betas:
            raise ConfigError(f"{key}.claim_betas[{j}] is {beta!r}; expected one of "
                              f"{key}.betas {betas}")
    if section["figure_beta"] not in betas:
        raise ConfigError(f"{key}.figure_beta is {section['figure_beta']!r}; "
                          f"expected one of {key}.betas {betas}")
    training = section["training"]
    if training["batch"] % training["group_size"]:
        raise ConfigError(f"{key}.training.group_size is {training['group_size']}; expected a "
                          f"divisor of training.batch ({training['batch']})")
    for j, budget in enumerate(section["budgets"]):
        if budget % training["eval_every"]:
            raise ConfigError(f"{key}.budgets[{j}] is {budget}; expected a multiple of "
                              f"training.eval_every ({training['eval_every']}), a checkpoint")
    unique_names(f"{key}.dynamics", section["dynamics"])
    dynamics = [d["name"] for d in section["dynamics"]]
    for i, block in enumerate(section["sweeps"]):
        where = f"{key}.sweeps[{i}]"
        if block["steps"] not in section["budgets"]:
            raise ConfigError(f"{where}.steps is {block['steps']}; expected one of "
                              f"{key}.budgets {section['budgets']}")
        for j, name in enumerate(block["dynamics"]):
            if name not in dynamics:
                raise ConfigError(f"{where}.dynamics[{j}] is {name!r}; expected a dynamics "
                                  f"name, one of {dynamics}")
        if block["tasks"] != "all":
            for j, task in enumerate(block["tasks"]):
                if task not in first:
                    raise ConfigError(f"{where}.tasks[{j}] is {task!r}; expected a task name, "
                                      f"one of {sorted(first)}")
        if block["betas"] != "all":
            for j, beta in enumerate(block["betas"]):
                if beta not in betas:
                    raise ConfigError(f"{where}.betas[{j}] is {beta!r}; expected one of "
                                      f"{key}.betas {betas}")
        allowed = ["vanilla", *MARA_ALGORITHMS]
        for j, method in enumerate(block.get("methods", [])):
            if method not in allowed:
                raise ConfigError(f"{where}.methods[{j}] is {method!r}; expected one of "
                                  f"{allowed}")
    runs = len(stage_runs(section))
    if not runs:
        raise ConfigError(f"{key}.sweeps give no run; expected at least one")
    if section["jobs"] > runs:
        raise ConfigError(f"{key}.jobs is {section['jobs']}; expected at most the number of "
                          f"runs ({runs}), so that no job is empty")
