"""Train a small Transformer with `model.fit` to reverse sequences of symbols, then show its predictions.

The task is synthetic (generated here, nothing to download): the source is 3-12 random symbols and the
target is the same symbols in reverse order, which a model can only learn by attending to the right
source position at each step: a clear view of source-target attention.

    python examples/train_reverse.py            # about two minutes on 2 CPU cores
    python examples/train_reverse.py --epochs 1 --examples 2000   # a quick smoke run
    python examples/train_reverse.py --checkpoint-dir /tmp/reverse   # rerun after a crash to resume
"""

import argparse
import json
import time

import keras
import numpy as np

import keras_transformer
from keras_transformer import training

PAD, START, END = 0, 1, 2
FIRST_SYMBOL = 3


def make_examples(count, vocabulary_size, min_length, max_length, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=count)
    sources = [rng.integers(FIRST_SYMBOL, vocabulary_size, size=n).tolist() for n in lengths]
    return sources, [source[::-1] for source in sources]


def greedy_decode(model, encoder_tokens, max_length):
    """Uncached greedy decoding: feed the prefix, take the argmax of the last position, repeat."""
    batch = encoder_tokens.shape[0]
    decoded = np.full((batch, 1), START, dtype="int32")
    finished = np.zeros(batch, dtype=bool)
    for _ in range(max_length):
        logits = model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoded}, training=False)
        next_tokens = np.asarray(logits)[:, -1].argmax(-1).astype("int32")
        next_tokens[finished] = PAD
        decoded = np.concatenate([decoded, next_tokens[:, None]], axis=1)
        finished |= next_tokens == END
        if finished.all():
            break
    results = []
    for row in decoded[:, 1:]:
        tokens = row.tolist()
        results.append(tokens[: tokens.index(END)] if END in tokens else tokens)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=20000, help="training examples")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocabulary-size", type=int, default=20, help="including pad, start and end")
    parser.add_argument("--max-length", type=int, default=12, help="longest source sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-examples", type=int, default=1000, help="held-out examples")
    parser.add_argument(
        "--checkpoint-dir",
        help="save the training state here after every epoch and resume from it when rerun "
        "(training.ResumableCheckpoint); rerunning a finished run trains no further",
    )
    parser.add_argument("--json", help="write the measured figures to this file")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    config = keras_transformer.TransformerConfig.from_name(
        "tiny",
        source_vocab_size=args.vocabulary_size,
        target_vocab_size=args.vocabulary_size,
        d_model=64,
        num_heads=4,
        d_ff=128,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dropout=0.0,
        max_length=args.max_length + 1,
        share_embeddings=True,
    )
    model = keras_transformer.build_transformer(config)
    model.compile(
        optimizer=training.paper_optimizer(config.d_model, warmup_steps=400),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=0.1),
        metrics=[training.MaskedAccuracy()],
    )

    def arrays(count, seed):
        sources, targets = make_examples(count, args.vocabulary_size, 3, args.max_length, seed)
        return training.teacher_forcing(sources, targets, start_id=START, end_id=END), sources, targets

    (train_inputs, train_labels), _, _ = arrays(args.examples, args.seed + 1)
    (val_inputs, val_labels), val_sources, val_targets = arrays(args.validation_examples, args.seed + 2)
    callbacks = [training.ResumableCheckpoint(args.checkpoint_dir)] if args.checkpoint_dir else []

    started = time.perf_counter()
    model.fit(
        train_inputs,
        train_labels,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(val_inputs, val_labels),
        callbacks=callbacks,
        verbose=2,
    )
    train_seconds = time.perf_counter() - started
    _, token_accuracy = model.evaluate(val_inputs, val_labels, batch_size=256, verbose=0)

    shown = 200
    predictions = greedy_decode(model, val_inputs["encoder_tokens"][:shown], args.max_length + 1)
    exact = np.mean([p == t for p, t in zip(predictions, val_targets[:shown])])
    for source, prediction in list(zip(val_sources, predictions))[:5]:
        print(f"source {source}\n  -> {prediction}")
    figures = {
        "validation_token_accuracy": round(float(token_accuracy), 4),
        "greedy_exact_match": round(float(exact), 4),
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
