"""Where zoo models are found, by name or by path. Imports no TensorFlow (`keras-transformer zoo list`
stays quick)."""

import json
import os
import pathlib

from keras_transformer.errors import ZooError

ZOO_VARIABLE = "KERAS_TRANSFORMER_ZOO"
MANIFEST = "manifest.sha256"
PACKAGE_DATA = "keras_transformer.saved_models"  # setup.py installs saved_models/ as this package's data
# What a zoo folder holds, from its zoo.json "kind": a text-to-text `TextPipeline` (the default), a
# `SentenceEncoder` (texts to vectors), or a translation model converted from a pip package on load
# (text to text too: a `TextPipeline`).
SEQ2SEQ = "seq2seq"
SENTENCE_ENCODER = "sentence_encoder"
TRANSLATION = "translation"
KINDS = (SEQ2SEQ, SENTENCE_ENCODER, TRANSLATION)
# The kinds `predict` runs: texts in, texts out.
TEXT_TO_TEXT = (SEQ2SEQ, TRANSLATION)


def zoo_dirs():
    """Where zoo models are looked for, in order: `$KERAS_TRANSFORMER_ZOO`, then the zoo installed
    with the package (package data `keras_transformer/saved_models`, so wheels, `--user` and
    editable installs all find it), then the `saved_models/` of a source checkout."""
    found = []
    if os.environ.get(ZOO_VARIABLE):
        found.append(pathlib.Path(os.environ[ZOO_VARIABLE]).expanduser())
    installed = pathlib.Path(__file__).resolve().parents[1] / "saved_models"
    checkout = pathlib.Path(__file__).resolve().parents[2] / "saved_models"
    for directory in (installed, checkout):
        if directory not in found:
            found.append(directory)
    return found


def list_models(kind=None):
    """Names of the zoo models found (folders holding a manifest), sorted; only those of `kind`
    ("seq2seq" or "sentence_encoder") when given."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"`kind` must be None or one of {list(KINDS)}. Received: kind={kind!r}")
    names = set()
    for directory in zoo_dirs():
        if directory.is_dir():
            names.update(p.name for p in directory.iterdir() if (p / MANIFEST).is_file())
    return sorted(name for name in names if kind is None or model_kind(name) == kind)


def is_path(name):
    """Whether `model_dir` reads the str `name` as a path to a zoo folder (`./my_model`, `dir/model`,
    `~/model`, `/abs/path`) rather than as a zoo model's name."""
    return bool(
        os.sep in name
        or (os.altsep and os.altsep in name)
        or name.startswith((".", "~"))
        or pathlib.Path(name).is_absolute()
    )


def model_dir(name):
    """The folder of zoo model `name`: a name from `list_models()`, or a path to a zoo folder
    (`./my_model`, `/abs/path`). `ZooError` naming the known models if there is none."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name:
        raise ZooError(f"A zoo model name must be a non-empty string or a path. Received: name={name!r}")
    if is_path(name):
        directory = pathlib.Path(name).expanduser()
        if not directory.is_dir():
            raise ZooError(f"No zoo folder at {directory}. Received: name={name!r}")
        if not (directory / MANIFEST).is_file():
            raise ZooError(f"{directory} is not a zoo folder: it has no {MANIFEST}. Received: name={name!r}")
        return directory
    for directory in zoo_dirs():
        if (directory / name / MANIFEST).is_file():
            return directory / name
    raise ZooError(f"Unknown zoo model. Known: {list_models()} (or give a path to a zoo folder). Received: name={name!r}")


def model_kind(name):
    """What zoo model `name` (or a zoo folder path) is: its zoo.json "kind", "seq2seq" when absent."""
    return folder_kind(model_dir(name))


def folder_kind(directory):
    """The zoo.json "kind" of the zoo folder at `directory` ("seq2seq" without one: a folder
    being written, or one that `verify_manifest` will find incomplete)."""
    path = pathlib.Path(directory) / "zoo.json"
    if not path.is_file():
        return SEQ2SEQ
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind", SEQ2SEQ)
    except (OSError, ValueError) as error:
        raise ZooError(f"{path} cannot be read: {error}") from None
    if kind not in KINDS:
        raise ZooError(f"{path}: unknown kind {kind!r}; known: {list(KINDS)}")
    return kind


def describe(name):
    """The one-line task description of zoo model `name` (from its `zoo.json`), without loading it."""
    settings = json.loads((model_dir(name) / "zoo.json").read_text(encoding="utf-8"))
    return settings.get("task", "")
