"""Bad configs: one fault each in config/test.yaml, and what the refusal must say.

Each case is ``(id, key, value, fragments)``: ``key`` is the dotted key set to ``value``
(``a.b[0].c``), ``fragments`` the texts the error must hold: the key (schema errors show it
as Snakemake prints it, ``instance['a']['b'][0]['c']``) and what was expected. Used by
``test_config_checks`` (in process) and ``test_bad_config`` (the real Snakemake).
"""

from __future__ import annotations

import copy
import re

MODE_SWITCH = "regularized.examples.mode_switch"
MARA = "regularized.examples.mara_bins"
PG_TASK = "policy_gradient.tasks[0]"
PG_NAME = "one_or_two_valid0.2_pref0.9"  # tasks[0] of config/test.yaml, after its sweep

# Refused by the JSON schema (Snakemake's validate in the Snakefile).
SCHEMA_CASES = [
    ("seed negative", "seed", -1,
     ["instance['seed']", "-1 is less than the minimum of 0"]),
    ("estimator unknown", "estimators.estimators", ["plug-in", "jackknife"],
     ["instance['estimators']['estimators'][1]", "'jackknife' is not one of"]),
    ("paths typo", "paths.result", "out",
     ["instance['paths']", "'result' was unexpected"]),
    ("paths empty", "paths.logs", "",
     ["instance['paths']['logs']", "should be non-empty"]),
    ("ties 1", "references[0].ties", 1,
     ["instance['references'][0]['ties']", "1 is less than the minimum of 2"]),
    ("spike mass below 1e-300", "references[4].masses", [1.0e-2, 1.0e-310],
     ["instance['references'][4]['masses'][1]", "1e-310 is less than the minimum of 1e-300"]),
    ("ratio above 1", "references", [{"name": "uniform_10", "family": "geometric", "size": 10,
                                      "ratio": 1.5}],
     ["instance['references'][0]['ratio']", "1.5 is greater than or equal to the maximum of 1"]),
    ("key of another family", "references[0].ratio", 0.5,
     ["instance['references'][0]", "'ratio' was unexpected"]),
    ("figure list repeats a name", "bestofn.figures.kl_uniform", ["uniform_10", "uniform_10"],
     ["instance['bestofn']['figures']['kl_uniform']", "has non-unique elements"]),
    ("claims n_grid too long", "claims.n_grid.max", 1.0e16,
     ["instance['claims']['n_grid']['max']", "1e+16 is greater than the maximum of"]),
    ("claims chunk_size 0", "claims.chunk_size", 0,
     ["instance['claims']['chunk_size']", "0 is less than the minimum of 1"]),
    ("probability as text", "regularized.check_betas", ["1e-3"],
     ["instance['regularized']['check_betas'][0]", "'1e-3' is not of type 'number'"]),
    ("unknown example", "regularized.examples.fig6", {"bins": 3},
     ["instance['regularized']['examples']", "'fig6' was unexpected"]),
    ("renyi order 0", "kl_constrained.renyi_t", [0, 1],
     ["instance['kl_constrained']['renyi_t'][0]", "should not be valid under {'const': 0}"]),
    ("winrate thresholds 0", "winrate.thresholds", 0,
     ["instance['winrate']['thresholds']", "0 is less than the minimum of 1"]),
    ("winrate beta 0", "winrate.optimum_beta.min", 0,
     ["instance['winrate']['optimum_beta']['min']", "less than or equal to the minimum of 0"]),
    ("policy gradient batch 1", "policy_gradient.training.batch", 1,
     ["instance['policy_gradient']['training']['batch']", "1 is less than the minimum of 2"]),
    ("policy gradient unknown regularizer", "policy_gradient.regularizers", ["reverse", "js"],
     ["instance['policy_gradient']['regularizers'][1]", "'js' is not one of"]),
    ("policy gradient unknown arm", "policy_gradient.dynamics[0].arm", "ppo",
     ["instance['policy_gradient']['dynamics'][0]['arm']", "'ppo' is not one of"]),
    ("policy gradient old advantage key", "policy_gradient.dynamics[0].advantage", "rloo",
     ["instance['policy_gradient']['dynamics'][0]", "'advantage' was unexpected"]),
    ("policy gradient unknown optimizer", "policy_gradient.dynamics[0].optimizer", "rmsprop",
     ["instance['policy_gradient']['dynamics'][0]['optimizer']", "'rmsprop' is not one of"]),
    ("policy gradient unknown policy", "policy_gradient.sweeps[0].policies", ["transformer"],
     ["instance['policy_gradient']['sweeps'][0]['policies'][0]", "'transformer' is not one of"]),
    ("policy gradient sweep without steps", "policy_gradient.sweeps[0]",
     {"tasks": "all", "policies": ["tabular"], "dynamics": ["rloo"], "betas": "all"},
     ["instance['policy_gradient']['sweeps'][0]", "'steps' is a required property"]),
    ("policy gradient sweep tasks not a list", "policy_gradient.sweeps[0].tasks", "some",
     ["instance['policy_gradient']['sweeps'][0]['tasks']", "'some' is not valid under any"]),
    ("policy gradient group size 1", "policy_gradient.training.group_size", 1,
     ["instance['policy_gradient']['training']['group_size']", "1 is less than the minimum of 2"]),
    ("policy gradient budget 0", "policy_gradient.budgets", [0],
     ["instance['policy_gradient']['budgets'][0]", "0 is less than the minimum of 1"]),
    ("policy gradient mlp hidden 0", "policy_gradient.mlp.hidden", 0,
     ["instance['policy_gradient']['mlp']['hidden']", "0 is less than the minimum of 1"]),
    ("policy gradient mlp unknown key", "policy_gradient.mlp.layers", 2,
     ["instance['policy_gradient']['mlp']", "'layers' was unexpected"]),
    ("policy gradient many share 0", "policy_gradient.judging.many_share", 0,
     ["instance['policy_gradient']['judging']['many_share']",
      "0 is less than or equal to the minimum of 0"]),
    ("policy gradient corpus counts", f"{PG_TASK}.corpus.counts", "mean",
     ["instance['policy_gradient']['tasks'][0]['corpus']['counts']",
      "'mean' is not one of"]),
    ("policy gradient old dynamics_sweep key", "policy_gradient.dynamics_sweep",
     {"tasks": [], "betas": [0.01]},
     ["instance['policy_gradient']", "'dynamics_sweep' was unexpected"]),
    ("policy gradient jobs 0", "policy_gradient.jobs", 0,
     ["instance['policy_gradient']['jobs']", "0 is less than the minimum of 1"]),
    ("policy gradient confidence 1", "policy_gradient.judging.confidence", 1,
     ["instance['policy_gradient']['judging']['confidence']",
      "1 is greater than or equal to the maximum of 1"]),
    ("policy gradient steps in training", "policy_gradient.training.steps", 100,
     ["instance['policy_gradient']['training']", "'steps' was unexpected"]),
    ("policy gradient learning rate outside dynamics", "policy_gradient.training.learning_rate",
     0.1, ["instance['policy_gradient']['training']", "'learning_rate' was unexpected"]),
    ("policy gradient collapse share 0.5", "policy_gradient.judging.collapse_share", 0.5,
     ["instance['policy_gradient']['judging']['collapse_share']",
      "0.5 is less than or equal to the minimum of 0.5"]),
]

