"""Converting a seq2seq zoo folder into a CTranslate2 model, without TensorFlow, into the user's cache,
for the CTranslate2 runtime (`keras_transformer.zoo.ctranslate2`, whose docstring describes the
converted folder, the weight mapping and the cache's checks).
"""

import json
import os
import pathlib
import shutil
import tempfile

import numpy as np

from keras_transformer._hashing import sha256_file
from keras_transformer.zoo.litert import load_tokenizer
from keras_transformer.zoo.manifest import read_manifest
from keras_transformer.zoo.prepared import cache_dir
from keras_transformer.zoo.registry import ZooError

# Bumped whenever the converter writes something else for the same zoo folder: older caches convert again.
# 2: no second model decoding an empty source (a blank text is answered "" unrun).
CONVERTER_VERSION = 2
PROVENANCE = "keras_transformer.json"
MANIFEST = "manifest.sha256"
# The zoo folder's files a conversion reads.
SOURCES = ("config.json", "model.weights.h5", "source_vocabulary.json", "target_vocabulary.json")


def _import_ctranslate2():
    try:
        import ctranslate2
    except ImportError as error:
        raise ImportError(
            f"runtime='ctranslate2' needs ctranslate2 (pip install \"ctranslate2>=4.5,<5\", a dependency of keras-transformer): {error}"
        ) from None
    return ctranslate2


def converted_dir(directory):
    """Where the conversion of the zoo folder `directory` lives: named after the model and its weights'
    sha256 (from the folder's manifest)."""
    directory = pathlib.Path(directory)
    weights_sha256 = read_manifest(directory)["model.weights.h5"]
    return cache_dir() / "ctranslate2" / f"{directory.name}-{weights_sha256[:16]}"


