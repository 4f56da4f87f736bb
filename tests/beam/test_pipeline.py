"""The job of `keras-transformer beam`: every key once, the answers of `predict`, and the lines a model
cannot take in the dead letter with their file and line. In-process here; tests/beam/test_at_scale.py
runs it over 2 worker processes."""

import json

import pytest

beam_sdk = pytest.importorskip(
    "apache_beam", reason="the beam extra is not installed: pip install 'keras-transformer[beam]'"
)

from keras_transformer import beam, cli, zoo
from tests.beam.beam_jobs import expected_keys, read_jsonl, write_inputs

WORDS = ["transformer", "attention", "zorbly", "keras", "beam", "pipeline", "", "worker", "bundle", "shard"]


def test_every_line_once_with_predicts_outputs(tmp_path):
    pattern = write_inputs(tmp_path / "in", WORDS)
    counters = beam.run(
        beam.ZooModelHandler("g2p_en", min_batch_size=1, max_batch_size=4), pattern, str(tmp_path / "out" / "g2p")
    )
    records = read_jsonl(tmp_path / "out" / "g2p")
    keys = expected_keys(tmp_path / "in")
    assert sorted(record["key"] for record in records) == sorted(keys)
    expected = dict(zip(WORDS, zoo.load("g2p_en", runtime="auto").predict(WORDS)))
    assert all(record["output"] == expected[keys[record["key"]]] for record in records)
    assert read_jsonl(tmp_path / "out" / "g2p", dead=True) == []
    assert counters["lines"] == counters["outputs"] == len(WORDS)


def test_malformed_lines_go_to_the_dead_letter_with_file_and_line(tmp_path):
    (tmp_path / "in").mkdir()
    tsv = tmp_path / "in" / "words.tsv"
    tsv.write_bytes(
        b"id\ttext\n"
        b"w1\tcat\n"
        b"w2\t\xff\xfeoops\n"  # 3: not UTF-8
        b"w3\n"  # 4: no text column
        b"\tdog\n"  # 5: empty key
        b"w1\tcatalog\n"  # 6: key repeated
        b"w4\tdog\n"
    )
    (tmp_path / "in" / "headless.tsv").write_text("cat\tdog\n", encoding="utf-8")
    prefix = tmp_path / "out" / "g2p"
    code = cli.main(
        ["beam", "g2p_en", "--input", str(tmp_path / "in" / "*.tsv"), "--output", str(prefix), "--key-column", "id"]
    )
    assert code == 0
    assert {record["key"]: record["output"] for record in read_jsonl(prefix)} == {"w1": "K AE1 T", "w4": "D AO1 G"}
    dead = sorted(
        (record["file"].rsplit("/", 1)[1], record["line"], record["reason"]) for record in read_jsonl(prefix, dead=True)
    )
    assert dead == [
        ("headless.tsv", 1, "the header names no column 'id' (columns: ['cat', 'dog']); its 0 lines were not read"),
        ("words.tsv", 3, "not UTF-8: 'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"),
        ("words.tsv", 4, "1 tab-separated fields; the header has 2"),
        ("words.tsv", 5, "an empty key ('id')"),
        ("words.tsv", 6, f"key 'w1' repeated (first at {tsv}:2)"),
    ]


class _FailsOnBoom(beam.ZooModelHandler):
    """g2p_en, except that a batch holding "boom" raises."""

    def run_inference(self, batch, model, inference_args=None):
        if "boom" in batch:
            raise ValueError("boom is not a word we pronounce")
        return super().run_inference(batch, model, inference_args)


def test_a_failing_batch_goes_to_the_dead_letter_and_the_job_goes_on(tmp_path):
    pattern = write_inputs(tmp_path / "in", ["cat", "boom", "dog"], files=1)
    prefix = str(tmp_path / "out" / "g2p")
    beam.run(_FailsOnBoom("g2p_en", min_batch_size=1, max_batch_size=1), pattern, prefix)
    assert sorted(record["input"] for record in read_jsonl(prefix)) == ["cat", "dog"]
    (dead,) = read_jsonl(prefix, dead=True)
    assert (dead["line"], dead["text"]) == (2, "boom")
    assert dead["reason"].startswith("inference failed: ") and "boom is not a word we pronounce" in dead["reason"]


def test_the_command_prints_where_it_wrote_and_its_counts(tmp_path, capsys):
    pattern = write_inputs(tmp_path / "in", ["cat", "dog"], files=1)
    prefix = str(tmp_path / "out" / "g2p")
    assert (
        cli.main(["beam", "g2p_en", "--input", pattern, "--output", prefix, "--runner", "DirectRunner", "--scores"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary == {
        "lines": 2,
        "outputs": {"files": f"{prefix}-*.jsonl", "count": 2},
        "dead_letter": {"files": f"{prefix}-dead-letter-*.jsonl", "count": 0},
    }
    records = read_jsonl(prefix)
    assert sorted(record["output"] for record in records) == ["D AO1 G", "K AE1 T"]
    assert all(record["score"] < 0 and record["token_scores"] for record in records)
