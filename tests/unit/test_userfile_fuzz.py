"""Fuzzing bonkl.plumbing.userfile: messy CSV, Parquet and JSON Lines files, of one prompt or
several, against the rules of its docstring, restated here as a plain-Python oracle.

Property: the loaders refuse a file (ReferenceFileError naming the file, and a line or row
that exists) exactly when the oracle does, and otherwise return the oracle's table:
completions merged (log-probs averaged by count), counts added; for ``load_samples`` the
log-probs as they are (no prompt's mass above 1), for ``load_user_file`` probabilities
rescaled to sum to 1, all finite and at least 1e-300. A single fault put into a good file is
reported at its line and column. Encodings, binary
junk, a 10^6-row file, and the reference rule's behaviour on a bad file (no output left
behind) are checked too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bonkl.plumbing.userfile import (
    LOGPROB_TOLERANCE,
    SMALLEST_MASS,
    SUM_TOLERANCE,
    ReferenceFileError,
    load_samples,
    load_user_file,
)

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
USED = ("outcome", "prob", "logprob", "reward", "count")
PROMPTS = ["p", "q", "Qu'est-ce ?", "", "  "]
IDS = ["a", "b", "c", "01", "1", "NA", "None", "nan", " a", "a,b", 'q"x', "x y", "é"]
BAD_NUMBERS = ["", "nan", "NaN", "inf", "-inf", "abc", "1/3"]


# --------------------------------------------------------------------------- the oracle


def number(cell) -> float:
    """A cell as the docstring reads it: a number, else NaN."""
    if not isinstance(cell, str):
        return float(cell)
    try:
        return float(cell.strip())
    except ValueError:
        return math.nan


def oracle(header, rows, normalize: bool, reference: bool):
    """The table the documented rules give (columns outcome, prob, logprob, reward, count,
    prompt) for ``load_user_file`` (``reference``) or ``load_samples``, ``None`` where they
    refuse the file, or ``"borderline"`` where a sum or a mass sits within rounding of a
    threshold."""
    names = [str(name).strip() for name in header]
    if any(names.count(c) > 1 for c in (*USED, "prompt")) or not rows:
        return None
    has = [c for c in ("prob", "logprob") if c in names]
    if len(has) != 1 or "reward" not in names:
        return None

    def column(name):
        return [row[names.index(name)] for row in rows]

    values = [number(x) for x in column(has[0])]
    reward = [number(x) for x in column("reward")]
    if not all(map(math.isfinite, values + reward)):
        return None
    if has[0] == "prob":
        if not all(0 < v <= 1 for v in values):
            return None
        logprob = [math.log(v) for v in values]
    else:
        if any(v > 0 for v in values):
            return None
        logprob = values
    prompts = column("prompt") if "prompt" in names else [""] * len(rows)
    if any(not isinstance(x, str) or not x.strip() for x in prompts) and "prompt" in names:
        return None
    count = [number(x) for x in column("count")] if "count" in names else [1.0] * len(rows)
    if not all(math.isfinite(c) and 1 <= c <= 2**53 and c == round(c) for c in count):
        return None
    ids = column("outcome") if "outcome" in names else [str(i) for i in range(len(rows))]
    if any(not isinstance(i, str) or not i.strip() for i in ids):
        return None
    merged = {}
    for key, lp, r, c in zip(zip(prompts, ids, strict=True), logprob, reward, count,
                             strict=True):
        if key in merged:
            first = merged[key]
            if (abs(lp - first[0]) > LOGPROB_TOLERANCE + 1e-12 * abs(first[0])
                    or abs(r - first[1]) > 1e-12 * abs(first[1])):
                return None
            first[2] += c
            first[3] += c * (lp - first[0])
        else:
            merged[key] = [lp, r, c, 0.0]
    if any(c > 2**53 for _, _, c, _ in merged.values()):
        return None
    merged = {key: [lp + shift / c, r, c] for key, (lp, r, c, shift) in merged.items()}
    order = list(dict.fromkeys(prompts))
    merged = dict(sorted(merged.items(), key=lambda item: order.index(item[0][0])))
    prob = {}
    for prompt in order:
        mine = [lp for (q, _), (lp, _, _) in merged.items() if q == prompt]
        top = max(mine)
        total = top + math.log(math.fsum(math.exp(lp - top) for lp in mine))
        if abs(total - math.log1p(SUM_TOLERANCE)) < 1e-12 or (
                not reference and abs(abs(math.expm1(total)) - SUM_TOLERANCE) < 1e-12):
            return "borderline"
        if total > math.log1p(SUM_TOLERANCE):
            return None  # no model gives these probabilities
        if reference and not normalize and abs(math.expm1(total)) > SUM_TOLERANCE:
            return None
        prob.update({key: math.exp(lp - total) for key, (lp, _, _) in merged.items()
                     if key[0] == prompt})
    if reference:
        if any(abs(math.log(p / SMALLEST_MASS)) < 1e-9 for p in prob.values() if p > 0):
            return "borderline"
        if min(prob.values()) < SMALLEST_MASS:
            return None
    return pd.DataFrame({"outcome": [i for _, i in merged], "prob": [prob[k] for k in merged],
                         "logprob": [lp for lp, _, _ in merged.values()],
                         "reward": [r for _, r, _ in merged.values()],
                         "count": [int(c) for _, _, c in merged.values()],
                         "prompt": [q for q, _ in merged]})


def check_against_oracle(path, header, rows, normalize, last: int, where="line"):
    """``load_samples`` (several prompts) or ``load_user_file`` (one) against the oracle;
    ``last`` is the largest line (or row) a message may name."""
    prompts = "prompt" in [str(name).strip() for name in header]
    expected = oracle(header, rows, normalize, reference=not prompts)
    assume(not isinstance(expected, str))
    try:
        if prompts:
            table = load_samples(path)
        else:
            table = load_user_file(path, normalize=normalize)
    except ReferenceFileError as err:
        message = str(err)
        assert message.startswith(str(path)), message
        for at in re.findall(rf"\b{where} (\d+)\b", message):
            assert 1 <= int(at) <= last, message
        assert expected is None, f"refused a file the rules accept: {message}"
        return None
    assert expected is not None, f"accepted a file the rules refuse:\n{table}"
    if prompts:
        assert list(table.columns) == ["prompt", "completion", "logprob", "reward", "count"]
        assert list(table["prompt"]) == list(expected["prompt"])
        assert list(table["completion"]) == list(expected["outcome"])
        np.testing.assert_allclose(table["logprob"], expected["logprob"], rtol=1e-12)
    else:
        assert list(table.columns) == ["outcome", "prob", "reward", "count"]
        assert list(table["outcome"]) == list(expected["outcome"])
        np.testing.assert_allclose(table["prob"], expected["prob"], rtol=1e-12)
        assert table["prob"].sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(table["prob"] >= SMALLEST_MASS)
    np.testing.assert_array_equal(table["reward"], expected["reward"])
    np.testing.assert_array_equal(table["count"], expected["count"])
    assert np.all(np.isfinite(table["reward"]))
    return table


# --------------------------------------------------------------------------- generated files


def finite_text(value: float) -> str:
    return repr(float(value))


@st.composite
def samples(draw, bad_cells=True, max_rows=8, prompted=False):
    """``(header, rows, normalize)`` of a sample file: a few outcomes, drawn into rows with
    repeats (their log-probs sometimes noisy); probabilities from a distribution, or
    arbitrary; cells sometimes bad; with
    ``prompted``, a prompt column (rows of one outcome may fall under different prompts)."""
    size = draw(st.integers(1, 5))
    ids = draw(st.lists(st.sampled_from(IDS), min_size=size, max_size=size, unique=True))
    if draw(st.integers(0, 2)) > 0:
        weights = draw(st.lists(st.floats(1e-3, 1.0), min_size=size, max_size=size))
        probs = [w / math.fsum(weights) for w in weights]
    else:
        probs = draw(st.lists(st.one_of(st.floats(1e-320, 1.5), st.floats(-1.0, 0.0)),
                              min_size=size, max_size=size))
    rewards = draw(st.lists(st.floats(-1e6, 1e6), min_size=size, max_size=size))
    picks = list(range(size)) + draw(st.lists(st.integers(0, size - 1), max_size=max_rows))
    picks = draw(st.permutations(picks))[:max_rows] if draw(st.booleans()) else picks
    use_log = draw(st.booleans())
    header = ([" outcome " if draw(st.booleans()) else "outcome"] if draw(st.booleans()) else [])
    header.append("logprob" if use_log else "prob")
    if draw(st.integers(0, 19)) == 0:
        header.append("prob" if use_log else "logprob")
    if draw(st.integers(0, 19)) > 0:
        header.append("reward")
    with_count = draw(st.booleans())
    if with_count:
        header.append("count")
    if prompted:
        header.append("prompt")
    header += draw(st.lists(st.sampled_from(["note", "", "prob.1", "Reward"]), max_size=2))
    if draw(st.integers(0, 19)) == 0:
        header.append(draw(st.sampled_from(USED)))
    rows, seen = [], set()
    for k in picks:
        # a repeated draw's log-prob may carry batch noise, within the tolerance or beyond it
        noise = draw(st.sampled_from([0.0, 0.0, -4e-4, 2.5e-3])) if k in seen else 0.0
        seen.add(k)
        cells = {"outcome": ids[k],
                 "prob": finite_text(probs[k]),
                 "logprob": finite_text(math.log(probs[k]) + noise if probs[k] > 0 else 1.0),
                 "reward": finite_text(rewards[k]),
                 "count": str(draw(st.integers(1, 5))),
                 "prompt": draw(st.sampled_from(PROMPTS[:2] if draw(st.integers(0, 9))
                                                else PROMPTS))}
        if bad_cells and draw(st.integers(0, 24)) == 0:
            cells[draw(st.sampled_from(USED))] = draw(st.sampled_from(
                BAD_NUMBERS + ["0", "1.5", "-2", "1e19", " 0.5 ", "  "] + IDS))
        rows.append([cells.get(name.strip(), "x") for name in header])
    normalize = draw(st.booleans())
    return header, rows, normalize


def csv_text(header, rows, blank_lines=()) -> str:
    """The rows as CSV (quoted where needed), with blank lines after the given row indices."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    text = out.getvalue()
    for i, row in enumerate(rows):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(row)
        text += out.getvalue() + ("\n" if i in blank_lines else "")
    return text


