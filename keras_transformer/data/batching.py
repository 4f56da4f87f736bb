"""Teacher-forcing batches bucketed by length, with `tf.data` (`LengthBuckets.batches`) or as NumPy
arrays for any backend (`LengthBuckets.array_batches`), and the arithmetic that goes with them:
one batch-size rule shared by the batches, the step count of an epoch and the fill of the last
evaluation batch; plus reading a dataset split into Python lists and tokenizing text pairs.
TensorFlow is imported only by what uses it."""

import dataclasses

import numpy as np

from keras_transformer.errors import DataError
from keras_transformer import _validation

# Length buckets (exclusive upper bounds) of the g2p_en recipe: CMUdict pairs padded to 6, 8, 10, 13,
# 17 or 29 positions.
DEFAULT_BOUNDS = (7, 9, 11, 14, 18, 30)


@dataclasses.dataclass(frozen=True)
class LengthBuckets:
    """Batches of sequences of similar length holding about `batch_tokens` padded positions each.

    An example's length is max(source length, target length + 1) (the start or end id). It goes to
    the first bucket whose bound is above that length and is padded to `bound - 1`; the last bucket
    pads to `max_length`. Every batch of a bucket has one shape, (batch size of the bucket, padded
    length), so `jit_compile=True` compiles once a bucket.

    Args:
        batch_tokens: padded positions a batch, about; the batch size of a bucket is
            `batch_tokens // padded_length` rounded down to a multiple of 8, at least 8.
        max_length: the longest source or decoder sequence.
        bounds: exclusive upper bounds of the buckets below `max_length` (larger ones are dropped).

    Example:
    >>> buckets = LengthBuckets(batch_tokens=1024, max_length=64)
    >>> buckets.boundaries
    (7, 9, 11, 14, 18, 30, 65)
    >>> buckets.batch_size(29), buckets.batch_size(64), buckets.batch_size(1000)
    (32, 16, 8)
    """

    batch_tokens: int
    max_length: int
    bounds: tuple = DEFAULT_BOUNDS

    def __post_init__(self):
        _validation.positive_int("batch_tokens", self.batch_tokens)
        _validation.positive_int("max_length", self.max_length)
        bounds = tuple(int(_validation.positive_int("bounds", b)) for b in self.bounds)
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"`bounds` must be increasing. Received: bounds={self.bounds!r}")
        object.__setattr__(self, "bounds", bounds)

    @classmethod
    def from_lengths(cls, lengths, batch_tokens, max_length, buckets=8):
        """Buckets of about equal size: the bounds are the quantiles of `lengths` (+ 1, as bounds are
        exclusive), at most `buckets` of them."""
        _validation.positive_int("buckets", buckets)
        quantiles = np.quantile(np.asarray(lengths), np.linspace(0, 1, buckets + 1)[1:])
        return cls(batch_tokens, max_length, tuple(sorted({int(q) + 1 for q in quantiles})))

    @property
    def boundaries(self):
        """The bounds `bucket_by_sequence_length` gets: those up to `max_length`, then `max_length + 1`."""
        return tuple(b for b in self.bounds if b <= self.max_length) + (self.max_length + 1,)

    @property
    def padded_lengths(self):
        """The length each bucket pads to."""
        return tuple(b - 1 for b in self.boundaries)

    def batch_size(self, padded_length):
        """Examples a batch of sequences padded to `padded_length`: the one batch-size rule."""
        return max(8, self.batch_tokens // padded_length // 8 * 8)

    def batches(self, source_ids, target_ids, start_id, end_id, shuffle_seed=None):
        """Teacher-forcing batches `({"encoder_tokens", "decoder_tokens"}, labels)`, 0-padded.

        Args:
            source_ids, target_ids: `tf.RaggedTensor`s of ids, one row an example (no start/end id).
            start_id, end_id: the ids that open the decoder input and close the labels.
            shuffle_seed: training batches: shuffled each pass with this seed, and each bucket's last
                partial batch dropped. None: evaluation batches in order, the last partial batch of
                each bucket filled up with all-padding rows (which the masked loss and accuracy ignore).

        Returns:
            A `tf.data.Dataset`.
        """
        import tensorflow as tf

        padded_lengths = tf.constant(self.padded_lengths, tf.int32)
        sizes = [self.batch_size(length) for length in self.padded_lengths]

        def to_example(source, target):
            start = tf.constant([start_id], tf.int32)
            end = tf.constant([end_id], tf.int32)
            inputs = {"encoder_tokens": source, "decoder_tokens": tf.concat([start, target], 0)}
            return inputs, tf.concat([target, end], 0)

        def length(inputs, labels):
            return tf.maximum(tf.shape(inputs["encoder_tokens"])[0], tf.shape(labels)[0])

        def fill_batch(inputs, labels):
            # (b, L) -> (batch size of the bucket padded to L, L) with rows of padding.
            bucket = tf.argmax(tf.cast(padded_lengths == tf.shape(labels)[1], tf.int32))
            missing = tf.gather(sizes, bucket) - tf.shape(labels)[0]

            def pad(tokens):
                return tf.pad(tokens, [[0, missing], [0, 0]])

            return tf.nest.map_structure(pad, inputs), pad(labels)

        dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids)).map(to_example).cache()
        if shuffle_seed is not None:
            dataset = dataset.shuffle(int(source_ids.nrows()), seed=shuffle_seed, reshuffle_each_iteration=True)
        dataset = dataset.bucket_by_sequence_length(
            length,
            list(self.boundaries),
            sizes + [sizes[-1]],  # one more bucket, for lengths above max_length (tokenize_pairs refuses them)
            pad_to_bucket_boundary=True,
            drop_remainder=shuffle_seed is not None,
        )
        if shuffle_seed is None:
            dataset = dataset.map(fill_batch)
        return dataset.prefetch(tf.data.AUTOTUNE)

    def array_batches(self, source_ids, target_ids, start_id, end_id, shuffle_seed=None):
        """One pass of the batches `batches` makes, as NumPy arrays, for any Keras backend.

        The same buckets, batch sizes and padding as `batches`: training batches (`shuffle_seed` given)
        shuffle the examples within each bucket and the batches across buckets with a NumPy generator
        seeded by `shuffle_seed`, and drop each bucket's last partial batch; evaluation batches
        (`shuffle_seed=None`) keep every example in bucket order and fill the last batch of a bucket
        with rows of padding.

        Args:
            source_ids, target_ids: sequences of id sequences, one an example (no start/end id).
            start_id, end_id: the ids that open the decoder input and close the labels.
            shuffle_seed: an int for training batches; None for evaluation batches.

        Returns:
            A list of `({"encoder_tokens", "decoder_tokens"}, labels)`, int32 arrays.

        Example:
        >>> buckets = LengthBuckets(batch_tokens=64, max_length=8, bounds=(4,))
        >>> inputs, labels = buckets.array_batches([[5, 6]], [[7]], start_id=1, end_id=2)[0]
        >>> inputs["encoder_tokens"][0].tolist(), inputs["decoder_tokens"][0].tolist(), labels[0].tolist()
        ([5, 6, 0], [1, 7, 0], [7, 2, 0])
        >>> labels.shape  # the bucket's batch size (64 // 3 rounded down to 8), padded with empty rows
        (16, 3)
        """
        if len(source_ids) != len(target_ids):
            raise DataError(
                "`source_ids` and `target_ids` must hold as many examples. "
                f"Received: {len(source_ids)} sources, {len(target_ids)} targets"
            )
        if shuffle_seed is not None:
            _validation.non_negative_int("shuffle_seed", shuffle_seed)
        lengths = np.array([max(len(s), len(t) + 1) for s, t in zip(source_ids, target_ids)], dtype=np.int64)
        if len(lengths) and lengths.max() > self.max_length:
            raise DataError(
                f"An example is longer than max_length={self.max_length}: an example's length (the source, or the "
                f"target with its start or end id) is up to {int(lengths.max())}"
            )
        bucket_of = np.searchsorted(np.asarray(self.boundaries), lengths, side="right")
        rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        batches = []
        for index, padded_length in enumerate(self.padded_lengths):
            members = np.flatnonzero(bucket_of == index)
            if rng is not None:
                members = rng.permutation(members)
            size = self.batch_size(padded_length)
            stop = len(members) // size * size if rng is not None else len(members)
            for first in range(0, stop, size):
                batches.append(_teacher_forcing_batch(
                    [source_ids[i] for i in members[first:first + size]],
                    [target_ids[i] for i in members[first:first + size]],
                    size, padded_length, start_id, end_id,
                ))  # fmt: skip
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def count(self, source_ids, target_ids, drop_remainder=True):
        """Steps and real (unpadded) target tokens of one pass of `batches` over these examples,
        from the lengths alone. Steps are exact; with `drop_remainder` (training batches) the tokens
        are an estimate, since which examples a bucket drops changes with the shuffle.

        Returns:
            `(steps, target_tokens)`.
        """
        lengths = example_lengths(source_ids, target_ids)
        target_tokens = target_ids.row_lengths().numpy() + 1
        bucket = np.searchsorted(np.asarray(self.boundaries), lengths, side="right")
        steps = tokens = 0
        for index, padded_length in enumerate(self.padded_lengths):
            members = bucket == index
            count = int(members.sum())
            if not count:
                continue
            size = self.batch_size(padded_length)
            kept = count // size * size if drop_remainder else count
            steps += count // size if drop_remainder else -(-count // size)
            tokens += float(target_tokens[members].mean()) * kept
        return steps, int(round(tokens))


