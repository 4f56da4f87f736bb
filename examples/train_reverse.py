"""Train a small Transformer with `model.fit` to reverse strings of letters, then generate with it.

The task is synthetic (generated here, nothing to download): the source is 3-12 random letters and the
target the same letters in reverse order, which a model can only learn by attending to the right
source position at each step: a clear view of source-target attention.

    python examples/train_reverse.py            # about two minutes on 2 CPU cores
    python examples/train_reverse.py --epochs 1 --examples 2000   # a quick smoke run
    python examples/train_reverse.py --checkpoint-dir /tmp/reverse   # rerun after a crash to resume

`keras-transformer train reverse` trains the same task with the package's full recipe (length
buckets, early stopping, a zoo folder with a model card).
"""

import argparse
import json
import time

import keras
import numpy as np

import keras_transformer
from keras_transformer import training
from keras_transformer.decoding import DecodingSettings
from keras_transformer.pipeline import TextPipeline
from keras_transformer.text import Tokenizer


def make_pairs(count, letters, longest, rng):
    lengths = rng.integers(3, longest + 1, size=count)
    sources = ["".join(rng.choice(letters, size=n)) for n in lengths]
    return sources, [source[::-1] for source in sources]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=20000, help="training examples")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocabulary-size", type=int, default=20, help="letters + the tokenizer's 4 reserved ids")
    parser.add_argument("--max-length", type=int, default=12, help="longest source string")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-examples", type=int, default=1000, help="held-out examples")
    parser.add_argument("--checkpoint-dir", help="save the training state after every epoch; rerun to resume")
    parser.add_argument("--json", help="write the measured figures to this file")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    letters = list("abcdefghijklmnopqrstuvwxyz"[: args.vocabulary_size - len(Tokenizer.reserved_symbols)])
    tokenizer = Tokenizer.from_corpus(letters)  # one vocabulary for both sides

    def arrays(sources, targets):
        ids = {"start_id": tokenizer.start_id, "end_id": tokenizer.end_id}
        return training.teacher_forcing(
            tokenizer.tokenize(sources).to_list(), tokenizer.tokenize(targets).to_list(), **ids
        )

    train_inputs, train_labels = arrays(*make_pairs(args.examples, letters, args.max_length, rng))
    val_sources, val_targets = make_pairs(args.validation_examples, letters, args.max_length, rng)
    val_inputs, val_labels = arrays(val_sources, val_targets)

    config = keras_transformer.TransformerConfig.from_name(
        "tiny",
        source_vocab_size=tokenizer.vocabulary_size,
        target_vocab_size=tokenizer.vocabulary_size,
        d_model=64,
        num_heads=4,
        d_ff=128,
        num_encoder_layers=2,
        num_decoder_layers=2,
        max_length=args.max_length + 1,
        share_embeddings=True,
    )
    model = keras_transformer.build_transformer(config)
    model.compile(
        optimizer=training.paper_optimizer(config.d_model, warmup_steps=400),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=0.1),
        metrics=[training.MaskedAccuracy()],
    )
    callbacks = [training.ResumableCheckpoint(args.checkpoint_dir)] if args.checkpoint_dir else []
    started = time.perf_counter()
    model.fit(train_inputs, train_labels, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(val_inputs, val_labels), callbacks=callbacks, verbose=2)  # fmt: skip
    train_seconds = time.perf_counter() - started
    _, token_accuracy = model.evaluate(val_inputs, val_labels, batch_size=256, verbose=0)

    pipeline = TextPipeline(model, tokenizer, tokenizer, DecodingSettings(max_output_length=args.max_length + 1))
    shown = 200
    predictions = pipeline.predict(val_sources[:shown])
    for source, prediction in list(zip(val_sources, predictions))[:5]:
        print(f"{source} -> {prediction}")
    figures = {
        "validation_token_accuracy": round(float(token_accuracy), 4),
        "greedy_exact_match": round(float(np.mean([p == t for p, t in zip(predictions, val_targets)])), 4),
        "train_seconds": round(train_seconds, 1),
        "parameters": model.count_params(),
    }
    print(json.dumps(figures))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return figures


if __name__ == "__main__":
    main()
