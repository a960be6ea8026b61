"""Real tools' files, read as they are written (bonkl.plumbing.formats + userfile.load_samples).

Each fixture is in the exact shape of the tool's own output; the source of the shape is cited
beside it. Each refusal is checked with its message.
"""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from bonkl.plumbing.formats import detect_layout
from bonkl.plumbing.userfile import (
    SAMPLES_COLUMNS,
    Columns,
    ReferenceFileError,
    load_samples,
)


def jsonl(path, records) -> object:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def refused(path, *fragments, **kwargs) -> str:
    with pytest.raises(ReferenceFileError) as info:
        load_samples(path, **kwargs)
    message = str(info.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --------------------------------------------------------------------------- vLLM

# vllm/outputs.py: RequestOutput(request_id, prompt, prompt_token_ids, prompt_logprobs,
# outputs, finished, ...) and CompletionOutput(index, text, token_ids, cumulative_logprob,
# logprobs, finish_reason, stop_reason), saved one RequestOutput per line with its
# CompletionOutputs as dicts (dataclasses.asdict), the rewards beside them.
VLLM = [
    {"request_id": "0", "prompt": "The capital of France is", "prompt_token_ids": [464, 3139],
     "prompt_logprobs": None, "finished": True,
     "outputs": [
         {"index": 0, "text": " Paris.", "token_ids": [6342, 13], "cumulative_logprob": -0.21,
          "logprobs": None, "finish_reason": "stop", "stop_reason": None},
         {"index": 1, "text": " a city.", "token_ids": [257, 1748, 13],
          "cumulative_logprob": -6.5, "logprobs": None, "finish_reason": "stop",
          "stop_reason": None},
         {"index": 2, "text": " Paris.", "token_ids": [6342, 13],
          "cumulative_logprob": -0.2104, "logprobs": None, "finish_reason": "stop",
          "stop_reason": None}],
     "rewards": [1.0, 0.0, 1.0]},
    {"request_id": "1", "prompt": "Write a haiku.", "prompt_token_ids": [16594, 257],
     "prompt_logprobs": None, "finished": True,
     "outputs": [
         {"index": 0, "text": "Old pond, a frog", "token_ids": [1, 2, 3, 4],
          "cumulative_logprob": -4871.5, "logprobs": None, "finish_reason": "length",
          "stop_reason": None, "reward": 0.25}]},
]


def test_vllm_request_outputs(tmp_path):
    """Outputs are samples, rewards aligned by index (or per output); duplicates merge with
    their log-probs averaged; a 4871-nat completion is kept as is."""
    path = jsonl(tmp_path / "vllm.jsonl", VLLM)
    assert detect_layout(VLLM[0]) == "vllm"
    table = load_samples(path)
    assert list(table.columns) == SAMPLES_COLUMNS
    assert list(table["prompt"]) == ["The capital of France is"] * 2 + ["Write a haiku."]
    assert list(table["completion"]) == [" Paris.", " a city.", "Old pond, a frog"]
    np.testing.assert_allclose(table["logprob"], [-0.2102, -6.5, -4871.5], rtol=1e-14)
    np.testing.assert_array_equal(table["reward"], [1.0, 0.0, 0.25])
    np.testing.assert_array_equal(table["count"], [2, 1, 1])
    assert table["count"].dtype == np.int64 and table["logprob"].dtype == np.float64


def test_vllm_neg_length_counts_tokens(tmp_path):
    table = load_samples(jsonl(tmp_path / "vllm.jsonl", VLLM), Columns(reward="neg-length"))
    np.testing.assert_array_equal(table["reward"], [-2.0, -3.0, -4.0])


def test_vllm_without_logprobs_is_refused(tmp_path):
    record = json.loads(json.dumps(VLLM[0]))
    record["outputs"][1]["cumulative_logprob"] = None  # SamplingParams(logprobs=None)
    path = jsonl(tmp_path / "vllm.jsonl", [VLLM[1], record])
    refused(path, "vllm.jsonl, line 2: outputs[1].cumulative_logprob is missing or null",
            "base (reference) model")


def test_vllm_rewards_misaligned(tmp_path):
    record = dict(VLLM[0], rewards=[1.0, 0.0])
    refused(jsonl(tmp_path / "v.jsonl", [record]), "line 1: outputs[2] has index 2, but "
            "'rewards' holds 2 values; expected one reward per output")


# --------------------------------------------------------------------------- OpenAI

# The chat completion object (OpenAI API reference, "Chat Completions: the chat completion
# object", logprobs.content[j] = {token, logprob, bytes, top_logprobs}), with the request's
# messages and the user's rewards saved beside it.
CHAT = {
    "id": "chatcmpl-123", "object": "chat.completion", "created": 1694268190,
    "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello!", "refusal": None},
         "logprobs": {"content": [
             {"token": "Hello", "logprob": -0.31725305, "bytes": [72, 101, 108, 108, 111],
              "top_logprobs": []},
             {"token": "!", "logprob": -0.02380986, "bytes": [33], "top_logprobs": []}],
             "refusal": None},
         "finish_reason": "stop"},
        {"index": 1, "message": {"role": "assistant", "content": "Hi there", "refusal": None},
         "logprobs": {"content": [
             {"token": "Hi", "logprob": -1.5, "bytes": [72, 105], "top_logprobs": []},
             {"token": " there", "logprob": -0.75, "bytes": [32, 116, 104, 101, 114, 101],
              "top_logprobs": []}], "refusal": None},
         "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Greet me."}],
    "rewards": [0.8, 0.6],
}

