"""`keras_transformer._lazy`: the package and its lazy subpackages import no Keras or TensorFlow until a
name that needs them is used; unknown names are an `AttributeError` naming the module."""

import subprocess
import sys
import textwrap

import pytest

import keras_transformer
from keras_transformer import _lazy


def test_importing_the_packages_imports_no_keras_or_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        import keras_transformer, keras_transformer.text, keras_transformer.zoo

        heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras"))
        assert not heavy, heavy[:5]
        assert keras_transformer.TransformerConfig.from_name("tiny").d_model == 32
        from keras_transformer import *  # noqa: F403

        assert "keras" in sys.modules  # loaded on first use of a name that needs it
        assert TransformerConfig is keras_transformer.TransformerConfig and layers is keras_transformer.layers
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "module, name",
    [(keras_transformer, "no_such_name"), (keras_transformer.text, "NoTokenizer"), (keras_transformer.zoo, "loads")],
)
def test_an_unknown_name_is_an_attribute_error_naming_the_module(module, name):
    with pytest.raises(AttributeError, match=rf"^module '{module.__name__}' has no attribute '{name}'$"):
        getattr(module, name)
    assert not hasattr(module, name)


def test_dir_lists_the_lazy_names_and_all_of_them_resolve():
    assert {"TransformerConfig", "TextPipeline", "layers", "zoo", "__version__"} <= set(dir(keras_transformer))
    assert {"Tokenizer", "PythonTokenizer"} <= set(dir(keras_transformer.text))
    assert {"save", "load", "list_models"} <= set(dir(keras_transformer.zoo))
    for name in keras_transformer.__all__:
        assert getattr(keras_transformer, name) is not None


def test_attach_serves_modules_and_attributes_and_keeps_them():
    module = type(sys)("lazy_example")
    names = {"dumps": ("json", "dumps"), "decoder": "json.decoder"}
    module.__getattr__, module.__dir__ = _lazy.attach("lazy_example", names)
    sys.modules["lazy_example"] = module
    try:
        import json
        import json.decoder

        assert module.dumps is json.dumps and module.decoder is json.decoder
        assert vars(module)["dumps"] is json.dumps  # the next access is a plain lookup
        assert dir(module) == sorted(set(vars(module)) | {"dumps", "decoder"})
    finally:
        del sys.modules["lazy_example"]
