"""Bad (and good) user reference files for bonkl.plumbing.userfile.load_user_file.

Messages name 1-based lines of the file (a CSV header is line 1), and rows for Parquet.
Every error must name the file; where a line or a column is at fault, the message names
them too.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bonkl.plumbing.userfile import ReferenceFileError, load_user_file


def write(tmp_path, name, content):
    """Write ``content`` (text or bytes) to ``tmp_path/name`` and return the path."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_error(path, *fragments, line=None, row=None, normalize=False) -> str:
    """Load ``path``, expect ReferenceFileError naming the file, the ``line`` (or Parquet
    ``row``) and ``fragments``."""
    with pytest.raises(ReferenceFileError) as info:
        load_user_file(path, normalize=normalize)
    message = str(info.value)
    assert path.name in message, message
    if line is not None:
        assert re.search(rf"\bline {line}\b", message), message
    if row is not None:
        assert re.search(rf"\brow {row}\b", message), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --------------------------------------------------------------------------- columns


# One bad CSV each: (what is wrong, content, fragments the message must hold, file line).
BAD_CSV = [
    ("no 'reward' column", "outcome,prob\na,0.5\nb,0.5\n", ["'reward'"], None),
    ("neither 'prob' nor 'logprob'", "outcome,p,reward\na,0.5,1\nb,0.5,2\n",
     ["has no log-prob column", "'logprob'"], None),
    ("both 'prob' and 'logprob'", "prob,logprob,reward\n0.5,-0.69,1\n0.5,-0.69,2\n",
     ["'prob'", "'logprob'"], None),
    ("empty 'prob' cell", "outcome,prob,reward\na,0.25,1\nb,0.25,2\nc,,3\n", ["'prob'"], 4),
    ("literal nan in 'prob'", "prob,reward\n0.5,1\nnan,2\n", ["'prob'"], 3),
    ("non-numeric reward, value shown", "outcome,prob,reward\na,0.5,1\nb,0.5,high\n",
     ["'reward'", "high"], 3),
    ("infinite reward", "prob,reward\n0.5,inf\n0.5,2\n", ["'reward'"], 2),
    ("negative prob", "prob,reward\n1.0,1\n-0.1,2\n0.1,3\n", ["'prob'"], 3),
    ("zero prob", "prob,reward\n1.0,1\n0,2\n", ["'prob'"], 3),
    ("prob above 1", "prob,reward\n1.5,1\n", ["'prob'"], 2),
    ("positive logprob", "logprob,reward\n-0.1,1\n0.2,2\n", ["'logprob'"], 3),
]


@pytest.mark.parametrize(("content", "fragments", "line"), [case[1:] for case in BAD_CSV],
                         ids=[case[0] for case in BAD_CSV])
def test_bad_column_or_value_is_refused(tmp_path, content, fragments, line):
    """The message names the file, the column (and the bad value), and the file line."""
    path = write(tmp_path, "bad.csv", content)
    load_error(path, *fragments, line=line)


@pytest.mark.parametrize("column", ["prob", "logprob"])
def test_not_summing_to_one_mentions_normalize(tmp_path, column):
    """Masses summing to 0.4 are refused without normalize; the message says how to fix it."""
    values = ("0.2", "0.2") if column == "prob" else (repr(float(np.log(0.2))),) * 2
    path = write(tmp_path, f"sum_{column}.csv", f"{column},reward\n{values[0]},1\n{values[1]},2\n")
    load_error(path, "normalize")


def test_normalize_rescales_prob(tmp_path):
    """With normalize=True, probabilities 0.2 and 0.6 become 0.25 and 0.75."""
    path = write(tmp_path, "norm.csv", "outcome,prob,reward\na,0.2,1\nb,0.6,2\n")
    table = load_user_file(path, normalize=True)
    assert list(table.columns) == ["outcome", "prob", "reward", "count"]
    np.testing.assert_allclose(table["prob"], [0.25, 0.75], rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], [1.0, 2.0])
    np.testing.assert_array_equal(table["count"], [1, 1])


