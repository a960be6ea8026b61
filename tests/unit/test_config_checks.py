"""bonkl.pipeline.config_checks in process: every bad config of ``bad_configs`` is refused by the
schema or by the checks, with the key and what was expected; the shipped configs pass.

``test_bad_config`` runs the same cases through the real Snakemake.
"""

from __future__ import annotations

import jsonschema
import pytest
import yaml
from bad_configs import CHECK_CASES, SCHEMA_CASES, edited
from workflow_runs import ROOT

from bonkl.pipeline.config_checks import ConfigError, check_config, dotted


@pytest.fixture(scope="module")
def schema():
    return yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))


def schema_errors(config, schema) -> list[str]:
    """Each schema error as Snakemake prints it: message and ``instance[...]`` path."""
    return [error.message + " On instance" + "".join(f"[{part!r}]" for part in
                                                   error.absolute_path)
            for error in jsonschema.Draft202012Validator(schema).iter_errors(config)]


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml"])
def test_shipped_configs_pass(schema, name):
    config = yaml.safe_load((ROOT / "config" / name).read_text(encoding="utf-8"))
    assert schema_errors(config, schema) == []
    check_config(config, schema)


@pytest.mark.parametrize(("key", "value", "fragments"), [case[1:] for case in SCHEMA_CASES],
                         ids=[case[0] for case in SCHEMA_CASES])
def test_schema_refuses(schema, test_config, key, value, fragments):
    """Exactly one schema error, and it names the key and the expectation."""
    (error,) = schema_errors(edited(test_config, key, value), schema)
    for fragment in fragments:
        assert fragment in error, (fragment, error)


@pytest.mark.parametrize(("key", "value", "fragments"), [case[1:] for case in CHECK_CASES],
                         ids=[case[0] for case in CHECK_CASES])
def test_checks_refuse(schema, test_config, key, value, fragments):
    """The schema lets the config through; check_config refuses it, naming key and expectation."""
    bad = edited(test_config, key, value)
    assert schema_errors(bad, schema) == []
    with pytest.raises(ConfigError) as info:
        check_config(bad, schema)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_integer_check_reaches_nested_lists(schema, test_config):
    """A float in a list of integers inside a list of dicts is found and named."""
    bad = edited(test_config, "kl_constrained.scenarios[1].r", [0, 1.0])
    with pytest.raises(ConfigError, match=r"kl_constrained\.scenarios\[1\]\.r\[1\] is 1\.0; "
                                          "expected an integer"):
        check_config(bad, schema)


def test_dotted():
    assert dotted(["regularized", "examples", "mara_bins", "plateaus", 1, 0]) == \
        "regularized.examples.mara_bins.plateaus[1][0]"
    assert dotted([]) == ""


def test_edited_copies(test_config):
    """The helper of these tests edits a deep copy, never the shared config."""
    bad = edited(test_config, "references[0].size", 3)
    assert bad["references"][0]["size"] == 3
    assert test_config["references"][0]["size"] == 10