# Refused by bonkl.pipeline.config_checks when the workflow is parsed.
CHECK_CASES = [
    ("float where an integer is meant", "bestofn.mc_draws", 200.0,
     ["bestofn.mc_draws is 200.0; expected an integer"]),
    ("float seed", "seed", 7.0, ["seed is 7.0; expected an integer"]),
    ("ties above size", "references[0].ties", 20,
     ["references[0] (uniform_10).ties is 20; expected at most size (10)"]),
    ("spike outcomes per mass", "references[4].outcomes", [2, 3, 4],
     ["references[4] (staircase).outcomes has 3 entries; expected one per entry of "
      "references[4] (staircase).masses (2)"]),
    ("user file missing", "references[6].path", "config/absent.csv",
     ["references[6] (lm_samples): config/absent.csv: no such file"]),
    ("sample reward column missing", "samples.rewards", ["loglik", "score"],
     ["samples (path, rewards[1] = 'score'): config/samples/known_law_prompts.csv: missing "
      "column 'score'"]),
    ("scenario names repeat", "kl_constrained.scenarios[1].name", "three_tokens",
     ["kl_constrained.scenarios[1].name 'three_tokens' is already used by "
      "kl_constrained.scenarios[0]"]),
    ("scenario p and r lengths", "kl_constrained.scenarios[0].r", [0, 1],
     ["kl_constrained.scenarios[0] (three_tokens).r has 2 entries; expected one per entry of "
      "kl_constrained.scenarios[0] (three_tokens).p (3)"]),
    ("scenario p sum", "kl_constrained.scenarios[0].p", [0.5, 0.3, 0.1],
     ["kl_constrained.scenarios[0] (three_tokens).p sums to 0.9", "expected 1"]),
    ("scenario reward constant", "kl_constrained.scenarios[1].r", [1, 1],
     ["kl_constrained.scenarios[1] (bernoulli)", "constant"]),
    ("delta above the cap", "kl_constrained.scenarios[0].deltas", [2.0],
     ["kl_constrained.scenarios[0] (three_tokens).deltas[0] is 2.0; expected below "
      "log 1/p(C*) = 1.60944"]),
    ("m_grid below the rate fit", "kl_constrained.m_grid", {"max": 150, "points": 5},
     ["kl_constrained.m_grid gives m = [1, 3, 12, 43, 150], 1 of them >= 100",
      "expected at least 2"]),
    ("policy_fit grid reversed", "regularized.examples.policy_fit.grid",
     {"low": 6.0, "high": -6.0, "points": 61},
     ["regularized.examples.policy_fit.grid.low (6.0) must be below "
      "regularized.examples.policy_fit.grid.high (-6.0)"]),
    ("bimodal weights per mean", "regularized.examples.policy_fit.bimodal.weights",
     [0.5, 0.3, 0.2],
     ["regularized.examples.policy_fit.bimodal.weights has 3 entries; expected one per entry "
      "of regularized.examples.policy_fit.bimodal.means (2)"]),
    ("reward mode off the grid", "regularized.examples.policy_fit.rl.reward_modes", [-2.5, 7.0],
     ["regularized.examples.policy_fit.rl.reward_modes[1] (7.0) lies outside "
      "regularized.examples.policy_fit.grid [-6.0, 6.0]"]),
    ("mode switch sweep reversed", f"{MODE_SWITCH}.betas", {"low": 10.0, "high": 0.001,
                                                            "points": 9},
     [f"{MODE_SWITCH}.betas.low (10.0) must be below {MODE_SWITCH}.betas.high (0.001)"]),
    ("mode switch outside the sweep", f"{MODE_SWITCH}.betas", {"low": 1.0, "high": 10.0,
                                                               "points": 9},
     [f"{MODE_SWITCH}.betas is [1.0, 10.0]; expected it to contain the reverse-KL mode "
      "switch, predicted at β = 0.131579"]),
    ("mode switch heights swapped", f"{MODE_SWITCH}.reward.heights", [1.0, 0.75],
     [f"{MODE_SWITCH}: at the grid points nearest reward.modes",
      "expected the first mode to have the lower reward and the higher reference mass"]),
    ("mode switch log-probs out of the grid's reach", f"{MODE_SWITCH}.reference.log_probs",
     [-9.0, -11.0], [f"{MODE_SWITCH}: reference.log_probs [-9.0, -11.0]: no std between the "
                     "grid step and the grid's width gives log p = -9 and -11 at the modes"]),
    ("three actions lengths", "regularized.examples.three_actions_tie.rewards", [0.0, 1.0],
     ["regularized.examples.three_actions_tie.reference has 3 entries; expected one per entry "
      "of regularized.examples.three_actions_tie.rewards (2)"]),
    ("plateau beyond the bins", f"{MARA}.plateaus", [[3, 6], [14, 40]],
     [f"{MARA}.plateaus[1] is [14, 40]; expected a [start, stop) bin range with "
      "6 <= start < stop <= 20 (inside [0, bins), after plateaus[0])"]),
    ("plateaus overlap", f"{MARA}.plateaus", [[3, 8], [5, 10]],
     [f"{MARA}.plateaus[1] is [5, 10]", "8 <= start < stop <= 20"]),
    ("plateau empty", f"{MARA}.plateaus", [[6, 3]],
     [f"{MARA}.plateaus[0] is [6, 3]", "0 <= start < stop <= 20"]),
    ("tau above the plateaus", f"{MARA}.tau", 2.0,
     [f"{MARA}.tau (2.0) must be at most {MARA}.plateau_reward (1.0)", "good bins"]),
    ("tau at the background", f"{MARA}.tau", 0.0,
     [f"{MARA}.background_reward (0.0) must be below {MARA}.tau (0.0)"]),
    ("bins underflow", f"{MARA}.decay", 37.0,
     [f"{MARA}.decay is 37.0 with 20 bins: the last bin's reference mass is 4.91e-306; "
      "expected at least 1e-300"]),
    ("spike mass per outcome", "references[4]", {"name": "staircase", "family": "spike",
                                                 "bulk": 20, "masses": [1.0e-2, 1.0e-299],
                                                 "outcomes": [1, 100]},
     ["references[4] (staircase).masses[1] / outcomes[1] is 1e-301; expected at least 1e-300"]),
    ("winrate beta range reversed", "winrate.optimum_beta", {"min": 1.0, "max": 0.5,
                                                             "points": 5},
     ["winrate.optimum_beta.min (1.0) must be below winrate.optimum_beta.max (0.5)"]),
    ("claim beta not run", "policy_gradient.claim_betas", [0.5],
     ["policy_gradient.claim_betas[0] is 0.5; expected one of policy_gradient.betas"]),
    ("task plateau beyond the bins", "policy_gradient.tasks[1].bins.plateaus", [[5, 22]],
     ["policy_gradient.tasks[1] (two_plateaus).bins.plateaus[0]: is [5, 22]; expected "
      "0 <= start < end <= bins.count = 20"]),
    ("corpus string outside the vocabulary", f"{PG_TASK}.corpus.suffixes",
     {"3": 0.9, "9": 0.1},
     [f"{PG_TASK} ({PG_NAME}).corpus.suffixes: '19' is not an answer"]),
    ("task names repeat", "policy_gradient.tasks[1].name", PG_NAME,
     [f"policy_gradient.tasks[1] gives the task name '{PG_NAME}', already given by "
      "policy_gradient.tasks[0]"]),
    ("mara algorithm unknown", "policy_gradient.mara_algorithms.forward", ["algorithm_3"],
     ["policy_gradient.mara_algorithms.forward[0] is 'algorithm_3'; expected one of "
      "['algorithm_1', 'algorithm_2', 'algorithm_1_lambda']"]),
    ("mara algorithm vanilla", "policy_gradient.mara_algorithms.reverse", ["vanilla"],
     ["policy_gradient.mara_algorithms.reverse[0] is 'vanilla'; expected one of"]),
    ("dynamics names repeat", "policy_gradient.dynamics[1].name", "rloo",
     ["policy_gradient.dynamics[1].name 'rloo' is already used by policy_gradient.dynamics[0]"]),
    ("sweep unknown task", "policy_gradient.sweeps[1].tasks", ["one_or_two"],
     ["policy_gradient.sweeps[1].tasks[0] is 'one_or_two'; expected a task name, one of "
      f"['{PG_NAME}', 'two_plateaus']"]),
    ("sweep beta not run", "policy_gradient.sweeps[1].betas", [0.5],
     ["policy_gradient.sweeps[1].betas[0] is 0.5; expected one of policy_gradient.betas"]),
    ("sweep unknown dynamics", "policy_gradient.sweeps[0].dynamics", ["ppo"],
     ["policy_gradient.sweeps[0].dynamics[0] is 'ppo'; expected a dynamics name, one of "
      "['rloo', 'grpo', 'kl_score_normalised', 'rloo_sgd']"]),
    ("sweep unknown method", "policy_gradient.sweeps[0].methods", ["algorithm_3"],
     ["policy_gradient.sweeps[0].methods[0] is 'algorithm_3'; expected one of ['vanilla', "]),
    ("sweep steps not a budget", "policy_gradient.sweeps[0].steps", 60,
     ["policy_gradient.sweeps[0].steps is 60; expected one of policy_gradient.budgets [40, 80]"]),
    ("budget not a checkpoint", "policy_gradient.budgets", [40, 80, 90],
     ["policy_gradient.budgets[2] is 90; expected a multiple of training.eval_every (20)"]),
    ("group size does not divide the batch", "policy_gradient.training.group_size", 6,
     ["policy_gradient.training.group_size is 6; expected a divisor of training.batch (16)"]),
    ("more jobs than runs", "policy_gradient.jobs", 10000,
     ["policy_gradient.jobs is 10000; expected at most the number of runs (106)"]),
    ("validity above 1", f"{PG_TASK}.sweep.validity", [1.5],
     [f"{PG_TASK} (one_or_two_valid1.5_pref0.9).corpus.validity: is 1.5; expected a mass in "
      "(0, 1)"]),
    ("preference 1", f"{PG_TASK}.sweep.preference", [1.0],
     [f"{PG_TASK} (one_or_two_valid0.2_pref1).corpus.preference: is 1.0; expected a share in "
      "(0, 1)"]),
    ("format corpus without suffixes", f"{PG_TASK}.corpus.suffixes", {},
     [f"{PG_TASK} ({PG_NAME}).corpus.suffixes: is missing or empty"]),
    ("suffix writing an answer", f"{PG_TASK}.corpus.suffixes", {"": 1.0},
     [f"{PG_TASK} ({PG_NAME}).corpus.suffixes: '' after '1' writes '1', a well-formed answer"]),
]


def edited(config: dict, key: str, value) -> dict:
    """A deep copy of ``config`` with the dotted ``key`` (``a.b[0].c``) set to ``value``."""
    result = copy.deepcopy(config)
    parts = [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", key)]
    node = result
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return result