def test_normalize_rescales_logprob_in_logs(tmp_path):
    """With normalize=True, log-probabilities of -1000 and -1001 (underflowing as probs) work."""
    path = write(tmp_path, "norm_log.csv", "logprob,reward\n-1000,1\n-1001,2\n")
    table = load_user_file(path, normalize=True)
    e = np.exp(-1.0)
    # logprob -1000 carries only ~1e-13 absolute precision, hence rtol 1e-12
    np.testing.assert_allclose(table["prob"], [1 / (1 + e), e / (1 + e)], rtol=1e-12)


def test_sum_within_tolerance_is_accepted(tmp_path):
    """A sum off by 1e-9 is rounding, accepted without normalize, and rescaled to 1."""
    path = write(tmp_path, "close.csv", "prob,reward\n0.5,1\n0.500000001,2\n")
    table = load_user_file(path)
    assert table["prob"].sum() == pytest.approx(1.0, abs=1e-15)


def test_logprob_underflow_names_line(tmp_path):
    """A logprob 800 below the total underflows after normalisation: its line 3 is named."""
    path = write(tmp_path, "underflow.csv", "logprob,reward\n0,1\n-800,2\n")
    load_error(path, "'logprob' gives probability 0.0", "(log-prob -800.0)", line=3)


def test_logprob_underflow_line_after_duplicates(tmp_path):
    """Underflow on line 4, after a merged duplicate on lines 2-3: line 4 must be named."""
    path = write(tmp_path, "underflow_dup.csv", "outcome,logprob,reward\na,0,1\na,0,1\nb,-800,2\n")
    load_error(path, "log-prob", line=4)


# --------------------------------------------------------------------------- file level


def test_empty_file(tmp_path):
    """A 0-byte file."""
    path = write(tmp_path, "empty.csv", b"")
    load_error(path, "empty")


def test_header_only(tmp_path):
    """A header and no data rows."""
    path = write(tmp_path, "header.csv", "outcome,prob,reward\n")
    load_error(path, "no data rows")


def test_not_utf8(tmp_path):
    """Latin-1 'é' in an outcome name (data row 2) is refused, naming the row, hinting UTF-8."""
    path = write(
        tmp_path, "latin1.csv", "outcome,prob,reward\na,0.5,1\ncaf\xe9,0.5,2\n".encode("latin-1")
    )
    load_error(path, "UTF-8", line=3)


def test_utf8_outcome_is_fine(tmp_path):
    """The same file in UTF-8 loads and keeps the outcome name."""
    path = write(tmp_path, "utf8.csv", "outcome,prob,reward\ncafé,0.5,1\nb,0.5,2\n")
    assert list(load_user_file(path)["outcome"]) == ["café", "b"]


def test_unknown_extension(tmp_path):
    """A '.txt' file is refused, naming the extension."""
    path = write(tmp_path, "samples.txt", "prob,reward\n1,1\n")
    load_error(path, "'.txt'")


def test_missing_file(tmp_path):
    """A path that does not exist."""
    load_error(tmp_path / "absent.csv", "no such file")


# --------------------------------------------------------------------------- duplicates


def test_duplicates_merged_with_counts(tmp_path):
    """Rows of one outcome with equal prob and reward merge; counts add up."""
    path = write(
        tmp_path,
        "dups.csv",
        "outcome,prob,reward,count\na,0.5,1,2\nb,0.5,2,1\na,0.5,1,3\n",
    )
    table = load_user_file(path)
    assert list(table["outcome"]) == ["a", "b"]
    np.testing.assert_allclose(table["prob"], [0.5, 0.5], rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], [1.0, 2.0])
    np.testing.assert_array_equal(table["count"], [5, 1])


def test_duplicates_without_count_column_count_rows(tmp_path):
    """Without a 'count' column each row counts once."""
    path = write(tmp_path, "dups2.csv", "outcome,prob,reward\na,0.5,1\na,0.5,1\nb,0.5,2\n")
    table = load_user_file(path)
    np.testing.assert_array_equal(table["count"], [2, 1])


def test_duplicate_with_different_reward(tmp_path):
    """Outcome 'a' on lines 2 and 4 with rewards 1 and 5: both lines and 'reward' are named."""
    path = write(tmp_path, "clash.csv", "outcome,prob,reward\na,0.5,1\nb,0.5,2\na,0.5,5\n")
    message = load_error(path, "reward", "'a'", line=4)
    assert re.search(r"\bline 2\b", message), message


