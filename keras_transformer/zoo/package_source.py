"""What the zoo's converted kinds share: a model read from an installed pip package, checked file by
file against the sha256 sums its folder records (`zoo.sentence_encoder`, `zoo.translation`), and a
folder that holds only `zoo.json`, `card.md` and the manifest."""

import importlib.util
import json
import pathlib

from keras_transformer._hashing import sha256_file
from keras_transformer.zoo.manifest import write_manifest
from keras_transformer.zoo.registry import ZooError


def package_directory(module, folder, missing):
    """`folder` inside the installed package `module`; `ZooError(missing)` when it is not installed."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ZooError(missing)
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / folder


def verify_file(info, directory, relative, expected):
    """`directory / relative` after checking it against `expected` (its sha256); a `ZooError` naming
    `info.package` and its version when the file is missing or differs."""
    path = pathlib.Path(directory) / relative
    if not path.is_file():
        raise ZooError(f"{info.package}: {path} is missing. Reinstall {info.package}=={info.version}.")
    actual = sha256_file(path)
    if actual != expected:
        raise ZooError(
            f"{info.package}: {relative} fails its checksum (expected sha256 {expected}, found {actual}); "
            f"this is not the {info.package}=={info.version} the zoo entry was measured with."
        )
    return path


def check_weights(name, expected, actual):
    """`ZooError` when the converted weights' sha256 is not the one the card was measured with."""
    if actual != expected:
        raise ZooError(
            f"{name}: the converted weights fail their checksum (expected {expected}, found {actual}): "
            "the conversion no longer gives the model the card was measured with."
        )


def save(directory, info, info_class, card):
    """Write a converted-kind zoo folder: `zoo.json` from `info` (an `info_class`), `card.md`, the manifest.

    Returns:
        The folder, a `pathlib.Path`.
    """
    if not isinstance(info, info_class):
        raise TypeError(f"`info` must be a {info_class.__name__}. Received: info={info!r}")
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "zoo.json").write_text(json.dumps(info.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (directory / "card.md").write_text(card, encoding="utf-8")
    write_manifest(directory)
    return directory


def read_info(directory, info_class, what):
    """The `info_class` of the folder's `zoo.json`; `ZooError` naming `what` kind of folder it should be."""
    path = pathlib.Path(directory) / "zoo.json"
    try:
        return info_class.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise ZooError(f"{path} is not a valid {what} zoo.json: {error}") from None
