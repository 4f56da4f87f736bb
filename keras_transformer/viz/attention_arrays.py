"""The attention of a model on one example as NumPy arrays (`attention_maps`, `AttentionMaps`).

Needs no matplotlib; `keras_transformer.viz.attention` draws these arrays as heatmaps.
"""

import dataclasses
import weakref

import numpy as np

from keras_transformer import _validation
from keras_transformer.decoding import generate
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.models import build_attention_model, config_of

# The paper's three attentions; rows are queries, columns are keys.
# kind -> (output of `build_attention_model`, the paper's name, query tokens, key tokens)
_KINDS = {
    "source_target": ("source_target_attention", "source-target attention", "target", "source"),
    "encoder_self": ("encoder_self_attention", "encoder self-attention", "source", "source"),
    "decoder_masked_self": ("decoder_masked_self_attention", "decoder masked self-attention", "target", "target"),
}
KINDS = tuple(_KINDS)

# One inspection model per model, built on first use: building it costs more than running it once.
_ATTENTION_MODELS = weakref.WeakKeyDictionary()


def check_kind(kind):
    """`kind` itself if it is one of `KINDS`, else a ValueError naming it."""
    if kind not in _KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}. Received: kind={kind!r}")
    return kind


def attention_title(kind):
    """The paper's name for an attention `kind`, e.g. "source-target attention"."""
    return _KINDS[check_kind(kind)][1]


def kind_roles(kind):
    """`(queries, keys)` of an attention `kind`: where its rows and its columns come from, each
    "source" (the encoder's tokens) or "target" (the decoder's).

    Example:
    >>> kind_roles("source_target")
    ('target', 'source')
    """
    return _KINDS[check_kind(kind)][2:]


@dataclasses.dataclass(frozen=True, eq=False)
class AttentionMaps:
    """Everything a model attended to on one example, as NumPy arrays.

    N is the layer, H the head, S the source length, T the decoder length (the start id and the
    target), V the target vocabulary. Query row t of a decoder attention belongs to the position
    that reads `target_tokens[t]` and predicts the token after it.

    Attributes:
        encoder_self_attention: `(N, H, S, S)`.
        decoder_masked_self_attention: `(N, H, T, T)`, zero above the diagonal; None for a decoder
            whose first sublayer is an SSRU (it has no attention weights).
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
    decoder_masked_self_attention: np.ndarray | None
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
        "decoder_masked_self" (a `ValueError` for a model whose decoder has an SSRU instead)."""
        weights = getattr(self, _KINDS[check_kind(kind)][0])
        if weights is None:
            raise ValueError(
                "This model's decoder has an SSRU instead of a masked self-attention: it has no such weights. "
                f"Received: kind={kind!r}; plot 'source_target' or 'encoder_self'"
            )
        return weights

    def labels(self, kind):
        """`(row_labels, column_labels)`: the query and key tokens of `kind`."""
        queries, keys = kind_roles(kind)
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

    Raises:
        InvalidArgumentError: (a ValueError) `source` is empty or longer than the model's
            max_length, `max_length` is too large, or `[start] + target_ids` does not fit.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> model = build_transformer(TransformerConfig.from_name("tiny", max_length=8))
    >>> maps = attention_maps(model, [5, 6, 7], target_ids=[8, 9])
    >>> maps.source_target_attention.shape  # (N, H, T, S): T = [start] + 2 ids
    (1, 2, 3, 3)
    >>> maps.target_tokens
    ['1', '8', '9']
    """
    model_max_length = config_of(model).max_length
    if start_id is None:
        start_id = target_tokenizer.start_id if target_tokenizer is not None else 1
    if end_id is None:
        end_id = target_tokenizer.end_id if target_tokenizer is not None else 2
    source_ids = _as_ids("source", source, source_tokenizer, "source_tokenizer")
    if len(source_ids) == 0:
        raise InvalidArgumentError(f"`source` must hold at least one token. Received: source={source!r}")
    if len(source_ids) > model_max_length:
        raise InvalidArgumentError(
            f"`source` is longer than the model's max_length={model_max_length}. Received: {len(source_ids)} ids"
        )
    if target_ids is None:
        if max_length is None:
            max_length = model_max_length - 1
        _validation.positive_int("max_length", max_length)
        if max_length > model_max_length - 1:
            raise InvalidArgumentError(
                f"`max_length` must be at most the model's max_length - 1 = {model_max_length - 1} (the start id "
                f"takes one position). Received: max_length={max_length}"
            )
        generated = generate(model, source_ids[None], max_output_length=max_length, start_id=start_id, end_id=end_id)["tokens"]
        target = _through_end(np.asarray(generated)[0], end_id)
    else:
        target = _as_ids("target_ids", target_ids, target_tokenizer, "target_tokenizer")
    decoder_ids = np.concatenate([[start_id], target]).astype("int32")
    if len(decoder_ids) > model_max_length:
        raise InvalidArgumentError(
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
        decoder_masked_self_attention=(
            np.asarray(outputs["decoder_masked_self_attention"])[0] if "decoder_masked_self_attention" in outputs else None
        ),
        source_target_attention=np.asarray(outputs["source_target_attention"])[0],
        output_probabilities=probabilities,
        source_ids=source_ids,
        decoder_ids=decoder_ids,
        source_tokens=[source_label(i) for i in source_ids],
        target_tokens=[target_label(i) for i in decoder_ids],
        target_vocabulary=[target_label(i) for i in range(probabilities.shape[-1])],
    )


def as_attention_maps(
    model, source=None, target_ids=None, source_tokenizer=None, target_tokenizer=None, max_length=None
):
    """`model` itself if it is an `AttentionMaps` (then the example arguments must be left out),
    else `attention_maps(model, source, ...)`: how the plots take either.

    Example:
    >>> from keras_transformer import TransformerConfig, build_transformer
    >>> maps = as_attention_maps(build_transformer(TransformerConfig.from_name("tiny", max_length=8)), [5, 6])
    >>> as_attention_maps(maps) is maps
    True
    """
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
    if hasattr(tokenizer, "reserved_symbols"):
        symbols = list(tokenizer.reserved_symbols) + tokenizer.vocabulary
    else:  # a SentencePieceTokenizer: its pieces' ids + 1, padding first and the decoder's start last
        symbols = ["<pad>", *tokenizer.model.pieces, "<s>"]

    def label(token_id):
        token_id = int(token_id)
        return symbols[token_id] if 0 <= token_id < len(symbols) else str(token_id)

    return label


__all__ = [
    "KINDS",
    "AttentionMaps",
    "as_attention_maps",
    "attention_maps",
    "attention_title",
    "check_kind",
    "kind_roles",
]
