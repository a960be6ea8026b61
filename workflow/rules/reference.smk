# Stage reference: each named reference of the config as a table (outcome, prob, reward).


rule reference:
    """One reference of the config as a table: outcome, probability, reward."""
    input:
        unpack(reference_inputs),
    output:
        f"{RESULTS}/reference/{{reference}}.csv",
    log:
        f"{LOGS}/reference/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/reference/{{reference}}.tsv"
    params:
        spec=lambda w: dict(sorted(REFERENCES[w.reference].items())),  # order-free
        seed=config["seed"],
    script:
        "../../scripts/reference.py"
