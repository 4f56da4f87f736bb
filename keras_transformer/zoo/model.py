"""`ZooModel`: a zoo folder loaded, that is what the folder says about its model and the runtime that
runs it; and `load`, where the runtime is chosen. Imports no TensorFlow until the TensorFlow runtime is
asked for (or chosen)."""

import pathlib

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError, ZooError
from keras_transformer.training import run_folder
from keras_transformer.zoo import ctranslate2 as ctranslate2_runtime
from keras_transformer.zoo import litert
from keras_transformer.zoo.info import read_zoo_json
from keras_transformer.zoo.manifest import verify_manifest
from keras_transformer.zoo.registry import SENTENCE_ENCODER, SEQ2SEQ, TEXT_TO_TEXT, TRANSLATION, folder_kind, model_dir

# What `load` can run a zoo folder with. "tensorflow": Keras on TensorFlow (any decoding settings; a
# sentence encoder runs only there). "litert": the folder's TFLite generator in ai-edge-litert (its own
# settings, no TensorFlow import). "auto": the generator when the folder has one, ai-edge-litert is
# installed and it can decode with the settings asked for; TensorFlow otherwise. "ctranslate2": the
# folder's weights converted once into the user's cache and run by CTranslate2 (greedy search, no
# TensorFlow import); only when asked for.
RUNTIMES = ("tensorflow", "litert", "ctranslate2", "auto")


class RuntimeUnavailable(ZooError):
    """`load(name, runtime="litert")` cannot run the model as asked: ai-edge-litert is missing, or the
    decoding settings asked for are not those the generator was built with; or `runtime="ctranslate2"`:
    ctranslate2 is missing, or the settings are not greedy search.

    Attributes:
        reason: why, as a phrase (e.g. "g2p_en's generator.tflite decodes with strategy='greedy', not
            strategy='beam'"), for callers that say it in their own words.
    """

    def __init__(self, name, reason):
        super().__init__(f"{reason}; zoo.load({name!r}, runtime='tensorflow') decodes with any settings")
        self.reason = reason


def _from_runtime(attribute, doc):
    """A read-only property served by the runtime; an `AttributeError` naming the runtime when it has none."""

    def get(self):
        try:
            return getattr(self.runtime, attribute)
        except AttributeError:
            raise AttributeError(
                f"{self.name}'s runtime, a {type(self.runtime).__name__}, has no `{attribute}`"
            ) from None

    return property(get, doc=doc)


