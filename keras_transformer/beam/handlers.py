"""RunInference model handlers: a zoo model (by name or folder) and an exported SavedModel folder, each
loaded once a worker process and shared by that process's threads."""

import pathlib
import threading

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError

# What a handler can do with a batch of texts. "predict": texts -> texts (a seq2seq or translation
# model); "embed": texts -> vectors (a sentence encoder); "pronounce": English texts -> a list of
# `g2p.Pronunciation` a text (the G2P tool: lexicon first, numbers read aloud, the model for the rest).
TASKS = ("predict", "embed", "pronounce")
# Batch sizes BatchElements may choose between (it tunes inside these by timing its batches). The runtimes
# sort a batch by length before decoding it, so the batch is what gets grouped by length; 8 is the LiteRT
# generator's own batch size, 64 TensorFlow's and CTranslate2's.
MIN_BATCH_SIZE = 8
MAX_BATCH_SIZE = 64


class _Loaded:
    """A loaded model and the lock its calls take: RunInference shares one model between the threads of
    a process, and a LiteRT interpreter must not run two calls at once."""

    def __init__(self, model, run):
        self.model = model
        self._run = run
        self._lock = threading.Lock()

    def __call__(self, texts):
        with self._lock:
            return self._run(texts)


class _TextHandler(ModelHandler):
    """What the two handlers share: batching, the lock, one `PredictionResult` per text in order."""

    def __init__(self, model_id, min_batch_size, max_batch_size, max_batch_duration_secs, length_boundaries):
        min_batch_size = _validation.positive_int("min_batch_size", min_batch_size)
        max_batch_size = _validation.positive_int("max_batch_size", max_batch_size)
        if min_batch_size > max_batch_size:
            raise InvalidArgumentError(
                "min_batch_size must not exceed max_batch_size. "
                f"Received: min_batch_size={min_batch_size}, max_batch_size={max_batch_size}"
            )
        lengths = {}
        if max_batch_duration_secs is not None:
            # Beam groups by length only on its stateful batching path (a batch may then wait up to this
            # long for texts of its length bucket); without it, batches follow the input's order.
            lengths = {
                "batch_length_fn": len,
                "batch_bucket_boundaries": length_boundaries or [8, 16, 32, 64, 128, 256],
            }
        super().__init__(
            min_batch_size=min_batch_size,
            max_batch_size=max_batch_size,
            max_batch_duration_secs=max_batch_duration_secs,
            **lengths,
        )
        self._model_id = model_id

    def share_model_across_processes(self):
        # One copy a process: the zoo's models are small (a few MB to 90 MB), and a model shared between
        # processes is reached through a proxy that pickles every batch to another process and back.
        return False

    def run_inference(self, batch, model, inference_args=None):
        texts = list(batch)
        outputs = model(texts)
        if len(outputs) != len(texts):  # a bug in a runtime, not a bad input: keep it loud
            raise RuntimeError(f"{self._model_id} gave {len(outputs)} outputs for {len(texts)} texts")
        return [PredictionResult(text, output, self._model_id) for text, output in zip(texts, outputs)]

    def get_num_bytes(self, batch):
        return sum(len(text.encode("utf-8", "surrogatepass")) for text in batch)

    def get_metrics_namespace(self):
        return "keras_transformer"


