# Stage claims: paper A's KL claims checked on each reference of the config and on random
# references with ties and tiny masses; then the ledger, which merges these with the
# claim summaries the other stages add to CLAIM_SUMMARIES.


rule claims_reference:
    """Paper A's KL claims checked on one reference of the config."""
    input:
        reference=rules.reference.output[0],
        lib=library("claims_reference"),
    output:
        f"{RESULTS}/claims/reference/{{reference}}.csv",
    log:
        f"{LOGS}/claims_reference/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/claims_reference/{{reference}}.tsv"
    params:
        n_grid=CLAIMS_N_GRID,
    script:
        "../../scripts/claims_reference.py"


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
        summaries=expand(rules.claims_reference.output[0], reference=REFERENCES)
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
