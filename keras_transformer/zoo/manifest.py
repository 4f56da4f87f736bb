"""A zoo folder's `manifest.sha256`: the SHA-256 of every file, in `sha256sum` format."""

import pathlib

from keras_transformer._hashing import sha256_file
from keras_transformer.zoo.registry import MANIFEST, SEQ2SEQ, ZooError, folder_kind

FILES = ("config.json", "zoo.json", "source_vocabulary.json", "target_vocabulary.json", "model.weights.h5", "card.md")
# A sentence-encoder or translation folder converts its weights from a pip package on load (its
# zoo.json records the package's checksums), so it holds only these.
SENTENCE_ENCODER_FILES = ("zoo.json", "card.md")
# In the manifest when present; once listed, checked like the others. confidence.json: what
# `predict(..., flag=True)` flags with (`zoo.confidence`, written by `zoo.calibrate`).
OPTIONAL_FILES = ("history.csv", "generator.tflite", "confidence.json")


def required_files(directory):
    """The files every zoo folder of this folder's kind must hold (its zoo.json says the kind)."""
    return FILES if folder_kind(directory) == SEQ2SEQ else SENTENCE_ENCODER_FILES


def write_manifest(directory):
    """Write `manifest.sha256` for every required file in `directory` and each optional one present."""
    directory = pathlib.Path(directory)
    names = [*required_files(directory), *(name for name in OPTIONAL_FILES if (directory / name).is_file())]
    lines = [f"{sha256_file(directory / name)}  {name}" for name in names]
    (directory / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_manifest(directory):
    """`{file name: sha256}` of a zoo folder's manifest; `ZooError` when it has none."""
    manifest = pathlib.Path(directory) / MANIFEST
    if not manifest.is_file():
        raise ZooError(f"{directory} has no {MANIFEST}.")
    expected = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            expected[name.strip()] = digest.strip()
    return expected


def verify_manifest(directory, names=None):
    """Check files of a zoo folder against its manifest (default: every required file and each
    optional one listed); `ZooError` saying which file is wrong."""
    directory = pathlib.Path(directory)
    expected = read_manifest(directory)
    if names is None:
        names = [*required_files(directory), *(name for name in OPTIONAL_FILES if name in expected)]
    for name in names:
        path = directory / name
        if name not in expected:
            raise ZooError(f"{directory / MANIFEST} does not list {name}.")
        if not path.is_file():
            raise ZooError(f"{directory.name}: the file {name} is missing from {directory}.")
        actual = sha256_file(path)
        if actual != expected[name]:
            raise ZooError(
                f"{directory.name}: {name} fails its checksum (expected sha256 {expected[name]}, "
                f"found {actual}); the file is corrupt or was changed. Reinstall the model."
            )
