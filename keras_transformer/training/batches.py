"""The recipe's batches: teacher-forcing batches bucketed by length (`data.batching.LengthBuckets`),
built from text pairs with `tf.data` (`text_pair_batches`, TensorFlow) or from token ids as a Keras
`PyDataset` (`BucketedBatches`, any backend). Both take `TrainingOptions`' batching fields
(`max_length`, `batch_tokens`, `length_buckets`, `seed`), so the two paths batch alike.

Each builder returns `Batches`: the training and validation data for `training.recipe.fit` and what
the run record says about them.
"""

import dataclasses

import keras

from keras_transformer.errors import DataError
from keras_transformer.data.batching import LengthBuckets


@dataclasses.dataclass(frozen=True)
class Batches:
    """Training and validation batches for `training.recipe.fit`.

    Attributes:
        train, validation: `tf.data.Dataset`s or `keras.utils.PyDataset`s of
            `({"encoder_tokens", "decoder_tokens"}, labels)`.
        steps_per_pass: training batches in one pass.
        target_tokens_per_pass: real (unpadded) target tokens in one pass (an estimate for tf.data:
            which examples a bucket drops changes with the shuffle).
        description: what the run record keeps about them (bucket bounds, batch tokens, counts).
    """

    train: object
    validation: object
    steps_per_pass: int
    target_tokens_per_pass: int
    description: dict = dataclasses.field(default_factory=dict)


class BucketedBatches(keras.utils.PyDataset):
    """`LengthBuckets.array_batches` as a Keras `PyDataset`: training batches are reshuffled each
    epoch (seeded by `shuffle_seed` and the epoch), evaluation batches (`shuffle_seed=None`) stay."""

    def __init__(self, buckets, source_ids, target_ids, start_id, end_id, shuffle_seed=None):
        super().__init__()
        self._make = lambda seed: buckets.array_batches(source_ids, target_ids, start_id, end_id, shuffle_seed=seed)
        self._seed = shuffle_seed
        self._epoch = 0
        self._batches = self._make(shuffle_seed)
        if not self._batches:
            raise DataError(
                f"No batch: {len(source_ids)} examples fill no batch of batch_tokens={buckets.batch_tokens}"
            )

    def __len__(self):
        return len(self._batches)

    def __getitem__(self, index):
        return self._batches[index]

    def target_tokens(self):
        """Real (unpadded) target tokens in one pass."""
        return sum(int((labels > 0).sum()) for _, labels in self._batches)

    def on_epoch_end(self):
        self.start_at_epoch(self._epoch + 1)

    def start_at_epoch(self, epoch):
        """Shuffle as for epoch `epoch` (from 0) of the run, so a resumed run does not repeat an order."""
        self._epoch = epoch
        if self._seed is not None:
            self._batches = self._make(self._seed + 1000003 * epoch if epoch else self._seed)


def _buckets(options, lengths, bounds):
    if bounds:
        return LengthBuckets(options.batch_tokens, options.max_length, tuple(bounds))
    return LengthBuckets.from_lengths(lengths, options.batch_tokens, options.max_length, options.length_buckets)


def id_batches(options, train_ids, validation_ids, start_id, end_id, bounds=None):
    """`Batches` of token ids (lists of id lists) on any backend.

    Args:
        options: `TrainingOptions` (`max_examples`, `batch_tokens`, `max_length`, `length_buckets`, `seed`).
        train_ids, validation_ids: `(source ids, target ids)`, without start or end ids.
        start_id, end_id: the target tokenizer's.
        bounds: length-bucket bounds; None: `options.length_buckets` quantiles of the training lengths.
    """
    if options.max_examples:
        train_ids = tuple(side[: options.max_examples] for side in train_ids)
        validation_ids = tuple(side[: options.max_examples] for side in validation_ids)
    buckets = _buckets(options, [max(len(s), len(t) + 1) for s, t in zip(*train_ids)], bounds)
    train = BucketedBatches(buckets, *train_ids, start_id, end_id, shuffle_seed=options.seed)
    validation = BucketedBatches(buckets, *validation_ids, start_id, end_id)
    return Batches(
        train, validation, len(train), train.target_tokens(),
        _describe(buckets, len(train_ids[0]), len(validation_ids[0]), max((len(t) for t in train_ids[1]), default=0)),
    )  # fmt: skip


def text_pair_batches(options, source_tokenizer, target_tokenizer, train_pairs, validation_pairs, bounds=None):
    """`Batches` of text pairs, tokenized and batched with `tf.data` (TensorFlow).

    Args:
        options: `TrainingOptions` (`batch_tokens`, `max_length`, `length_buckets`, `seed`).
        source_tokenizer, target_tokenizer: `keras_transformer.text.Tokenizer`s.
        train_pairs, validation_pairs: `(sources, targets)`, lists of str.
        bounds: as for `id_batches`.

    Raises:
        ValueError: a sequence is longer than `options.max_length`, or the training pairs fill no batch.
    """
    import tensorflow as tf

    from keras_transformer.data.batching import example_lengths, tokenize_pairs

    tokenize = {"source_tokenizer": source_tokenizer, "target_tokenizer": target_tokenizer, "max_length": options.max_length}
    train_source, train_target = tokenize_pairs(sources=train_pairs[0], targets=train_pairs[1], name="training", **tokenize)
    val_source, val_target = tokenize_pairs(sources=validation_pairs[0], targets=validation_pairs[1], name="validation",
                                            **tokenize)  # fmt: skip
    buckets = _buckets(options, example_lengths(train_source, train_target), bounds)
    ids = {"start_id": target_tokenizer.start_id, "end_id": target_tokenizer.end_id}
    # The bucket sizes are the same every pass, so the step count is too: Keras knows the epoch length.
    steps, tokens = buckets.count(train_source, train_target)
    if steps == 0:
        raise DataError(
            f"The training data fills no batch of batch_tokens={options.batch_tokens}: give more examples or a "
            f"smaller batch_tokens. Received: {len(train_pairs[0])} training examples"
        )
    validation_steps = buckets.count(val_source, val_target, drop_remainder=False)[0]
    train = buckets.batches(train_source, train_target, **ids, shuffle_seed=options.seed)
    validation = buckets.batches(val_source, val_target, **ids)
    return Batches(
        train.apply(tf.data.experimental.assert_cardinality(steps)),
        validation.apply(tf.data.experimental.assert_cardinality(validation_steps)),
        steps, tokens,
        _describe(buckets, len(train_pairs[0]), len(validation_pairs[0]), int(tf.reduce_max(train_target.row_lengths()))),
    )  # fmt: skip


def _describe(buckets, train_examples, validation_examples, longest_target):
    return {
        "buckets": list(buckets.bounds),
        "batch_tokens": buckets.batch_tokens,
        "training_examples": train_examples,
        "validation_examples": validation_examples,
        "longest_target": longest_target,
    }
