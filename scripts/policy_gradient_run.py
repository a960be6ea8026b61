"""Stage policy_gradient: one sampled training run (task, regularizer, method, beta, seed)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import write_table
from bonkl.rl.tasks import build_task, read_reference_logits
from bonkl.rl.trainer import Training, final_distribution, log_exact_target, train


def main(sm, log):
    w, p = sm.wildcards, sm.params
    task = build_task(w.task, p.spec)
    reference = read_reference_logits(task, sm.input.reference)
    percentile = None if p.mara_tau == "task" else p.mara_tau["percentile"]
    training = Training(coverage_share=p.coverage_share, tau_percentile=percentile,
                        **p.training)
    rng = generator(p.seed, "policy_gradient", w.task, w.regularizer, w.method, w.beta, w.seed)
    log_ref = task.space.log_probs(reference)
    log_target = log_exact_target(task, log_ref, w.regularizer, w.method, p.beta)
    curve, logits = train(task, reference, w.regularizer, w.method, p.beta, training, rng,
                          log_target)
    write_table(curve, sm.output.curve)
    write_table(final_distribution(task, task.space.log_probs(logits), log_ref, log_target),
                sm.output.final)
    log.info("final:\n%s", curve.iloc[-1].to_string())


run(snakemake, main)  # noqa: F821