class ZooModel:
    """A zoo model as `zoo.load` gives it: the folder's metadata beside the runtime that runs the model.

    Args:
        runtime: what runs the model on text: a `keras_transformer.pipeline.TextPipeline` (Keras on
            TensorFlow), a `zoo.litert.LiteRTPipeline` (the folder's TFLite generator), a
            `zoo.ctranslate2.CTranslate2Pipeline` (its weights in CTranslate2), or for a
            folder of kind "sentence_encoder" a `keras_transformer.sentence_encoder.SentenceEncoder`.
        info: what the folder's `zoo.json` says: a `zoo.ZooInfo` (task, dataset, fields, metrics, the
            card's figures), or a `zoo.sentence_encoder.SentenceEncoderInfo`.
        card: the model card's Markdown.
        path: the zoo folder, a `pathlib.Path`.
        history: the training run's per-epoch `fit` history `{name: [value per epoch]}` (for
            `viz.plot_history`), or None when the folder keeps none.

    `predict` (seq2seq) and `embed` / `search` (sentence encoders) run the runtime's own methods, so
    `zoo.load(name).predict(texts)` is `zoo.load(name).runtime.predict(texts)`. What users reach for on
    a loaded model is here too when the runtime has it: `model`, `config`, `settings`,
    `source_tokenizer`, `target_tokenizer`, `tokenizer`, `dimension`, `encode_texts`; anything else is
    on `runtime` (e.g. `runtime.decoder`, `runtime.texts_function()`). `keras_transformer.export.export` and
    `keras_transformer.evaluation.evaluate` take a `ZooModel` as it is.

    Example:
    >>> from keras_transformer import zoo
    >>> g2p = zoo.load("g2p_en", runtime="auto")  # its generator.tflite: no TensorFlow import
    >>> type(g2p.runtime).__name__, g2p.info.dataset, g2p.path.name
    ('LiteRTPipeline', 'cmudict_g2p', 'g2p_en')
    >>> g2p.predict(["transformer"])
    ['T R AE0 N S F AO1 R M ER0']
    """

    def __init__(self, runtime, info, card, path, history=None):
        if not isinstance(card, str):
            raise TypeError(f"`card` must be a str (Markdown). Received: card={type(card).__name__}")
        self.runtime = runtime
        self.info = info
        self.card = card
        self.path = pathlib.Path(path)
        self.history = history

    def __repr__(self):
        return f"ZooModel(name={self.name!r}, runtime={self.runtime!r})"

    @property
    def name(self):
        """The folder's name, which is the model's name."""
        return self.path.name

    @property
    def kind(self):
        """"seq2seq" or "translation" (texts to texts: `predict`), or "sentence_encoder" (texts to
        vectors: `embed`)."""
        return getattr(self.info, "kind", SEQ2SEQ)

    @property
    def settings(self):
        """The `DecodingSettings` `predict` decodes with unless told otherwise: the folder's (`zoo.json`),
        with `load`'s `decoding` applied, `max_output_length` resolved (seq2seq models only)."""
        settings = self.runtime.settings if self.kind in TEXT_TO_TEXT else None
        if isinstance(settings, dict):
            # The LiteRT runtime keeps them as a dict: importing `DecodingSettings` imports TensorFlow.
            from keras_transformer.decoding.settings import DecodingSettings

            settings = DecodingSettings.from_dict(settings)
        if settings is None:
            raise AttributeError(f"{self.name} is a {self.kind} model: it has no decoding settings")
        return settings

    model = _from_runtime("model", "The Keras model (not with the LiteRT runtime).")
    config = _from_runtime("config", "The `TransformerConfig` or `EncoderConfig` (not with the LiteRT runtime).")
    source_tokenizer = _from_runtime("source_tokenizer", "The source tokenizer (seq2seq).")
    target_tokenizer = _from_runtime("target_tokenizer", "The target tokenizer (seq2seq).")
    tokenizer = _from_runtime("tokenizer", "The `WordPieceTokenizer` (sentence encoders).")
    dimension = _from_runtime("dimension", "D, the length of each vector (sentence encoders).")

    def _require(self, kind, method):
        if self.kind != kind and not (kind == SEQ2SEQ and self.kind in TEXT_TO_TEXT):
            other = "embed" if kind == SEQ2SEQ else "predict"
            raise TypeError(f"{self.name} is a {self.kind} model: use `{other}`, not `{method}`")

    def predict(self, texts, batch_size=None, progress=None, return_scores=False, flag=False, **overrides):
        """Outputs for `texts` (a list of str), in order, from the runtime's `predict`.

        Args:
            texts: the inputs; a blank one (empty or whitespace only) gets "" without running the model.
            batch_size: texts decoded at once; None: the runtime's default (64 in TensorFlow and in
                CTranslate2, 8 with the LiteRT generator, which decodes fastest in small batches).
            progress: optional callable `progress(done, total)` called after each batch.
            return_scores: give a `Prediction` per text (`keras_transformer.decoding.prediction`): the
                text, its log probability and each token's, the same in every runtime.
            flag: give `Prediction`s with `flagged` and `reason` set: whether the output is likely
                wrong, by the folder's calibrated threshold (`confidence.json`) and the task's own
                checks (a date that does not exist, a number that is not one); see `zoo.confidence`.
            **overrides: `DecodingSettings` fields for this call (e.g. `strategy="beam"`); None values
                are ignored. The LiteRT runtime decodes only with the folder's own settings (a
                `ValueError` says which differ), CTranslate2 only greedily:
                `zoo.load(name, runtime="auto", decoding={...})` picks a runtime that can.

        Returns:
            A list of str, or of `Prediction`s with `return_scores` or `flag`.
        """
        self._require(SEQ2SEQ, "predict")
        flag = _validation.boolean("flag", flag)
        return_scores = _validation.boolean("return_scores", return_scores)
        sizes = {} if batch_size is None else {"batch_size": batch_size}
        if not flag:
            return self.runtime.predict(texts, progress=progress, return_scores=return_scores, **sizes, **overrides)
        checker = self.confidence  # before decoding: a folder without a calibration is refused first
        predictions = self.runtime.predict(texts, progress=progress, return_scores=True, **sizes, **overrides)
        return checker.flag(texts, predictions, self.runtime)

    @property
    def confidence(self):
        """The folder's calibrated `zoo.confidence.Confidence` (what `predict(..., flag=True)` flags
        with); a `ZooError` when the folder has none."""
        if not hasattr(self, "_confidence"):
            from keras_transformer.zoo import confidence

            self._confidence = confidence.read(self.path)
        return self._confidence

    def encode_texts(self, texts):
        """Texts -> the `(B, S)` int32 source ids the runtime feeds the model (seq2seq)."""
        self._require(SEQ2SEQ, "encode_texts")
        return self.runtime.encode_texts(texts)

    def embed(self, texts, batch_size=None, progress=None):
        """`(B, D)` float32 vectors for `texts` (sentence encoders), from the runtime's `embed`;
        `batch_size` None takes its default."""
        self._require(SENTENCE_ENCODER, "embed")
        sizes = {} if batch_size is None else {"batch_size": batch_size}
        return self.runtime.embed(texts, progress=progress, **sizes)

    def search(self, queries, documents, top_k=5, batch_size=64):
        """Rank `documents` against each query by cosine similarity (sentence encoders): see
        `SentenceEncoder.search`."""
        self._require(SENTENCE_ENCODER, "search")
        return self.runtime.search(queries, documents, top_k=top_k, batch_size=batch_size)