def _teacher_forcing_batch(sources, targets, size, padded_length, start_id, end_id):
    encoder = np.zeros((size, padded_length), np.int32)
    decoder = np.zeros((size, padded_length), np.int32)
    labels = np.zeros((size, padded_length), np.int32)
    for row, (source, target) in enumerate(zip(sources, targets)):
        encoder[row, : len(source)] = source
        decoder[row, : len(target) + 1] = [start_id, *target]
        labels[row, : len(target) + 1] = [*target, end_id]
    return {"encoder_tokens": encoder, "decoder_tokens": decoder}, labels


def example_lengths(source_ids, target_ids):
    """The length each example is bucketed by: max(source length, target length + 1), as a NumPy array."""
    return np.maximum(source_ids.row_lengths().numpy(), target_ids.row_lengths().numpy() + 1)


def tokenize_pairs(source_tokenizer, target_tokenizer, sources, targets, max_length, name="training"):
    """Both sides of text pairs as ragged ids.

    Raises:
        ValueError: a source, or a target with its start or end id, is longer than `max_length`
            (saying which `name`d data and how long).
    """
    import tensorflow as tf

    source, target = source_tokenizer.tokenize(sources), target_tokenizer.tokenize(targets)
    longest_source = int(tf.reduce_max(source.row_lengths()))
    longest_target = int(tf.reduce_max(target.row_lengths())) + 1  # + the start or end id
    if max(longest_source, longest_target) > max_length:
        raise DataError(
            f"The {name} data has sequences longer than max_length={max_length}: "
            f"longest source {longest_source}, longest target (with start/end) {longest_target}."
        )
    return source, target


def read_columns(name, split, fields, data_dir=None, config=None, max_examples=None):
    """A split of a `keras_transformer.data` dataset as Python lists, one per field.

    Args:
        name, split, data_dir, config: as for `load_split` (a split may be a slice, "test[:500]").
        fields: the feature names to read.
        max_examples: read only the first this many examples.

    Returns:
        A dict `field -> list` in the split's order: text fields as `str`, lists of texts as lists of
        `str`, numbers as Python numbers.
    """
    from keras_transformer.data import load_split

    dataset = load_split(name, split, data_dir=data_dir, config=config)
    if max_examples:
        dataset = dataset.take(max_examples)
    columns = {field: [] for field in fields}
    if all(dataset.element_spec[field].shape.rank == 0 for field in fields):
        # Scalar fields: read in large batches, far faster than one example at a time.
        dataset = dataset.map(lambda example: {field: example[field] for field in fields}).batch(8192)
        for batch in dataset.as_numpy_iterator():
            for field in fields:
                columns[field].extend(_python_value(value) for value in batch[field])
        return columns
    for example in dataset.as_numpy_iterator():
        for field in fields:
            columns[field].append(_python_value(example[field]))
    return columns


def _python_value(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_python_value(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
