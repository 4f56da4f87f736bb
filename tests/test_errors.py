"""`keras_transformer.errors`: one family of user errors (`UserError`), each member keeping the
built-in base it had, raised where the package checks what a caller gave."""

import pytest

from keras_transformer import _modules, _validation, errors, zoo
from keras_transformer.data import text_pairs
from keras_transformer.zoo import registry


@pytest.mark.parametrize(
    "error, builtin",
    [
        (errors.InvalidArgumentError, ValueError),
        (errors.InvalidTypeError, TypeError),
        (errors.InvalidTypeError, ValueError),
        (errors.DataError, ValueError),
        (errors.ZooError, ValueError),
        (errors.MissingExtra, ImportError),
        (text_pairs.DataFileError, ValueError),
        (text_pairs.MissingFileError, FileNotFoundError),
    ],
)
def test_each_member_is_a_user_error_and_keeps_its_builtin_base(error, builtin):
    assert issubclass(error, errors.UserError) and issubclass(error, builtin)


def test_the_old_homes_still_export_the_names():
    assert registry.ZooError is zoo.ZooError is errors.ZooError
    assert _modules.MissingExtra is errors.MissingExtra
    assert issubclass(text_pairs.DataFileError, errors.DataError)


def test_validation_raises_the_family():
    with pytest.raises(errors.InvalidArgumentError, match="Received: beam_size=0"):
        _validation.positive_int("beam_size", 0)
    with pytest.raises(errors.InvalidTypeError, match="not one string"):
        _validation.texts("texts", "one text")
    with pytest.raises(errors.MissingExtra, match=r'pip install "keras-transformer\[plot\]"'):
        _modules.require("plot_attention", "plot", ["no_such_module_here"])
    with pytest.raises(errors.ZooError, match="Unknown zoo model"):
        zoo.model_dir("no_such_model")


def test_a_bad_data_file_and_a_bad_argument(tmp_path):
    path = tmp_path / "my.tsv"
    path.write_text("abc\tcba\nabd\n", encoding="utf-8")
    with pytest.raises(errors.DataError, match=r"my\.tsv line 2: expected 2 tab-separated columns"):
        text_pairs.read_tsv(path)
    with pytest.raises(errors.InvalidArgumentError, match="on_long='cut'"):
        text_pairs.read_tsv(path, on_long="cut")
    with pytest.raises(errors.InvalidArgumentError, match="fractions"):
        text_pairs.split_of("abc", (0.5, 0.5, 0.5))