# The legacy completion object (OpenAI API reference, "Completions (legacy)": choices[i].text,
# choices[i].logprobs = {tokens, token_logprobs, top_logprobs, text_offset}), with the
# request's prompt and per-choice rewards added.
LEGACY = {
    "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7", "object": "text_completion", "created": 1589478378,
    "model": "gpt-3.5-turbo-instruct",
    "choices": [{"text": " test.", "index": 0, "finish_reason": "length", "reward": 2.0,
                 "logprobs": {"tokens": [" test", "."], "token_logprobs": [-1.25, -0.5],
                              "top_logprobs": None, "text_offset": [15, 20]}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    "prompt": "Say this is a",
}


def test_openai_chat_completion(tmp_path):
    """Token log-probs summed; the prompt is the request's messages as role: content lines."""
    table = load_samples(jsonl(tmp_path / "chat.jsonl", [CHAT]))
    assert list(table["prompt"]) == ["system: Be brief.\nuser: Greet me."] * 2
    assert list(table["completion"]) == ["Hello!", "Hi there"]
    np.testing.assert_allclose(table["logprob"], [-0.31725305 - 0.02380986, -2.25], rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], [0.8, 0.6])


def test_openai_legacy_completion_and_batch_api(tmp_path):
    """Legacy ``token_logprobs``; a Batch API output line (``response.body``, OpenAI Batch
    guide: {id, custom_id, response: {status_code, request_id, body}, error}) takes its
    prompt from ``custom_id``."""
    body = {k: v for k, v in CHAT.items() if k not in ("messages", "rewards")}
    batch = {"id": "batch_req_123", "custom_id": "request-2",
             "response": {"status_code": 200, "request_id": "req_123", "body": body},
             "error": None, "rewards": [0.1, 0.2]}
    path = jsonl(tmp_path / "openai.jsonl", [LEGACY, batch])
    table = load_samples(path, layout="openai")
    assert list(table["prompt"]) == ["Say this is a", "request-2", "request-2"]
    np.testing.assert_allclose(table["logprob"], [-1.75, -0.34106291, -2.25], rtol=1e-15)
    np.testing.assert_array_equal(table["reward"], [2.0, 0.1, 0.2])


def test_openai_without_logprobs_or_with_echo_is_refused(tmp_path):
    no_logprobs = json.loads(json.dumps(CHAT))
    no_logprobs["choices"][1]["logprobs"] = None
    refused(jsonl(tmp_path / "a.jsonl", [no_logprobs]), "line 1: choices[1].logprobs.content "
            "is missing; request the completion with logprobs=true")
    echo = json.loads(json.dumps(LEGACY))
    echo["choices"][0]["logprobs"]["token_logprobs"] = [None, -1.25, -0.5]
    refused(jsonl(tmp_path / "b.jsonl", [echo]), "choices[0] has a token log-prob None",
            "echo=True")
    anonymous = {k: v for k, v in CHAT.items() if k != "messages"}
    refused(jsonl(tmp_path / "c.jsonl", [anonymous]), "no prompt: an OpenAI response does "
            "not repeat it")


# --------------------------------------------------------------------------- TRL / datasets

# TRL's conversational prompt-completion format (TRL docs, "Dataset formats and types":
# {"prompt": [{"role": "user", "content": ...}], "completion": [{"role": "assistant",
# "content": ...}]}), with the reference model's per-token log-probs and a reward added;
# written by datasets.Dataset.to_json, i.e. JSON Lines under a .json suffix.
TRL_ROWS = [
    {"prompt": [{"role": "user", "content": "What color is the sky?"}],
     "completion": [{"role": "assistant", "content": "It is blue."}],
     "logprobs": [-0.5, -0.25, -0.125, -0.0625], "reward": 1.0},
    {"prompt": [{"role": "user", "content": "What color is the sky?"}],
     "completion": [{"role": "assistant", "content": "Green."}],
     "logprobs": [-7.0, -0.5], "reward": -1.0},
]


def test_trl_conversational_rows_as_dataset_to_json(tmp_path):
    table = load_samples(jsonl(tmp_path / "train.json", TRL_ROWS))
    assert list(table["prompt"]) == ["user: What color is the sky?"] * 2
    assert list(table["completion"]) == ["It is blue.", "Green."]
    np.testing.assert_allclose(table["logprob"], [-0.9375, -7.5], rtol=1e-15)


def test_trl_standard_rows_with_token_lists_in_parquet(tmp_path):
    """Standard format (plain strings), the per-token list stored as a Parquet list column."""
    frame = pd.DataFrame({"prompt": ["The sky is", "The sky is"],
                          "completion": [" blue.", " green."],
                          "logprob": [[-0.5, -0.25], [-3.0, -1.0]], "reward": [1.0, 0.0]})
    frame.to_parquet(tmp_path / "rows.parquet")
    table = load_samples(tmp_path / "rows.parquet")
    np.testing.assert_allclose(table["logprob"], [-0.75, -4.0], rtol=1e-15)


def test_token_list_with_a_null_is_refused(tmp_path):
    rows = json.loads(json.dumps(TRL_ROWS))
    rows[1]["logprobs"] = [-7.0, None]
    refused(jsonl(tmp_path / "t.jsonl", rows), "t.jsonl, line 2: column 'logprobs' holds the "
            "list [-7.0, None]; expected finite per-token log-probs")


def test_preference_file_is_refused(tmp_path):
    """TRL's preference format ({"prompt", "chosen", "rejected"}, TRL docs, "Dataset
    formats and types"), even with log-probs."""
    path = jsonl(tmp_path / "prefs.jsonl", [{"prompt": "The sky is", "chosen": " blue.",
                                             "rejected": " green.", "logprob": -1.0}])
    refused(path, "is a preference file (columns 'chosen' and 'rejected')",
            "chosen completions were not")


# --------------------------------------------------------------------------- no log-probs


def test_openrlhf_batch_inference_is_refused(tmp_path):
    """openrlhf/cli/batch_inference.py writes {"input", "output"} (generate, generate_vllm)
    and {"input", "output", "reward"} (rm)."""
    path = jsonl(tmp_path / "rm.jsonl", [{"input": "Q: 1+1?", "output": " 2", "reward": 0.7}])
    refused(path, "looks like OpenRLHF's batch_inference output ('input', 'output', 'reward'), "
            "which holds no log-probs", "under the base (reference) model",
            "score the completions with the base model first")


def test_trl_best_of_n_sampler_results_are_refused(tmp_path):
    """TRL's examples/notebooks/best_of_n.ipynb saves BestOfNSampler's results as a table:
    query, response (ref), scores (ref), response (best_of), scores (best_of)."""
    path = tmp_path / "best_of.csv"
    pd.DataFrame({"query": ["I'm a pretty old"], "response (ref)": ["I'm a pretty old kid"],
                  "scores (ref)": [1.18], "response (best_of)": ["I'm a pretty old, stinking"],
                  "scores (best_of)": [2.02]}).to_csv(path, index=False)
    refused(path, "looks like TRL's BestOfNSampler results, which hold no log-probs",
            "base (reference) model")


def test_no_logprob_column_names_what_it_found(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("prompt\tcompletion\treward\np\ta\t1\n", encoding="utf-8")
    refused(path, "has no log-prob column (found 'prompt', 'completion', 'reward')")


# --------------------------------------------------------------------------- file types


@pytest.mark.parametrize("name", ["s.csv", "s.tsv", "s.csv.gz", "s.tsv.gz", "s.jsonl.gz",
                                  "s.json", "s.ndjson", "s.parquet"])
def test_every_file_type_gives_the_same_frame(tmp_path, name):
    frame = pd.DataFrame({"prompt": ["p", "p", "q"], "completion": ["a", "b", "a"],
                          "logprob": [-1.5, -2000.25, -3.0], "reward": [1.0, 2.0, 0.5],
                          "count": [3, 1, 2]})
    path = tmp_path / name
    if ".csv" in name or ".tsv" in name:
        text = frame.to_csv(index=False, sep="\t" if ".tsv" in name else ",")
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    elif name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        text = frame.to_json(orient="records", lines=True)
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    table = load_samples(path)
    pd.testing.assert_frame_equal(table.astype({"prompt": object, "completion": object}),
                                  frame.astype({"prompt": object, "completion": object}),
                                  check_dtype=False)
    assert table["count"].dtype == np.int64


def test_unknown_suffix_and_layout_mismatch(tmp_path):
    (tmp_path / "s.txt").write_text("x")
    refused(tmp_path / "s.txt", "unknown file type '.txt'")
    (tmp_path / "s.csv").write_text("prompt,logprob,reward\np,-1,1\n")
    refused(tmp_path / "s.csv", "the vllm layout is JSON Lines; this is a csv file",
            layout="vllm")


# --------------------------------------------------------------------------- robustness


def test_long_completions_stay_in_log_space(tmp_path):
    """Log-probs of -5000 and -80000 nats: kept exactly, never exponentiated or floored."""
    path = tmp_path / "long.csv"
    path.write_text("prompt,completion,logprob,reward\np,a,-5000,1\np,b,-80000.5,2\n")
    table = load_samples(path)
    np.testing.assert_array_equal(table["logprob"], [-5000.0, -80000.5])


def test_duplicates_within_tolerance_average_by_count(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("prompt,completion,logprob,reward,count\n"
                    "p,a,-10.0000,1,3\np,b,-2,0,1\np,a,-10.0008,1,1\n")
    table = load_samples(path)
    assert table.loc[0, "logprob"] == pytest.approx(-10.0002, abs=1e-12)
    assert list(table["count"]) == [4, 1]


def test_duplicates_beyond_tolerance_name_both_lines_and_values(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("prompt,completion,logprob,reward\n"
                    "p,a,-10.0,1\np,b,-2,0\n\np,a,-10.002,1\n")
    message = refused(path, "dup.csv, line 5: prompt 'p': completion 'a' appears again with a "
                      "different log-probability (beyond the tolerance, 0.001 nats) than at "
                      "line 2: -10.002 against -10.0")
    assert load_samples(path, tolerance=0.01)["count"].tolist() == [2, 1], message


def test_excess_mass_names_prompt_mass_line_and_cause(tmp_path):
    """Per-token means: three completions of mean log-prob -0.7 hold 1.49 of the mass."""
    lines = [{"prompt": "ok", "completion": "x", "logprob": -50.0, "reward": 0.0}]
    lines += [{"prompt": "means", "completion": c, "logprob": -0.7, "reward": 1.0}
              for c in "abc"]
    refused(jsonl(tmp_path / "m.jsonl", lines), "m.jsonl, line 2: prompt 'means': its 3 "
            f"distinct completions hold a mass of {3 * math.exp(-0.7):.6g}",
            "per-token mean log-probs instead of their sum")


def test_an_enumerated_support_is_accepted(tmp_path):
    """Masses summing to 1 up to rounding (1 + 1e-9) are a valid, enumerated prompt."""
    path = tmp_path / "e.csv"
    path.write_text(f"prob,reward\n0.5,1\n{0.5 + 1e-9!r},2\n")
    table = load_samples(path)
    assert np.logaddexp.reduce(table["logprob"]) == pytest.approx(0.0, abs=1e-8)


def test_values_in_messages_are_cut_to_60_characters(tmp_path):
    path = tmp_path / "v.jsonl"
    long = "x" * 500
    jsonl(path, [{"prompt": "p", "completion": "a", "logprob": -1.0, "reward": long}])
    message = refused(path, "line 1: column 'reward' is 'xxxx")
    quoted = message.split("column 'reward' is ")[1].split(";")[0]
    assert len(quoted) == 60 and quoted.endswith("…")


def test_json_lines_line_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"prompt": "p", "completion": "a", "logprob": -1, "reward": 1}\n\n   \n'
                    '{"prompt": "p", "completion": "b", "logprob": 0.5, "reward": 1}\n')
    refused(path, "b.jsonl, line 4: 'logprob' is 0.5; expected a log-probability <= 0")


def test_csv_line_numbers_count_the_header_and_quoted_newlines(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('prompt,completion,logprob,reward\n"p","two\nlines",-1,1\n\n'
                    'p,b,-2,high\n')
    refused(path, "q.csv, line 5: column 'reward' is 'high'")


def test_a_json_array_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "array.json"
    path.write_text(json.dumps([{"prompt": "p", "completion": "a", "logprob": -1.0,
                                 "reward": 1.0}]))
    refused(path, "array.json: line 1 is a JSON list, not an object; expected one JSON object "
            "per line (a JSON array is not read: write JSON Lines, as Dataset.to_json does)")


def test_column_wise_and_object_wise_json_readers_agree(tmp_path):
    """The pyarrow path (a clean file, an unused object per line) and the object-by-object
    path (forced here by an unused key whose type changes, which pyarrow refuses) give the
    same frame."""
    rng = np.random.default_rng(11)
    records = [{"prompt": f"p{k % 7}", "completion": f"c{k % 23}",
                "logprob": float(-(k % 23) - 0.5), "reward": float(k % 23 % 5),
                "count": int(rng.integers(1, 4)), "meta": {"seed": k, "tags": ["a"]}}
               for k in range(400)]
    clean = load_samples(jsonl(tmp_path / "clean.jsonl", records))
    mixed = [dict(r, extra=(1 if k % 2 else "x")) for k, r in enumerate(records)]
    assert load_samples(jsonl(tmp_path / "mixed.jsonl", mixed)).equals(clean)
    assert clean["count"].sum() == sum(r["count"] for r in records)


def test_unicode_line_separators_inside_text_are_text(tmp_path):
    """U+2028, U+0085 and a form feed may sit raw in a JSON string (the first two) or a CSV
    cell; they are not line breaks, for the rows or for the line numbers of messages."""
    path = tmp_path / "u.jsonl"
    path.write_text('{"prompt": "p", "completion": "a\u2028b\u0085c", "logprob": -1, '
                    '"reward": 1}\n{"prompt": "p", "completion": "d", "logprob": -2, '
                    '"reward": "x", "extra": 1}\n', encoding="utf-8")
    refused(path, "u.jsonl, line 2: column 'reward' is 'x'")
    path.write_text(path.read_text(encoding="utf-8").replace('"x"', "2"), encoding="utf-8")
    assert list(load_samples(path)["completion"]) == ["a\u2028b\u0085c", "d"]
    csv_path = tmp_path / "f.csv"
    csv_path.write_text("prompt,completion,logprob,reward\np,a\fb,-1,1\np,c,-2,bad\n",
                        encoding="utf-8")
    refused(csv_path, "f.csv, line 3: column 'reward' is 'bad'")
