"""Prepared runtimes of converted zoo models: a translation model's TFLite generator, built once into
the user's cache, so that later runs start without TensorFlow.

A translation folder holds no weights (they are converted from a pip package when loaded: seconds of
TensorFlow import, conversion and tracing). `prepare(name)` does that once and writes, into
`$KERAS_TRANSFORMER_CACHE` (default `$XDG_CACHE_HOME/keras_transformer`, else
`~/.cache/keras_transformer`), a folder named after the model, its converted weights' sha256 and the
format of what is prepared (`FORMAT`):

    generator.tflite           float32, decoding with the folder's settings (shortlist included)
    config.json, zoo.json      the model's sizes and decoding settings
    source_vocabulary.json     the SentencePiece tokenizers (`SentencePieceTokenizer.save`)
    target_vocabulary.json
    manifest.sha256

`zoo.load(name, runtime="auto")` (what `keras-transformer predict` asks for) then runs it in
ai-edge-litert with the `sentencepiece` library, after checking the manifest and the package's own
files, and gives what the TensorFlow pipeline gives (`tests/zoo/test_translation.py`). Nothing here
imports TensorFlow but `prepare` itself.
"""

import json
import os
import pathlib
import shutil
import tempfile

from keras_transformer._hashing import sha256_file
from keras_transformer.errors import ZooError
from keras_transformer.zoo.manifest import read_manifest

CACHE_VARIABLE = "KERAS_TRANSFORMER_CACHE"
GENERATOR = "generator.tflite"
FILES = (GENERATOR, "config.json", "zoo.json", "source_vocabulary.json", "target_vocabulary.json")
MANIFEST = "manifest.sha256"
# Bumped whenever `prepare` writes something older runtimes lack, so that a folder prepared before is
# never found (and is prepared again): 2, the generator outputs scores (`export.tflite.generator_tflite`).
FORMAT = 2


def cache_dir():
    """Where prepared runtimes live (see the module docstring)."""
    if os.environ.get(CACHE_VARIABLE):
        return pathlib.Path(os.environ[CACHE_VARIABLE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base).expanduser() / "keras_transformer"


def prepared_dir(directory, info):
    """The prepared runtime's folder for the zoo folder `directory` whose zoo.json is `info`."""
    return cache_dir() / "zoo" / f"{pathlib.Path(directory).name}-{info.weights_sha256[:16]}-v{FORMAT}"


def find(directory, info):
    """The prepared folder of this model when it exists and every file matches its manifest, else None
    (a changed file is an error: the cache was tampered with or half written)."""
    folder = prepared_dir(directory, info)
    if not (folder / MANIFEST).is_file():
        return None
    expected = read_manifest(folder)
    for name in FILES:
        path = folder / name
        if not path.is_file() or sha256_file(path) != expected.get(name):
            raise ZooError(f"{folder} is damaged ({name} does not match its manifest): delete the folder and prepare again.")
    return folder


def prepare(directory, report=None):
    """Build the prepared runtime of the translation zoo folder `directory` (TensorFlow, about a minute);
    returns its folder. An existing one is replaced."""
    from keras_transformer.export import tflite
    from keras_transformer.zoo import translation

    directory = pathlib.Path(directory)
    pipeline, info = translation.load(directory)
    final = prepared_dir(directory, info)
    final.parent.mkdir(parents=True, exist_ok=True)
    # Built under a name of its own, then renamed: a process that reads the cache meanwhile (or prepares
    # it too) never sees half a folder.
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    if report is not None:
        report(f"converting {directory.name} into {final / GENERATOR} (about a minute, once)")
    target = pipeline.target_tokenizer
    tflite.write(folder / GENERATOR, tflite.generator_tflite(pipeline.decoder, pipeline.settings, target.start_id, target.end_id))
    (folder / "config.json").write_text(pipeline.config.to_json() + "\n", encoding="utf-8")
    values = {"task": info.task, "prepared_from": directory.name, "weights_sha256": info.weights_sha256, "format": FORMAT}
    values["decoding"] = pipeline.settings.to_dict()
    (folder / "zoo.json").write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    pipeline.source_tokenizer.save(folder / "source_vocabulary.json")
    target.save(folder / "target_vocabulary.json")
    lines = [f"{sha256_file(folder / name)}  {name}" for name in FILES]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.replace(folder, final)
    except OSError:  # another process renamed its own complete folder there first
        shutil.rmtree(folder, ignore_errors=True)
    return final
