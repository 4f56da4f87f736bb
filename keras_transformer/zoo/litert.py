"""The LiteRT runtime of the zoo: a folder's `generator.tflite` run by `ai_edge_litert` with
`PythonTokenizer`s, importing no TensorFlow. `zoo.load(name, runtime="litert")` gives a `ZooModel`
running one, and so does `zoo.load(name, runtime="auto")` (what `keras-transformer predict` asks for)
whenever the folder has a generator and the decoding settings allow.

The generator decodes with the folder's own `DecodingSettings` (`zoo.json`), the ones it was built
with (`zoo.write_generator`), and gives what `zoo.load(name).predict` gives, scores included: parity
tests check every zoo model on its test inputs. Other settings (a strategy override, say) need the
TensorFlow pipeline.
"""

import json
import pathlib

import numpy as np

from keras_transformer import _validation
from keras_transformer.decoding.prediction import BLANK_PREDICTION, from_buffers, in_batches
from keras_transformer.text import sentencepiece_model
from keras_transformer.text.python_tokenizer import PythonTokenizer
from keras_transformer.zoo.manifest import read_manifest, verify_manifest
from keras_transformer.zoo.registry import SEQ2SEQ, ZooError, folder_kind, model_dir

GENERATOR = "generator.tflite"
# The generator's signature, and the outputs that give scores (`export.tflite.generator_tflite`): a file
# written before scores existed lacks them.
SIGNATURE = "serving_default"
SCORED_OUTPUTS = ("scores", "token_scores")
# Texts a generator call decodes by default: small batches decoded fastest on CPU (BENCHMARKS.md).
BATCH_SIZE = 8


def has_generator(name):
    """Whether zoo model `name` (or a zoo folder path) lists a `generator.tflite` in its manifest."""
    directory = model_dir(name)
    return folder_kind(directory) == SEQ2SEQ and GENERATOR in read_manifest(directory)


def load(name):
    """Zoo model `name` (a name from `list_models()` or a path to a zoo folder) as a `LiteRTPipeline`,
    after checking every file's sha256 (`zoo.load(name, runtime="litert")` gives it in a `ZooModel`,
    with the folder's info and card).

    Raises:
        ZooError: unknown name, a missing file, a checksum mismatch, or a folder without a generator
            (or not of kind "seq2seq").
        ImportError: `ai_edge_litert` is not installed.
    """
    directory = model_dir(name)
    if folder_kind(directory) != SEQ2SEQ:
        raise ZooError(f"{directory.name} is a {folder_kind(directory)} model; runtime='litert' runs seq2seq models.")
    if GENERATOR not in read_manifest(directory):
        raise ZooError(
            f"{directory.name} has no {GENERATOR} (write one with zoo.write_generator); "
            f"zoo.load({name!r}) runs it in TensorFlow."
        )
    verify_manifest(directory)
    return LiteRTPipeline(directory)


def load_tokenizer(path):
    """The plain-Python tokenizer of a zoo folder's vocabulary file: a `SentencePiecePythonTokenizer`
    for a SentencePiece tokenizer file (`"kind": "sentencepiece"`), else a `PythonTokenizer`."""
    if sentencepiece_model.is_tokenizer_file(path):
        return sentencepiece_model.SentencePiecePythonTokenizer.load(path)
    return PythonTokenizer.load(path)


