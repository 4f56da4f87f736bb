"""The model zoo: pretrained models in `saved_models/<name>/`, verified and loaded offline.

`load(name_or_path)` returns a `keras_transformer.pipeline.TextPipeline`; `save(directory, pipeline,
info, card)` writes one as a zoo folder (see `keras_transformer.zoo.folder` for the files). Finding
models (`list_models`, `model_dir`) and checking them (`verify_manifest`) import no TensorFlow; the
names that need it load on first use.
"""

import importlib

from keras_transformer.zoo.info import ZooInfo
from keras_transformer.zoo.manifest import FILES, OPTIONAL_FILES, read_manifest, verify_manifest, write_manifest
from keras_transformer.zoo.registry import MANIFEST, ZOO_VARIABLE, ZooError, describe, list_models, model_dir, zoo_dirs

# Names served by submodules that import TensorFlow, imported when first asked for.
_LAZY = {
    "load": "keras_transformer.zoo.folder",
    "save": "keras_transformer.zoo.folder",
    "read_history": "keras_transformer.zoo.folder",
    "read_settings": "keras_transformer.zoo.folder",
    "write_history": "keras_transformer.zoo.folder",
    "write_settings": "keras_transformer.zoo.folder",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_transformer.zoo' has no attribute {name!r}")


__all__ = [
    "FILES",
    "MANIFEST",
    "OPTIONAL_FILES",
    "ZOO_VARIABLE",
    "ZooError",
    "ZooInfo",
    "describe",
    "list_models",
    "load",
    "model_dir",
    "read_history",
    "read_manifest",
    "read_settings",
    "save",
    "verify_manifest",
    "write_history",
    "write_manifest",
    "write_settings",
    "zoo_dirs",
]
