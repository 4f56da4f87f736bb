"""Train on JAX or PyTorch, export on TensorFlow: the exporters trace the model into a TensorFlow graph,
so a TensorFlow process rebuilds the model from its config and weights and exports that.

    KERAS_BACKEND=torch python examples/export_from_another_backend.py train /tmp/reverse_model
    KERAS_BACKEND=tensorflow python examples/export_from_another_backend.py export /tmp/reverse_model

`train` teaches a tiny model to reverse digit strings (ids 5-14; 1 and 2 open and end a target) and
writes `config.json` and `model.weights.h5`; `export` writes `tflite/forward.tflite` and
`tflite/generator.tflite` and shows that the rebuilt model decodes as the trained one did.
"""

import argparse
import json
import pathlib

import keras
import numpy as np

from keras_transformer import TransformerConfig, build_transformer, training
from keras_transformer.decoding import generate
from keras_transformer.export import export

START, END = 1, 2
CHECK = np.array([[5, 6, 7, 8], [9, 10, 11, 0]], "int32")  # two sources to decode after each step


def train(directory, steps):
    rng = np.random.default_rng(0)
    sources = [list(rng.integers(5, 15, size=rng.integers(2, 7))) for _ in range(2000)]
    inputs, labels = training.teacher_forcing(sources, [source[::-1] for source in sources], START, END)
    config = TransformerConfig.from_name("tiny", source_vocab_size=15, target_vocab_size=15, max_length=8)
    model = build_transformer(config)
    model.compile(optimizer=training.paper_optimizer(config.d_model, warmup_steps=50), loss=training.MaskedSparseCrossEntropy())
    model.fit(inputs, labels, batch_size=64, epochs=max(1, steps * 64 // len(sources)), verbose=0)
    (directory / "config.json").write_text(model.config.to_json(), encoding="utf-8")
    model.save_weights(directory / "model.weights.h5")
    tokens = keras.ops.convert_to_numpy(generate(model, CHECK, max_output_length=8, start_id=START, end_id=END)["tokens"])
    (directory / "trained_on.json").write_text(json.dumps({"backend": keras.backend.backend(), "tokens": tokens.tolist()}))
    return tokens


def export_tflite(directory):
    config = TransformerConfig.from_json((directory / "config.json").read_text(encoding="utf-8"))
    model = build_transformer(config)
    model.load_weights(directory / "model.weights.h5")
    written = export(model, "tflite", directory / "tflite")
    trained = json.loads((directory / "trained_on.json").read_text())
    tokens = keras.ops.convert_to_numpy(generate(model, CHECK, max_output_length=8, start_id=START, end_id=END)["tokens"])
    print(f"trained on {trained['backend']}, exported on {keras.backend.backend()}: {sorted(written)}")
    print("same greedy output as the trained model:", tokens.tolist() == trained["tokens"])
    return written, tokens.tolist() == trained["tokens"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "export"])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--steps", type=int, default=300, help="training steps of 64 examples")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    if args.step == "train":
        return train(args.directory, args.steps)
    return export_tflite(args.directory)


if __name__ == "__main__":
    main()
