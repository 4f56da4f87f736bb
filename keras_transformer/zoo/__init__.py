"""The model zoo: pretrained models in `saved_models/<name>/`, verified and loaded offline.

A zoo folder holds `config.json` (the `TransformerConfig`), `zoo.json` (task, dataset, decoding and
evaluation settings), `source_vocabulary.json` / `target_vocabulary.json` (the tokenizers),
`model.weights.h5`, `card.md`, optionally `history.csv` (the per-epoch `fit` history of the training
run, so its curves can be drawn) and `manifest.sha256` (the sha256 of every other file, in
`sha256sum` format). `load` checks the manifest before reading anything else, and reads weights
only from the Keras weights file: no pickle, no code.
"""

import csv
import dataclasses
import hashlib
import json
import os
import pathlib
import sys

import numpy as np
import tensorflow as tf

from keras_transformer.decoding import generate
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.text import Tokenizer

ZOO_VARIABLE = "KERAS_TRANSFORMER_ZOO"
MANIFEST = "manifest.sha256"
FILES = ("config.json", "zoo.json", "source_vocabulary.json", "target_vocabulary.json", "model.weights.h5", "card.md")
OPTIONAL_FILES = ("history.csv",)  # in the manifest when present; once listed, checked like the others


class ZooError(ValueError):
    """A zoo model is unknown, incomplete or fails its checksums."""


def zoo_dirs():
    """Where zoo models are looked for, in order: `$KERAS_TRANSFORMER_ZOO`, the repository's
    `saved_models/` (a source checkout or editable install), and `<prefix>/share/keras-transformer/
    saved_models` (where a regular `pip install` puts them)."""
    found = []
    if os.environ.get(ZOO_VARIABLE):
        found.append(pathlib.Path(os.environ[ZOO_VARIABLE]).expanduser())
    found.append(pathlib.Path(__file__).resolve().parents[2] / "saved_models")
    found.append(pathlib.Path(sys.prefix) / "share" / "keras-transformer" / "saved_models")
    return found


def list_models():
    """Names of the zoo models found (folders holding a manifest), sorted."""
    names = set()
    for directory in zoo_dirs():
        if directory.is_dir():
            names.update(p.name for p in directory.iterdir() if (p / MANIFEST).is_file())
    return sorted(names)