def load(name, runtime="tensorflow", decoding=None, report=None):
    """Load zoo model `name` (a name from `list_models()` or a path to a zoo folder) with the runtime
    asked for, after checking every file's sha256.

    Args:
        name: a zoo model name or a zoo folder path.
        runtime: "tensorflow" (default): Keras on TensorFlow, any decoding settings. "litert": the
            folder's `generator.tflite` in ai-edge-litert, importing no TensorFlow (it starts in about
            a second), with the folder's own decoding settings. "ctranslate2": the folder's weights
            converted (once, into the user's cache) and run by CTranslate2, importing no TensorFlow,
            greedy search only (`zoo.ctranslate2.load` takes its compute type and threads). "auto":
            "litert" when the folder has a generator, ai-edge-litert is installed and the generator
            decodes with `decoding`; else "tensorflow". A sentence encoder runs in TensorFlow ("auto"
            picks it).
        decoding: `DecodingSettings` fields (a dict; None values ignored) to decode with instead of
            the folder's, e.g. `{"strategy": "beam"}`: they become the model's `settings`, and decide
            whether "auto" can use the generator (see `LiteRTPipeline.unsupported_settings`).
        report: optional callable given one line saying which runtime "auto" or "litert" chose and
            why (e.g. "g2p_en has no generator.tflite: running the TensorFlow pipeline"), called
            before that runtime loads; `keras-transformer predict --verbose` prints it.

    Returns:
        A `ZooModel`.

    Raises:
        ZooError: unknown name, a missing file, a checksum mismatch; for "litert", a folder without a
            generator or not of kind "seq2seq", and `RuntimeUnavailable` (a `ZooError`) when
            ai-edge-litert is missing or `decoding` differs from the generator's settings; for
            "ctranslate2", a folder not of kind "seq2seq", and `RuntimeUnavailable` when ctranslate2 is
            missing or the settings are not greedy search.
    """
    _validation.one_of("runtime", runtime, RUNTIMES)
    decoding = _decoding_overrides(decoding)
    directory = model_dir(name)
    kind = folder_kind(directory)
    if runtime == "ctranslate2":
        return _load_ctranslate2(directory, decoding, report)
    if runtime == "tensorflow" or (runtime == "auto" and kind == SENTENCE_ENCODER):
        return _load_tensorflow(directory, kind, decoding)
    if kind == TRANSLATION:
        return _load_translation(directory, runtime, decoding, report)
    if runtime == "auto" and not litert.has_generator(name):
        reason = f"{name} has no {litert.GENERATOR}"
    else:
        try:
            pipeline = litert.load(name)  # a ZooError for a folder without a generator
            reason = pipeline.unsupported_settings(**decoding)
        except ImportError as error:
            reason = str(error)
        if reason is None:
            _say(report, f"running {name}'s {litert.GENERATOR} with ai-edge-litert")
            info = read_zoo_json(directory)[0]
            return ZooModel(pipeline, info, _read_card(directory), directory, read_history(directory))
        if runtime == "litert":
            raise RuntimeUnavailable(name, reason)
    _say(report, f"{reason}: running the TensorFlow pipeline")
    return _load_tensorflow(directory, kind, decoding)


