"""Zoo folders on disk: `save` writes a `TextPipeline` as one, `read_pipeline` reads one back as its Keras
runtime (checksums first; `zoo.load` gives it as a `ZooModel`).

A zoo folder holds `config.json` (the `TransformerConfig`), `zoo.json` (a `ZooInfo` plus the
`DecodingSettings` under `"decoding"`), `source_vocabulary.json` / `target_vocabulary.json` (a
`Tokenizer`'s vocabulary file, or for a model with a SentencePiece vocabulary, such as a translation
model fine-tuned by `train pairs --from-zoo pt_en`, a `SentencePieceTokenizer`'s file: a JSON object with
`"kind": "sentencepiece"`; `load_tokenizer` reads either),
`model.weights.h5`, `card.md`, optionally `history.csv` (the per-epoch `fit` history) and
`generator.tflite` (the TFLite generator, built with the folder's decoding settings by
`write_generator`; `zoo.load(name, runtime="litert")` and the CLI run it without TensorFlow), and
`manifest.sha256`. `zoo.load` checks the manifest before reading anything else, and reads weights only
from the Keras weights file: no pickle, no code.

Weights are stored in float32 or, with `save(..., weights_dtype="float16")`, as float16 values (half
the size: the weights file and the generator each): the model still runs in float32, on the weights
rounded to float16, and every figure of a packaged folder is measured on what it stores.
"""

import json
import os
import pathlib

import h5py
import numpy as np

from keras_transformer import _validation
from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text import Tokenizer
from keras_transformer.text import sentencepiece_model
from keras_transformer.training.run_folder import write_history
from keras_transformer.zoo.info import WEIGHTS_DTYPES, ZooInfo, read_zoo_json
from keras_transformer.zoo.litert import GENERATOR
from keras_transformer.zoo.manifest import verify_manifest, write_manifest
from keras_transformer.zoo.registry import ZooError


def read_settings(directory):
    """`(ZooInfo, DecodingSettings)` from a zoo folder's `zoo.json`."""
    info, decoding = read_zoo_json(directory)
    try:
        return info, DecodingSettings.from_dict(decoding)
    except (ValueError, TypeError) as error:
        raise ZooError(f"{pathlib.Path(directory) / 'zoo.json'} is not a valid zoo.json: {error}") from None


def read_pipeline(directory, decoding=None):
    """The Keras runtime of the seq2seq zoo folder at `directory`, after checking every file's sha256:
    `(TextPipeline, ZooInfo)`, the pipeline decoding with the folder's settings and `decoding` (a dict
    of `DecodingSettings` fields) applied. `zoo.load` wraps it in a `ZooModel`."""
    directory = pathlib.Path(directory)
    verify_manifest(directory)
    info, settings = read_settings(directory)
    config = TransformerConfig.from_json((directory / "config.json").read_text(encoding="utf-8"))
    model = build_transformer(config, name=directory.name)
    model.load_weights(str(directory / "model.weights.h5"))
    pipeline = TextPipeline(
        model,
        load_tokenizer(directory / "source_vocabulary.json"),
        load_tokenizer(directory / "target_vocabulary.json"),
        settings.replace(**(decoding or {})),
        name=directory.name,
    )
    return pipeline, info


def load_tokenizer(path):
    """The tokenizer of a zoo folder's vocabulary file: a `SentencePieceTokenizer` for a file with
    `"kind": "sentencepiece"` (`SentencePieceTokenizer.save`), else a `Tokenizer` (`Tokenizer.save`)."""
    if sentencepiece_model.is_tokenizer_file(path):
        from keras_transformer.text.sentencepiece import SentencePieceTokenizer

        return SentencePieceTokenizer.load(str(path))
    return Tokenizer.load(str(path))