@SETTINGS
@given(sample=samples(), blanks=st.sets(st.integers(0, 8), max_size=3))
def test_csv_matches_the_rules(tmp_path, sample, blanks):
    """Columns missing, extra or twice; NaN, inf, text, negative, above 1, not normalised;
    repeated outcomes (agreeing or not); blank lines: refused exactly when the rules say."""
    header, rows, normalize = sample
    path = tmp_path / "fuzz.csv"
    path.write_text(csv_text(header, rows, blanks), encoding="utf-8")
    check_against_oracle(path, header, rows, normalize, len(rows) + 1 + len(blanks))


@SETTINGS
@given(sample=samples(bad_cells=False))
def test_parquet_matches_the_rules(tmp_path, sample):
    """The same rules hold for Parquet, with numbers stored as numbers (NaN and inf too)."""
    header, rows, normalize = sample
    assume(len(set(header)) == len(header) and rows)
    frame = pd.DataFrame(rows, columns=header)
    for name in header:
        if name.strip() in ("prob", "logprob", "reward", "count"):
            frame[name] = frame[name].map(number)
    path = tmp_path / "fuzz.parquet"
    frame.to_parquet(path)
    cells = frame.astype(object).to_numpy().tolist()
    check_against_oracle(path, header, cells, normalize, len(rows), where="row")


