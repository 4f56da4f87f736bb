"""The `pairs` task: train on a user's own file, load the result by path, fine-tune a zoo model; bad
files and mismatched fine-tuning give errors that say why."""

import json
import random

import numpy as np
import pytest

from keras_transformer import cli, zoo
from keras_transformer.data.text_pairs import LineTooLongError
from keras_transformer.zoo import tasks
from keras_transformer.zoo.tasks.pairs import FineTuneError

# A tiny model, one short epoch, no XLA: a few seconds of training on 2 CPU cores.
TINY = ["--size", "tiny", "--epochs", "1", "--max-length", "16", "--batch-tokens", "256", "--length-buckets", "2",
        "--compare-beam-examples", "0", "--no-jit-compile", "--log-every", "0", "--dropout", "0"]  # fmt: skip


def write_reversed_words(path, count=400, seed=0):
    """`count` lines `word<TAB>word reversed` of 3 to 8 letters a..h."""
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(3, 8))) for _ in range(count)]
    path.write_text("".join(f"{word}\t{word[::-1]}\n" for word in words), encoding="utf-8")
    return path


def prepare(argv):
    """The `pairs` task resolved for `argv` (data read, split and checked), without training."""
    task = tasks.get_task("pairs")
    return task.prepare(task.parser().parse_args(argv), argv)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    data = write_reversed_words(root / "my.tsv")
    argv = ["--data", str(data), "--output-dir", str(root / "run"), "--zoo-dir", str(root / "my_model"), *TINY]
    return root, tasks.run_task("pairs", argv).to_dict()


def test_pairs_is_registered():
    assert "pairs" in tasks.task_names()


def test_trains_on_a_file_and_the_folder_loads_by_path(trained):
    root, figures = trained
    sizes = figures["split_sizes"]
    assert sum(sizes.values()) == 400 and sizes["validation"] > 0 and sizes["test"] > 0
    assert figures["epochs_run"] == 1 and figures["training_examples"] == sizes["train"]

    pipeline = zoo.load(str(root / "my_model"))  # checks the manifest
    assert pipeline.name == "my_model"
    assert pipeline.source_tokenizer.vocabulary == list("abcdefgh") and not pipeline.source_tokenizer.lowercase
    outputs = pipeline.predict(["abc", "hedgefab"])
    assert len(outputs) == 2 and all(isinstance(output, str) for output in outputs)

    (report,) = figures["test"]
    assert report["examples"] == sizes["test"]
    assert set(report["measured"]) == {"exact_match", "character_error_rate"}
    assert pipeline.info.card_metrics == report["measured"] and pipeline.info.dataset is None
    card = pipeline.card
    # The folder by its name alone: the card names no path of the machine it was trained on.
    assert "keras-transformer predict ./my_model " in card and str(root) not in card
    assert "keras-transformer train pairs --data" in card and "Split by a stable hash" in card
    assert f'"character_error_rate": {report["measured"]["character_error_rate"]}' in card


def test_the_predict_command_takes_the_folder_path(trained, monkeypatch, capsys):
    root, _ = trained
    monkeypatch.chdir(root)
    assert cli.main(["predict", "./my_model", "abc"]) == 0
    assert capsys.readouterr().out.startswith("abc\t")


def test_fine_tune_from_a_zoo_folder_starts_from_its_weights(trained, tmp_path):
    root, _ = trained
    base = zoo.load(str(root / "my_model"))
    data = write_reversed_words(tmp_path / "more.tsv", seed=1)
    # An explicit option equal to the model's (--max-length 16) is fine; a learning rate near zero
    # leaves the weights where fine-tuning started.
    argv = ["--data", str(data), "--from-zoo", str(root / "my_model"), "--output-dir", str(tmp_path / "run"),
            "--zoo-dir", str(tmp_path / "tuned"), "--epochs", "1", "--max-length", "16", "--batch-tokens", "256",
            "--length-buckets", "2", "--compare-beam-examples", "0", "--no-jit-compile", "--log-every", "0",
            "--learning-rate-scale", "1e-9"]  # fmt: skip
    figures = tasks.run_task("pairs", argv).to_dict()
    tuned = zoo.load(str(tmp_path / "tuned"))
    assert tuned.config == base.config
    assert tuned.source_tokenizer.vocabulary == base.source_tokenizer.vocabulary
    for tuned_weights, base_weights in zip(tuned.model.get_weights(), base.model.get_weights()):
        np.testing.assert_allclose(tuned_weights, base_weights, atol=1e-5)
    assert figures["previous_stages"] == [] and "Fine-tuned from the zoo model" in tuned.card


@pytest.mark.parametrize(
    "content, message",
    [
        ("abc\tcba\nabd\n", "my.tsv line 2: expected 2 tab-separated columns (source, target), found 1"),
        ("", "my.tsv: the file holds no line of data"),
        (b"abc\tcba\nab\xff\tba\n", "my.tsv line 2: not valid UTF-8 (byte 0xff at column 3)"),
        (
            "abc\tcba\n" + "a" * 17 + "\tb\n",
            "my.tsv line 2: the source has 17 symbols (characters), over the limit of 16",
        ),
        ("abc\t" + "a" * 16 + "\n", "my.tsv line 1: the target has 16 symbols (characters), over the limit of 15"),
    ],
)
def test_bad_files_are_one_line_errors_naming_file_and_line(tmp_path, capfd, content, message):
    path = tmp_path / "my.tsv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert (
        cli.main(["train", "pairs", "--data", str(path), "--max-length", "16", "--output-dir", str(tmp_path / "run")])
        == 2
    )
    error = capfd.readouterr().err  # the CLI writes its messages to descriptor 2
    assert f"keras-transformer train: {tmp_path / message.split(':')[0]}:{message.split(':', 1)[1]}" in error


