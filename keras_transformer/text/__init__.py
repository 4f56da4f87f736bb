"""Tokenizers made of core TensorFlow ops: they run in `tf.data` and in exported SavedModels."""

from keras_transformer.text.tokenizer import Tokenizer

__all__ = ["Tokenizer"]