def test_duplicate_with_different_prob(tmp_path):
    """Outcome 'a' on lines 2 and 3 with probabilities 0.5 and 0.25 is refused."""
    path = write(tmp_path, "clash_p.csv", "outcome,prob,reward\na,0.5,1\na,0.25,1\nb,0.5,2\n")
    message = load_error(path, "'a'", "beyond the tolerance", line=3)
    assert re.search(r"\bline 2\b", message), message


@pytest.mark.parametrize("count", ["0", "1.5", "-2", "x"])
def test_bad_count(tmp_path, count):
    """A count that is not a positive integer (here on line 3)."""
    path = write(tmp_path, "count.csv", f"prob,reward,count\n0.5,1,1\n0.5,2,{count}\n")
    load_error(path, "'count'", line=3)


def test_blank_outcome_id(tmp_path):
    """An empty 'outcome' cell on line 3 gives a ReferenceFileError naming line 3."""
    path = write(tmp_path, "blank_id.csv", "outcome,prob,reward\na,0.5,1\n,0.5,2\n")
    load_error(path, "'outcome'", line=3)


def test_outcome_ids_kept_as_text(tmp_path):
    """Ids '01' and '1' are different outcomes, and '007' stays '007'."""
    path = write(tmp_path, "ids.csv", "outcome,prob,reward\n01,0.25,1\n1,0.25,1\n007,0.5,2\n")
    table = load_user_file(path, normalize=True)
    assert list(table["outcome"]) == ["01", "1", "007"]
    np.testing.assert_allclose(table["prob"], [0.25, 0.25, 0.5], rtol=1e-15)


# --------------------------------------------------------------------------- parquet


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path, suffix):
    """A pandas.to_parquet file loads to the same table as the equivalent CSV."""
    frame = pd.DataFrame(
        {
            "outcome": ["x", "y", "z", "x"],
            "logprob": [np.log(0.2), np.log(0.3), np.log(0.5), np.log(0.2)],
            "reward": [0.5, -1.0, 2.0, 0.5],
            "count": [1, 4, 2, 3],
            "extra": ["ignored", "a", "b", "c"],
        }
    )
    parquet = tmp_path / f"samples{suffix}"
    frame.to_parquet(parquet)
    csv = tmp_path / "samples.csv"
    frame.to_csv(csv, index=False)
    from_parquet = load_user_file(parquet)
    from_csv = load_user_file(csv)
    assert list(from_parquet["outcome"]) == ["x", "y", "z"]
    np.testing.assert_allclose(from_parquet["prob"], [0.2, 0.3, 0.5], rtol=1e-14)
    np.testing.assert_array_equal(from_parquet["reward"], [0.5, -1.0, 2.0])
    np.testing.assert_array_equal(from_parquet["count"], [4, 4, 2])
    pd.testing.assert_frame_equal(from_parquet, from_csv)


def test_parquet_bad_value_names_row(tmp_path):
    """Validation is the same for parquet: a prob above 1 on data row 2."""
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"prob": [0.5, 1.5], "reward": [1.0, 2.0]}).to_parquet(path)
    load_error(path, "'prob'", row=2)


def test_corrupt_parquet(tmp_path):
    """A '.parquet' file that is not parquet gives a ReferenceFileError, not a crash."""
    path = write(tmp_path, "broken.parquet", b"this is not parquet")
    load_error(path, "parquet")


# --------------------------------------------------------------------------- several prompts

from bonkl.plumbing.userfile import Columns, load_samples  # noqa: E402

JSONL = "\n".join([
    '{"prompt": "capital?", "completion": "Paris", "logprob": -0.1, "reward": 1, "n": 1}',
    '{"prompt": "capital?", "completion": "Paris.", "logprob": -2.4, "reward": 0.5}',
    '',
    '{"prompt": "a poem", "completion": "Roses", "logprob": -3.0, "reward": 0.2}',
    '{"prompt": "capital?", "completion": "Paris", "logprob": -0.1000000001, "reward": 1}',
    '{"prompt": "a poem", "completion": "", "logprob": -4.0, "reward": 0.1}',
]) + "\n"


