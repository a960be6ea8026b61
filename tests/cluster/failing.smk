# A one-rule workflow whose only job fails on the cluster, for tests/cluster/test_slurm.py.
# It runs with the project's Slurm profile; the rule is unknown to it, so gets its defaults.


rule deliberate_failure:
    output:
        "never.txt",
    log:
        "logs/deliberate_failure.log",
    shell:
        "echo 'bonkl: this job fails on purpose' > {log}; exit 3"
