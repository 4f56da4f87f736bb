"""Package a trained g2p model (a `train()` output folder, e.g. of `examples/train_g2p.py`) as a zoo
folder, measured on the CMUdict test split with greedy and beam search.

    python examples/package_g2p.py runs/g2p_example --zoo-dir /tmp/zoo/g2p_en
    keras-transformer predict /tmp/zoo/g2p_en transformer attention

A run of `keras-transformer train g2p_en` packages itself, with the full model card; rerunning its
command with the same `--checkpoint-dir` packages a run that finished (or was stopped) without
training further.
"""

import argparse
import json
import pathlib

from keras_transformer import TransformerConfig, build_transformer, evaluation, zoo
from keras_transformer.decoding import DecodingSettings
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text import Tokenizer
from keras_transformer.zoo import tasks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the output folder of training (config.json, vocabularies, model.weights.h5)")
    parser.add_argument("--zoo-dir", required=True)
    parser.add_argument("--limit", type=int, help="measure on the first N test words only")
    args = parser.parse_args(argv)

    run = pathlib.Path(args.run)
    model = build_transformer(TransformerConfig.from_json((run / "config.json").read_text()), name="g2p_en")
    model.load_weights(str(run / "model.weights.h5"))
    info = tasks.get_task("g2p_en").info()  # dataset, fields and metrics of the zoo's g2p_en
    pipeline = TextPipeline(model, Tokenizer.load(str(run / "source_vocabulary.json")),
                            Tokenizer.load(str(run / "target_vocabulary.json")),
                            DecodingSettings(strategy="beam", beam_size=4, max_output_length=32))  # fmt: skip
    reports = {s: evaluation.evaluate(pipeline, "test", args.limit, info=info, strategy=s).report for s in ("greedy", "beam")}
    measured = {f"{s}_{k}": v for s, report in reports.items() for k, v in report["measured"].items()}
    card = "\n".join([
        "# g2p_en", "", f"{info.task}, packaged from `{run}`.", "",
        f"Test split ({reports['beam']['examples']:,} words): " + ", ".join(f"{k} {v:.4f}" for k, v in measured.items()),
    ]) + "\n"  # fmt: skip
    # generator=True: the folder carries its TFLite generator, so `keras-transformer predict` runs it without TensorFlow.
    zoo.save(args.zoo_dir, pipeline, info.replace(card_metrics=measured), card, generator=True)
    print(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