def model_dir(name):
    """The folder of zoo model `name`; `ZooError` naming the known models if there is none."""
    if not isinstance(name, str) or not name:
        raise ZooError(f"A zoo model name must be a non-empty string. Received: name={name!r}")
    for directory in zoo_dirs():
        if (directory / name / MANIFEST).is_file():
            return directory / name
    raise ZooError(f"Unknown zoo model. Known: {list_models()}. Received: name={name!r}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory):
    """Write `manifest.sha256` for every required file in `directory` and each optional one present."""
    directory = pathlib.Path(directory)
    names = [*FILES, *(name for name in OPTIONAL_FILES if (directory / name).is_file())]
    lines = [f"{_sha256(directory / name)}  {name}" for name in names]
    (directory / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify_manifest(directory):
    """Check every file of a zoo folder against its manifest; `ZooError` saying which file is wrong."""
    directory = pathlib.Path(directory)
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise ZooError(f"{directory} has no {MANIFEST}.")
    expected = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            expected[name.strip()] = digest.strip()
    for name in [*FILES, *(name for name in OPTIONAL_FILES if name in expected)]:
        path = directory / name
        if name not in expected:
            raise ZooError(f"{manifest} does not list {name}.")
        if not path.is_file():
            raise ZooError(f"{directory.name}: the file {name} is missing from {directory}.")
        actual = _sha256(path)
        if actual != expected[name]:
            raise ZooError(
                f"{directory.name}: {name} fails its checksum (expected sha256 {expected[name]}, "
                f"found {actual}); the file is corrupt or was changed. Reinstall the model."
            )


@dataclasses.dataclass
class ZooModel:
    """A loaded zoo model: the Keras model, its tokenizers, its card and settings.

    `predict(texts)` runs tokenization, cached decoding and detokenization in batches.
    """

    name: str
    path: pathlib.Path
    model: object
    config: TransformerConfig
    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    settings: dict
    card: str

    @property
    def history(self):
        """The training run's per-epoch `fit` history, `{name: [value per epoch]}` (what
        `keras.callbacks.History.history` holds, e.g. for `viz.plot_history`), or None when the zoo
        folder has no `history.csv`."""
        path = self.path / "history.csv"
        if not path.is_file():
            return None
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        names = [name for name in (rows[0] if rows else {}) if name != "epoch"]
        return {name: [float(row[name]) for row in rows] for name in names}

    def encode_texts(self, texts):
        """Texts -> `(B, S)` int32 ids, truncated to the model's `max_length` (at least one column)."""
        ids = self.source_tokenizer.tokenize(tf.constant(texts, tf.string), max_length=self.config.max_length)
        dense = ids.to_tensor().numpy().astype("int32")
        if dense.shape[1] == 0:
            dense = np.zeros((len(texts), 1), "int32")
        return dense

    def predict(self, texts, batch_size=64, strategy=None, beam_size=None, max_length=None, progress=None):
        """Outputs for `texts` (a list of str), in order.

        Args:
            texts: the inputs; empty strings are allowed (the model sees an all-padding source).
            batch_size: how many texts go through the model at once.
            strategy, beam_size: decoding; default the model's settings (`zoo.json`).
            max_length: most output tokens; default the model's setting.
            progress: optional callable `progress(done, total)` called after each batch.

        Returns:
            A list of str.
        """
        if isinstance(texts, str):
            raise TypeError("`texts` must be a list of strings, not one string. Wrap it: predict([text]).")
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"`texts` must hold str. Received: {type(text).__name__} at index {index}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}")
        decoding = dict(self.settings.get("decoding", {}))
        strategy = strategy or decoding.get("strategy", "greedy")
        beam_size = beam_size or decoding.get("beam_size", 4)
        max_length = max_length or self.settings.get("max_output_length", self.config.max_length)
        outputs = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            result = generate(
                self.model,
                self.encode_texts(batch),
                max_length,
                strategy=strategy,
                beam_size=beam_size,
                start_id=self.target_tokenizer.start_id,
                end_id=self.target_tokenizer.end_id,
            )
            decoded = self.target_tokenizer.detokenize(result["tokens"]).numpy()
            outputs.extend(text.decode("utf-8") for text in decoded)
            if progress is not None:
                progress(len(outputs), len(texts))
        return outputs


def load(name):
    """Load zoo model `name` (see `list_models()`), after checking every file's sha256.

    Returns:
        A `ZooModel`.

    Raises:
        ZooError: unknown name, a missing file, or a checksum mismatch.
    """
    directory = model_dir(name)
    verify_manifest(directory)
    config = TransformerConfig.from_json((directory / "config.json").read_text(encoding="utf-8"))
    settings = json.loads((directory / "zoo.json").read_text(encoding="utf-8"))
    model = build_transformer(config, name=name)
    model.load_weights(str(directory / "model.weights.h5"))
    return ZooModel(
        name=name,
        path=directory,
        model=model,
        config=config,
        source_tokenizer=Tokenizer.load(str(directory / "source_vocabulary.json")),
        target_tokenizer=Tokenizer.load(str(directory / "target_vocabulary.json")),
        settings=settings,
        card=(directory / "card.md").read_text(encoding="utf-8"),
    )


def save(directory, model, config, source_tokenizer, target_tokenizer, settings, card, history=None):
    """Write a zoo folder (weights, config, tokenizers, settings, card, optionally the `fit` history
    as `history.csv`: a `{name: [value per epoch]}` dict) and its manifest."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(config.to_json() + "\n", encoding="utf-8")
    (directory / "zoo.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    source_tokenizer.save(str(directory / "source_vocabulary.json"))
    target_tokenizer.save(str(directory / "target_vocabulary.json"))
    model.save_weights(str(directory / "model.weights.h5"))
    (directory / "card.md").write_text(card, encoding="utf-8")
    if history is not None:
        write_history(directory / "history.csv", history)
    write_manifest(directory)
    return directory


def write_history(path, history):
    """Write a `{name: [value per epoch]}` `fit` history as CSV (an `epoch` column first, from 0, like
    `keras.callbacks.CSVLogger`)."""
    logs = getattr(history, "history", history)
    lengths = {len(values) for values in logs.values()}
    if len(lengths) != 1:
        raise ValueError(f"every `history` entry must have one value per epoch. Received lengths: {sorted(lengths)}")
    names = list(logs)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *names])
        for epoch in range(lengths.pop()):
            writer.writerow([epoch, *(repr(float(logs[name][epoch])) for name in names)])


__all__ = ["ZooError", "ZooModel", "list_models", "load", "model_dir", "save", "verify_manifest", "write_history", "write_manifest", "zoo_dirs"]
