"""The CTranslate2 runtime of the zoo: a seq2seq folder's weights converted once, without TensorFlow,
into a CTranslate2 model in the user's cache, and run by `ctranslate2.Translator` with the folder's
`PythonTokenizer`s. `zoo.load(name, runtime="ctranslate2")` gives a `ZooModel` running one.

CTranslate2's `TransformerSpec` is our model: post- or pre-layer-norm blocks, ReLU or exact GELU
feed-forward, embeddings scaled by √d_model, a tied (or untied) output projection. What it would
otherwise take from its own defaults is given explicitly: the positional table (ours, not
CTranslate2's sines-then-cosines), the layer-norm ε, and a vocabulary of token ids written as strings
("0", "1", ...), so that any of our tokenizers feeds it the ids `TextPipeline` would. The converted
folder, under `prepared.cache_dir()`:

    ctranslate2/<model name>-<weights sha256[:16]>/
        model.bin, config.json,                 CTranslate2's files (float32 weights)
        source_vocabulary.json, target_vocabulary.json
        keras_transformer.json                  what it was converted from (checksums, converter
                                                version) and the output of an empty source
        manifest.sha256                         every file above

It is written into a temporary folder and renamed into place, checked against its manifest on every
load, and converted again when damaged or made from other files.

Greedy search only: CTranslate2's beam search ranks and stops otherwise than ours (`_settings_problem`).
With the default `compute_type="float32"` the outputs are `zoo.load(name).predict`'s
(tests/zoo/test_ctranslate2.py).
"""

import json
import os
import pathlib
import shutil
import tempfile

import numpy as np

from keras_transformer import _validation
from keras_transformer._hashing import sha256_file
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.zoo.litert import load_tokenizer
from keras_transformer.zoo.manifest import read_manifest, verify_manifest
from keras_transformer.zoo.prepared import cache_dir
from keras_transformer.zoo.registry import SEQ2SEQ, ZooError, folder_kind, model_dir

# Bumped whenever the converter writes something else for the same zoo folder: older caches convert again.
CONVERTER_VERSION = 1
PROVENANCE = "keras_transformer.json"
MANIFEST = "manifest.sha256"
# The zoo folder's files a conversion reads.
SOURCES = ("config.json", "model.weights.h5", "source_vocabulary.json", "target_vocabulary.json")
# "float32" gives TextPipeline's outputs; the int8 ones are faster and change a few (BENCHMARKS.md).
COMPUTE_TYPES = ("float32", "int8", "int8_float32")
# Texts a `translate_batch` call decodes, and the translator's threads: the fastest tried on 2 CPU
# cores, two batches decoded side by side on one thread each (BENCHMARKS.md). Threads inside a batch
# (intra_threads=2) were the slowest: small batches spend their time handing work between threads.
BATCH_SIZE = 64
INTER_THREADS = 2
INTRA_THREADS = 1


