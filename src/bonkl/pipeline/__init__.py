"""What the Snakemake pipeline runs at parse time, before any job: the config checks a
JSON schema cannot express, and each rule's library dependencies."""
