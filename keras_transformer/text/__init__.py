"""Tokenizers: `Tokenizer` and `WordPieceTokenizer` are made of core TensorFlow ops (they run in
`tf.data` and in exported SavedModels); `PythonTokenizer` reads `Tokenizer`'s vocabulary files and
gives the same ids in plain Python, without TensorFlow (the LiteRT runtime's tokenizer).

Each name is imported on first use, so `PythonTokenizer` loads no TensorFlow.
"""

import importlib

_LAZY = {
    "Tokenizer": "keras_transformer.text.tokenizer",
    "WordPieceTokenizer": "keras_transformer.text.wordpiece",
    "PythonTokenizer": "keras_transformer.text.python_tokenizer",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_transformer.text' has no attribute {name!r}")


__all__ = ["PythonTokenizer", "Tokenizer", "WordPieceTokenizer"]
