"""Texts that are not a list of str are refused by every runtime with the same error, before any model
runs: the type, the argument's name and what was received (issue 25)."""

import pytest

from keras_transformer import zoo

BAD_TEXTS = {
    "None": None,
    "one string": "cat",
    "bytes": b"cat",
    "an int": 7,
    "a nested list": [["cat"], "dog"],
    "bytes in the list": ["cat", b"dog"],
    "None in the list": ["cat", None],
    "a set": {"cat", "dog"},
    "a dict": {"cat": 1},
}


@pytest.fixture(scope="module")
def models():
    return {runtime: zoo.load("itn_numbers", runtime=runtime) for runtime in ("tensorflow", "litert", "ctranslate2")}


@pytest.mark.parametrize("label", list(BAD_TEXTS))
def test_every_runtime_refuses_bad_texts_with_the_same_message(models, label):
    errors = {}
    for runtime, model in models.items():
        for call in (model.predict, model.runtime.predict):
            with pytest.raises(TypeError) as raised:
                call(BAD_TEXTS[label], return_scores=True)
            errors.setdefault(runtime, set()).add((type(raised.value), str(raised.value)))
    messages = set.union(*errors.values())
    assert len(messages) == 1, errors
    (kind, message), = messages
    assert "`texts`" in message and "Received" in message or "Wrap it" in message


def test_a_good_call_still_works_in_every_runtime(models):
    outputs = {runtime: model.predict(("one hundred", "")) for runtime, model in models.items()}
    assert outputs["tensorflow"] == ["100", ""] and all(value == outputs["tensorflow"] for value in outputs.values())
