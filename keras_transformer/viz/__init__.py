"""Pictures of a Transformer: attention heatmaps, the positional encoding, training curves.

Every function returns a `matplotlib.figure.Figure` built without pyplot, so it works headless (no
display, any backend) and leaves pyplot's global state alone; `save_path=` writes a PNG. Needs
matplotlib (`pip install "keras-transformer[plot]"`).
"""

from keras_transformer import _modules

_modules.require("keras_transformer.viz", "plot", ["matplotlib"])

from keras_transformer.viz.attention import (
    plot_attention,
    plot_attention_overview,
    plot_attention_weights,
    plot_output_probabilities,
)
from keras_transformer.viz.attention_arrays import KINDS, AttentionMaps, attention_maps
from keras_transformer.viz.history import plot_history
from keras_transformer.viz.positional_encoding import plot_positional_encoding

__all__ = [
    "KINDS",
    "AttentionMaps",
    "attention_maps",
    "plot_attention",
    "plot_attention_overview",
    "plot_attention_weights",
    "plot_history",
    "plot_output_probabilities",
    "plot_positional_encoding",
]
