"""The attention of a model on one example, as arrays (`attention_maps`) and as heatmaps.

The paper's three attentions: encoder self-attention, decoder masked self-attention and
source-target (encoder-decoder) attention. Rows are queries, columns are keys.
"""

import dataclasses
import weakref

import numpy as np

from keras_transformer import _validation
from keras_transformer.decoding import generate
from keras_transformer.models import build_attention_model, config_of
from keras_transformer.viz import _figures

# kind -> (output of `build_attention_model`, the paper's name, query tokens, key tokens)
_KINDS = {
    "source_target": ("source_target_attention", "source-target attention", "target", "source"),
    "encoder_self": ("encoder_self_attention", "encoder self-attention", "source", "source"),
    "decoder_masked_self": ("decoder_masked_self_attention", "decoder masked self-attention", "target", "target"),
}
KINDS = tuple(_KINDS)
_AXIS_LABELS = {
    "source": "source tokens (encoder)",
    "target": "target tokens (decoder input)",
}

# One inspection model per model, built on first use: building it costs more than running it once.
_ATTENTION_MODELS = weakref.WeakKeyDictionary()


def check_kind(kind):
    if kind not in _KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}. Received: kind={kind!r}")
    return kind


def attention_title(kind):
    """The paper's name for an attention `kind`, e.g. "source-target attention"."""
    return _KINDS[check_kind(kind)][1]


@dataclasses.dataclass(frozen=True, eq=False)
class AttentionMaps:
    """Everything a model attended to on one example, as NumPy arrays.

    N is the layer, H the head, S the source length, T the decoder length (the start id and the
    target), V the target vocabulary. Query row t of a decoder attention belongs to the position
    that reads `target_tokens[t]` and predicts the token after it.

    Attributes:
        encoder_self_attention: `(N, H, S, S)`.
        decoder_masked_self_attention: `(N, H, T, T)`, zero above the diagonal.
        source_target_attention: `(N, H, T, S)`, zero at padded source positions.
        output_probabilities: `(T, V)`, softmax of the logits: row t is the distribution of the
            token after `target_tokens[t]`.
        source_ids: `(S,)` the encoder input.
        decoder_ids: `(T,)` the decoder input, `[start] + target`.
        source_tokens, target_tokens: S and T labels: the tokenizer's symbols (`"<pad>"`, `"<s>"`,
            `"</s>"`, `"<unk>"` for the reserved ids), or the ids as text without a tokenizer.
        target_vocabulary: V labels, one for each target id.
    """

    encoder_self_attention: np.ndarray
    decoder_masked_self_attention: np.ndarray
    source_target_attention: np.ndarray
    output_probabilities: np.ndarray
    source_ids: np.ndarray
    decoder_ids: np.ndarray
    source_tokens: list
    target_tokens: list
    target_vocabulary: list

    @property
    def num_layers(self):
        return self.encoder_self_attention.shape[0]

    @property
    def num_heads(self):
        return self.encoder_self_attention.shape[1]

    def weights(self, kind):
        """The `(N, H, rows, columns)` weights of `kind`: "source_target", "encoder_self" or
        "decoder_masked_self"."""
        return getattr(self, _KINDS[check_kind(kind)][0])

    def labels(self, kind):
        """`(row_labels, column_labels)`: the query and key tokens of `kind`."""
        _, _, queries, keys = _KINDS[check_kind(kind)]
        tokens = {"source": self.source_tokens, "target": self.target_tokens}
        return tokens[queries], tokens[keys]