@SETTINGS
@given(sample=samples(prompted=True), blanks=st.sets(st.integers(0, 8), max_size=3))
def test_csv_of_several_prompts_matches_the_rules(tmp_path, sample, blanks):
    """With a prompt column (load_samples): merging and the mass check hold per prompt; a
    blank prompt is refused."""
    header, rows, normalize = sample
    path = tmp_path / "prompts.csv"
    path.write_text(csv_text(header, rows, blanks), encoding="utf-8")
    check_against_oracle(path, header, rows, normalize, len(rows) + 1 + len(blanks))


def json_cell(name: str, cell: str):
    """A cell as a generation pipeline writes it in JSON: numbers as numbers where they parse
    (NaN and inf too: Python's json writes them), text otherwise."""
    if name.strip() in ("prob", "logprob", "reward", "count"):
        value = number(cell)
        return cell if math.isnan(value) and cell.strip().lower() != "nan" else value
    return cell


@SETTINGS
@given(sample=samples(prompted=True), prompted=st.booleans(), data=st.data())
def test_json_lines_match_the_rules(tmp_path, sample, prompted, data):
    """JSON Lines: one object per line, blank lines skipped (messages name lines), keys an object
    lacks are missing values; the same rules as CSV, one prompt or several."""
    header, rows, normalize = sample
    if not prompted:
        keep = [i for i, name in enumerate(header) if name.strip() != "prompt"]
        header, rows = [header[i] for i in keep], [[row[i] for i in keep] for row in rows]
    assume(len({name.strip() for name in header}) == len(header))
    blank = data.draw(st.sets(st.integers(0, len(rows)), max_size=2))
    lines, objects = [], []
    for i, row in enumerate(rows):
        objects.append({name: json_cell(name, cell) for name, cell in zip(header, row,
                                                                           strict=True)})
        lines.append(json.dumps(objects[-1]))
        if i in blank:
            lines.append("   ")
    path = tmp_path / "samples.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cells = [[obj[name] for name in header] for obj in objects]
    check_against_oracle(path, header, cells, normalize, len(lines), where="line")


