"""Generation with a key/value cache: greedy search, beam search and sampling."""

from keras_transformer.decoding.generate import generate
from keras_transformer.decoding.incremental import IncrementalDecoder
from keras_transformer.decoding.search import beam_search, greedy_search, length_penalty, sample

__all__ = ["IncrementalDecoder", "beam_search", "generate", "greedy_search", "length_penalty", "sample"]
