"""Score g2p_en candidates on the validation split (greedy), to choose among runs without the test split.

    python benchmarks/g2p_validation.py RUN_DIR[:WEIGHTS] ... [--limit N] [--vocabularies DIR]

RUN_DIR holds `config.json` and a weights file (`model.weights.h5` unless `:WEIGHTS` names another);
the vocabularies are the task's (`--save-token-arrays` writes them beside the ids; default: those of
`saved_models/g2p_en`, which the task rebuilds identically from the training split). One JSON line a run.
"""

import argparse
import json
import pathlib
import time

from keras_transformer.decoding.settings import DecodingSettings
from keras_transformer.models import TransformerConfig, build_transformer
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text.tokenizer import Tokenizer
from keras_transformer.zoo import tasks

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="RUN_DIR or RUN_DIR:WEIGHTS_FILE_NAME")
    parser.add_argument("--limit", type=int, help="only the first N validation words")
    parser.add_argument("--vocabularies", default=str(ROOT / "saved_models" / "g2p_en"),
                        help="folder with source_vocabulary.json and target_vocabulary.json")  # fmt: skip
    args = parser.parse_args(argv)
    task = tasks.get_task("g2p_en")
    validation = task.read("validation", task.parser().parse_args([]))
    if args.limit:
        validation = validation.head(args.limit)
    vocabularies = pathlib.Path(args.vocabularies)
    source = Tokenizer.load(vocabularies / "source_vocabulary.json")
    target = Tokenizer.load(vocabularies / "target_vocabulary.json")
    for spec in args.runs:
        folder, _, weights = spec.partition(":")
        folder = pathlib.Path(folder)
        config = TransformerConfig.from_json((folder / "config.json").read_text())
        model = build_transformer(config, name="g2p_en")
        model.load_weights(str(folder / (weights or "model.weights.h5")))
        settings = DecodingSettings(strategy="greedy", max_output_length=task.max_output_length)
        pipeline = TextPipeline(model, source, target, settings, name="g2p_en")
        started = time.monotonic()
        predictions = pipeline.predict(validation.sources, batch_size=256)
        scores = task.score(validation, predictions)
        print(json.dumps({"run": spec, **scores, "seconds": round(time.monotonic() - started, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