@pytest.mark.parametrize(("line", "expected"), [
    ("{\"prompt\": \"p\", \"logprob\": -0.5", "line 2 is not JSON"),
    ("[1, 2]", "line 2 is a JSON list, not an object"),
    ("\"text\"", "line 2 is a JSON str, not an object"),
])
def test_json_line_that_is_not_an_object(tmp_path, line, expected):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"prompt": "p", "completion": "a", "logprob": 0.0, "reward": 1.0})
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=re.escape(f"{path}: {expected}")):
        load_samples(path)


FAULTS = {
    "prob is text": ("prob", "abc"),
    "prob is NaN": ("prob", "nan"),
    "prob is empty": ("prob", ""),
    "prob negative": ("prob", "-0.25"),
    "prob zero": ("prob", "0"),
    "prob above 1": ("prob", "1.25"),
    "reward is inf": ("reward", "inf"),
    "reward is -inf": ("reward", "-inf"),
    "count fractional": ("count", "1.5"),
    "count zero": ("count", "0"),
    "count beyond 2^53": ("count", "1e19"),
    "outcome blank": ("outcome", "  "),
    "outcome repeated, other reward": ("outcome", None),
    "prob tiny": ("prob", "1e-320"),
    "prob below 1e-300": ("prob", "1e-305"),
}


@SETTINGS
@given(size=st.integers(2, 8), data=st.data(), fault=st.sampled_from(sorted(FAULTS)))
def test_one_fault_is_named_at_its_row(tmp_path, size, data, fault):
    """A good file with one bad cell: the message names the file, its line and column."""
    column, value = FAULTS[fault]
    weights = data.draw(st.lists(st.floats(1e-2, 1.0), min_size=size, max_size=size))
    header = ["outcome", "prob", "reward", "count"]
    rows = [[f"o{i}", repr(w / math.fsum(weights)), repr(float(i)), "1"]
            for i, w in enumerate(weights)]
    at = data.draw(st.integers(1 if value is None else 0, size - 1))
    rows[at][header.index(column)] = rows[0][0] if value is None else value
    path = tmp_path / "fault.csv"
    path.write_text(csv_text(header, rows), encoding="utf-8")
    normalize = data.draw(st.booleans()) or fault.startswith("prob ")  # else the sum is off
    with pytest.raises(ReferenceFileError) as info:
        load_user_file(path, normalize=normalize)
    message = str(info.value)
    assert message.startswith(f"{path}, line {at + 2}: "), message
    assert (f"'{column}'" if value is not None else "'o0' appears again") in message, message


