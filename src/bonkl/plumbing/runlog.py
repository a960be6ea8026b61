"""Logging for pipeline scripts: everything, warnings included, goes to the job's log file."""

from __future__ import annotations

import logging


def to_file(path: str) -> logging.Logger:
    """Send the ``bonkl`` logger and Python warnings to ``path``; return the logger."""
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.captureWarnings(True)
    for name in ("bonkl", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
    return logging.getLogger("bonkl")


def run(snakemake, main) -> None:
    """Call ``main(snakemake, logger)`` with logging to the job's log; log any failure too."""
    log = to_file(snakemake.log[0])
    try:
        main(snakemake, log)
    except Exception:
        log.exception("job failed")
        raise
