"""Tokenizers: `Tokenizer`, `WordPieceTokenizer` and `SentencePieceTokenizer` are made of core
TensorFlow ops (they run in `tf.data` and in exported SavedModels); `PythonTokenizer` reads
`Tokenizer`'s vocabulary files and gives the same ids in plain Python, without TensorFlow (the LiteRT
runtime's tokenizer), as `SentencePiecePythonTokenizer` does for `SentencePieceTokenizer`.

Each name is imported on first use (`keras_transformer._lazy`), so `PythonTokenizer` loads no TensorFlow.
"""

from keras_transformer import _lazy

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "Tokenizer": ("keras_transformer.text.tokenizer", "Tokenizer"),
        "WordPieceTokenizer": ("keras_transformer.text.wordpiece", "WordPieceTokenizer"),
        "PythonTokenizer": ("keras_transformer.text.python_tokenizer", "PythonTokenizer"),
        "SentencePieceTokenizer": ("keras_transformer.text.sentencepiece", "SentencePieceTokenizer"),
        "SentencePiecePythonTokenizer": ("keras_transformer.text.sentencepiece_model", "SentencePiecePythonTokenizer"),
    },
)


__all__ = ["PythonTokenizer", "SentencePiecePythonTokenizer", "SentencePieceTokenizer", "Tokenizer", "WordPieceTokenizer"]