class ZooModelHandler(_TextHandler):
    """A RunInference `ModelHandler` that runs a zoo model on texts (str), one `PredictionResult` a text.

    Each worker process loads the model once (`load_model`) and its threads share it (RunInference's
    shared handle); `share_model_across_processes` is False: every process holds its own copy. Wrap it in
    `apache_beam.ml.inference.base.KeyedModelHandler` to carry a key with each text.

    Args:
        name: a zoo model name (`zoo.list_models()`) or a zoo folder path, as `zoo.load` takes it.
        task: "predict" (texts -> texts: `PredictionResult.inference` is a str, or a
            `decoding.prediction.Prediction` with `scores` or `flag`), "embed" (a float32 vector of
            shape (D,)) or "pronounce" (a list of `g2p.Pronunciation`, the model reading the words no
            lexicon lists). None: "embed" for a sentence encoder, else "predict".
        runtime: what runs the model (`zoo.load`'s `runtime`). None: the task's default, "auto" for
            predict and embed (a seq2seq folder's TFLite generator; a sentence encoder in TensorFlow),
            `g2p.Pronouncer`'s for pronounce (CTranslate2).
        decoding: `DecodingSettings` fields to decode with instead of the folder's (predict).
        scores: give `Prediction`s with the output's log probability and each token's (predict).
        flag: give `Prediction`s flagged when likely wrong, by the folder's calibration (predict).
        min_batch_size, max_batch_size: the bounds of the batch sizes Beam's `BatchElements` chooses.
        max_batch_duration_secs: None (batch jobs): batch each bundle's texts in order. A number: Beam's
            stateful batching, which groups texts of similar length (`length_boundaries`, in characters)
            across bundles, each batch waiting at most this long.
        length_boundaries: the character lengths where a length bucket ends (with `max_batch_duration_secs`).

    Example:
    >>> import apache_beam as beam
    >>> from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
    >>> from apache_beam.testing.util import assert_that, equal_to
    >>> from keras_transformer.beam import ZooModelHandler
    >>> with beam.Pipeline() as pipeline:
    ...     outputs = (
    ...         pipeline
    ...         | beam.Create([("a", "transformer"), ("b", "attention")])
    ...         | RunInference(KeyedModelHandler(ZooModelHandler("g2p_en")))
    ...         | beam.MapTuple(lambda key, result: (key, result.inference))
    ...     )
    ...     _ = assert_that(outputs, equal_to([("a", "T R AE0 N S F AO1 R M ER0"), ("b", "AH0 T EH1 N SH AH0 N")]))
    """

    def __init__(
        self,
        name,
        task=None,
        runtime=None,
        decoding=None,
        scores=False,
        flag=False,
        min_batch_size=MIN_BATCH_SIZE,
        max_batch_size=MAX_BATCH_SIZE,
        max_batch_duration_secs=None,
        length_boundaries=None,
    ):
        from keras_transformer import zoo

        kind = zoo.model_kind(name)  # a ZooError for an unknown name, before the job starts
        if task is None:
            task = "embed" if kind == zoo.SENTENCE_ENCODER else "predict"
        _validation.one_of("task", task, TASKS)
        wanted = {"embed": (zoo.SENTENCE_ENCODER,), "predict": zoo.TEXT_TO_TEXT, "pronounce": (zoo.SEQ2SEQ,)}[task]
        if kind not in wanted:
            raise InvalidArgumentError(f"{name} is a {kind} model: it cannot {task}. Received: task={task!r}")
        if runtime is not None:
            _validation.one_of("runtime", runtime, zoo.RUNTIMES)
        self._scores = _validation.boolean("scores", scores)
        self._flag = _validation.boolean("flag", flag)
        if task != "predict" and (scores or flag or decoding):
            raise InvalidArgumentError(
                f"scores, flag and decoding apply to predict. Received: task={task!r}, scores={scores}, flag={flag}, "
                f"decoding={decoding}"
            )
        super().__init__(
            f"{pathlib.Path(str(name)).name}:{task}",
            min_batch_size,
            max_batch_size,
            max_batch_duration_secs,
            length_boundaries,
        )
        self.name = str(name)
        self.task = task
        self.runtime = runtime
        self.decoding = dict(decoding or {})

    def load_model(self):
        """The model, loaded (and its files checked) in this worker, behind the lock its calls take."""
        from keras_transformer import zoo

        if self.task == "pronounce":
            from keras_transformer import g2p

            pronouncer = g2p.Pronouncer(model=self.name, runtime=self.runtime)
            _ = pronouncer.model  # loaded now: RunInference times and reports the load here, not in a batch
            return _Loaded(pronouncer, pronouncer.pronounce)
        model = zoo.load(self.name, runtime=self.runtime or "auto", decoding=self.decoding or None)
        if self.task == "embed":
            return _Loaded(model, lambda texts: list(model.embed(texts, batch_size=len(texts))))
        scores, flag = self._scores, self._flag
        return _Loaded(model, lambda texts: model.predict(texts, return_scores=scores, flag=flag))

    def __repr__(self):
        return f"ZooModelHandler(name={self.name!r}, task={self.task!r}, runtime={self.runtime!r})"


class SavedModelHandler(_TextHandler):
    """A RunInference `ModelHandler` that runs the `serving_default` of a SavedModel that
    `keras_transformer.export` wrote: a seq2seq one gives a str a text (a `Prediction` with `scores`),
    a sentence encoder's a float32 vector. It needs only TensorFlow in the workers.

    Args:
        path: the SavedModel folder.
        scores: give `Prediction`s (text, log probability, each token's) from a seq2seq SavedModel.
        min_batch_size, max_batch_size, max_batch_duration_secs, length_boundaries: as `ZooModelHandler`.
    """

    def __init__(
        self,
        path,
        scores=False,
        min_batch_size=MIN_BATCH_SIZE,
        max_batch_size=MAX_BATCH_SIZE,
        max_batch_duration_secs=None,
        length_boundaries=None,
    ):
        path = pathlib.Path(path)
        if not (path / "saved_model.pb").is_file():
            raise InvalidArgumentError(
                f"path must be a SavedModel folder (with saved_model.pb). Received: path={str(path)!r}"
            )
        self._scores = _validation.boolean("scores", scores)
        super().__init__(path.name, min_batch_size, max_batch_size, max_batch_duration_secs, length_boundaries)
        self.path = str(path)

    def load_model(self):
        import tensorflow as tf

        from keras_transformer.decoding import prediction

        serve = tf.saved_model.load(self.path).signatures["serving_default"]
        scores = self._scores

        def run(texts):
            result = serve(texts=tf.constant(texts, dtype=tf.string))
            if "embeddings" in result:
                return list(np.asarray(result["embeddings"], dtype=np.float32))
            outputs = [value.decode("utf-8") for value in result["outputs"].numpy()]
            if not scores:
                return outputs
            return prediction.from_buffers(
                outputs, result["scores"].numpy(), result["tokens"].numpy(), result["token_scores"].numpy()
            )

        return _Loaded(serve, run)

    def __repr__(self):
        return f"SavedModelHandler(path={self.path!r})"
