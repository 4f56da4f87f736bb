"""Every zoo model's exported SavedModel gives exactly what `zoo.load(name).predict` gives, with the
model's own decoding settings (beam search included), on 500 test-split inputs."""

import pytest
import tensorflow as tf

from keras_transformer import zoo
from keras_transformer.export import export
from tests.zoo_inputs import test_split_pairs

COUNT = 500
BATCH = 100


@pytest.mark.parametrize("name", zoo.list_models(kind=zoo.SEQ2SEQ))
def test_saved_model_serving_default_equals_predict(name, tmp_path):
    pipeline = zoo.load(name)
    texts = [source for source, _ in test_split_pairs(pipeline.info, COUNT)]
    assert len(texts) == COUNT
    expected = pipeline.predict(texts, batch_size=BATCH)

    export(pipeline, "saved_model", str(tmp_path / "saved_model"))
    serve = tf.saved_model.load(str(tmp_path / "saved_model")).signatures["serving_default"]
    exported = []
    for start in range(0, COUNT, BATCH):
        outputs = serve(texts=tf.constant(texts[start : start + BATCH]))["outputs"].numpy()
        exported.extend(text.decode("utf-8") for text in outputs)

    different = [(t, e, p) for t, e, p in zip(texts, exported, expected) if e != p]
    assert not different, f"{name} ({pipeline.settings.strategy}): {len(different)} of {COUNT} differ, e.g. {different[:3]}"