@SETTINGS
@given(size=st.integers(1, 6), extra=st.integers(1, 3), data=st.data())
def test_row_with_more_cells_than_the_header(tmp_path, size, extra, data):
    """More cells than column names is refused (never shifted into an index), naming the line."""
    rows = [[repr(1 / size), repr(float(i))] for i in range(size)]
    at = data.draw(st.integers(0, size - 1))
    rows[at] += ["7"] * extra
    path = tmp_path / "wide.csv"
    path.write_text(csv_text(["prob", "reward"], rows), encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=rf"line {at + 2} of the file has {2 + extra} "
                                                 "cells; expected 2"):
        load_user_file(path)


# --------------------------------------------------------------------------- encodings, junk

GOOD = "outcome,prob,reward\ncafé,0.25,1\nthé,0.75,2\n"


@pytest.mark.parametrize(("encoding", "expected"), [
    ("latin-1", "is not UTF-8 text; save it as UTF-8"),
    ("cp1252", "is not UTF-8 text; save it as UTF-8"),
    ("utf-16", "is UTF-16 text, not UTF-8"),
    ("utf-16-le", "is not UTF-8 text"),
    ("utf-32", "is UTF-32 text, not UTF-8"),
])
def test_wrong_encoding_is_refused(tmp_path, encoding, expected):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(GOOD.encode(encoding))
    with pytest.raises(ReferenceFileError, match=re.escape(expected)):
        load_user_file(path)


def test_latin1_row_is_named(tmp_path):
    """The first undecodable line is line 5 of the file, blank lines counted."""
    path = tmp_path / "latin.csv"
    path.write_bytes("outcome,prob,reward\n\na,0.5,1\n\ncafé,0.5,2\n".encode("latin-1"))
    with pytest.raises(ReferenceFileError, match=r"latin\.csv, line 5: is not UTF-8"):
        load_user_file(path)


def test_utf8_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(GOOD.encode("utf-8-sig"))
    assert list(load_user_file(path)["outcome"]) == ["café", "thé"]


@SETTINGS
@given(junk=st.binary(max_size=300), prefix=st.sampled_from([b"", b"prob,reward\n",
                                                              b"prob,reward\n0.5,1\n"]))
def test_binary_junk_gives_a_clear_error_or_a_valid_table(tmp_path, junk, prefix):
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"junk{suffix}"
        path.write_bytes(prefix + junk)
        try:
            table = load_user_file(path, normalize=True)
        except ReferenceFileError as err:
            assert str(err).startswith(str(path)), err
            continue
        assert table["prob"].sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(table["prob"] >= SMALLEST_MASS) and np.all(np.isfinite(table["reward"]))


@pytest.mark.parametrize("content", ["", "\n\n\n", "   \n", "prob,reward\n", "prob,reward\n\n\n"])
def test_empty_or_header_only(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=r"empty|no data rows|expected exactly one"):
        load_user_file(path)


# --------------------------------------------------------------------------- regressions


def test_repeated_column_is_refused(tmp_path):
    """Found by fuzzing: a second 'reward' column was silently ignored, and ' prob' beside
    'prob' crashed with a TypeError."""
    for header in ("prob,reward,reward", "prob,reward, prob"):
        path = tmp_path / "twice.csv"
        path.write_text(f"{header}\n0.5,1,2\n0.5,2,3\n", encoding="utf-8")
        with pytest.raises(ReferenceFileError, match=r"column '(reward|prob)' appears more "
                                                     "than once"):
            load_user_file(path)


