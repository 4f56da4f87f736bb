"""The shipped zoo models load from `saved_models/` and get test-split examples right."""

import pytest

from keras_transformer import zoo
from tests.zoo_inputs import test_split_pairs

# name -> least exact matches out of 20. dates_iso: English and Spanish short dates are ambiguous
# ("3/6/99" is March 6 in en, June 3 in es), so one or two of 20 may go to the other reading.
SHIPPED = {"itn_numbers": 20, "dates_iso": 18}
COUNT = 20

@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_predicts_test_examples(name):
    if name not in zoo.list_models():
        pytest.skip(f"{name} is not in the zoo (saved_models/{name}/)")
    entry = zoo.load(name)
    assert entry.info.metrics[0] == "exact_match"
    assert entry.info.card_metrics.get("exact_match") is not None, "the card has no measured metric"
    size = sum(p.stat().st_size for p in entry.path.iterdir() if p.is_file())
    assert size < 30e6, f"{name} is {size / 1e6:.1f} MB; zoo models stay under 30 MB"
    pairs = test_split_pairs(entry.info, COUNT)
    assert len(pairs) == COUNT
    predictions = entry.predict([source for source, _ in pairs])
    wrong = [(s, p, r) for (s, r), p in zip(pairs, predictions) if p != r]
    assert COUNT - len(wrong) >= SHIPPED[name], f"{name} got {len(wrong)} of {COUNT} wrong: {wrong}"
