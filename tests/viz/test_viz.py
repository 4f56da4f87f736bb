import doctest
import importlib
import os
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")

import keras
import matplotlib
import numpy as np
import pytest
from matplotlib import _pylab_helpers
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_transformer import TransformerConfig, build_attention_model, build_transformer
from keras_transformer.decoding import generate
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.layers import sinusoidal_table
from keras_transformer.text import Tokenizer
from keras_transformer.viz import (
    AttentionMaps,
    _figures,
    attention_maps,
    plot_attention,
    plot_attention_overview,
    plot_attention_weights,
    plot_history,
    plot_output_probabilities,
    plot_positional_encoding,
)

LAYERS, HEADS = 2, 4


@pytest.fixture(scope="module")
def tokenizers():
    return (
        Tokenizer.from_corpus(["abcde", "こんにちは"]),
        Tokenizer.from_corpus(["AA B CC"], split="whitespace"),
    )


@pytest.fixture(scope="module")
def model(tokenizers):
    keras.utils.set_random_seed(7)
    source_tokenizer, target_tokenizer = tokenizers
    config = TransformerConfig.from_name(
        "tiny",
        source_vocab_size=source_tokenizer.vocabulary_size,
        target_vocab_size=target_tokenizer.vocabulary_size,
        num_heads=HEADS,
        num_encoder_layers=LAYERS,
        num_decoder_layers=LAYERS,
        max_length=10,
    )
    return build_transformer(config)


@pytest.fixture(scope="module")
def maps(model, tokenizers):
    source_tokenizer, target_tokenizer = tokenizers
    return attention_maps(
        model,
        "abcab",
        target_ids="AA CC B",
        source_tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
    )


def tick_texts(labels):
    return [label.get_text() for label in labels]


