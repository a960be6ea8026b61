"""Reading a sample file into flat rows: file types, and the layouts real tools write.

:func:`read_rows` turns a file into one row per sample (a :class:`pandas.DataFrame` of the
file's own columns) and a :class:`Source` that says where each row sits in the file, for
messages. :mod:`bonkl.plumbing.userfile` then validates the rows.

File types, by suffix (a ``.gz`` after a text suffix is decompressed):

- ``.csv`` and ``.tsv``: UTF-8 text (a byte-order mark is fine), every cell read as text;
- ``.jsonl``, ``.ndjson`` and ``.json``: JSON Lines, one object per line (what
  ``datasets.Dataset.to_json`` writes, under either suffix); read column-wise by
  ``pyarrow.json.read_json``, and object by object (exact messages) when that fails;
- ``.parquet`` and ``.pq``.

Layouts (``layout``, auto-detected from the first record's keys where unambiguous):

- ``rows``: one sample per row, the columns named by :class:`~bonkl.plumbing.userfile.Columns`.
  A log-prob cell may hold a list of per-token log-probs (TRL, ``datasets``): it is summed. A
  prompt or completion may be conversational, a list of ``{"role", "content"}`` messages
  (TRL's conversational format): a prompt becomes its messages as ``role: content`` lines,
  a completion the contents of its messages joined by newlines.
- ``vllm``: one ``vllm.RequestOutput`` per line, ``{"prompt": ..., "outputs": [{"text",
  "cumulative_logprob", "token_ids", ...}, ...]}``; each output is a sample. Its reward is
  the output's ``reward``, else ``rewards[i]`` of the line, ``i`` the output's ``index``.
- ``openai``: one OpenAI response per line (``{"choices": [...]}``, or a Batch API line with
  it under ``response.body``). Chat completions: the text is ``choices[i].message.content``,
  the log-prob the sum of ``choices[i].logprobs.content[j].logprob``; legacy completions:
  ``choices[i].text`` and the sum of ``choices[i].logprobs.token_logprobs``. The prompt is the
  line's ``prompt`` (legacy request), else its ``messages`` (chat request), else the Batch
  API's ``custom_id``; the reward as for ``vllm``, by ``choices[i].index``.

A nested layout's rows carry ``num_tokens`` (the output's tokens) so ``neg-length`` counts
tokens. Any problem raises :class:`SampleFileError` naming the file and the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

#: Layouts :func:`read_rows` knows; ``auto`` detects one from the file's first record.
LAYOUTS = ("auto", "rows", "vllm", "openai")
#: Characters of a value quoted in a message, at most.
QUOTED = 60
_TEXT = {".csv": ",", ".tsv": "\t"}
_JSON = (".jsonl", ".ndjson", ".json")
_PARQUET = (".parquet", ".pq")
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
         b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


class SampleFileError(ValueError):
    """A user's sample or reference file that cannot be used, with the file, line and problem."""


def shown(value) -> str:
    """``repr`` of a value for a message, cut to :data:`QUOTED` characters."""
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= QUOTED else text[:QUOTED - 1] + "…"


class Source:
    """The file in messages, and where its k-th row sits: ``line L`` (1-based lines of the
    file, a CSV header being line 1) or, for Parquet, ``row k`` (1-based)."""

    def __init__(self, path: Path, lines: Callable[[], np.ndarray] | np.ndarray | None):
        self.path, self._lines = path, lines

    def __str__(self) -> str:
        return str(self.path)

    def line(self, row: int) -> int | None:
        """The 1-based file line of data row ``row`` (0-based), or ``None`` (Parquet)."""
        if self._lines is None:
            return None
        if callable(self._lines):
            self._lines = self._lines()
        return int(self._lines[row]) if row < len(self._lines) else None

    def where(self, row: int) -> str:
        """``line L`` or ``row k`` of data row ``row`` (0-based), for messages."""
        line = self.line(row)
        return f"row {row + 1}" if line is None else f"line {line}"

    def fail(self, problem: str, row: int | None = None):
        """Raise :class:`SampleFileError`: the file, the place of ``row`` if given, the
        problem."""
        where = "" if row is None else f", {self.where(row)}"
        raise SampleFileError(f"{self.path}{where}: {problem}")