class UnsupportedSettings(InvalidArgumentError):
    """CTranslate2 cannot decode as asked and give what `TextPipeline` gives.

    Attributes:
        reason: why, as a phrase, for callers that say it in their own words (`zoo.load` does).
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def load(
    name, decoding=None, compute_type="float32", inter_threads=INTER_THREADS, intra_threads=INTRA_THREADS, report=None
):
    """Zoo model `name` (a name from `list_models()` or a path to a seq2seq zoo folder) as a
    `CTranslate2Pipeline`, after checking every file's sha256; converted first when the cache holds no
    sound conversion (`prepare`). `zoo.load(name, runtime="ctranslate2")` gives it in a `ZooModel`.

    Args:
        name: a zoo model name or a zoo folder path.
        decoding: `DecodingSettings` fields (a dict; None values ignored) to decode with instead of the
            folder's; greedy search only (see `CTranslate2Pipeline.unsupported_settings`).
        compute_type: "float32" (default: `TextPipeline`'s outputs), or "int8" / "int8_float32" (int8
            weights: faster, and some outputs differ).
        inter_threads, intra_threads: `ctranslate2.Translator`'s batches decoded side by side, and
            threads a batch (0: one a core); the defaults, 2 and 1, were the fastest on 2 cores.
        report: optional callable given one line when the model is converted.

    Raises:
        ZooError: unknown name, a missing file, a checksum mismatch, a folder not of kind "seq2seq", or
            a model CTranslate2 cannot run (an SSRU decoder).
        UnsupportedSettings: the settings asked for (the folder's with `decoding`) are not greedy search.
        ImportError: ctranslate2 is not installed.
    """
    directory = model_dir(name)
    if folder_kind(directory) != SEQ2SEQ:
        raise ZooError(
            f"{directory.name} is a {folder_kind(directory)} model; runtime='ctranslate2' runs seq2seq models."
        )
    _validation.one_of("compute_type", compute_type, COMPUTE_TYPES)
    _import_ctranslate2()
    verify_manifest(directory)
    settings, max_length = read_settings(directory)
    problem = _settings_problem(directory.name, _merged(settings, decoding or {}), max_length)
    if problem:
        raise UnsupportedSettings(problem)
    folder = prepare(directory, report=report)
    return CTranslate2Pipeline(directory, folder, compute_type, inter_threads, intra_threads, decoding)


def _import_ctranslate2():
    try:
        import ctranslate2
    except ImportError as error:
        raise ImportError(
            f"runtime='ctranslate2' needs ctranslate2 (pip install \"keras-transformer[ctranslate2]\"): {error}"
        ) from None
    return ctranslate2


def read_settings(directory):
    """`(settings, max_length)`: a zoo folder's decoding settings (zoo.json) as a dict with
    `max_output_length` resolved, and its model's `max_length`."""
    directory = pathlib.Path(directory)
    settings = dict(json.loads((directory / "zoo.json").read_text(encoding="utf-8"))["decoding"])
    max_length = json.loads((directory / "config.json").read_text(encoding="utf-8"))["max_length"]
    settings["max_output_length"] = settings.get("max_output_length") or max_length
    return settings, max_length


def _merged(settings, overrides):
    return {**settings, **{key: value for key, value in overrides.items() if value is not None}}


def _settings_problem(name, settings, max_length):
    """Why CTranslate2 cannot decode with `settings` (a dict) as `TextPipeline` would, or None when it can."""
    strategy = settings.get("strategy", "greedy")
    if strategy == "beam":
        return (
            f"{name} would decode with strategy='beam': CTranslate2's beam search ranks ended hypotheses by "
            "length^α and stops once beam_size have ended, ours by GNMT's penalty when no live one can win, "
            "so runtime='ctranslate2' runs greedy search only"
        )
    if strategy != "greedy":
        return f"runtime='ctranslate2' runs greedy search only (its sampling draws other numbers), not strategy={strategy!r}"
    if settings.get("max_length_factor") is not None:
        return (
            f"runtime='ctranslate2' has no max_length_factor, not max_length_factor={settings['max_length_factor']!r}"
        )
    if settings.get("shortlist"):
        return "runtime='ctranslate2' has no lexical shortlist, not shortlist=True"
    if not isinstance(settings["max_output_length"], int) or not 1 <= settings["max_output_length"] <= max_length:
        return f"max_output_length must be an int in [1, {name}'s max_length={max_length}], not {settings['max_output_length']!r}"
    return None


class CTranslate2Pipeline:
    """A zoo folder run on text by CTranslate2: the `TextPipeline.predict` contract (greedy search)
    without TensorFlow.

    Tokenizes with the folder's `PythonTokenizer`s (truncating to the model's `max_length`, as
    `TextPipeline` does), decodes the ids with `ctranslate2.Translator.translate_batch` (beam size 1,
    at most `max_output_length` ids, the end id included, as ours), and detokenizes. A text with no
    ids (an empty one) gets the output `TextPipeline` gives it, decoded at conversion (in float32):
    CTranslate2 returns nothing for an empty source, where our model attends to no source position.

    Args:
        directory: the zoo folder (use `load`, which checks the manifest and the settings).
        model_dir: its CTranslate2 conversion (`prepare`).
        compute_type: "float32", "int8" or "int8_float32" (see `load`).
        inter_threads, intra_threads: the translator's threads (see `load`).
        decoding: `DecodingSettings` fields changing the folder's (`unsupported_settings` must pass).

    Attributes:
        name: the folder's name.
        settings: the decoding settings as a dict (`DecodingSettings.to_dict()`'s keys, with
            `max_output_length` resolved).
        source_tokenizer, target_tokenizer: `PythonTokenizer`s (or `SentencePiecePythonTokenizer`s).
        translator: the `ctranslate2.Translator`.
        model_dir: the converted folder; compute_type: the translator's.

    Example:
    >>> from keras_transformer.zoo import ctranslate2
    >>> g2p = ctranslate2.load("g2p_en")  # converted into the cache on first use, then reused
    >>> g2p.predict(["transformer", "pronunciation"])
    ['T R AE0 N S F AO1 R M ER0', 'P R AH0 N AH2 N S IY0 EY1 SH AH0 N']
    """

    def __init__(
        self,
        directory,
        model_dir,
        compute_type="float32",
        inter_threads=INTER_THREADS,
        intra_threads=INTRA_THREADS,
        decoding=None,
    ):
        ctranslate2 = _import_ctranslate2()
        _validation.one_of("compute_type", compute_type, COMPUTE_TYPES)
        directory, self.model_dir = pathlib.Path(directory), pathlib.Path(model_dir)
        self.name = directory.name
        self.settings, self.max_length = read_settings(directory)
        problem = self.unsupported_settings(**(decoding or {}))
        if problem:
            raise UnsupportedSettings(problem)
        self.settings = _merged(self.settings, decoding or {})
        self.source_tokenizer = load_tokenizer(directory / "source_vocabulary.json")
        self.target_tokenizer = load_tokenizer(directory / "target_vocabulary.json")
        provenance = json.loads((self.model_dir / PROVENANCE).read_text(encoding="utf-8"))
        self._empty_source_ids = provenance["empty_source_ids"]
        self.compute_type = compute_type
        self.translator = ctranslate2.Translator(
            str(self.model_dir),
            device="cpu",
            compute_type=compute_type,
            inter_threads=_validation.positive_int("inter_threads", inter_threads),
            intra_threads=_validation.non_negative_int("intra_threads", intra_threads),
        )

    def __repr__(self):
        return f"CTranslate2Pipeline(name={self.name!r}, compute_type={self.compute_type!r}, settings={self.settings})"

    def unsupported_settings(self, **overrides):
        """Why CTranslate2 cannot decode with `overrides` (`DecodingSettings` fields; None values ignored)
        as `TextPipeline` would, or None when it can: greedy search, any `max_output_length` up to the
        model's `max_length`."""
        _validation.known_fields(
            "decoding settings", overrides, [*self.settings, "max_length_factor", "shortlist"], keywords=True
        )
        return _settings_problem(self.name, _merged(self.settings, overrides), self.max_length)

    def encode_texts(self, texts):
        """Texts -> `(B, S)` int32 ids (truncated to the model's `max_length`, zero-padded, at least one
        column), as `TextPipeline.encode_texts` gives them."""
        rows = self.source_tokenizer.tokenize(
            _validation.texts("texts", texts, "encode_texts"), max_length=self.max_length
        )
        ids = np.zeros((len(rows), max([1, *map(len, rows)])), np.int32)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
        return ids

    def predict(self, texts, batch_size=BATCH_SIZE, progress=None, **overrides):
        """Outputs for `texts` (a list of str), in order: what `TextPipeline.predict` gives.

        Args:
            texts: the inputs; empty strings are allowed.
            batch_size: how many texts a `translate_batch` call decodes (texts of similar length go
                together).
            progress: optional callable `progress(done, total)` called after each batch.
            **overrides: `DecodingSettings` fields for this call; greedy search only (see
                `unsupported_settings`): an `UnsupportedSettings` error says why not.

        Returns:
            A list of str.
        """
        texts = _validation.texts("texts", texts)
        batch_size = _validation.positive_int("batch_size", batch_size)
        problem = self.unsupported_settings(**overrides)
        if problem:
            raise UnsupportedSettings(f"{problem}; zoo.load({self.name!r}) (TensorFlow) decodes with any settings")
        max_output_length = _merged(self.settings, overrides)["max_output_length"]
        rows = self.source_tokenizer.tokenize(texts, max_length=self.max_length)
        outputs = [None] * len(texts)
        empty = self.target_tokenizer.detokenize(self._empty_source_ids[:max_output_length])
        order = []
        for index, row in enumerate(rows):
            if row:
                order.append(index)
            else:
                outputs[index] = empty
        order.sort(key=lambda index: len(rows[index]))
        options = {
            "beam_size": 1,
            "max_decoding_length": max_output_length,  # the end id counts, as in ours
            "min_decoding_length": 0,  # CTranslate2's default, 1, would forbid ending at once
            "max_input_length": 0,  # rows are truncated already
        }
        # Every batch is queued at once, so that `inter_threads` translators decode them side by side.
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        pending = [
            self.translator.translate_batch(
                [[str(i) for i in rows[index]] for index in batch], asynchronous=True, **options
            )
            for batch in batches
        ]
        done = len(texts) - len(order)
        for batch, results in zip(batches, pending):
            ids = [[int(token) for token in result.result().hypotheses[0]] for result in results]
            for index, text in zip(batch, self.target_tokenizer.detokenize(ids)):
                outputs[index] = text
            done += len(batch)
            if progress is not None:
                progress(done, len(texts))
        if progress is not None and not batches and texts:
            progress(len(texts), len(texts))
        return outputs


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
    if not isinstance(provenance.get("empty_source_ids"), list):
        return f"the one there has no empty-source output in {PROVENANCE}"
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
    with tempfile.TemporaryDirectory(prefix=".empty-source-", dir=output_dir.parent) as scratch:
        _save_spec(transformer_spec(config, arrays, empty_source=True), config, special, scratch)
        empty_source_ids = _greedy_ids(scratch, [special["unk_token"]], config["max_length"])
    provenance = {**_provenance(directory), "model": directory.name, "empty_source_ids": empty_source_ids}
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


def _greedy_ids(model_dir, source, max_length):
    """The ids (end id included, if reached) greedy search gives `source` (tokens) in float32."""
    translator = _import_ctranslate2().Translator(str(model_dir), device="cpu", compute_type="float32")
    result = translator.translate_batch(
        [source], beam_size=1, max_decoding_length=max_length, min_decoding_length=0, return_end_token=True
    )[0]
    return [int(token) for token in result.hypotheses[0]]


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


def transformer_spec(config, arrays, empty_source=False):
    """The `ctranslate2.specs.TransformerSpec` of the `TransformerConfig` fields `config` (a dict, as in
    config.json) holding the weights `arrays` (`read_weights`).

    A `.weights.h5` file names weights after their layers' classes, not their names: the model's layers
    in order (`target_embedding` comes before `source_embedding`, so "token_embedding" is the target's
    and "token_embedding_1" the source's; "dense" is an untied output projection), then each layer's
    attributes (`transformer_encoder/blocks/transformer_encoder_block_1/self_attention/query_dense`),
    `vars/0` a kernel or a norm's γ, `vars/1` a bias or β.

    With `empty_source` the source-target attention's values are zero, so that every attention output
    is its projection's bias: what our model computes for a source with no ids (it attends to no
    position), which CTranslate2 would not decode.
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
        if empty_source:
            values = layer.attention.linear[1]  # rows D to 2D - 1 project the values
            values.weight[d_model:], values.bias[d_model:] = 0.0, 0.0
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
    "BATCH_SIZE",
    "COMPUTE_TYPES",
    "CTranslate2Pipeline",
    "UnsupportedSettings",
    "convert",
    "converted_dir",
    "load",
    "positional_table",
    "prepare",
    "read_settings",
    "read_weights",
    "transformer_spec",
]
