# Stage claims: paper A's KL claims checked on the references of the config and on random
# references with ties and tiny masses; then the ledger, which merges these with the
# claim summaries the other stages add to CLAIM_SUMMARIES.


rule claims_references:
    """Paper A's KL claims checked on every reference of the config, in one job (each
    reference takes milliseconds)."""
    input:
        references=expand(rules.reference.output[0], reference=REFERENCES),
        lib=library("claims_references"),
    output:
        f"{RESULTS}/claims/references.csv",
    log:
        f"{LOGS}/claims_references.log",
    benchmark:
        f"{BENCHMARKS}/claims_references.tsv"
    params:
        references=list(REFERENCES),
        n_grid=CLAIMS_N_GRID,
    script:
        "../../scripts/claims_references.py"


rule claims_random:
    """Paper A's KL claims checked on a chunk of random references with ties and tiny masses."""
    input:
        lib=library("claims_random"),
    output:
        f"{RESULTS}/claims/random/{{chunk}}.csv",
    log:
        f"{LOGS}/claims_random/{{chunk}}.log",
    benchmark:
        f"{BENCHMARKS}/claims_random/{{chunk}}.tsv"
    params:
        seed=config["seed"],
        reference_count=lambda w: min(
            config["claims"]["chunk_size"],
            config["claims"]["random_references"]
            - int(w.chunk) * config["claims"]["chunk_size"],
        ),
        max_size=config["claims"]["max_size"],
        n_grid=CLAIMS_N_GRID,
    script:
        "../../scripts/claims_random.py"


rule claims_ledger:
    """The claims ledger: every stage's rows merged, each with its status and source."""
    input:
        summaries=rules.claims_references.output
        + expand(rules.claims_random.output[0], chunk=CLAIMS_CHUNKS)
        + CLAIM_SUMMARIES,
        lib=library("claims_ledger"),
    output:
        f"{RESULTS}/claims.csv",
    log:
        f"{LOGS}/claims_ledger.log",
    benchmark:
        f"{BENCHMARKS}/claims_ledger.tsv"
    script:
        "../../scripts/claims_ledger.py"