def test_jsonl_of_several_prompts(tmp_path):
    """The canonical frame: identical completions of a prompt merge (log-probs within the
    tolerance, averaged), counting draws; nothing is normalised; an empty completion is one."""
    table = load_samples(write(tmp_path, "s.jsonl", JSONL), Columns())
    assert list(table.columns) == ["prompt", "completion", "logprob", "reward", "count"]
    assert list(table["prompt"]) == ["capital?", "capital?", "a poem", "a poem"]
    assert list(table["completion"]) == ["Paris", "Paris.", "Roses", ""]
    assert list(table["count"]) == [2, 1, 1, 1]
    np.testing.assert_allclose(table["logprob"], [-0.10000000005, -2.4, -3.0, -4.0],
                               rtol=1e-15)


@pytest.mark.parametrize(("reward", "expected"), [
    ("loglik", [-0.10000000005, -2.4, -3.0, -4.0]), ("neg-length", [-5.0, -6.0, -5.0, 0.0])])
def test_paper_rewards(tmp_path, reward, expected):
    """Paper A's Fig. 4 rewards: the log-likelihood, minus the length in characters."""
    table = load_samples(write(tmp_path, "s.jsonl", JSONL), Columns(reward=reward))
    np.testing.assert_allclose(table["reward"], expected, rtol=1e-15)


def test_neg_length_counts_tokens_when_given(tmp_path):
    path = write(tmp_path, "t.csv", "prompt,completion,logprob,num_tokens\n"
                 "p,abc,-0.5,7\np,abcdef,-1,2\np,abc,-0.5,7\n")
    table = load_samples(path, Columns(reward="neg-length"))
    np.testing.assert_array_equal(table["reward"], [-7.0, -2.0])


BAD_SAMPLES = [
    ("log-probs disagree", "prompt,completion,logprob,reward\np,a,-1,1\nq,a,-2,1\np,a,-1.5,1\n",
     ["prompt 'p'", "completion 'a' appears again with a different log-probability",
      "than at line 2: -1.5 against -1.0"], 4),
    ("missing reward column", "prompt,completion,logprob\np,a,-1\n", ["missing column 'reward'"],
     None),
    ("blank prompt", "prompt,completion,logprob,reward\np,a,-1,1\n  ,b,-1,1\n",
     ["'prompt' is blank", "the prompt's text"], 3),
    ("one prompt's mass above 1", "prompt,completion,prob,reward\np,a,1,1\nq,a,0.7,1\n"
     "q,b,0.7,1\n", ["prompt 'q': its 2 distinct completions hold a mass of 1.4",
                     "weights or scores rather than the probabilities"], 3),
]


@pytest.mark.parametrize(("content", "fragments", "line"), [case[1:] for case in BAD_SAMPLES],
                         ids=[case[0] for case in BAD_SAMPLES])
def test_bad_samples_name_the_prompt_and_lines(tmp_path, content, fragments, line):
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(ReferenceFileError) as info:
        load_samples(path, Columns())
    message = str(info.value)
    assert message.startswith(str(path)), message
    if line is not None:
        assert f"line {line}:" in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_sampled_prompt_is_not_refused(tmp_path):
    """Seen mass far below 1 is what samples look like: no error, no rescaling."""
    path = write(tmp_path, "s.csv", "prompt,completion,logprob,reward\np,a,-45,1\np,b,-46,2\n")
    np.testing.assert_array_equal(load_samples(path)["logprob"], [-45.0, -46.0])


def test_jsonl_errors_name_lines(tmp_path):
    path = write(tmp_path, "s.jsonl", JSONL.replace('"reward": 0.2', '"reward": "high"'))
    with pytest.raises(ReferenceFileError, match=r"s\.jsonl, line 4: column 'reward' is 'high'"):
        load_samples(path, Columns())


def test_normalize_hint_speaks_the_callers_language(tmp_path):
    path = write(tmp_path, "u.csv", "prob,reward\n0.2,1\n0.2,2\n")
    with pytest.raises(ReferenceFileError, match="not every outcome with its probability; "
                                                 "set it so"):
        load_user_file(path, normalize_hint="set it so")


def test_reference_file_of_several_prompts_is_refused(tmp_path):
    path = write(tmp_path, "two.csv", "prompt,prob,reward\np,1,1\nq,1,2\n")
    load_error(path, "holds 2 prompts")
