"""The CTranslate2 runtime of the zoo: a seq2seq folder's weights converted once, without TensorFlow,
into a CTranslate2 model in the user's cache, and run by `ctranslate2.Translator` with the folder's
`PythonTokenizer`s. `zoo.load(name, runtime="ctranslate2")` gives a `ZooModel` running one.

CTranslate2's `TransformerSpec` is our model: post- or pre-layer-norm blocks, ReLU or exact GELU
feed-forward, embeddings scaled by √d_model, a tied (or untied) output projection. What it would
otherwise take from its own defaults is given explicitly: the positional table (ours, not
CTranslate2's sines-then-cosines), the layer-norm ε, and a vocabulary of token ids written as strings
("0", "1", ...), so that any of our tokenizers feeds it the ids `TextPipeline` would. The converted
folder, under `prepared.cache_dir()`:

    ctranslate2/<model name>-<weights sha256[:16]>/
        model.bin, config.json,                 CTranslate2's files (float32 weights)
        source_vocabulary.json, target_vocabulary.json
        keras_transformer.json                  what it was converted from (checksums, converter
                                                version)
        manifest.sha256                         every file above

It is written into a temporary folder and renamed into place, checked against its manifest on every
load, and converted again when damaged or made from other files.

Greedy search only: CTranslate2's beam search ranks and stops otherwise than ours (`_settings_problem`).
With the default `compute_type="float32"` the outputs are `zoo.load(name).predict`'s, and so are the
scores to 1e-4 (tests/zoo/test_ctranslate2.py, tests/zoo/test_scores_parity.py).
"""

import json
import pathlib

import numpy as np

from keras_transformer import _validation
from keras_transformer.decoding.prediction import BLANK_PREDICTION, Prediction, in_batches
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.zoo.litert import load_tokenizer
from keras_transformer.zoo.manifest import verify_manifest
from keras_transformer.zoo.registry import SEQ2SEQ, ZooError, folder_kind, model_dir
from keras_transformer.zoo.ctranslate2_convert import _import_ctranslate2, prepare

# "float32" gives TextPipeline's outputs; the int8 ones are faster and change a few (BENCHMARKS.md).
COMPUTE_TYPES = ("float32", "int8", "int8_float32")
# Texts a `translate_batch` call decodes, and the translator's threads: the fastest tried on 2 CPU
# cores, two batches decoded side by side on one thread each (BENCHMARKS.md). Threads inside a batch
# (intra_threads=2) were the slowest: small batches spend their time handing work between threads.
BATCH_SIZE = 64
INTER_THREADS = 2
INTRA_THREADS = 1


