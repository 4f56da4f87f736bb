"""The attention of a model on one example as heatmaps (`plot_attention`, ...), drawn from the
arrays of `keras_transformer.viz.attention_arrays`, whose names are importable from here too.
"""

import numpy as np

from keras_transformer import _validation
from keras_transformer.viz import _figures
from keras_transformer.viz.attention_arrays import (
    KINDS,
    AttentionMaps,
    as_attention_maps,
    attention_maps,
    attention_title,
    check_kind,
    kind_roles,
)

_AXIS_LABELS = {
    "source": "source tokens (encoder)",
    "target": "target tokens (decoder input)",
}


def plot_attention(
    model,
    source=None,
    kind="source_target",
    layer=-1,
    head=None,
    target_ids=None,
    source_tokenizer=None,
    target_tokenizer=None,
    max_length=None,
    save_path=None,
):
    """Heatmap of one attention head, or of all heads of a layer, with the tokens on the axes.

    Query tokens label the rows (y), key tokens the columns (x); colors run from 0 to 1 on one
    shared colorbar. Layers and heads are numbered from 0, as the arguments are. A token made of
    spaces shows as "␣".

    Args:
        model: a model from `build_transformer`, or an `AttentionMaps` already computed (then leave
            `source`, `target_ids`, the tokenizers and `max_length` out).
        source, target_ids, source_tokenizer, target_tokenizer, max_length: the example, as for
            `attention_maps`.
        kind: "source_target" (queries from the decoder, keys from the encoder), "encoder_self" or
            "decoder_masked_self".
        layer: the layer, Python-style (-1 is the last).
        head: one head, Python-style; None draws every head of the layer in a grid.
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure` (not attached to pyplot): one heatmap axes per head drawn, then
        the colorbar axes.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny", max_length=8))
    >>> figure = plot_attention(model, [5, 6, 7], target_ids=[8, 9], layer=0, head=1)
    >>> figure.axes[0].get_title()
    'source-target attention, layer 0, head 1'
    """
    check_kind(kind)
    maps = as_attention_maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
    stack = maps.weights(kind)  # (N, H, rows, columns): N is the encoder's or the decoder's depth
    layer = _figures.check_index("layer", layer, stack.shape[0])
    weights = stack[layer]  # (H, rows, columns)
    name, (queries, keys) = attention_title(kind), kind_roles(kind)
    rows, columns = maps.labels(kind)
    if head is None:
        title = f"{name}, layer {layer}, all {maps.num_heads} heads"
        panel_titles = [f"head {h}" for h in range(maps.num_heads)]
    else:
        head = _figures.check_index("head", head, maps.num_heads)
        weights = weights[head : head + 1]
        title = None
        panel_titles = [f"{name}, layer {layer}, head {head}"]
    return plot_attention_weights(
        weights,
        rows,
        columns,
        title=title,
        panel_titles=panel_titles,
        query_axis_label=f"queries: {_AXIS_LABELS[queries]}",
        key_axis_label=f"keys: {_AXIS_LABELS[keys]}",
        save_path=save_path,
    )


