"""The model zoo: pretrained models in `saved_models/<name>/`, verified and loaded offline.

`load(name_or_path)` returns a `keras_transformer.pipeline.TextPipeline`, or for a folder of kind
"sentence_encoder" a `keras_transformer.sentence_encoder.SentenceEncoder` (`zoo.sentence_encoder`);
`load(name_or_path, runtime="litert")` returns a `zoo.litert.LiteRTPipeline`, which runs the folder's
`generator.tflite` without TensorFlow. `save(directory, pipeline, info, card)` writes a pipeline as a
zoo folder (see `keras_transformer.zoo.folder` for the files). Finding
models (`list_models`, `model_dir`) and checking them (`verify_manifest`) import no TensorFlow; the
names that need it load on first use.
"""

import importlib

from keras_transformer import _lazy, _validation
from keras_transformer.zoo.info import ZooInfo
from keras_transformer.zoo.manifest import (
    FILES,
    OPTIONAL_FILES,
    SENTENCE_ENCODER_FILES,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from keras_transformer.zoo.registry import (
    KINDS,
    MANIFEST,
    SENTENCE_ENCODER,
    SEQ2SEQ,
    ZOO_VARIABLE,
    ZooError,
    describe,
    list_models,
    model_dir,
    model_kind,
    zoo_dirs,
)

# Names served by submodules that import TensorFlow, imported when first asked for.
__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        name: ("keras_transformer.zoo.folder", name)
        for name in ("save", "write_generator", "read_history", "read_settings", "write_history", "write_settings")
    },
)


# What `load` can run a zoo folder with: Keras on TensorFlow (any settings), or the folder's TFLite
# generator in ai-edge-litert (its own settings, no TensorFlow import).
RUNTIMES = ("tensorflow", "litert")


def load(name, runtime="tensorflow"):
    """Load zoo model `name` (a name from `list_models()` or a path to a zoo folder), after checking
    every file's sha256.

    Args:
        name: a zoo model name or a zoo folder path.
        runtime: "tensorflow" (default): a `TextPipeline` (or a `SentenceEncoder`, by the folder's
            kind; see `zoo.folder.load`) that decodes with any settings. "litert": a
            `zoo.litert.LiteRTPipeline` running the folder's `generator.tflite` with the folder's
            decoding settings, importing no TensorFlow (start in seconds, a fraction of the memory).

    Raises:
        ZooError: unknown name, a missing file, a checksum mismatch; for "litert", a folder without a
            generator.
    """
    _validation.one_of("runtime", runtime, RUNTIMES)
    if runtime == "litert":
        return importlib.import_module("keras_transformer.zoo.litert").load(name)
    return importlib.import_module("keras_transformer.zoo.folder").load(name)


__all__ = [
    "FILES",
    "KINDS",
    "MANIFEST",
    "OPTIONAL_FILES",
    "RUNTIMES",
    "SENTENCE_ENCODER",
    "SENTENCE_ENCODER_FILES",
    "SEQ2SEQ",
    "ZOO_VARIABLE",
    "ZooError",
    "ZooInfo",
    "describe",
    "list_models",
    "load",
    "model_dir",
    "model_kind",
    "read_history",
    "read_manifest",
    "read_settings",
    "save",
    "verify_manifest",
    "write_generator",
    "write_history",
    "write_manifest",
    "write_settings",
    "zoo_dirs",
]