def prepare(directory, report=None):
    """The converted folder of the (verified) zoo folder `directory`: the cached one when its files
    match its manifest and it was converted from these files by this converter, else a new conversion
    (about a second) put in its place. `report`, if given, is called with one line before converting."""
    directory = pathlib.Path(directory)
    folder = converted_dir(directory)
    problem = _cache_problem(folder, directory)
    if problem is None:
        return folder
    if report is not None:
        report(f"converting {directory.name} for CTranslate2 into {folder} ({problem})")
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        convert(directory, temporary)
        if _cache_problem(folder, directory) is not None:  # else another process converted it meanwhile
            _replace(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return folder


def _cache_problem(folder, directory):
    """Why `folder` cannot serve as the conversion of `directory` (a phrase), or None when it can."""
    if not folder.is_dir():
        return "none there yet"
    try:
        expected = read_manifest(folder)
    except ZooError:
        return f"the one there has no {MANIFEST}"
    if {path.name for path in folder.iterdir()} - {MANIFEST} != set(expected):
        return f"the one there holds other files than its {MANIFEST} lists"
    for name, digest in expected.items():
        if sha256_file(folder / name) != digest:
            return f"the one there is damaged: {name} does not match its {MANIFEST}"
    try:
        provenance = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except ValueError:
        return f"the one there has an unreadable {PROVENANCE}"
    if {key: provenance.get(key) for key in ("converter_version", "sources")} != _provenance(directory):
        return "the one there was converted from other files or by another converter version"
    return None


def _provenance(directory):
    checksums = read_manifest(directory)
    return {"converter_version": CONVERTER_VERSION, "sources": {name: checksums[name] for name in SOURCES}}


def _replace(new, folder):
    """Rename the finished folder `new` to `folder`: an existing `folder` is moved aside first and
    deleted after, so that no reader sees a half-written one."""
    old = None
    if folder.exists():
        old = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
        os.replace(folder, old / folder.name)
    try:
        os.replace(new, folder)
    except OSError:
        if not folder.is_dir():  # else another process has just renamed its own conversion into place
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def convert(directory, output_dir):
    """Write the CTranslate2 model of the seq2seq zoo folder `directory` into `output_dir` (a new or
    empty folder): float32 weights, its `keras_transformer.json` and `manifest.sha256`. Reads the
    config, the weights (h5py) and the tokenizers; imports no TensorFlow.

    Returns:
        `output_dir`, a `pathlib.Path`.
    """
    directory, output_dir = pathlib.Path(directory), pathlib.Path(output_dir)
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    arrays = read_weights(directory / "model.weights.h5")
    target_tokenizer = load_tokenizer(directory / "target_vocabulary.json")
    special = {
        "unk_token": str(load_tokenizer(directory / "source_vocabulary.json").unknown_id),
        "bos_token": str(target_tokenizer.start_id),
        "eos_token": str(target_tokenizer.end_id),
        "decoder_start_token": str(target_tokenizer.start_id),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    _save_spec(transformer_spec(config, arrays), config, special, output_dir)
    provenance = {**_provenance(directory), "model": directory.name}
    (output_dir / PROVENANCE).write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    names = sorted(path.name for path in output_dir.iterdir() if path.name != MANIFEST)
    lines = [f"{sha256_file(output_dir / name)}  {name}" for name in names]
    (output_dir / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return output_dir


def _save_spec(spec, config, special, output_dir):
    # Tokens are ids written as strings ("0", padding, is never fed).
    spec.register_source_vocabulary([str(index) for index in range(config["source_vocab_size"])])
    spec.register_target_vocabulary([str(index) for index in range(config["target_vocab_size"])])
    spec.config.layer_norm_epsilon = float(config.get("layer_norm_epsilon", 1e-6))
    for key, value in special.items():
        setattr(spec.config, key, value)
    spec.validate()
    spec.optimize(quantization="float32")
    spec.save(str(output_dir))


def read_weights(path):
    """`{h5 path: float32 array}` of every weight in a Keras `.weights.h5` file (float16 values widen
    exactly)."""
    import h5py

    weights = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            weights[name] = np.asarray(item[()], dtype=np.float32)

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
    return weights


class _Weights:
    """A `.weights.h5` file's arrays by Keras path, each checked for the shape the config gives it."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.used = set()

    def __call__(self, name, shape):
        if name not in self.arrays:
            raise ZooError(f"model.weights.h5 has no weight {name}: it does not hold the model of config.json.")
        array = self.arrays[name]
        if array.shape != tuple(shape):
            raise ZooError(f"model.weights.h5: {name} has shape {array.shape}; config.json makes it {tuple(shape)}.")
        self.used.add(name)
        return array


def transformer_spec(config, arrays):
    """The `ctranslate2.specs.TransformerSpec` of the `TransformerConfig` fields `config` (a dict, as in
    config.json) holding the weights `arrays` (`read_weights`).

    A `.weights.h5` file names weights after their layers' classes, not their names: the model's layers
    in order (`target_embedding` comes before `source_embedding`, so "token_embedding" is the target's
    and "token_embedding_1" the source's; "dense" is an untied output projection), then each layer's
    attributes (`transformer_encoder/blocks/transformer_encoder_block_1/self_attention/query_dense`),
    `vars/0` a kernel or a norm's γ, `vars/1` a bias or β.
    """
    from ctranslate2.specs import common_spec
    from ctranslate2.specs import transformer_spec as specs

    if config.get("decoder_self_attention", "attention") != "attention":
        raise ZooError("CTranslate2 has no SSRU decoder: runtime='ctranslate2' runs decoders with self-attention.")
    d_model, d_ff, heads = config["d_model"], config["d_ff"], config["num_heads"]
    head_size = d_model // heads
    pre_norm = bool(config.get("normalize_first", False))
    activations = {"relu": common_spec.Activation.RELU, "gelu": common_spec.Activation.GELU}  # GELU: exact, erf
    stack = {"pre_norm": pre_norm, "activation": activations[config.get("activation", "relu")]}
    encoder = specs.TransformerEncoderSpec(config["num_encoder_layers"], heads, **stack)
    decoder = specs.TransformerDecoderSpec(config["num_decoder_layers"], heads, **stack)
    weights = _Weights(arrays)

    source_vocab, target_vocab = config["source_vocab_size"], config["target_vocab_size"]
    target_embedding = "layers/token_embedding/vars"
    source_embedding = target_embedding if config.get("share_embeddings") else "layers/token_embedding_1/vars"
    encoder.embeddings[0].weight = weights(f"{source_embedding}/0", (source_vocab, d_model))
    decoder.embeddings.weight = weights(f"{target_embedding}/0", (target_vocab, d_model))
    encoder.scale_embeddings = decoder.scale_embeddings = bool(config.get("scale_embeddings", True))
    table = positional_table(config["max_length"], d_model, config.get("positional_layout", "interleaved"))
    encoder.position_encodings.encodings = decoder.position_encodings.encodings = table
    if config.get("tie_output", True):
        decoder.projection.weight = decoder.embeddings.weight  # (V, D): logits = x Eᵀ
        if config.get("output_bias"):
            decoder.projection.bias = weights(f"{target_embedding}/1", (target_vocab,))
    else:
        decoder.projection.weight = weights("layers/dense/vars/0", (d_model, target_vocab)).T  # (D, V) -> (V, D)
        decoder.projection.bias = weights("layers/dense/vars/1", (target_vocab,))

    def layer_norm(spec, path):
        spec.gamma = weights(f"{path}/vars/0", (d_model,))
        spec.beta = weights(f"{path}/vars/1", (d_model,))

    def projections(linear, path, names):
        """Query, key and value projections as one `(n·D, D)` weight and `(n·D,)` bias."""
        kernels, biases = [], []
        for name in names:
            # (D, H, K) -> (D, H·K) -> (H·K, D): head h is rows h·K to (h+1)·K - 1, CTranslate2's split.
            kernels.append(weights(f"{path}/{name}/vars/0", (d_model, heads, head_size)).reshape(d_model, d_model).T)
            biases.append(weights(f"{path}/{name}/vars/1", (heads, head_size)).reshape(d_model))
        linear.weight, linear.bias = np.concatenate(kernels), np.concatenate(biases)

    def attention_output(linear, path):
        kernel = weights(f"{path}/output_dense/vars/0", (heads, head_size, d_model))
        linear.weight = kernel.reshape(d_model, d_model).T  # (H, K, D) -> (H·K, D) -> (D, H·K)
        linear.bias = weights(f"{path}/output_dense/vars/1", (d_model,))

    def feed_forward(ffn, path):
        ffn.linear_0.weight = weights(f"{path}/inner_dense/vars/0", (d_model, d_ff)).T  # (D, F) -> (F, D)
        ffn.linear_0.bias = weights(f"{path}/inner_dense/vars/1", (d_ff,))
        ffn.linear_1.weight = weights(f"{path}/output_dense/vars/0", (d_ff, d_model)).T  # (F, D) -> (D, F)
        ffn.linear_1.bias = weights(f"{path}/output_dense/vars/1", (d_model,))

    def block_path(stack, index):
        return f"layers/transformer_{stack}/blocks/transformer_{stack}_block" + (f"_{index}" if index else "")

    for index, layer in enumerate(encoder.layer):
        path = block_path("encoder", index)
        projections(
            layer.self_attention.linear[0], f"{path}/self_attention", ("query_dense", "key_dense", "value_dense")
        )
        attention_output(layer.self_attention.linear[1], f"{path}/self_attention")
        layer_norm(layer.self_attention.layer_norm, f"{path}/self_attention_norm")
        feed_forward(layer.ffn, f"{path}/feed_forward")
        layer_norm(layer.ffn.layer_norm, f"{path}/feed_forward_norm")
    for index, layer in enumerate(decoder.layer):
        path = block_path("decoder", index)
        self_attention, source_attention = f"{path}/masked_self_attention", f"{path}/source_target_attention"
        projections(layer.self_attention.linear[0], self_attention, ("query_dense", "key_dense", "value_dense"))
        attention_output(layer.self_attention.linear[1], self_attention)
        layer_norm(layer.self_attention.layer_norm, f"{self_attention}_norm")
        projections(layer.attention.linear[0], source_attention, ("query_dense",))
        projections(layer.attention.linear[1], source_attention, ("key_dense", "value_dense"))
        attention_output(layer.attention.linear[2], source_attention)
        layer_norm(layer.attention.layer_norm, f"{source_attention}_norm")
        feed_forward(layer.ffn, f"{path}/feed_forward")
        layer_norm(layer.ffn.layer_norm, f"{path}/feed_forward_norm")
    if pre_norm:
        layer_norm(encoder.layer_norm, "layers/transformer_encoder/final_norm")
        layer_norm(decoder.layer_norm, "layers/transformer_decoder/final_norm")
    unplaced = sorted(set(arrays) - weights.used)
    if unplaced:
        raise ZooError(f"model.weights.h5 holds weights a CTranslate2 Transformer has no place for: {unplaced[:5]}")
    return specs.TransformerSpec(encoder, decoder)


def positional_table(length, d_model, layout="interleaved"):
    """`layers.sinusoidal_table(length, d_model, layout)` in float32, restated in NumPy because importing
    `layers` imports Keras (tests/zoo/test_ctranslate2.py holds the two equal)."""
    positions = np.arange(length, dtype=np.float64)[:, None]  # (L, 1)
    if layout == "tensor2tensor":
        half = d_model // 2
        angles = positions * np.exp(-np.log(10000.0) * np.arange(half, dtype=np.float64) / (half - 1))
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)
    angles = positions / np.power(10000.0, np.arange(0, d_model, 2, dtype=np.float64) / d_model)  # (L, ⌈D/2⌉)
    table = np.zeros((length, d_model), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(np.float32)


__all__ = [
    "CONVERTER_VERSION",
    "PROVENANCE",
    "SOURCES",
    "convert",
    "converted_dir",
    "positional_table",
    "prepare",
    "read_weights",
    "transformer_spec",
]