def test_attention_maps_hold_the_models_weights_for_the_example(model, maps, tokenizers):
    target_tokenizer = tokenizers[1]
    assert maps.source_tokens == list("abcab")
    assert maps.target_tokens == ["<s>", "AA", "CC", "B"]
    assert maps.decoder_ids.tolist() == [1] + target_tokenizer.tokenize("AA CC B").numpy().tolist()
    assert maps.encoder_self_attention.shape == (LAYERS, HEADS, 5, 5)
    assert maps.decoder_masked_self_attention.shape == (LAYERS, HEADS, 4, 4)
    assert maps.source_target_attention.shape == (LAYERS, HEADS, 4, 5)
    assert maps.output_probabilities.shape == (4, target_tokenizer.vocabulary_size)
    assert maps.target_vocabulary[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    # The same numbers as the inspection model run by hand on the same ids.
    outputs = build_attention_model(model)(
        {"encoder_tokens": maps.source_ids[None], "decoder_tokens": maps.decoder_ids[None]}
    )
    for name in ("encoder_self_attention", "decoder_masked_self_attention", "source_target_attention"):
        np.testing.assert_allclose(getattr(maps, name), np.asarray(outputs[name])[0], rtol=1e-6, atol=1e-7)
    logits = np.asarray(outputs["logits"])[0]
    np.testing.assert_allclose(np.log(maps.output_probabilities).argsort(-1), logits.argsort(-1))
    np.testing.assert_allclose(maps.output_probabilities.sum(-1), 1.0, rtol=1e-9)


def test_without_a_target_the_decoder_reads_start_plus_the_greedy_output(model):
    source = np.array([5, 6, 7, 8], "int32")
    maps = attention_maps(model, source, max_length=6)
    tokens = np.asarray(generate(model, source[None], max_output_length=6)["tokens"])[0].tolist()
    expected = tokens[: tokens.index(2) + 1] if 2 in tokens else [t for t in tokens if t != 0]
    assert maps.decoder_ids.tolist() == [1] + expected
    assert maps.source_tokens == ["5", "6", "7", "8"]  # no tokenizer: the ids
    assert maps.target_tokens == [str(t) for t in [1] + expected]


def test_masked_self_attention_is_exactly_zero_above_the_diagonal(maps):
    weights = maps.decoder_masked_self_attention  # (N, H, T, T)
    length = weights.shape[-1]
    above = np.triu(np.ones((length, length), bool), k=1)
    assert np.all(weights[..., above] == 0.0)
    assert np.all(weights[..., ~above] > 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)


def test_source_target_rows_sum_to_one_over_real_source_tokens_and_are_zero_on_padding(model):
    maps = attention_maps(model, [5, 6, 7, 0, 0], target_ids=[4, 5, 6])
    real = maps.source_ids != 0
    assert real.tolist() == [True, True, True, False, False]
    cross = maps.source_target_attention  # (N, H, T, S)
    np.testing.assert_allclose(cross[..., real].sum(-1), 1.0, rtol=1e-5)
    assert np.all(cross[..., ~real] == 0.0)
    # In the encoder, padded positions neither are attended to nor attend (their rows are zero).
    encoder = maps.encoder_self_attention  # (N, H, S, S)
    np.testing.assert_allclose(encoder[:, :, real][..., real].sum(-1), 1.0, rtol=1e-5)
    assert np.all(encoder[..., ~real] == 0.0) and np.all(encoder[:, :, ~real] == 0.0)


@pytest.mark.parametrize(
    "kind, rows, columns, title",
    [
        ("source_target", "target", "source", "source-target attention, layer 1, head 2"),
        ("encoder_self", "source", "source", "encoder self-attention, layer 1, head 2"),
        ("decoder_masked_self", "target", "target", "decoder masked self-attention, layer 1, head 2"),
    ],
)
def test_one_head_is_one_heatmap_with_the_tokens_on_its_axes(maps, kind, rows, columns, title):
    figure = plot_attention(maps, kind=kind, layer=-1, head=2)
    assert isinstance(figure, Figure)
    heatmap, colorbar = figure.axes
    tokens = {"source": maps.source_tokens, "target": maps.target_tokens}
    assert heatmap.get_title() == title
    assert tick_texts(heatmap.get_yticklabels()) == tokens[rows]
    assert tick_texts(heatmap.get_xticklabels()) == tokens[columns]
    assert heatmap.get_ylabel().startswith("queries") and heatmap.get_xlabel().startswith("keys")
    np.testing.assert_array_equal(heatmap.images[0].get_array(), maps.weights(kind)[1, 2])
    assert colorbar.get_ylabel() == "attention weight"


def test_head_none_draws_every_head_of_the_layer(maps):
    figure = plot_attention(maps, kind="source_target", layer=0)
    assert len(figure.axes) == HEADS + 1  # the heads, then the colorbar
    assert figure.get_suptitle() == f"source-target attention, layer 0, all {HEADS} heads"
    for head, axes in enumerate(figure.axes[:HEADS]):
        assert axes.get_title() == f"head {head}"
        assert tick_texts(axes.get_xticklabels()) == maps.source_tokens
        assert tick_texts(axes.get_yticklabels()) == maps.target_tokens
        np.testing.assert_array_equal(axes.images[0].get_array(), maps.source_target_attention[0, head])


def test_figures_are_headless_and_leave_pyplot_alone(maps, tmp_path):
    before = _pylab_helpers.Gcf.get_num_fig_managers()
    figures = [
        plot_attention(maps),
        plot_attention_overview(maps),
        plot_output_probabilities(maps),
        plot_positional_encoding(8, 16),
        plot_history({"loss": [1.0, 0.5]}),
    ]
    assert _pylab_helpers.Gcf.get_num_fig_managers() == before
    for figure in figures:
        FigureCanvasAgg(figure).draw()  # renders with no display
    assert matplotlib.get_backend().lower() == "agg"


def test_save_path_writes_a_non_empty_png(model, maps, tmp_path):
    paths = {name: tmp_path / f"{name}.png" for name in ("attention", "overview", "output", "pe", "history")}
    plot_attention(model, [5, 6, 7], target_ids=[4, 5], save_path=paths["attention"])
    plot_attention_overview(maps, save_path=paths["overview"])
    plot_output_probabilities(maps, save_path=paths["output"])
    plot_positional_encoding(16, 8, save_path=paths["pe"])
    plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]}, save_path=paths["history"])
    for path in paths.values():
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000, path