class LiteRTPipeline:
    """A zoo folder run on text by its TFLite generator: the `TextPipeline.predict` contract without
    TensorFlow.

    Tokenizes with `PythonTokenizer` (truncating to the model's `max_length`, as `TextPipeline`
    does; `SentencePiecePythonTokenizer` for a folder whose vocabulary files are SentencePiece ones),
    runs `generator.tflite` (encoder and cached decoding loop, the folder's decoding settings) in
    `ai_edge_litert.interpreter.Interpreter`, and detokenizes.

    Args:
        directory: a zoo folder holding a `generator.tflite` (use `load`, which checks the manifest).
        num_threads: the interpreter's CPU threads (None: LiteRT's default).

    Attributes:
        name: the folder's name.
        directory: the folder, a `pathlib.Path`.
        settings: the folder's decoding settings as a dict (`DecodingSettings.to_dict()`, with
            `max_output_length` resolved), the ones the generator decodes with.
        source_tokenizer, target_tokenizer: `PythonTokenizer`s (or `SentencePiecePythonTokenizer`s).
    """

    def __init__(self, directory, num_threads=None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ImportError(f"runtime='litert' needs ai-edge-litert (pip install ai-edge-litert): {error}") from None
        directory = pathlib.Path(directory)
        values = json.loads((directory / "zoo.json").read_text(encoding="utf-8"))
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.name = directory.name
        self.directory = directory
        self.max_length = config["max_length"]
        self.settings = dict(values["decoding"])
        self.settings["max_output_length"] = self.settings.get("max_output_length") or self.max_length
        self._prepared_from = values.get("prepared_from")  # a translation model's prepared runtime
        self.source_tokenizer = load_tokenizer(directory / "source_vocabulary.json")
        self.target_tokenizer = load_tokenizer(directory / "target_vocabulary.json")
        self._interpreter = Interpreter(model_path=str(directory / GENERATOR), num_threads=num_threads)
        self._generate = self._interpreter.get_signature_runner(SIGNATURE)

    def __repr__(self):
        return f"LiteRTPipeline(name={self.name!r}, settings={self.settings})"

    def unsupported_settings(self, **overrides):
        """Why the generator cannot decode with `overrides` (`DecodingSettings` fields; None values
        ignored), or None when it can: every given value must be the folder's own."""
        _validation.known_fields("decoding settings", overrides, self.settings, keywords=True)
        different = {
            key: value for key, value in overrides.items() if value is not None and value != self.settings[key]
        }
        if not different:
            return None
        asked = ", ".join(f"{key}={value!r}" for key, value in different.items())
        built = ", ".join(f"{key}={self.settings[key]!r}" for key in different)
        return f"{self.name}'s {GENERATOR} decodes with {built}, not {asked}"

    def encode_texts(self, texts):
        """Texts -> `(B, S)` int32 ids as the generator gets them (truncated to the model's
        `max_length`, zero-padded, at least one column), like `TextPipeline.encode_texts`."""
        rows = self.source_tokenizer.tokenize(_validation.texts("texts", texts, "encode_texts"), max_length=self.max_length)
        ids = np.zeros((len(rows), max([1, *map(len, rows)])), np.int32)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
        return ids

    def predict(self, texts, batch_size=BATCH_SIZE, progress=None, return_scores=False, **overrides):
        """Outputs for `texts` (a list of str), in order: what `TextPipeline.predict` gives.

        Args:
            texts: the inputs; a blank one (empty or whitespace only) gets "" without running the
                generator.
            batch_size: how many texts the generator decodes at once (texts of similar length go
                together, each batch padded to its longest). The default, 8, decoded fastest on CPU
                (see BENCHMARKS.md).
            progress: optional callable `progress(done, total)` called after each batch.
            return_scores: give a `decoding.prediction.Prediction` per text (its text, its log
                probability and its tokens' log probabilities) instead of a str.
            **overrides: `DecodingSettings` fields; each must equal the folder's (see
                `unsupported_settings`): a `ValueError` says which does not.

        Returns:
            A list of str, or of `Prediction`s with `return_scores=True`.

        Raises:
            ZooError: with `return_scores`, a generator written before generators gave scores.
        """
        texts = _validation.texts("texts", texts)
        batch_size = _validation.positive_int("batch_size", batch_size)
        return_scores = _validation.boolean("return_scores", return_scores)
        problem = self.unsupported_settings(**overrides)
        if problem:
            raise ValueError(f"{problem}; zoo.load({self.name!r}) (TensorFlow) decodes with any settings")
        if return_scores:
            self._require_scores()

        def decode_batches(batches):
            for batch in batches:
                result = self._generate(encoder_tokens=self.encode_texts(batch))
                outputs = self.target_tokenizer.detokenize(result["tokens"])
                if return_scores:
                    outputs = from_buffers(outputs, result["scores"], result["tokens"], result["token_scores"])
                yield outputs

        return in_batches(texts, batch_size, decode_batches, BLANK_PREDICTION if return_scores else "", progress)

    def _require_scores(self):
        """A `ZooError` saying how to write the generator again when it has no score outputs."""
        outputs = self._interpreter.get_signature_list()[SIGNATURE]["outputs"]
        missing = [name for name in SCORED_OUTPUTS if name not in outputs]
        if not missing:
            return
        if self._prepared_from:
            rebuild = f"`keras-transformer zoo prepare {self._prepared_from}` writes it again"
        else:
            rebuild = (
                f"write it again in Python: folder = {str(self.directory)!r}; "
                "zoo.write_generator(folder, zoo.load(folder).runtime); zoo.write_manifest(folder)"
            )
        raise ZooError(
            f"{self.directory / GENERATOR} was written before generators gave scores (it has no "
            f"{' or '.join(missing)} output); {rebuild}."
        )


__all__ = ["GENERATOR", "LiteRTPipeline", "has_generator", "load", "load_tokenizer"]
