"""The shipped model cards name no path of the machine a model was trained on, and a card's predict
command works as written."""

import re

import pytest

from keras_transformer import zoo
from keras_transformer.zoo.card import portable_command

PRIVATE = re.compile(r"(^|[\s=\"'])(/(root|home|tmp|Users|work|mnt)\b|~/|\S*/\.[A-Za-z]|\.[A-Za-z][\w-]*/)")


@pytest.mark.parametrize("name", zoo.list_models())
def test_cards_name_no_private_paths(name):
    card = (zoo.model_dir(name) / "card.md").read_text(encoding="utf-8")
    for number, line in enumerate(card.splitlines(), start=1):
        assert not PRIVATE.search(line), f"saved_models/{name}/card.md:{number}: {line}"


@pytest.mark.parametrize("name", zoo.list_models(kind=zoo.SEQ2SEQ))
def test_cards_predict_command_names_the_zoo_model(name):
    card = (zoo.model_dir(name) / "card.md").read_text(encoding="utf-8")
    assert f"keras-transformer predict {name} " in card


def test_portable_command_keeps_relative_paths_and_hides_the_rest():
    command = "keras-transformer train x --data /home/me/data.tsv --output-dir runs/a --zoo-dir=/home/me/runs/a/zoo"
    assert portable_command(command, "/home/me/runs/a") == (
        "keras-transformer train x --data data.tsv --output-dir runs/a --zoo-dir=RUN/zoo"
    )
    assert portable_command("python -m y ~/.cache/ids.npz") == "python -m y ids.npz"
    old_card_line = "keras-transformer train g2p_en --trained-run /root/gpu/run --save-token-arrays .gpu/ids.npz"
    assert PRIVATE.search(old_card_line) and not PRIVATE.search(portable_command(old_card_line, "/root/gpu/run"))