def test_repeated_column_in_parquet(tmp_path):
    """pyarrow writes a Parquet file with two 'reward' columns but will not read it back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "twice.parquet"
    pq.write_table(pa.table([[0.5, 0.5], [1.0, 2.0], [3.0, 4.0]],
                            names=["prob", "reward", "reward"]), path)
    with pytest.raises(ReferenceFileError, match=r"twice\.parquet: cannot be read as parquet: "
                                                 r"Multiple matches for FieldRef\.Name\(reward\)"):
        load_user_file(path)


def test_extra_cell_is_not_read_as_an_index(tmp_path):
    """Found by fuzzing: pandas took the first cell of rows one cell longer than the header
    as an index, shifting every value one column left."""
    path = tmp_path / "shifted.csv"
    path.write_text("prob,reward\n0.5,0.5,1\n0.5,0.5,2\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match="line 2 of the file has 3 cells"):
        load_user_file(path)


def test_ids_are_kept_as_written(tmp_path):
    """Found by fuzzing: 'NA' and 'None' were read as missing ids, and a header ' outcome '
    lost the text type so '01' became 1."""
    path = tmp_path / "ids.csv"
    path.write_text(" outcome ,prob,reward\nNA,0.25,1\nNone,0.25,2\n01,0.25,3\n1,0.25,4\n",
                    encoding="utf-8")
    assert list(load_user_file(path)["outcome"]) == ["NA", "None", "01", "1"]


def test_count_beyond_int64_is_refused(tmp_path):
    """Found by fuzzing: a count of 1e19 passed and wrapped to a negative int64."""
    path = tmp_path / "count.csv"
    path.write_text("prob,reward,count\n0.5,1,1e19\n0.5,2,1\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=r"line 2: 'count' is 1e\+19; expected a "
                                                 r"positive integer up to 2\^53"):
        load_user_file(path)
    path.write_text("outcome,prob,reward,count\n" + "a,1,1,9007199254740992\n" * 3,
                    encoding="utf-8")
    with pytest.raises(ReferenceFileError, match="counts of completion 'a' add up to more"):
        load_user_file(path)


@pytest.mark.parametrize("tiny", ["1e-320", "1e-305"])
def test_tiny_probability_is_refused(tmp_path, tiny):
    """Masses of 1e-320 (subnormal) or 1e-305 were accepted, and the win-rate and claims stages
    then failed inside their jobs (claims: n = 50/p(C*) overflows)."""
    path = tmp_path / "tiny.csv"
    path.write_text(f"prob,reward\n1,1\n{tiny},2\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=r"line 3: 'prob' gives probability .* "
                                                 "expected at least 1e-300"):
        load_user_file(path, normalize=True)


# --------------------------------------------------------------------------- a huge file

ROWS = 10**6


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    """10^6 rows of 250000 outcomes (each repeated 4 times) with log-probabilities."""
    rng = np.random.default_rng(20240101)
    outcomes = 250_000
    logp = np.log(rng.dirichlet(np.ones(outcomes)))
    reward = rng.integers(0, 1000, outcomes).astype(float)
    pick = rng.permutation(np.repeat(np.arange(outcomes), 4))
    frame = pd.DataFrame({"outcome": [f"o{k}" for k in pick], "logprob": logp[pick],
                          "reward": reward[pick], "count": rng.integers(1, 10, ROWS)})
    path = tmp_path_factory.mktemp("huge") / "huge.csv"
    frame.to_csv(path, index=False)
    return path, frame, logp, reward


def test_huge_file(huge):
    """One million rows load with outcomes merged and counts added, in the first-seen order."""
    path, frame, logp, reward = huge
    table = load_user_file(path)
    first = frame.drop_duplicates("outcome")
    ids = first["outcome"].str[1:].astype(int).to_numpy()
    assert list(table["outcome"]) == list(first["outcome"])
    np.testing.assert_allclose(table["prob"], np.exp(logp[ids] - np.logaddexp.reduce(logp)),
                               rtol=1e-12)
    np.testing.assert_array_equal(table["reward"], reward[ids])
    counts = frame.groupby("outcome", sort=False)["count"].sum()
    np.testing.assert_array_equal(table["count"], counts.loc[table["outcome"]].to_numpy())
    assert table["prob"].sum() == pytest.approx(1.0, abs=1e-12)


def test_huge_file_fault_in_the_last_row(huge, tmp_path):
    path, *_ = huge
    lines = path.read_text(encoding="utf-8").splitlines()
    outcome, _, reward, count = lines[-1].split(",")
    lines[-1] = ",".join([outcome, "nan", reward, count])
    bad = tmp_path / "huge_bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=rf"line {ROWS + 1}: column 'logprob' is 'nan'"):
        load_user_file(bad)