def _suffix(path: Path) -> tuple[str, bool]:
    """The file type's suffix and whether the file is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gz


def _bytes(path: Path, gz: bool) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if gz else data


def _text_lines(data: bytes) -> np.ndarray:
    """1-based numbers of the lines (ended by newlines) that are not blank (JSON whitespace)."""
    lines = data.split(b"\n")
    return np.array([k for k, line in enumerate(lines, start=1) if line.strip(b" \t\r")],
                    dtype=np.int64)


def _not_utf8(source: Source, data: bytes):
    found = next((name for bom, name in _BOMS.items() if data.startswith(bom)), None)
    problem = (f"is {found} text, not UTF-8; save it as UTF-8" if found
               else "is not UTF-8 text; save it as UTF-8")
    line = None
    for number, text in enumerate(data.split(b"\n"), start=1):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            line = number
            break
    raise SampleFileError(f"{source.path}{'' if line is None else f', line {line}'}: {problem}")


def _read_delimited(path: Path, gz: bool, sep: str) -> tuple[pd.DataFrame, Source]:
    """Every cell as text; the first line that is not blank holds the column names."""
    data = _bytes(path, gz)
    source = Source(path, lambda: _csv_lines(data, sep))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        _not_utf8(source, data)
    frame = _read_delimited_columns(data, sep)
    if frame is not None:
        return frame, source
    try:
        cells = pd.read_csv(io.BytesIO(data), header=None, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig", sep=sep)
    except pd.errors.EmptyDataError:
        source.fail("the file is empty; expected a header and at least one row")
    except pd.errors.ParserError as err:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if found is None:
            source.fail(f"cannot be read as {path.suffix[1:]}: {str(err).strip()}")
        expected, line, seen = found.groups()
        source.fail(f"line {line} of the file has {seen} cells; expected {expected}, one per "
                    "column name of the header")
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = cells.iloc[0].to_list()
    return frame, source


def _read_delimited_columns(data: bytes, sep: str) -> pd.DataFrame | None:
    """The cells as text, read column-wise by pyarrow; ``None`` where it cannot (a blank line
    of spaces, a row of another width: pandas then reads it, or says which line is wrong)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = next((line for line in io.BytesIO(data) if line.strip(b" \t\r\n")), None)
    if first is None:
        return None
    try:
        width = len(next(csv.reader([first.decode("utf-8")], delimiter=sep)))
    except (csv.Error, UnicodeDecodeError):  # e.g. a bare carriage return: pandas says where
        return None
    names = [f"f{k}" for k in range(width)]
    try:
        table = pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowException, OSError):
        return None
    if table.num_rows < 1:
        return None
    frame = table.to_pandas()
    header = frame.iloc[0].to_list()
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def _csv_lines(data: bytes, sep: str) -> np.ndarray:
    """The file line on which each data row starts (blank lines skipped, header not a row)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=sep)
    starts, previous = [], 0
    for record in reader:  # a blank line is a record of its own, skipped as pandas does
        start, previous = previous + 1, reader.line_num
        if len(record) > 1 or any(cell.strip(" \t\r") for cell in record):
            starts.append(start)
    return np.array(starts[1:], dtype=np.int64)


def _read_parquet(path: Path, gz: bool) -> tuple[pd.DataFrame, Source]:
    source = Source(path, None)
    try:
        return pd.read_parquet(path), source
    except Exception as err:  # noqa: BLE001 - any parser failure is the user's file
        source.fail(f"cannot be read as parquet: {str(err).strip()}")


def _json_records(path: Path, gz: bool, progress) -> tuple[list[dict], np.ndarray]:
    """One JSON object per line that is not blank, with its line number."""
    data = _bytes(path, gz)
    source = Source(path, None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _not_utf8(source, data)
    records, lines = [], []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is text
        if not line.strip(" \t\r"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            source.fail(f"line {number} is not JSON ({err.msg}); expected one JSON object per "
                        "line")
        if not isinstance(record, dict):
            array = " (a JSON array is not read: write JSON Lines, as Dataset.to_json does)" \
                if isinstance(record, list) and number == 1 else ""
            source.fail(f"line {number} is a JSON {type(record).__name__}, not an object; "
                        f"expected one JSON object per line{array}")
        records.append(record)
        lines.append(number)
        if progress is not None and len(records) % 250_000 == 0:
            progress(f"read {len(records):,} lines")
    if not records:
        source.fail("the file is empty; expected at least one JSON object")
    return records, np.asarray(lines, dtype=np.int64)


def _read_json_columns(path: Path) -> pd.DataFrame | None:
    """JSON Lines read column-wise by pyarrow; ``None`` where it cannot (then the
    object-by-object reader gives the exact message)."""
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(path, read_options=pj.ReadOptions(block_size=1 << 24))
    except (pa.ArrowException, OSError):
        return None
    if table.num_rows == 0:
        return None
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_nested(kind) or pa.types.is_null(kind):
            # per-token lists, conversational messages, objects: Python values, as json gives
            columns[name] = pd.Series(column.to_pylist(), dtype=object)
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)


def _first_record(path: Path, gz: bool) -> dict | None:
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8-sig") as stream:
            for line in stream:
                if line.strip():
                    record = json.loads(line)
                    return record if isinstance(record, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError, OSError, EOFError):
        return None
    return None


def detect_layout(record: dict) -> str:
    """The layout of a JSON record: ``vllm``, ``openai`` or ``rows``."""
    outputs = record.get("outputs")
    if isinstance(outputs, list) and outputs and isinstance(outputs[0], dict) \
            and "text" in outputs[0]:
        return "vllm"
    if isinstance(_openai_body(record), dict):
        return "openai"
    return "rows"


def _openai_body(record: dict):
    if isinstance(record.get("choices"), list):
        return record
    response = record.get("response")
    if isinstance(response, dict) and isinstance(response.get("body"), dict) \
            and isinstance(response["body"].get("choices"), list):
        return response["body"]
    return None


def read_rows(path: str | Path, layout: str = "auto", progress: Callable[[str], None] | None
              = None) -> tuple[pd.DataFrame, Source, str]:
    """The file's samples as flat rows, where they sit, and the layout read.

    Parameters
    ----------
    path
        A CSV, TSV, JSON Lines or Parquet file (see the module doc).
    layout
        One of :data:`LAYOUTS`.
    progress
        Called with a short message as a long file is read.

    Returns
    -------
    tuple
        ``(rows, source, layout)``: the rows (the file's own columns; a nested layout's
        flattened to ``prompt, completion, logprob, reward, num_tokens``), a
        :class:`Source` and the layout read.
    """
    path = Path(path)
    suffix, gz = _suffix(path)
    source = Source(path, None)
    known = sorted(set(_TEXT) | set(_JSON) | set(_PARQUET))
    if suffix not in known:
        source.fail(f"unknown file type {''.join(path.suffixes[-2:]) or path.name!r}; expected "
                    f"one of {known} (text ones may end in .gz)")
    if not path.exists():
        source.fail("no such file")
    if not path.is_file():
        source.fail("is not a file")
    if layout not in LAYOUTS:
        source.fail(f"unknown layout {layout!r}; expected one of {list(LAYOUTS)}")
    if suffix in _TEXT or suffix in _PARQUET:
        if layout in ("vllm", "openai"):
            source.fail(f"the {layout} layout is JSON Lines; this is a {suffix[1:]} file")
        reader = _read_parquet if suffix in _PARQUET else (
            lambda p, g: _read_delimited(p, g, _TEXT[suffix]))
        rows, source = reader(path, gz)
        return rows, source, "rows"
    if layout == "auto":
        first = _first_record(path, gz)
        layout = detect_layout(first) if first is not None else "rows"
    if layout == "rows":
        rows = _read_json_columns(path)
        if rows is not None:
            return rows, Source(path, lambda: _text_lines(_bytes(path, gz))), layout
        records, lines = _json_records(path, gz, progress)
        return pd.DataFrame.from_records(records), Source(path, lines), layout
    records, lines = _json_records(path, gz, progress)
    flatten = _vllm_rows if layout == "vllm" else _openai_rows
    rows, at = [], []
    for record, line in zip(records, lines, strict=True):
        for row in flatten(Source(path, [line]), record):
            rows.append(row)
            at.append(line)
    if not rows:
        source.fail(f"no samples in the {layout} layout; expected at least one output")
    return pd.DataFrame.from_records(rows), Source(path, np.asarray(at)), layout


def _reward(source: Source, record: dict, item: dict, index, what: str):
    if "reward" in item:
        return item["reward"]
    rewards = record.get("rewards")
    if isinstance(rewards, list):
        if not isinstance(index, int) or not 0 <= index < len(rewards):
            source.fail(f"{what} has index {shown(index)}, but 'rewards' holds {len(rewards)} "
                        "values; expected one reward per output, aligned by index", 0)
        return rewards[index]
    return record.get("reward")  # one reward for the line, or missing (refused later)


def _vllm_rows(source: Source, record: dict):
    """The outputs of one ``RequestOutput`` (vllm.outputs.RequestOutput / CompletionOutput)."""
    outputs = record.get("outputs")
    if not isinstance(outputs, list):
        source.fail("'outputs' is missing or not a list; expected vLLM's RequestOutput, "
                    "{'prompt': ..., 'outputs': [{'text': ..., 'cumulative_logprob': ...}]}", 0)
    for i, output in enumerate(outputs):
        if not isinstance(output, dict) or "text" not in output:
            source.fail(f"outputs[{i}] is {shown(output)}; expected an object with 'text'", 0)
        logprob = output.get("cumulative_logprob")
        if logprob is None:
            source.fail(f"outputs[{i}].cumulative_logprob is missing or null; expected the "
                        "base (reference) model's log-prob of the whole output (vLLM may leave "
                        "it null unless SamplingParams(logprobs=...) is set)", 0)
        tokens = output.get("token_ids")
        index = output.get("index", i)
        yield {"prompt": record.get("prompt"), "completion": output["text"], "logprob": logprob,
               "reward": _reward(source, record, output, index, f"outputs[{i}]"),
               "num_tokens": len(tokens) if isinstance(tokens, list) else None}


def _messages_text(messages) -> str | None:
    if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
        return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in messages)
    return None


def _openai_rows(source: Source, record: dict):
    """The choices of one OpenAI chat or legacy completion (a Batch API line too)."""
    body = _openai_body(record)
    if body is None:
        source.fail("no 'choices'; expected an OpenAI chat or legacy completion, or a Batch "
                    "API line with one under 'response.body'", 0)
    prompt = record.get("prompt")
    if prompt is None:
        prompt = _messages_text(record.get("messages"))
    if prompt is None:
        prompt = record.get("custom_id")
    if prompt is None:
        source.fail("no prompt: an OpenAI response does not repeat it; expected a 'prompt' "
                    "(or 'messages') key beside 'choices', or the Batch API's 'custom_id'", 0)
    for i, choice in enumerate(body["choices"]):
        if not isinstance(choice, dict):
            source.fail(f"choices[{i}] is {shown(choice)}; expected an object", 0)
        logprobs = choice.get("logprobs")
        if "message" in choice:
            message = choice["message"] or {}
            text = message.get("content")
            tokens = logprobs.get("content") if isinstance(logprobs, dict) else None
            if not isinstance(tokens, list):
                source.fail(f"choices[{i}].logprobs.content is missing; request the completion "
                            "with logprobs=true, from the base (reference) model", 0)
            values = [t.get("logprob") if isinstance(t, dict) else None for t in tokens]
        else:
            text = choice.get("text")
            values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
            if not isinstance(values, list):
                source.fail(f"choices[{i}].logprobs.token_logprobs is missing; request the "
                            "completion with logprobs set, from the base (reference) model", 0)
        if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values):
            bad = next(v for v in values if not isinstance(v, int | float) or isinstance(v, bool))
            source.fail(f"choices[{i}] has a token log-prob {shown(bad)}; expected numbers (a "
                        "null one is a prompt token of echo=True: request without echo)", 0)
        yield {"prompt": prompt, "completion": text, "logprob": math.fsum(values),
               "reward": _reward(source, record, choice, choice.get("index", i),
                                 f"choices[{i}]"),
               "num_tokens": len(values)}
