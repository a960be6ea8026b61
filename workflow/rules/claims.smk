# Stage claims: paper A's KL claims checked on each reference of the config and on random
# references with ties and tiny masses; then the ledger, which merges these with the
# claim summaries the other stages add to CLAIM_SUMMARIES.


rule claims_reference:
    input:
        reference=f"{RESULTS}/reference/{{reference}}.csv",
        lib=library("claims_reference"),
    output:
        f"{RESULTS}/claims/reference/{{reference}}.csv",
    params:
        n_grid=CLAIMS_N_GRID,
    log:
        f"{LOGS}/claims_reference/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/claims_reference/{{reference}}.tsv"
    script:
        "../../scripts/claims_reference.py"


rule claims_random:
    input:
        lib=library("claims_random"),
    output:
        f"{RESULTS}/claims/random/{{chunk}}.csv",
    params:
        seed=config["seed"],
        reference_count=lambda w: min(
            config["claims"]["chunk_size"],
            config["claims"]["random_references"] - int(w.chunk) * config["claims"]["chunk_size"],
        ),
        max_size=config["claims"]["max_size"],
        n_grid=CLAIMS_N_GRID,
    log:
        f"{LOGS}/claims_random/{{chunk}}.log",
    benchmark:
        f"{BENCHMARKS}/claims_random/{{chunk}}.tsv"
    script:
        "../../scripts/claims_random.py"


rule claims_ledger:
    input:
        summaries=expand(f"{RESULTS}/claims/reference/{{reference}}.csv", reference=REFERENCES)
        + expand(f"{RESULTS}/claims/random/{{chunk}}.csv", chunk=CLAIMS_CHUNKS)
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
