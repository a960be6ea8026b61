"""`snakemake --lint` with one accepted lint: "Specify a conda environment or container for
each rule". The study installs its software with pip from pyproject.toml; conda and
container images cannot be fetched or tested offline (see the docs, "The pipeline").
Exits non-zero, listing them, on any other lint."""

import re
import subprocess
import sys

ACCEPTED = "Specify a conda environment or container for each rule."

result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], capture_output=True,
                        text=True)
text = result.stdout + result.stderr
lints, where = [], None
for line in text.splitlines():
    if line.startswith("Lints for "):
        where = line.removeprefix("Lints for ").rstrip(":")
    elif m := re.match(r"^\s+\* (.+?):$", line):
        lints.append((where, m[1]))
others = [(where, title) for where, title in lints if title != ACCEPTED]
print(f"snakemake --lint: {len(lints)} lints, {len(lints) - len(others)} of them the accepted "
      f"conda/container one")
for where, title in others:
    print(f"  {where}: {title}")
if others or (result.returncode not in (0, 1)) or (result.returncode == 1 and not lints):
    sys.exit(1)