def plot_attention_overview(
    model,
    source=None,
    layer=-1,
    head=None,
    target_ids=None,
    source_tokenizer=None,
    target_tokenizer=None,
    max_length=None,
    save_path=None,
):
    """The three attentions of one layer side by side: encoder self-attention, decoder masked
    self-attention, source-target attention.

    Args:
        model, source, target_ids, source_tokenizer, target_tokenizer, max_length: as for
            `plot_attention`.
        layer: the layer, Python-style (-1 is the last).
        head: one head, Python-style; None shows the mean over the heads.
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure` with three heatmap axes and a colorbar axes.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny", max_length=8))
    >>> [axes.get_title().splitlines()[0] for axes in plot_attention_overview(model, [5, 6], target_ids=[7]).axes[:3]]
    ['encoder self-attention', 'decoder masked self-attention', 'source-target attention']
    """
    maps = as_attention_maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
    layer = _figures.check_index("layer", layer, maps.num_layers)
    if head is not None:
        head = _figures.check_index("head", head, maps.num_heads)
    which = f"head {head}" if head is not None else f"mean of {maps.num_heads} heads"
    kinds = ("encoder_self", "decoder_masked_self", "source_target")
    widths = [maps.weights(kind).shape[-1] for kind in kinds]
    height = maps.weights("source_target").shape[-2]
    with _figures.drawing():
        figure = _figures.new_figure(max(7.0, 0.3 * sum(widths) + 4.0), max(2.8, 0.3 * max(height, widths[0]) + 1.6))
        axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": widths})
        for panel, kind in zip(axes, kinds):
            weights = maps.weights(kind)[layer]  # (H, rows, columns)
            weights = weights[head] if head is not None else weights.mean(axis=0)
            image = _heatmap(panel, weights, *maps.labels(kind))
            queries, keys = kind_roles(kind)
            panel.set_title(f"{attention_title(kind)}\nlayer {layer}, {which}", fontsize=10)
            panel.set_ylabel(f"queries: {queries}")
            panel.set_xlabel(f"keys: {keys}")
        figure.colorbar(image, ax=list(axes), label="attention weight", shrink=0.8)
    return _figures.finish(figure, save_path)


def plot_output_probabilities(
    model,
    source=None,
    target_ids=None,
    source_tokenizer=None,
    target_tokenizer=None,
    max_length=None,
    max_columns=40,
    save_path=None,
):
    """Heatmap of the output probabilities, softmax(logits): one row per decoder position, one column
    per target token; a red square marks each row's most likely token (greedy decoding's choice).

    Args:
        model, source, target_ids, source_tokenizer, target_tokenizer, max_length: as for
            `plot_attention`.
        max_columns: with a larger vocabulary, show only the `max_columns` tokens that reach the
            highest probability in some row (in id order).
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure` with the heatmap axes and the colorbar axes.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny", max_length=8))
    >>> figure = plot_output_probabilities(model, [5, 6], target_ids=[7], max_columns=10)
    >>> len(figure.axes[0].get_xticklabels())
    10
    """
    _validation.positive_int("max_columns", max_columns)
    maps = as_attention_maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
    probabilities = maps.output_probabilities  # (T, V)
    vocabulary_size = probabilities.shape[-1]
    if vocabulary_size > max_columns:
        columns = np.sort(np.argsort(-probabilities.max(axis=0), kind="stable")[:max_columns])
        key_axis_label = f"next token (the {max_columns} most likely of {vocabulary_size})"
    else:
        columns = np.arange(vocabulary_size)
        key_axis_label = "next token"
    shown = probabilities[:, columns]
    column_labels = [maps.target_vocabulary[i] for i in columns]
    with _figures.drawing():
        figure = _figures.new_figure(max(4.5, 0.28 * len(columns) + 2.2), max(2.6, 0.3 * len(maps.target_tokens) + 1.8))
        axes = figure.subplots()
        image = _heatmap(axes, shown, maps.target_tokens, column_labels)
        best = probabilities.argmax(axis=-1)
        for row, token in enumerate(best):
            where = np.flatnonzero(columns == token)
            if len(where):
                axes.add_patch(_square(where[0], row))
        axes.set_title("output probabilities\nsoftmax over the target vocabulary", fontsize=10)
        axes.set_ylabel("decoder input (row t predicts token t + 1)")
        axes.set_xlabel(key_axis_label)
        figure.colorbar(image, ax=axes, label="probability", shrink=0.8)
    return _figures.finish(figure, save_path)


