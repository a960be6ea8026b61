"""bonkl.plumbing.runlog: a pipeline job's log file gets the bonkl loggers, Python warnings
and any failure with its traceback; a second job in the same process logs only to its own
file."""

from __future__ import annotations

import logging
import warnings
from types import SimpleNamespace

import pytest

from bonkl.plumbing import runlog


@pytest.fixture(autouse=True)
def restore_logging():
    """Leave the loggers as found: runlog replaces handlers and captures warnings."""
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level)
             for name in ("bonkl", "py.warnings")}
    yield
    logging.captureWarnings(False)
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)


def test_to_file_logs_bonkl_and_its_children_and_warnings(tmp_path):
    path = tmp_path / "job.log"
    log = runlog.to_file(str(path))
    assert log is logging.getLogger("bonkl")
    log.info("read %d rows", 3)
    logging.getLogger("bonkl.study.samples").warning("prompt %r has one candidate", "p1")
    logging.getLogger("bonkl").debug("below INFO: not written")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a RuntimeWarning from numpy, say", RuntimeWarning, stacklevel=1)
    for handler in log.handlers:
        handler.flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "INFO bonkl: read 3 rows"
    assert lines[1] == "WARNING bonkl.study.samples: prompt 'p1' has one candidate"
    assert lines[2].startswith("WARNING py.warnings: ") and "a RuntimeWarning" in lines[2]
    assert not any("below INFO" in line for line in lines)


def test_a_second_job_writes_only_to_its_own_log(tmp_path):
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    runlog.to_file(str(first)).info("job one")
    runlog.to_file(str(second)).info("job two")
    logging.getLogger("bonkl").handlers[0].flush()
    assert first.read_text(encoding="utf-8") == "INFO bonkl: job one\n"
    assert second.read_text(encoding="utf-8") == "INFO bonkl: job two\n"
    assert len(logging.getLogger("bonkl").handlers) == 1


def test_run_passes_snakemake_and_the_logger_to_main(tmp_path):
    path = tmp_path / "rule" / "wildcards.log"
    path.parent.mkdir()
    snakemake = SimpleNamespace(log=[str(path)], params={"n": 4})
    seen = []

    def main(smk, log):
        seen.append((smk, log))
        log.info("n = %d", smk.params["n"])

    runlog.run(snakemake, main)
    assert seen == [(snakemake, logging.getLogger("bonkl"))]
    assert path.read_text(encoding="utf-8") == "INFO bonkl: n = 4\n"


def test_run_logs_a_failure_with_its_traceback_and_reraises(tmp_path):
    path = tmp_path / "failing.log"

    def main(smk, log):
        raise ValueError("references[2].masses: expected a list of numbers")

    with pytest.raises(ValueError, match="references"):
        runlog.run(SimpleNamespace(log=[str(path)]), main)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("ERROR bonkl: job failed\nTraceback (most recent call last):")
    assert "ValueError: references[2].masses: expected a list of numbers" in text
