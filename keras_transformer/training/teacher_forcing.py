"""Turn (source, target) id sequences into teacher-forcing inputs and labels."""

import numpy as np

from keras_transformer import _validation


def _pad(sequences, length, name):
    array = np.zeros((len(sequences), length), dtype="int32")
    for row, sequence in enumerate(sequences):
        if len(sequence) > length:
            raise ValueError(
                f"A {name} sequence is longer than its length limit {length}. "
                f"Received: len={len(sequence)} at index {row}"
            )
        array[row, : len(sequence)] = sequence
    return array


def teacher_forcing(sources, targets, start_id, end_id, source_length=None, target_length=None):
    """Build `model.fit` arrays from paired id sequences (ids > 0; 0 is padding).

    The decoder reads `[start] + target` and learns to output `target + [end]`, position by position.

    Args:
        sources, targets: sequences of int id sequences, one pair per example.
        start_id, end_id: the reserved ids that open the decoder input and close the labels.
        source_length, target_length: pad (or refuse longer) to these lengths; by default the
            longest in the data. `target_length` counts the added start/end id.

    Returns:
        `(inputs, labels)`: inputs `{"encoder_tokens": (N, S), "decoder_tokens": (N, T)}`, labels
        `(N, T)`, all int32 and zero-padded.

    Example:
    >>> inputs, labels = teacher_forcing([[5, 6]], [[7, 8, 9]], start_id=1, end_id=2)
    >>> inputs["decoder_tokens"].tolist(), labels.tolist()
    ([[1, 7, 8, 9]], [[7, 8, 9, 2]])
    """
    if len(sources) != len(targets):
        raise ValueError(
            "`sources` and `targets` must pair up. Received: "
            f"len(sources)={len(sources)}, len(targets)={len(targets)}"
        )
    _validation.positive_int("start_id", start_id)  # 0 is padding
    _validation.positive_int("end_id", end_id)
    for name, sequences in (("sources", sources), ("targets", targets)):
        for row, sequence in enumerate(sequences):
            if any(int(token) <= 0 for token in sequence):
                raise ValueError(
                    f"`{name}` must hold ids > 0 (0 is padding). Received: {list(sequence)} at index {row}"
                )
    decoder_inputs = [[start_id, *target] for target in targets]
    labels = [[*target, end_id] for target in targets]
    if source_length is None:
        source_length = max((len(s) for s in sources), default=0)
    if target_length is None:
        target_length = max((len(t) for t in labels), default=0)
    inputs = {
        "encoder_tokens": _pad(sources, source_length, "source"),
        "decoder_tokens": _pad(decoder_inputs, target_length, "target"),
    }
    return inputs, _pad(labels, target_length, "target")
