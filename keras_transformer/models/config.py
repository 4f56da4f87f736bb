"""`TransformerConfig`: the one description of a model's sizes that builder, training and CLI share."""

import dataclasses
import json

from keras_transformer import _validation

_ACTIVATIONS = ("relu", "gelu")
_DECODER_SELF_ATTENTION = ("attention", "ssru")
_POSITIONAL_LAYOUTS = ("interleaved", "tensor2tensor")

# Named sizes, the one table that the builder, the training options and the command line share. `base`
# and `big` are the paper's Table 3 rows; vocabulary sizes are placeholders to override with the tokenizer's.
_NAMED_SIZES = {
    "tiny": dict(d_model=32, num_heads=2, d_ff=64, num_encoder_layers=1, num_decoder_layers=1, dropout=0.0),
    "compact": dict(d_model=128, num_heads=4, d_ff=512, num_encoder_layers=3, num_decoder_layers=3, dropout=0.1),
    "small": dict(d_model=256, num_heads=4, d_ff=1024, num_encoder_layers=3, num_decoder_layers=3, dropout=0.1),
    "base": dict(d_model=512, num_heads=8, d_ff=2048, num_encoder_layers=6, num_decoder_layers=6, dropout=0.1),
    "big": dict(d_model=1024, num_heads=16, d_ff=4096, num_encoder_layers=6, num_decoder_layers=6, dropout=0.3),
}


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """Sizes and options of an encoder-decoder Transformer; validated on construction.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 is padding).
        d_model: D. num_heads: H (divides D). d_ff: F.
        num_encoder_layers, num_decoder_layers: N for each stack.
        dropout: residual and embedding dropout, in [0, 1).
        max_length: longest source or target sequence (positional-encoding table size).
        share_embeddings: one embedding matrix for source and target (needs equal vocabularies).
        tie_output: the target embedding is also the pre-softmax projection.
        normalize_first: pre-LN blocks instead of the paper's post-LN.
        activation: "relu" (paper) or "gelu".
        decoder_self_attention: the decoder's first sublayer, "attention" (the paper's masked
            self-attention) or "ssru" (Kim et al., 2019; `layers.SSRU`).
        positional_layout: the sinusoidal table, "interleaved" (the paper) or "tensor2tensor" (sines
            then cosines, Marian's; `layers.sinusoidal_table`).
        scale_embeddings: multiply token embeddings by √d_model (the paper's section 3.4).
        output_bias: a bias on the tied output projection (needs `tie_output`; an untied projection
            always has one).
        layer_norm_epsilon: ε of every layer norm.

    Example:
    >>> config = TransformerConfig.from_name("base", source_vocab_size=37000, target_vocab_size=37000)
    >>> config.d_model, config.num_heads, config.d_ff
    (512, 8, 2048)
    """

    source_vocab_size: int
    target_vocab_size: int
    d_model: int = 512
    num_heads: int = 8
    d_ff: int = 2048
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    dropout: float = 0.1
    max_length: int = 512
    share_embeddings: bool = False
    tie_output: bool = True
    normalize_first: bool = False
    activation: str = "relu"
    decoder_self_attention: str = "attention"
    positional_layout: str = "interleaved"
    scale_embeddings: bool = True
    output_bias: bool = False
    layer_norm_epsilon: float = 1e-6

    def __post_init__(self):
        positive = (
            "source_vocab_size",
            "target_vocab_size",
            "d_model",
            "num_heads",
            "d_ff",
            "num_encoder_layers",
            "num_decoder_layers",
            "max_length",
        )
        for name in positive:
            # Stored as a plain int (a NumPy integer passes the check but would not serialize to JSON).
            object.__setattr__(self, name, _validation.positive_int(name, getattr(self, name)))
        _validation.divides("num_heads", self.num_heads, "d_model", self.d_model)
        _validation.fraction("dropout", self.dropout)
        _validation.one_of("activation", self.activation, _ACTIVATIONS)
        _validation.one_of("decoder_self_attention", self.decoder_self_attention, _DECODER_SELF_ATTENTION)
        _validation.one_of("positional_layout", self.positional_layout, _POSITIONAL_LAYOUTS)
        _validation.positive_number("layer_norm_epsilon", self.layer_norm_epsilon)
        for name in ("share_embeddings", "tie_output", "normalize_first", "scale_embeddings", "output_bias"):
            _validation.boolean(name, getattr(self, name))
        if self.output_bias and not self.tie_output:
            raise ValueError(
                "output_bias=True adds a bias to the tied output projection; an untied one has its own. "
                "Received: output_bias=True with tie_output=False"
            )
        if self.share_embeddings and self.source_vocab_size != self.target_vocab_size:
            raise ValueError(
                "share_embeddings=True needs one vocabulary for source and target. Received: "
                f"source_vocab_size={self.source_vocab_size}, target_vocab_size={self.target_vocab_size}"
            )

    @classmethod
    def from_name(cls, name, **overrides):
        """A named size ("tiny", "compact", "small", "base", "big") with any field overridden.

        The vocabulary sizes have no sensible default and must be given unless `tiny` (which uses
        100 for both, for tests).
        """
        if name not in _NAMED_SIZES:
            raise ValueError(f"Unknown config name. Expected one of {sorted(_NAMED_SIZES)}. Received: name={name!r}")
        fields = {"source_vocab_size": 100, "target_vocab_size": 100} if name == "tiny" else {}
        fields.update(_NAMED_SIZES[name])
        fields.update(_validation.known_fields("TransformerConfig fields", overrides, cls))
        missing = [f for f in ("source_vocab_size", "target_vocab_size") if f not in fields]
        if missing:
            raise ValueError(f"TransformerConfig.from_name({name!r}) needs {', '.join(missing)}.")
        return cls(**fields)

    @classmethod
    def names(cls):
        return sorted(_NAMED_SIZES)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, fields):
        return cls(**_validation.known_fields("TransformerConfig fields", fields, cls))

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))
