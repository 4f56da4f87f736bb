"""The model zoo: pretrained models in `saved_models/<name>/`, verified and loaded offline.

`load(name_or_path, runtime=...)` returns a `ZooModel` (`zoo.model`): the folder's info, card, path
and training history beside the runtime that runs the model, chosen here: Keras on TensorFlow (a
`keras_transformer.pipeline.TextPipeline`, or for a folder of kind "sentence_encoder" a
`keras_transformer.sentence_encoder.SentenceEncoder`; for a folder of kind "translation" a
`TextPipeline` over a model converted from the pip package that ships it), or the folder's `generator.tflite` in
ai-edge-litert (a `zoo.litert.LiteRTPipeline`, no TensorFlow import); `runtime="auto"` takes the
generator when it can decode as asked. `save(directory, pipeline, info, card)` writes a pipeline as a
zoo folder (see `keras_transformer.zoo.folder` for the files). Finding models (`list_models`,
`model_dir`) and checking them (`verify_manifest`) import no TensorFlow; the names that need it load
on first use.
"""

from keras_transformer import _lazy
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
    TEXT_TO_TEXT,
    TRANSLATION,
    ZOO_VARIABLE,
    ZooError,
    describe,
    list_models,
    model_dir,
    model_kind,
    zoo_dirs,
)

# Names served by submodules, imported when first asked for: `folder` imports TensorFlow; `model` (`load`
# and the runtime choice) imports it only when the TensorFlow runtime is loaded.
__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        **{
            name: ("keras_transformer.zoo.folder", name)
            for name in ("save", "write_generator", "read_settings", "write_history", "write_settings")
        },
        **{
            name: ("keras_transformer.zoo.model", name)
            for name in ("RUNTIMES", "RuntimeUnavailable", "ZooModel", "load", "read_history")
        },
    },
)


__all__ = [
    "FILES",
    "KINDS",
    "MANIFEST",
    "OPTIONAL_FILES",
    "RUNTIMES",
    "RuntimeUnavailable",
    "SENTENCE_ENCODER",
    "SENTENCE_ENCODER_FILES",
    "SEQ2SEQ",
    "TEXT_TO_TEXT",
    "TRANSLATION",
    "ZOO_VARIABLE",
    "ZooError",
    "ZooInfo",
    "ZooModel",
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