def attention_maps(
    model,
    source,
    target_ids=None,
    source_tokenizer=None,
    target_tokenizer=None,
    max_length=None,
    start_id=None,
    end_id=None,
):
    """Run `model` on one example and collect its attention weights with their token labels.

    Without `target_ids` the target is first decoded greedily (`keras_transformer.decoding.generate`,
    through the end id); the decoder then reads `[start] + target`, as in training.

    Args:
        model: a model from `build_transformer` (or loaded from its `.keras` file).
        source: one source: text (with `source_tokenizer`) or a sequence of ids `(S,)` (0 = padding,
            kept, so its attention shows as zeros); a `(1, S)` array is taken as `(S,)`.
        target_ids: the target without the start id: ids `(T - 1,)`, or text with
            `target_tokenizer`. None: decode it greedily.
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s, to read text and
            to label tokens with their symbols (else labels are the ids).
        max_length: the most ids to decode when `target_ids` is None; default the model's
            `max_length - 1` (the start id takes one position). Unused with `target_ids`.
        start_id, end_id: default the target tokenizer's (else 1 and 2).

    Returns:
        An `AttentionMaps` for the example.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny", max_length=8))
    >>> maps = attention_maps(model, [5, 6, 7], target_ids=[8, 9])
    >>> maps.source_target_attention.shape  # (N, H, T, S): T = [start] + 2 ids
    (1, 2, 3, 3)
    >>> maps.target_tokens
    ['1', '8', '9']
    """
    model_max_length = _model_max_length(model)
    if start_id is None:
        start_id = target_tokenizer.start_id if target_tokenizer is not None else 1
    if end_id is None:
        end_id = target_tokenizer.end_id if target_tokenizer is not None else 2
    source_ids = _as_ids("source", source, source_tokenizer, "source_tokenizer")
    if len(source_ids) == 0:
        raise ValueError(f"`source` must hold at least one token. Received: source={source!r}")
    if len(source_ids) > model_max_length:
        raise ValueError(
            f"`source` is longer than the model's max_length={model_max_length}. Received: {len(source_ids)} ids"
        )
    if target_ids is None:
        if max_length is None:
            max_length = model_max_length - 1
        _validation.positive_int("max_length", max_length)
        if max_length > model_max_length - 1:
            raise ValueError(
                f"`max_length` must be at most the model's max_length - 1 = {model_max_length - 1} (the start id "
                f"takes one position). Received: max_length={max_length}"
            )
        generated = generate(model, source_ids[None], max_output_length=max_length, start_id=start_id, end_id=end_id)["tokens"]
        target = _through_end(np.asarray(generated)[0], end_id)
    else:
        target = _as_ids("target_ids", target_ids, target_tokenizer, "target_tokenizer")
    decoder_ids = np.concatenate([[start_id], target]).astype("int32")
    if len(decoder_ids) > model_max_length:
        raise ValueError(
            f"`target_ids` is too long: the decoder reads [start] + target_ids, {len(decoder_ids)} ids, and the "
            f"model's max_length is {model_max_length}. Received: {len(target)} ids"
        )

    outputs = _attention_model(model)(
        {"encoder_tokens": source_ids[None], "decoder_tokens": decoder_ids[None]}, training=False
    )
    logits = np.asarray(outputs["logits"], dtype="float64")[0]  # (T, V)
    probabilities = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    source_label, target_label = _labeler(source_tokenizer), _labeler(target_tokenizer)
    return AttentionMaps(
        encoder_self_attention=np.asarray(outputs["encoder_self_attention"])[0],
        decoder_masked_self_attention=np.asarray(outputs["decoder_masked_self_attention"])[0],
        source_target_attention=np.asarray(outputs["source_target_attention"])[0],
        output_probabilities=probabilities,
        source_ids=source_ids,
        decoder_ids=decoder_ids,
        source_tokens=[source_label(i) for i in source_ids],
        target_tokens=[target_label(i) for i in decoder_ids],
        target_vocabulary=[target_label(i) for i in range(probabilities.shape[-1])],
    )


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
    maps = _maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
    layer = _figures.check_index("layer", layer, maps.num_layers)
    weights = maps.weights(kind)[layer]  # (H, rows, columns)
    name, queries, keys = _KINDS[kind][1:]
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
    maps = _maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
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
            _, name, queries, keys = _KINDS[kind]
            panel.set_title(f"{name}\nlayer {layer}, {which}", fontsize=10)
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
    maps = _maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)
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


def _maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length):
    if isinstance(model, AttentionMaps):
        given = {
            "source": source,
            "target_ids": target_ids,
            "source_tokenizer": source_tokenizer,
            "target_tokenizer": target_tokenizer,
            "max_length": max_length,
        }
        extra = {name: value for name, value in given.items() if value is not None}
        if extra:
            raise ValueError(
                f"With an AttentionMaps the example is already computed: leave out {sorted(extra)}. "
                f"Received: {', '.join(f'{name}={value!r}' for name, value in extra.items())}"
            )
        return model
    if source is None:
        raise ValueError("`source` is needed to run the model. Received: source=None")
    return attention_maps(model, source, target_ids, source_tokenizer, target_tokenizer, max_length)


def _attention_model(model):
    try:
        attention_model = _ATTENTION_MODELS.get(model)
    except TypeError:  # not weak-referenceable or not hashable: build one each time
        return build_attention_model(model)
    if attention_model is None:
        attention_model = _ATTENTION_MODELS[model] = build_attention_model(model)
    return attention_model


def _model_max_length(model):
    return config_of(model).max_length


def _as_ids(name, value, tokenizer, tokenizer_name):
    """One sequence of ids `(L,)` int32 from text (through `tokenizer`) or ids."""
    if isinstance(value, (str, bytes)):
        if tokenizer is None:
            raise ValueError(f"`{name}` is text, which needs `{tokenizer_name}`. Received: {name}={value!r}")
        return np.asarray(tokenizer.tokenize(value), dtype="int32")
    ids = np.asarray(value)
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if ids.size == 0:
        ids = ids.astype("int32").reshape(0)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be text or one sequence of integer ids (L,). "
            f"Received: {name} of shape {ids.shape} and dtype {ids.dtype}"
        )
    if (ids < 0).any():
        raise ValueError(f"`{name}` must hold ids >= 0. Received: {name}={ids.tolist()}")
    return ids.astype("int32")


def _through_end(tokens, end_id):
    """Generated ids up to and including the first end id (the padding after it dropped)."""
    ends = np.flatnonzero(tokens == end_id)
    if len(ends):
        return tokens[: ends[0] + 1]
    real = np.flatnonzero(tokens != 0)
    return tokens[: real[-1] + 1] if len(real) else tokens[:0]


def _labeler(tokenizer):
    if tokenizer is None:
        return lambda token_id: str(int(token_id))
    symbols = list(tokenizer.reserved_symbols) + tokenizer.vocabulary

    def label(token_id):
        token_id = int(token_id)
        return symbols[token_id] if 0 <= token_id < len(symbols) else str(token_id)

    return label