def test_japanese_tokens_label_the_axes_and_never_fail_without_a_cjk_font(model, tokenizers, tmp_path):
    assert _figures.font_families()[0] == "DejaVu Sans"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no glyph warnings escape, whatever fonts are installed
        figure = plot_attention(
            model, "こんにちは", target_ids=[4], source_tokenizer=tokenizers[0], head=0, save_path=tmp_path / "ja.png"
        )
    assert tick_texts(figure.axes[0].get_xticklabels()) == list("こんにちは")
    assert (tmp_path / "ja.png").stat().st_size > 1000


def test_overview_shows_the_three_attentions_of_a_layer(maps):
    figure = plot_attention_overview(maps, layer=0)
    assert len(figure.axes) == 4
    titles = [axes.get_title() for axes in figure.axes[:3]]
    assert titles == [
        f"encoder self-attention\nlayer 0, mean of {HEADS} heads",
        f"decoder masked self-attention\nlayer 0, mean of {HEADS} heads",
        f"source-target attention\nlayer 0, mean of {HEADS} heads",
    ]
    np.testing.assert_allclose(figure.axes[2].images[0].get_array(), maps.source_target_attention[0].mean(0))
    single = plot_attention_overview(maps, layer=1, head=3)
    np.testing.assert_array_equal(single.axes[1].images[0].get_array(), maps.decoder_masked_self_attention[1, 3])


def test_output_probabilities_rows_are_decoder_positions_and_columns_the_vocabulary(maps):
    figure = plot_output_probabilities(maps)
    heatmap = figure.axes[0]
    assert len(figure.axes) == 2
    assert tick_texts(heatmap.get_yticklabels()) == maps.target_tokens
    assert tick_texts(heatmap.get_xticklabels()) == maps.target_vocabulary
    np.testing.assert_allclose(heatmap.images[0].get_array(), maps.output_probabilities)
    few = plot_output_probabilities(maps, max_columns=3).axes[0]
    assert len(few.get_xticklabels()) == 3


def test_plot_attention_weights_draws_any_weights():
    weights = np.random.default_rng(0).dirichlet(np.ones(3), size=(5, 2))  # (P=5, T=2, S=3)
    figure = plot_attention_weights(weights, ["q1", "q2"], ["k1", "k2", "k3"], title="toy", columns=2)
    assert len(figure.axes) == 6 and figure.get_suptitle() == "toy"
    np.testing.assert_allclose(figure.axes[4].images[0].get_array(), weights[4])
    with pytest.raises(ValueError, match="key_labels"):
        plot_attention_weights(weights, ["q1", "q2"], ["k1", "k2"])


def test_positional_encoding_heatmap_and_curves_show_the_table():
    figure = plot_positional_encoding(40, 32, dimensions=[0, 1, 9])
    heatmap, curves, colorbar = figure.axes
    table = sinusoidal_table(40, 32)
    np.testing.assert_allclose(heatmap.images[0].get_array(), table)
    assert heatmap.get_ylabel() == "position pos" and heatmap.get_xlabel().startswith("dimension")
    assert [line.get_label() for line in curves.get_lines()] == ["i = 0 (sin)", "i = 1 (cos)", "i = 9 (cos)"]
    assert colorbar.get_ylabel() == "PE(pos, i)"
    for line, dimension in zip(curves.get_lines(), [0, 1, 9]):
        np.testing.assert_allclose(line.get_ydata(), table[:, dimension])
    assert len(plot_positional_encoding(40, 128).axes[1].get_lines()) == 4