class UnsupportedSettings(InvalidArgumentError):
    """CTranslate2 cannot decode as asked and give what `TextPipeline` gives.

    Attributes:
        reason: why, as a phrase, for callers that say it in their own words (`zoo.load` does).
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def load(
    name, decoding=None, compute_type="float32", inter_threads=INTER_THREADS, intra_threads=INTRA_THREADS, report=None
):
    """Zoo model `name` (a name from `list_models()` or a path to a seq2seq zoo folder) as a
    `CTranslate2Pipeline`, after checking every file's sha256; converted first when the cache holds no
    sound conversion (`prepare`). `zoo.load(name, runtime="ctranslate2")` gives it in a `ZooModel`.

    Args:
        name: a zoo model name or a zoo folder path.
        decoding: `DecodingSettings` fields (a dict; None values ignored) to decode with instead of the
            folder's; greedy search only (see `CTranslate2Pipeline.unsupported_settings`).
        compute_type: "float32" (default: `TextPipeline`'s outputs), or "int8" / "int8_float32" (int8
            weights: faster, and some outputs differ).
        inter_threads, intra_threads: `ctranslate2.Translator`'s batches decoded side by side, and
            threads a batch (0: one a core); the defaults, 2 and 1, were the fastest on 2 cores.
        report: optional callable given one line when the model is converted.

    Raises:
        ZooError: unknown name, a missing file, a checksum mismatch, a folder not of kind "seq2seq", or
            a model CTranslate2 cannot run (an SSRU decoder).
        UnsupportedSettings: the settings asked for (the folder's with `decoding`) are not greedy search.
        ImportError: ctranslate2 is not installed.
    """
    directory = model_dir(name)
    if folder_kind(directory) != SEQ2SEQ:
        raise ZooError(
            f"{directory.name} is a {folder_kind(directory)} model; runtime='ctranslate2' runs seq2seq models."
        )
    _validation.one_of("compute_type", compute_type, COMPUTE_TYPES)
    _import_ctranslate2()
    verify_manifest(directory)
    settings, max_length = read_settings(directory)
    problem = _settings_problem(directory.name, _merged(settings, decoding or {}), max_length)
    if problem:
        raise UnsupportedSettings(problem)
    folder = prepare(directory, report=report)
    return CTranslate2Pipeline(directory, folder, compute_type, inter_threads, intra_threads, decoding)


def read_settings(directory):
    """`(settings, max_length)`: a zoo folder's decoding settings (zoo.json) as a dict with
    `max_output_length` resolved, and its model's `max_length`."""
    directory = pathlib.Path(directory)
    settings = dict(json.loads((directory / "zoo.json").read_text(encoding="utf-8"))["decoding"])
    max_length = json.loads((directory / "config.json").read_text(encoding="utf-8"))["max_length"]
    settings["max_output_length"] = settings.get("max_output_length") or max_length
    return settings, max_length


def _merged(settings, overrides):
    return {**settings, **{key: value for key, value in overrides.items() if value is not None}}


def _settings_problem(name, settings, max_length):
    """Why CTranslate2 cannot decode with `settings` (a dict) as `TextPipeline` would, or None when it can."""
    strategy = settings.get("strategy", "greedy")
    if strategy == "beam":
        return (
            f"{name} would decode with strategy='beam': CTranslate2's beam search ranks ended hypotheses by "
            "length^α and stops once beam_size have ended, ours by GNMT's penalty when no live one can win, "
            "so runtime='ctranslate2' runs greedy search only"
        )
    if strategy != "greedy":
        return f"runtime='ctranslate2' runs greedy search only (its sampling draws other numbers), not strategy={strategy!r}"
    if settings.get("max_length_factor") is not None:
        return (
            f"runtime='ctranslate2' has no max_length_factor, not max_length_factor={settings['max_length_factor']!r}"
        )
    if settings.get("shortlist"):
        return "runtime='ctranslate2' has no lexical shortlist, not shortlist=True"
    if not isinstance(settings["max_output_length"], int) or not 1 <= settings["max_output_length"] <= max_length:
        return f"max_output_length must be an int in [1, {name}'s max_length={max_length}], not {settings['max_output_length']!r}"
    return None


class CTranslate2Pipeline:
    """A zoo folder run on text by CTranslate2: the `TextPipeline.predict` contract (greedy search)
    without TensorFlow.

    Tokenizes with the folder's `PythonTokenizer`s (truncating to the model's `max_length`, as
    `TextPipeline` does), decodes the ids with `ctranslate2.Translator.translate_batch` (beam size 1,
    at most `max_output_length` ids, the end id included, as ours), and detokenizes. A blank text
    gets "" unrun, as in every runtime; with `return_scores` each output id's log probability comes
    from the logits CTranslate2 returns for the step that chose it.

    Args:
        directory: the zoo folder (use `load`, which checks the manifest and the settings).
        model_dir: its CTranslate2 conversion (`prepare`).
        compute_type: "float32", "int8" or "int8_float32" (see `load`).
        inter_threads, intra_threads: the translator's threads (see `load`).
        decoding: `DecodingSettings` fields changing the folder's (`unsupported_settings` must pass).

    Attributes:
        name: the folder's name.
        settings: the decoding settings as a dict (`DecodingSettings.to_dict()`'s keys, with
            `max_output_length` resolved).
        source_tokenizer, target_tokenizer: `PythonTokenizer`s (or `SentencePiecePythonTokenizer`s).
        translator: the `ctranslate2.Translator`.
        model_dir: the converted folder; compute_type: the translator's.

    Example:
    >>> from keras_transformer.zoo import ctranslate2
    >>> g2p = ctranslate2.load("g2p_en")  # converted into the cache on first use, then reused
    >>> g2p.predict(["transformer", "pronunciation"])
    ['T R AE0 N S F AO1 R M ER0', 'P R AH0 N AH2 N S IY0 EY1 SH AH0 N']
    """

    def __init__(
        self,
        directory,
        model_dir,
        compute_type="float32",
        inter_threads=INTER_THREADS,
        intra_threads=INTRA_THREADS,
        decoding=None,
    ):
        ctranslate2 = _import_ctranslate2()
        _validation.one_of("compute_type", compute_type, COMPUTE_TYPES)
        directory, self.model_dir = pathlib.Path(directory), pathlib.Path(model_dir)
        self.name = directory.name
        self.settings, self.max_length = read_settings(directory)
        problem = self.unsupported_settings(**(decoding or {}))
        if problem:
            raise UnsupportedSettings(problem)
        self.settings = _merged(self.settings, decoding or {})
        self.source_tokenizer = load_tokenizer(directory / "source_vocabulary.json")
        self.target_tokenizer = load_tokenizer(directory / "target_vocabulary.json")
        self.compute_type = compute_type
        self.translator = ctranslate2.Translator(
            str(self.model_dir),
            device="cpu",
            compute_type=compute_type,
            inter_threads=_validation.positive_int("inter_threads", inter_threads),
            intra_threads=_validation.non_negative_int("intra_threads", intra_threads),
        )

    def __repr__(self):
        return f"CTranslate2Pipeline(name={self.name!r}, compute_type={self.compute_type!r}, settings={self.settings})"

    def unsupported_settings(self, **overrides):
        """Why CTranslate2 cannot decode with `overrides` (`DecodingSettings` fields; None values ignored)
        as `TextPipeline` would, or None when it can: greedy search, any `max_output_length` up to the
        model's `max_length`."""
        _validation.known_fields(
            "decoding settings", overrides, [*self.settings, "max_length_factor", "shortlist"], keywords=True
        )
        return _settings_problem(self.name, _merged(self.settings, overrides), self.max_length)

    def encode_texts(self, texts):
        """Texts -> `(B, S)` int32 ids (truncated to the model's `max_length`, zero-padded, at least one
        column), as `TextPipeline.encode_texts` gives them."""
        rows = self.source_tokenizer.tokenize(
            _validation.texts("texts", texts, "encode_texts"), max_length=self.max_length
        )
        ids = np.zeros((len(rows), max([1, *map(len, rows)])), np.int32)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
        return ids

    def predict(self, texts, batch_size=BATCH_SIZE, progress=None, return_scores=False, **overrides):
        """Outputs for `texts` (a list of str), in order: what `TextPipeline.predict` gives.

        Args:
            texts: the inputs; a blank one (empty or whitespace only) gets "" without running the
                translator.
            batch_size: how many texts a `translate_batch` call decodes (texts of similar length go
                together).
            progress: optional callable `progress(done, total)` called after each batch.
            return_scores: give a `decoding.prediction.Prediction` per text (its text, its log
                probability and its tokens' log probabilities, as `TextPipeline`'s greedy search
                gives them) instead of a str.
            **overrides: `DecodingSettings` fields for this call; greedy search only (see
                `unsupported_settings`): an `UnsupportedSettings` error says why not.

        Returns:
            A list of str, or of `Prediction`s with `return_scores=True`.
        """
        texts = _validation.texts("texts", texts)
        batch_size = _validation.positive_int("batch_size", batch_size)
        return_scores = _validation.boolean("return_scores", return_scores)
        problem = self.unsupported_settings(**overrides)
        if problem:
            raise UnsupportedSettings(f"{problem}; zoo.load({self.name!r}) (TensorFlow) decodes with any settings")
        max_output_length = _merged(self.settings, overrides)["max_output_length"]
        options = {
            "beam_size": 1,
            "max_decoding_length": max_output_length,  # the end id counts, as in ours
            "min_decoding_length": 0,  # CTranslate2's default, 1, would forbid ending at once
            "max_input_length": 0,  # rows are truncated already
            "return_end_token": True,  # the end id is an output id, scored as ours is
            # Each step's logits over the vocabulary: the log probabilities of the ids chosen, in one pass.
            "return_logits_vocab": return_scores,
        }

        def decode_batches(batches):
            # Every batch is queued at once, so that `inter_threads` translators decode them side by side.
            sources = [self.source_tokenizer.tokenize(batch, max_length=self.max_length) for batch in batches]
            pending = [
                self.translator.translate_batch([[str(i) for i in row] for row in rows], asynchronous=True, **options)
                for rows in sources
            ]
            for results in pending:
                results = [result.result() for result in results]
                # A source without ids (a text the tokenizer reads as nothing) decodes to no hypothesis
                # ids at all, as a source of padding only does in ours.
                ids = [[int(token) for token in result.hypotheses[0]] for result in results]
                outputs = self.target_tokenizer.detokenize(ids)
                if return_scores:
                    outputs = [_scored(*row) for row in zip(outputs, ids, (result.logits[0] for result in results))]
                yield outputs

        return in_batches(texts, batch_size, decode_batches, BLANK_PREDICTION if return_scores else "", progress)


def _scored(text, ids, logits):
    """The `Prediction` of an output `text` whose ids are `ids` (end id included), from `logits`, the
    translator's logits over the vocabulary at each step (`return_logits_vocab`): each id's log
    probability, and their sum, as greedy search scores it."""
    if not ids:
        return Prediction(text, 0.0, ())
    logits = np.stack([np.asarray(step, dtype=np.float64) for step in logits])  # (T, V)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log_softmax, (T, V)
    token_scores = log_probs[np.arange(len(ids)), ids]
    return Prediction(text, float(token_scores.sum()), tuple(float(value) for value in token_scores))


__all__ = [
    "BATCH_SIZE",
    "COMPUTE_TYPES",
    "CTranslate2Pipeline",
    "UnsupportedSettings",
    "load",
    "read_settings",
]
