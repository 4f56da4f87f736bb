"""Train on token ids elsewhere, package here: `keras-transformer train TASK --save-token-arrays FILE`,
`python -m keras_transformer.training.arrays FILE ...` (any backend), then `keras-transformer train TASK
--trained-run DIR` scores, chooses the decoding and packages that run."""

import json

import keras
import numpy as np
import pytest

from keras_transformer import cli, zoo
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.training import arrays

PACKAGING = ["--compare-beam-examples", "16", "--beam-sizes", "2", "--length-penalties", "0"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    ids = folder / "ids" / "reverse.npz"
    assert cli.main(["train", "reverse", "--examples", "400", "--output-dir", str(folder / "prep"),
                     "--save-token-arrays", str(ids)]) == 0  # fmt: skip
    assert arrays.main([str(ids), "--output-dir", str(folder / "run"), "--name", "reverse", "--size", "tiny",
                        "--epochs", "2", "--batch-tokens", "256", "--average-last", "2", "--keep-checkpoints", "3",
                        "--log-every", "0", "--no-jit-compile"]) == 0  # fmt: skip
    return folder


def test_the_token_arrays_are_the_tasks_tokenized_pairs(trained_run):
    from keras_transformer.text.python_tokenizer import PythonTokenizer as Tokenizer

    data = arrays.load_token_arrays(trained_run / "ids" / "reverse.npz")
    source = Tokenizer.load(trained_run / "ids" / "source_vocabulary.json")
    target = Tokenizer.load(trained_run / "ids" / "target_vocabulary.json")
    sources, targets = data["train"]
    assert len(sources) == len(targets) > 0
    # The reverse task's target is its source reversed: the ids decode back to such pairs.
    for source_ids, target_ids in list(zip(sources, targets))[:20]:
        text = source.detokenize([source_ids])[0]
        assert target.detokenize([target_ids])[0] == text[::-1]
    assert (data["source_vocab_size"], data["target_vocab_size"]) == (source.vocabulary_size, target.vocabulary_size)
    assert (data["start_id"], data["end_id"]) == (target.start_id, target.end_id)


def test_a_trained_run_is_packaged_into_a_loadable_zoo_folder(trained_run):
    run = trained_run / "run"
    assert cli.main(["train", "reverse", "--examples", "400", "--trained-run", str(run), *PACKAGING]) == 0
    figures = json.loads((run / "metrics.json").read_text())
    recorded = json.loads((run / "run.json").read_text())
    # The run's own options and figures are recorded, not the packaging command's defaults.
    assert figures["options"]["size"] == "tiny" and figures["epochs_run"] == 2
    assert figures["optimizer_steps"] == recorded["optimizer_steps"] == 2 * recorded["steps_per_epoch"]
    assert figures["trained_backend"] == keras.backend.backend() and figures["device"] == recorded["device"]
    assert figures["training_hours"] == round(sum(r["seconds"] for r in figures["epoch_history"]) / 3600, 2)
    # The training command is listed before the packaging command.
    assert figures["resumed_commands"][0].startswith("python -m keras_transformer.training.arrays")
    pipeline = zoo.load(figures["zoo_dir"])
    card = pipeline.card
    assert "python -m keras_transformer.training.arrays" in card and "--trained-run" in card
    # The packaged model holds the run's kept weights.
    config = TransformerConfig.from_json((run / "config.json").read_text())
    model = build_transformer(config, name="reverse")
    model.load_weights(str(run / "model.weights.h5"))
    for packaged, kept in zip(pipeline.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(packaged, kept)
    assert len(pipeline.predict(["abc"])) == 1


def test_trained_run_errors_name_the_folder(trained_run, tmp_path, capfd):
    assert cli.main(["train", "reverse", "--trained-run", str(tmp_path)]) != 0
    assert "trained_run" in capfd.readouterr().err
    # A run trained on another task's ids (other vocabularies) is refused.
    other = tmp_path / "other"
    other.mkdir()
    for name in ("model.weights.h5", "history.csv", "run.json", "epoch_seconds.json"):
        (other / name).write_bytes((trained_run / "run" / name).read_bytes())
    config = json.loads((trained_run / "run" / "config.json").read_text())
    config["source_vocab_size"] += 1
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"trained with vocabularies of \d+ and \d+ ids; the tokenizers have"):
        from keras_transformer.zoo import tasks

        tasks.run_task("reverse", ["--examples", "400", "--trained-run", str(other), *PACKAGING])
