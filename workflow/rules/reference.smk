# Stage reference: each named reference of the config as a table (outcome, prob, reward).


def _reference_inputs(wildcards):
    spec = REFERENCES[wildcards.reference]
    inputs = {"lib": library("reference")}
    if spec["family"] == "file":
        inputs["user_file"] = spec["path"]
    return inputs


rule reference:
    input:
        unpack(_reference_inputs),
    output:
        f"{RESULTS}/reference/{{reference}}.csv",
    params:
        spec=lambda w: dict(sorted(REFERENCES[w.reference].items())),  # order-free
        seed=config["seed"],
    log:
        f"{LOGS}/reference/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/reference/{{reference}}.tsv"
    script:
        "../../scripts/reference.py"
