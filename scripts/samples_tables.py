"""Stage samples: the per-prompt table, the summary over prompts and the findings fragment,
every reward (figures/)."""

from pathlib import Path

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, write_table_views
from bonkl.study.samples import ESTIMATES_NOTE, ESTIMATES_SUMMARY_NOTE, findings


def main(sm, log):
    tables = {}
    for kind, note in (("per_prompt", ESTIMATES_NOTE), ("summary", ESTIMATES_SUMMARY_NOTE)):
        table = read_labelled(sm.input[kind], sm.params.rewards, "reward")
        table = table[["reward"] + [c for c in table.columns if c != "reward"]]
        title = (f"Best-of-n per prompt of {sm.params.path}" if kind == "per_prompt"
                 else f"Best-of-n over the prompts of {sm.params.path}, per n")
        write_table_views(table, sm.output[f"{kind}_csv"], sm.output[f"{kind}_md"],
                          sm.output[f"{kind}_html"], title=title, note=note)
        tables[kind] = table
        log.info("%s: %d rows", kind, len(table))
    Path(sm.output.findings).write_text(findings(tables["per_prompt"], sm.params.path),
                                        encoding="utf-8")


run(snakemake, main)  # noqa: F821
