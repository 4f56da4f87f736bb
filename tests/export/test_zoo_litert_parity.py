"""Every zoo model's LiteRT runtime (its `generator.tflite` with `PythonTokenizer`s, no TensorFlow)
gives exactly what `zoo.load(name).predict` gives, with the model's own decoding settings (beam search
included), on the first 1,000 test inputs (about 6-25 s a model on 2 busy cores). The int8 generator's
agreement is measured and printed in the slow suite (dynamic-range weights change some outputs), not
asserted."""

import shutil

import pytest

from keras_transformer import zoo
from keras_transformer.export import tflite
from keras_transformer.zoo import litert
from tests.zoo_inputs import test_split_pairs

COUNT, BATCH = 1000, 100
SEQ2SEQ = zoo.list_models(kind=zoo.SEQ2SEQ)


def compare(name, count, runtime_folder=None):
    """`(texts, Keras outputs, LiteRT outputs)` on the first `count` test inputs of zoo model `name`,
    the LiteRT runtime loaded from `runtime_folder` (default: the model's own folder)."""
    pipeline = zoo.load(name)
    texts = [source for source, _ in test_split_pairs(pipeline.info, count)]
    assert len(texts) == count
    runtime = zoo.load(str(runtime_folder or pipeline.path), runtime="litert")
    return texts, pipeline.predict(texts, batch_size=BATCH), runtime.predict(texts, batch_size=BATCH)


@pytest.mark.parametrize("name", SEQ2SEQ)
def test_shipped_seq2seq_models_carry_a_generator(name):
    directory = zoo.model_dir(name)
    assert litert.has_generator(name), f"{name} has no generator.tflite: the CLI would need TensorFlow"
    size = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    assert size < 30e6, f"{name} is {size / 1e6:.1f} MB; zoo models stay under 30 MB"


@pytest.mark.parametrize("name", SEQ2SEQ)
def test_litert_runtime_equals_predict(name):
    texts, expected, got = compare(name, COUNT)
    different = [(t, e, g) for t, e, g in zip(texts, expected, got) if e != g]
    assert not different, f"{name}: {len(different)} of {COUNT} differ (text, Keras, LiteRT), e.g. {different[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", SEQ2SEQ)
def test_int8_generator_agreement_is_measured(name, tmp_path):
    pipeline = zoo.load(name)
    folder = tmp_path / name
    shutil.copytree(pipeline.path, folder)
    target = pipeline.target_tokenizer
    data = tflite.generator_tflite(pipeline.runtime.decoder, pipeline.settings, target.start_id, target.end_id, quantize=True)
    tflite.write(folder / litert.GENERATOR, data)
    zoo.write_manifest(folder)
    texts, expected, got = compare(name, COUNT, runtime_folder=folder)
    equal = sum(e == g for e, g in zip(expected, got))
    print(f"{name}: the int8 generator equals Keras on {equal} of {len(texts)} ({equal / len(texts):.1%})")
    assert len(got) == COUNT
