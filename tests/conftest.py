import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


# The Keras backend is fixed when keras is imported: KERAS_BACKEND=jax (or torch) runs the suite on it.
# These folders test what runs on every backend; everything else, and tests marked `tensorflow_only`,
# need TensorFlow's backend (SavedModel/TFLite export, tf.data, the in-graph tokenizer, pipelines).
EVERY_BACKEND = ("layers", "models", "decoding", "training", "backends")


def pytest_collection_modifyitems(config, items):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    tests = os.path.dirname(os.path.abspath(__file__))
    skip = pytest.mark.skip(reason=f"needs the TensorFlow backend (KERAS_BACKEND={backend})")
    for item in items:
        folder = os.path.relpath(str(item.path), tests).split(os.sep)[0]
        if folder not in EVERY_BACKEND or item.get_closest_marker("tensorflow_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts from the same seed and the float32 policy, whatever the previous test set."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def save_tiny_zoo_model(directory, source_texts=("abcdefghij",), target_texts=("A B C D E",), max_length=12,
                        settings=None, task="test task", card="# card\n", history=None):  # fmt: skip
    """Write an untrained tiny model as a zoo folder at `directory`; returns its `TextPipeline`.

    Source: characters of `source_texts`; target: whitespace symbols of `target_texts`."""
    from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, zoo
    from keras_transformer.text import Tokenizer

    source = Tokenizer.from_corpus(list(source_texts), split="characters")
    target = Tokenizer.from_corpus(list(target_texts), split="whitespace")
    config = TransformerConfig.from_name(
        "tiny", source_vocab_size=source.vocabulary_size, target_vocab_size=target.vocabulary_size, max_length=max_length
    )
    pipeline = TextPipeline(build_transformer(config), source, target, settings or DecodingSettings(max_output_length=8))
    zoo.save(directory, pipeline, zoo.ZooInfo(task=task), card, history=history)
    return pipeline