def _load_translation(directory, runtime, decoding, report):
    """A translation folder through its prepared runtime (`zoo.prepared`) when there is one that can
    decode as asked, else (for "auto") TensorFlow."""
    from keras_transformer.zoo import prepared, translation

    name = directory.name
    verify_manifest(directory)
    info = translation.read_info(directory)
    folder = prepared.find(directory, info)
    if folder is None:
        reason = f"{name} has no prepared runtime (`keras-transformer zoo prepare {name}` builds one, once)"
    else:
        translation.verify_sources(info, name)  # the package is still the one the generator came from
        try:
            pipeline = litert.LiteRTPipeline(folder)
            reason = pipeline.unsupported_settings(**decoding)
        except ImportError as error:
            reason = str(error)
        if reason is None:
            _say(report, f"running {name}'s prepared {litert.GENERATOR} ({folder}) with ai-edge-litert")
            pipeline.name = name
            return ZooModel(pipeline, info, _read_card(directory), directory)
    if runtime == "litert":
        raise RuntimeUnavailable(name, reason)
    _say(report, f"{reason}: running the TensorFlow pipeline")
    return _load_tensorflow(directory, TRANSLATION, decoding)


def _load_ctranslate2(directory, decoding, report):
    name = directory.name
    try:
        pipeline = ctranslate2_runtime.load(directory, decoding, report=report)
    except ImportError as error:
        raise RuntimeUnavailable(name, str(error)) from None
    except ctranslate2_runtime.UnsupportedSettings as error:
        raise RuntimeUnavailable(name, error.reason) from None
    _say(report, f"running {name} with CTranslate2 ({pipeline.model_dir})")
    info = read_zoo_json(directory)[0]
    return ZooModel(pipeline, info, _read_card(directory), directory, read_history(directory))


def _decoding_overrides(decoding):
    if decoding is None:
        return {}
    if not isinstance(decoding, dict):
        raise TypeError(
            f"`decoding` must be a dict of DecodingSettings fields or None. Received: decoding={decoding!r}"
        )
    return {key: value for key, value in decoding.items() if value is not None}


def _say(report, line):
    if report is not None:
        report(line)


def _load_tensorflow(directory, kind, decoding):
    if kind == SENTENCE_ENCODER:
        from keras_transformer.zoo import sentence_encoder

        if decoding:
            raise InvalidArgumentError(
                f"`decoding` applies to seq2seq models; {directory.name} is a sentence encoder. "
                f"Received: decoding={decoding}"
            )
        encoder = sentence_encoder.load(directory)  # checks the manifest and the package's files
        return ZooModel(encoder, sentence_encoder.read_info(directory), _read_card(directory), directory)
    if kind == TRANSLATION:
        from keras_transformer.zoo import translation

        pipeline, info = translation.load(directory, decoding)  # checks the manifest and the package's files
        return ZooModel(pipeline, info, _read_card(directory), directory)
    from keras_transformer.zoo import folder

    pipeline, info = folder.read_pipeline(directory, decoding)  # checks the manifest first
    return ZooModel(pipeline, info, _read_card(directory), directory, read_history(directory))


def _read_card(directory):
    return (pathlib.Path(directory) / "card.md").read_text(encoding="utf-8")


def read_history(directory):
    """The training run's per-epoch `fit` history `{name: [value per epoch]}` from a zoo folder's
    `history.csv` (read as every run folder's is: `training.run_folder.read_history`), or None when it
    has none."""
    return run_folder.read_history(pathlib.Path(directory) / run_folder.HISTORY) or None


__all__ = ["RUNTIMES", "RuntimeUnavailable", "ZooModel", "load", "read_history"]