def plot_attention_weights(
    weights,
    query_labels,
    key_labels,
    title=None,
    panel_titles=None,
    query_axis_label="queries",
    key_axis_label="keys",
    columns=4,
    save_path=None,
):
    """Heatmaps of any attention weights: one matrix `(T, S)` or a grid of panels `(P, T, S)`.

    The drawing under `plot_attention`, for weights from anywhere (a single
    `layers.scaled_dot_product_attention` call, a `MultiHeadAttention` layer...).

    Args:
        weights: `(T, S)` or `(P, T, S)`, values in [0, 1] (the colors span 0 to 1).
        query_labels: T labels for the rows. key_labels: S labels for the columns.
        title: a title over the whole figure, or None.
        panel_titles: P titles, or None.
        query_axis_label, key_axis_label: the y and x axis labels.
        columns: the most panels a row of the grid.
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure`: P heatmap axes, then one colorbar axes.

    Example:
    >>> import numpy as np
    >>> figure = plot_attention_weights(np.eye(3), ["a", "b", "c"], ["x", "y", "z"], panel_titles=["identity"])
    >>> len(figure.axes), [label.get_text() for label in figure.axes[0].get_xticklabels()]
    (2, ['x', 'y', 'z'])
    """
    weights = np.asarray(weights, dtype="float64")
    if weights.ndim == 2:
        weights = weights[None]
    if weights.ndim != 3 or 0 in weights.shape:
        raise ValueError(f"`weights` must have shape (T, S) or (P, T, S). Received: weights.shape={weights.shape}")
    panels, rows, keys = weights.shape
    query_labels, key_labels = [str(x) for x in query_labels], [str(x) for x in key_labels]
    if len(query_labels) != rows or len(key_labels) != keys:
        raise ValueError(
            f"`query_labels` and `key_labels` must label the {rows} rows and {keys} columns of `weights`. "
            f"Received: {len(query_labels)} query labels, {len(key_labels)} key labels"
        )
    if panel_titles is not None and len(panel_titles) != panels:
        raise ValueError(
            f"`panel_titles` must have one title per panel ({panels}). Received: panel_titles={panel_titles!r}"
        )
    _validation.positive_int("columns", columns)
    grid_columns = min(panels, columns)
    grid_rows = -(-panels // grid_columns)
    # Room for the cells, then for the tick labels: about 0.08 inch a character.
    row_label_width = 0.08 * max(len(label) for label in query_labels)
    column_label_height = 0.08 * max(len(label) for label in key_labels) if max(map(len, key_labels)) > 2 else 0.2
    panel_width = max(2.4, 0.3 * keys + 0.9 + row_label_width)
    panel_height = max(2.2, 0.3 * rows + 0.9 + column_label_height)
    with _figures.drawing():
        figure = _figures.new_figure(
            grid_columns * panel_width + 1.2, grid_rows * panel_height + (0.4 if title else 0.0)
        )
        grid = figure.subplots(grid_rows, grid_columns, squeeze=False)
        used = []
        for index, axes in enumerate(grid.flat):
            if index >= panels:
                figure.delaxes(axes)
                continue
            image = _heatmap(axes, weights[index], query_labels, key_labels)
            if panel_titles is not None:
                axes.set_title(panel_titles[index], fontsize=10)
            if index % grid_columns == 0:
                axes.set_ylabel(query_axis_label)
            if index + grid_columns >= panels:
                axes.set_xlabel(key_axis_label)
            used.append(axes)
        figure.colorbar(image, ax=used, label="attention weight", shrink=0.8)
        if title:
            figure.suptitle(title)
    return _figures.finish(figure, save_path)


def _heatmap(axes, values, row_labels, column_labels):
    image = axes.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis", interpolation="nearest")
    _figures.set_tick_labels(axes, column_labels, row_labels)
    return image


def _square(column, row):
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.2)


__all__ = [
    "KINDS",
    "AttentionMaps",
    "attention_maps",
    "attention_title",
    "check_kind",
    "plot_attention",
    "plot_attention_overview",
    "plot_attention_weights",
    "plot_output_probabilities",
]
