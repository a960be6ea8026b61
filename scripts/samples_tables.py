"""Stage samples: the per-prompt table and the summary over prompts, every reward (figures/)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, write_table_views
from bonkl.study.samples import PER_PROMPT_NOTE, SUMMARY_NOTE


def main(sm, log):
    for kind, note in (("per_prompt", PER_PROMPT_NOTE), ("summary", SUMMARY_NOTE)):
        table = read_labelled(sm.input[kind], sm.params.rewards, "reward")
        table = table[["reward"] + [c for c in table.columns if c != "reward"]]
        title = (f"Best-of-n per prompt of {sm.params.path}" if kind == "per_prompt"
                 else f"Best-of-n over the prompts of {sm.params.path}, per n")
        write_table_views(table, sm.output[f"{kind}_csv"], sm.output[f"{kind}_md"],
                          sm.output[f"{kind}_html"], title=title, note=note)
        log.info("%s: %d rows", kind, len(table))


run(snakemake, main)  # noqa: F821