def test_history_has_a_panel_per_metric_with_its_validation_pair():
    history = keras.callbacks.History()
    history.history = {
        "masked_accuracy": [0.2, 0.5, 0.7],
        "loss": [2.0, 1.0, 0.5],
        "val_loss": [2.2, 1.3, 0.9],
        "val_masked_accuracy": [0.1, 0.4, 0.6],
        "learning_rate": [0.1, 0.2, 0.3],
    }
    figure = plot_history(history)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "masked_accuracy", "learning_rate"]
    loss, accuracy, rate = figure.axes
    assert [line.get_label() for line in loss.get_lines()] == ["training", "validation"]
    np.testing.assert_allclose(loss.get_lines()[1].get_ydata(), [2.2, 1.3, 0.9])
    np.testing.assert_allclose(loss.get_lines()[0].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(accuracy.get_lines()[1].get_ydata(), [0.1, 0.4, 0.6])
    assert len(rate.get_lines()) == 1
    assert [axes.get_title() for axes in plot_history(history.history).axes] == [
        "loss",
        "masked_accuracy",
        "learning_rate",
    ]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: plot_attention(m, kind="cross"), "kind='cross'"),
        (lambda m: plot_attention(m, layer=LAYERS), f"layer={LAYERS}"),
        (lambda m: plot_attention(m, layer=-LAYERS - 1), f"layer={-LAYERS - 1}"),
        (lambda m: plot_attention(m, layer=1.0), "layer=1.0"),
        (lambda m: plot_attention(m, head=HEADS), f"head={HEADS}"),
        (lambda m: plot_attention(m, head=-HEADS - 1), f"head={-HEADS - 1}"),
        (lambda m: plot_attention_overview(m, head=HEADS), f"head={HEADS}"),
        (lambda m: plot_attention(m, source=[5, 6]), "source="),
        (lambda m: m.weights("cross"), "kind='cross'"),
        (lambda m: plot_output_probabilities(m, max_columns=0), "max_columns=0"),
        (lambda m: plot_positional_encoding(0, 8), "length=0"),
        (lambda m: plot_positional_encoding(-3, 8), "length=-3"),
        (lambda m: plot_positional_encoding(8, 0), "d_model=0"),
        (lambda m: plot_positional_encoding(8, 4, dimensions=[4]), r"dimensions=\[4\]"),
        (lambda m: plot_history({}), "history={}"),
        (lambda m: plot_history({"loss": []}), r"'loss': \[\]"),
    ],
)
def test_bad_arguments_raise_naming_the_argument_and_value(maps, call, message):
    with pytest.raises(ValueError, match=message):
        call(maps)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(source="abc"), "source='abc'"),
        (dict(source=[]), "source=\\[\\]"),
        (dict(source=[[5, 6], [7, 8]]), "shape \\(2, 2\\)"),
        (dict(source=[5.0, 6.0]), "dtype float64"),
        (dict(source=[5, -1]), "source=\\[5, -1\\]"),
        (dict(source=[5, 6], max_length=10), "max_length=10"),
        (dict(source=[5, 6], max_length=0), "max_length=0"),
        (dict(source=[5, 6], target_ids=[4] * 10), "10 ids"),
        (dict(source=[5] * 11), "11 ids"),
    ],
)
def test_bad_examples_raise_naming_the_argument_and_value(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        attention_maps(model, **kwargs)
    with pytest.raises(ValueError, match="kind='self'"):
        plot_attention(model, [5], kind="self")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(source=[]),
        dict(source=[5] * 11),
        dict(source=[5, 6], max_length=10),
        dict(source=[5, 6], target_ids=[4] * 10),
    ],
)
def test_examples_that_do_not_fit_the_model_raise_invalid_argument_error(model, kwargs):
    with pytest.raises(InvalidArgumentError):
        attention_maps(model, **kwargs)


def test_history_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match=r"history=\[1.0, 0.5\]"):
        plot_history([1.0, 0.5])


def test_a_model_not_built_by_build_transformer_is_refused():
    with pytest.raises(ValueError, match="model="):
        attention_maps(keras.Sequential([keras.layers.Dense(2)]), [5, 6])


@pytest.mark.parametrize(
    "name",
    [
        "keras_transformer.viz.attention",
        "keras_transformer.viz.attention_arrays",
        "keras_transformer.viz.positional_encoding",
        "keras_transformer.viz.history",
    ],
)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_attention_maps_is_a_plain_dataclass(maps):
    assert isinstance(maps, AttentionMaps)
    assert maps.num_layers == LAYERS and maps.num_heads == HEADS
    assert maps.labels("source_target") == (maps.target_tokens, maps.source_tokens)