def test_missing_data_file_and_missing_option(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.tsv: no such file"):
        prepare(["--data", str(tmp_path / "absent.tsv")])
    with pytest.raises(ValueError, match="needs --data FILE"):
        prepare([])


def test_long_lines_are_refused_or_truncated(tmp_path):
    path = write_reversed_words(tmp_path / "my.tsv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("abcdefghabcdefghabc\tx\n")
    with pytest.raises(LineTooLongError, match="line 401: the source has 19 symbols"):
        prepare(["--data", str(path), "--max-length", "16"])
    task = prepare(["--data", str(path), "--max-length", "16", "--on-long", "truncate"])
    every = [source for name in ("train", "validation", "test") for source in getattr(task.splits, name).sources]
    assert "abcdefghabcdefgh" in every and len(every) == 401


def test_two_aligned_files_and_whitespace_symbols(tmp_path):
    sources = tmp_path / "words.txt"
    targets = tmp_path / "phonemes.txt"
    sources.write_text("".join(f"w{index}\n" for index in range(200)), encoding="utf-8")
    targets.write_text("".join(f"P{index % 7} Q{index % 3}\n" for index in range(200)), encoding="utf-8")
    task = prepare(["--data", str(sources), "--target-file", str(targets), "--source-symbols", "characters",
                    "--target-symbols", "whitespace", "--lowercase"])  # fmt: skip
    assert (task.source_split, task.target_split, task.source_lowercase) == ("characters", "whitespace", True)
    assert task.description == "Text pairs from words.txt and phonemes.txt"
    train = task.read("train", None)
    _, target_tokenizer = task.tokenizers(train)
    assert target_tokenizer.split == "whitespace" and "P0" in target_tokenizer.vocabulary
    targets.write_text("P1\n" * 199, encoding="utf-8")
    with pytest.raises(ValueError, match=r"words\.txt: has 200 lines but the target file .*phonemes\.txt has 199"):
        prepare(["--data", str(sources), "--target-file", str(targets)])


def test_references_hold_every_target_of_a_source(tmp_path):
    path = tmp_path / "my.tsv"
    lines = [f"w{index}\tt{index}" for index in range(300)] + [f"w{index}\tu{index}" for index in range(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = prepare(["--data", str(path)])
    test = task.read("test", None)
    for source, target, references in zip(test.sources, test.targets, test.references):
        assert references[0] == target and sorted(references) == sorted({f"t{source[1:]}", f"u{source[1:]}"})


def test_empty_held_out_part_says_what_to_do(tmp_path):
    path = tmp_path / "my.tsv"
    path.write_text("abc\tcba\n", encoding="utf-8")
    with pytest.raises(ValueError, match="part is empty .*give more pairs"):
        prepare(["--data", str(path)])


def test_fine_tune_with_symbols_the_zoo_model_lacks_says_which(tmp_path):
    path = tmp_path / "new_words.tsv"
    words = [f"{word}\t{phonemes}" for word, phonemes in (("cat", "K AE1 T"), ("dog", "D AO1 G"))] * 50
    words += ["café\tK AE0 F EY1", "naïve\tN AY0 IY1 V", "zzz\tZ XX1"]
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    with pytest.raises(FineTuneError) as raised:
        prepare(["--data", str(path), "--from-zoo", "g2p_en"])
    message = str(raised.value)
    assert message.startswith(
        f"Cannot fine-tune g2p_en on {path}: the source vocabulary (characters, lowercased) lacks 2"
    )
    assert "'é' (line 101)" in message and "'ï' (line 102)" in message
    assert "the target vocabulary (whitespace) lacks 1 symbols of the data: 'XX1' (line 103)" in message


def test_fine_tune_with_a_different_configuration_or_tokenizer_says_which(tmp_path):
    path = write_reversed_words(tmp_path / "my.tsv")
    shipped = json.loads((zoo.model_dir("g2p_en") / "config.json").read_text())["d_model"]
    with pytest.raises(FineTuneError, match=rf"differs from the options given: --d-model 64 \(the model has {shipped}\)"):
        prepare(["--data", str(path), "--from-zoo", "g2p_en", "--d-model", "64"])
    with pytest.raises(FineTuneError, match="target symbols: characters given, the model's whitespace"):
        prepare(["--data", str(path), "--from-zoo", "g2p_en", "--symbols", "characters"])
    with pytest.raises(FineTuneError, match="--from-zoo or --initial-weights, not both"):
        prepare(["--data", str(path), "--from-zoo", "g2p_en", "--initial-weights", str(path)])
    with pytest.raises(zoo.ZooError, match="Unknown zoo model"):
        prepare(["--data", str(path), "--from-zoo", "no_such_model"])


def test_a_small_file_gets_smaller_batches_unless_they_are_given(tmp_path):
    path = write_reversed_words(tmp_path / "my.tsv")
    task = tasks.get_task("pairs")
    argv = ["--data", str(path)]
    args = task.parser().parse_args(argv)
    task.prepare(args, argv)
    assert args.batch_tokens < 1024  # 1024 would give no full batch in any length bucket
    argv = ["--data", str(path), "--batch-tokens", "1024"]
    args = task.parser().parse_args(argv)
    task.prepare(args, argv)
    assert args.batch_tokens == 1024
