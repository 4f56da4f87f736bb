"""Token ids in `.npz` files, and the command that trains the recipe on them on any Keras backend:
tokenize on TensorFlow (`keras-transformer train TASK --save-token-arrays ids.npz`), train where the
accelerator is (JAX on a GPU, say), then package on TensorFlow (`keras-transformer train TASK
--trained-run DIR`).

    python -m keras_transformer.training.arrays ids.npz --output-dir runs/gpu --size small --epochs 60

The command is `training.recipe.fit` over `training.batches.id_batches`: the run folder is the one
every run writes (`training.run_folder`).
"""

import argparse
import shlex
import sys

import numpy as np

from keras_transformer.errors import DataError
from keras_transformer import _validation
from keras_transformer.training.options import TrainingOptions
from keras_transformer.training.run_folder import RunFolder

_SPLITS = ("train", "validation")
_SIDES = ("source", "target")


def save_token_arrays(path, token_ids, source_vocab_size, target_vocab_size, start_id, end_id, bounds=None):
    """Write tokenized text pairs to a `.npz` file `fit_token_arrays` reads.

    Args:
        path: the file.
        token_ids: `{"train": (source ids, target ids), "validation": (...)}`, each a list of id lists.
        source_vocab_size, target_vocab_size, start_id, end_id: of the tokenizers.
        bounds: the task's length-bucket bounds, or None.
    """
    arrays = {
        "source_vocab_size": source_vocab_size,
        "target_vocab_size": target_vocab_size,
        "start_id": start_id,
        "end_id": end_id,
        "bounds": np.asarray(bounds if bounds is not None else [], np.int32),
    }
    for split in _SPLITS:
        for side, sequences in zip(_SIDES, token_ids[split]):
            arrays[f"{split}_{side}_ids"] = np.asarray([i for s in sequences for i in s], np.int32)
            arrays[f"{split}_{side}_lengths"] = np.asarray([len(s) for s in sequences], np.int32)
    np.savez_compressed(path, **arrays)


def load_token_arrays(path):
    """Read a `save_token_arrays` file: a dict with `"train"` and `"validation"` (source and target
    id lists), the vocabulary sizes, `start_id`, `end_id` and `bounds` (a tuple, or None)."""
    with np.load(path) as data:
        missing = [k for k in ("source_vocab_size", "train_source_ids", "validation_target_lengths") if k not in data]
        if missing:
            raise DataError(f"{path} is not a save_token_arrays file: it lacks {missing}")
        result = {key: int(data[key]) for key in ("source_vocab_size", "target_vocab_size", "start_id", "end_id")}
        result["bounds"] = tuple(int(b) for b in data["bounds"]) or None
        for split in _SPLITS:
            sides = []
            for side in _SIDES:
                ids, lengths = data[f"{split}_{side}_ids"], data[f"{split}_{side}_lengths"]
                ends = np.cumsum(lengths)
                sides.append([ids[end - length : end].tolist() for end, length in zip(ends, lengths)])
            result[split] = tuple(sides)
    return result


def fit_arrays(options, data, output_dir, name="transformer", deadline=None):
    """`training.recipe.fit` on `load_token_arrays` data: the model of `options`' size for its
    vocabularies, batched by `training.batches.id_batches`. Returns the `RunRecord`."""
    from keras_transformer.training.batches import id_batches
    from keras_transformer.training.recipe import fit

    batches = id_batches(options, data["train"], data["validation"], data["start_id"], data["end_id"], data["bounds"])
    config = options.transformer_config(data["source_vocab_size"], data["target_vocab_size"])
    return fit(config, options, batches, output_dir, name=name, deadline=deadline)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_transformer.training.arrays",
        description="Train the recipe's Transformer on token ids (a save_token_arrays .npz) on any Keras backend.",
    )
    parser.add_argument("data", help="the .npz file of token ids (save_token_arrays)")
    parser.add_argument("--output-dir", required=True, help="the run's folder")
    parser.add_argument("--name", default="transformer", help="the Keras model's name (default: %(default)s)")
    parser.add_argument("--stop-at", type=float,
                        help="a Unix time: stop before the epoch that would end after it")  # fmt: skip
    TrainingOptions.add_arguments(parser, checkpoint_dir=None)
    args = parser.parse_args(argv)
    # A run on token arrays always resumes: its epoch checkpoints default to <output-dir>/resumable.
    args.checkpoint_dir = args.checkpoint_dir or str(RunFolder(args.output_dir).resumable)
    options = TrainingOptions.from_args(args)
    if args.stop_at is not None:
        _validation.positive_number("stop_at", args.stop_at)
    # Every call's command, oldest first, for the card (a resumed run is the same command again).
    command = " ".join(["python -m keras_transformer.training.arrays", *map(shlex.quote, argv or sys.argv[1:])])
    RunFolder(args.output_dir).record_command(command, resumes=True)
    fit_arrays(options, load_token_arrays(args.data), args.output_dir, args.name, deadline=args.stop_at)
    return 0


if __name__ == "__main__":
    sys.exit(main())