def save(directory, pipeline, info, card, history=None, generator=False, weights_dtype="float32"):
    """Write `pipeline` as a zoo folder: weights, config, tokenizers, `zoo.json` (`info` and the
    pipeline's decoding settings), the card, optionally the `fit` history (`{name: [value per
    epoch]}`) as `history.csv`, with `generator=True` the TFLite generator (`write_generator`: a
    few seconds of conversion; the training tasks' packaging step writes one), and the manifest.

    With `weights_dtype="float16"` the weights are stored as float16 (`write_weights`), and the
    pipeline's model is set to those rounded values first, so the pipeline in memory, the weights
    file and the generator give the same outputs.

    Returns:
        The folder, a `pathlib.Path`.
    """
    if not isinstance(pipeline, TextPipeline):
        raise TypeError(f"`pipeline` must be a TextPipeline. Received: pipeline={pipeline!r}")
    if not isinstance(info, ZooInfo):
        raise TypeError(f"`info` must be a ZooInfo. Received: info={info!r}")
    if not isinstance(card, str):
        raise TypeError(f"`card` must be a str (Markdown). Received: card={type(card).__name__}")
    _validation.one_of("weights_dtype", weights_dtype, WEIGHTS_DTYPES)
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(pipeline.config.to_json() + "\n", encoding="utf-8")
    write_settings(directory, info, pipeline.settings)
    pipeline.source_tokenizer.save(str(directory / "source_vocabulary.json"))
    pipeline.target_tokenizer.save(str(directory / "target_vocabulary.json"))
    write_weights(directory / "model.weights.h5", pipeline.model, weights_dtype)
    (directory / "card.md").write_text(card, encoding="utf-8")
    if history is not None:
        write_history(directory / "history.csv", history)
    if generator:
        write_generator(directory, pipeline)
    else:
        (directory / GENERATOR).unlink(missing_ok=True)  # one from earlier weights would decode differently
    write_manifest(directory)
    return directory


def write_weights(path, model, dtype="float32"):
    """Save `model`'s weights as a Keras `.weights.h5` file, in float32 or as float16 values.

    For "float16" the model's float32 weights are first rounded to float16 in place (they stay float32
    variables), then saved and the file's float32 arrays rewritten as float16: `load_weights` reads
    them back into float32 variables as exactly the model's rounded values.
    """
    _validation.one_of("dtype", dtype, WEIGHTS_DTYPES)
    path = pathlib.Path(path)
    if dtype == "float16":
        model.set_weights([_rounded(w) for w in model.get_weights()])
    model.save_weights(str(path))
    if dtype == "float16":
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with h5py.File(path, "r") as source, h5py.File(temporary, "w") as target:
            _copy_h5(source, target)
        os.replace(temporary, path)
    return path


def stored_weights_dtype(path):
    """"float16" when a `.weights.h5` file stores its float weights as float16 (`write_weights`), else
    "float32"."""
    dtypes = set()
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda _, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None)
    return "float16" if np.dtype("float16") in dtypes else "float32"


def _rounded(weight):
    return weight.astype(np.float16).astype(weight.dtype) if weight.dtype == np.float32 else weight


def _copy_h5(source, target):
    """Copy groups, datasets and attributes from `source` into `target`, float32 arrays as float16."""
    target.attrs.update(source.attrs)
    for name, item in source.items():
        if isinstance(item, h5py.Group):
            _copy_h5(item, target.create_group(name))
        else:
            data = item[()]
            if getattr(data, "dtype", None) == np.float32:
                data = data.astype(np.float16)
            target.create_dataset(name, data=data).attrs.update(item.attrs)


def write_generator(directory, pipeline):
    """Write `generator.tflite` into the zoo folder `directory`: `pipeline`'s model as a TFLite
    generator (builtin ops only) that decodes with `pipeline.settings`, which must be the folder's
    (`zoo.json`), with float16 weights when the folder's weights file stores float16 (else float32).
    Sampling gets none (TFLite draws another random stream), so such a folder runs in TensorFlow.
    Call `write_manifest` afterwards for a packaged folder.

    Returns:
        The file's path, or None for sampling settings.
    """
    from keras_transformer.export import tflite

    directory = pathlib.Path(directory)
    path = directory / GENERATOR
    folder_settings = read_settings(directory)[1].resolved(pipeline.config.max_length)
    if folder_settings != pipeline.settings:
        raise ValueError(
            "`pipeline.settings` must be the folder's decoding settings (zoo.json), the ones the generator "
            f"is run with. Received: {pipeline.settings}; {directory / 'zoo.json'} has {folder_settings}"
        )
    if pipeline.settings.strategy == "sample":
        path.unlink(missing_ok=True)
        return None
    target = pipeline.target_tokenizer
    weights = directory / "model.weights.h5"
    quantize = "float16" if weights.is_file() and stored_weights_dtype(weights) == "float16" else False
    data = tflite.generator_tflite(pipeline.decoder, pipeline.settings, target.start_id, target.end_id, quantize)
    return pathlib.Path(tflite.write(path, data))


def write_settings(directory, info, settings):
    """Write `zoo.json` (call `write_manifest` after changing a packaged folder). A `generator.tflite`
    built for other decoding settings is removed: it would decode differently (`write_generator`
    writes a new one)."""
    generator = pathlib.Path(directory) / GENERATOR
    if generator.is_file() and read_settings(directory)[1] != settings:
        generator.unlink()
    values = {**info.to_dict(), "decoding": settings.to_dict()}
    (pathlib.Path(directory) / "zoo.json").write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
