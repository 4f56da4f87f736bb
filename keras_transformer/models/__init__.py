"""Encoder-decoder and encoder-only models assembled from `keras_transformer.layers` with the
functional API. Names are imported on first use: the configs load no Keras."""

from keras_transformer import _lazy

_NAMES = {
    "EncoderConfig": ("keras_transformer.models.encoder", "EncoderConfig"),
    "EncoderModel": ("keras_transformer.models.encoder", "EncoderModel"),
    "TransformerConfig": ("keras_transformer.models.config", "TransformerConfig"),
    "TransformerLayers": ("keras_transformer.models.transformer", "TransformerLayers"),
    "TransformerModel": ("keras_transformer.models.transformer", "TransformerModel"),
    "build_attention_model": ("keras_transformer.models.transformer", "build_attention_model"),
    "build_encoder": ("keras_transformer.models.encoder", "build_encoder"),
    "build_transformer": ("keras_transformer.models.transformer", "build_transformer"),
    "config_of": ("keras_transformer.models.transformer", "config_of"),
}
__getattr__, __dir__ = _lazy.attach(__name__, _NAMES)
__all__ = sorted(_NAMES)
