"""Every runtime reads whitespace the same way, for every zoo model: leading and trailing whitespace
is dropped and each inner run becomes one space, in the Keras pipeline, the SavedModel's
`serving_default`, the LiteRT generator and the command line (and for the sentence encoder, in `embed`)."""

import random
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_transformer import zoo
from keras_transformer.export import export
from tests.zoo_inputs import test_split_pairs

COUNT = 40
# Whitespace a user's text may carry: spaces, tabs, newlines, no-break and ideographic spaces.
BLANKS = (" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", " \t ")


def messy(text, rng):
    """`text` with whitespace added at both ends and each space widened, as people paste it."""
    inner = "".join(rng.choice(BLANKS) if character == " " else character for character in text)
    return rng.choice(BLANKS) + inner + rng.choice(BLANKS)


def clean_and_messy(name):
    info = zoo.read_settings(zoo.model_dir(name))[0]
    texts = [source for source, _ in test_split_pairs(info, COUNT)]
    rng = random.Random(name)
    return texts, [messy(text, rng) for text in texts]


@pytest.mark.parametrize("name", zoo.list_models(kind=zoo.SEQ2SEQ))
def test_every_runtime_normalizes_whitespace_alike(name, tmp_path):
    texts, messy_texts = clean_and_messy(name)
    assert all(m != t for m, t in zip(messy_texts, texts))
    pipeline = zoo.load(name)
    expected = pipeline.predict(texts)
    assert pipeline.predict(messy_texts) == expected, "Keras"
    assert zoo.load(name, runtime="litert").predict(messy_texts) == expected, "LiteRT"

    export(pipeline, "saved_model", str(tmp_path / "saved_model"))
    serve = tf.saved_model.load(str(tmp_path / "saved_model")).signatures["serving_default"]
    served = [text.decode("utf-8") for text in serve(texts=tf.constant(messy_texts))["outputs"].numpy()]
    assert served == expected, "SavedModel"

    # The command line reads stdin one text a line, so a text with a newline inside is two texts there.
    one_line = [text for text in messy_texts if "\n" not in text and "\r" not in text]
    result = subprocess.run(
        [sys.executable, "-m", "keras_transformer.cli", "predict", name, "--quiet"],
        input="".join(text + "\n" for text in one_line), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outputs = [line.split("\t")[-1] for line in result.stdout.splitlines()]
    assert outputs == [e for e, t in zip(expected, messy_texts) if t in one_line], "command line"


def test_sentence_encoder_reads_whitespace_alike():
    if "minilm_l6" not in zoo.list_models():
        pytest.skip("minilm_l6 is not in the zoo")
    try:
        encoder = zoo.load("minilm_l6")
    except zoo.ZooError as error:
        pytest.skip(str(error))
    texts = ["A man is eating food.", "Someone is riding a horse in the park."]
    rng = random.Random(0)
    np.testing.assert_allclose(encoder.embed([messy(text, rng) for text in texts]), encoder.embed(texts), atol=1e-6)
