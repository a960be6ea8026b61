#!/usr/bin/env bash
# Rewrite the lock files from pyproject.toml's ranges with pip-tools (pip install pip-tools):
#   dev.txt    the study, the tests, the lints and the docs (what CI and the README's test
#              command install);
#   study.txt  the study alone (the README's study command), the same versions as dev.txt;
#   slurm.txt  the study and the Slurm executor plugin, the same versions as dev.txt.
# Every package is pinned with its hashes (pip then installs in hash-checking mode). The
# resolution reads PyPI alone (--isolated: no local pip configuration), for Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {
  PIP_CONFIG_FILE=/dev/null pip-compile --quiet --pip-args "--isolated" --generate-hashes \
    --strip-extras --no-emit-index-url --no-emit-find-links "$@" pyproject.toml
}
compile --upgrade --extra test --extra lint --extra docs -o requirements/dev.txt
compile --upgrade --constraint requirements/dev.txt -o requirements/study.txt
compile --upgrade --constraint requirements/dev.txt --extra slurm -o requirements/slurm.txt
