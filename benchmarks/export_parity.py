"""Export parity on a trained zoo model: Keras greedy, SavedModel greedy, TFLite fp32 and int8 generators on
the same inputs; token agreement and file sizes.

    python benchmarks/export_parity.py g2p_en --count 2000    # writes the "export" section of BENCHMARKS.md

Inputs are the first `--count` words of the model's test split (or `--texts` given on the command line).
"""

import argparse
import os
import tempfile

import numpy as np
import tensorflow as tf


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--texts", nargs="*")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from ai_edge_litert.interpreter import Interpreter

    from keras_transformer import zoo
    from keras_transformer.decoding import generate
    from keras_transformer.export import export

    entry = zoo.load(args.name)
    if args.texts:
        texts = args.texts
    else:
        from keras_transformer.data import load_split

        field = entry.settings["source_field"]
        dataset = load_split(entry.settings["dataset"], f"test[:{args.count}]", config=entry.settings.get("dataset_config"))
        texts = [example[field].decode("utf-8") for example in dataset.as_numpy_iterator()]
    max_output = entry.settings.get("max_output_length", entry.config.max_length)
    ids = entry.encode_texts(texts)
    keras_tokens = np.asarray(
        generate(entry.model, ids, max_output, start_id=entry.target_tokenizer.start_id, end_id=entry.target_tokenizer.end_id)["tokens"]
    )

    with tempfile.TemporaryDirectory() as directory:
        written = {fmt: export(entry, fmt, os.path.join(directory, fmt), max_output_length=max_output) for fmt in ("saved_model", "tflite", "tflite_int8")}
        serving = tf.saved_model.load(written["saved_model"]["saved_model"])
        saved_tokens = serving.signatures["generate_ids"](encoder_tokens=tf.constant(ids))["tokens"].numpy()
        saved_texts = [t.decode() for t in serving.signatures["serving_default"](texts=tf.constant(texts))["outputs"].numpy()]
        results, sizes = {}, {}
        for fmt in ("tflite", "tflite_int8"):
            path = written[fmt]["generator"]
            sizes[fmt] = os.path.getsize(path)
            runner = Interpreter(model_path=path).get_signature_runner()
            # One text at a time, each at its own length: the dynamic-shape path a phone would use.
            rows = []
            for row in ids:
                length = max(1, int((row != 0).sum()))
                rows.append(runner(encoder_tokens=row[None, :length])["tokens"][0])
            results[fmt] = np.stack(rows)
        forward_sizes = {fmt: os.path.getsize(written[fmt]["forward"]) for fmt in ("tflite", "tflite_int8")}

    keras_texts = entry.predict(texts, strategy="greedy")

    def agreement(tokens):
        same_sequence = np.mean([np.array_equal(a, b) for a, b in zip(tokens, keras_tokens)])
        real = keras_tokens != 0
        same_token = np.mean(tokens[real] == keras_tokens[real])
        return same_sequence, same_token

    rows = {
        "SavedModel `generate_ids`": agreement(saved_tokens),
        "TFLite generator fp32": agreement(results["tflite"]),
        "TFLite generator int8": agreement(results["tflite_int8"]),
    }
    lines = [
        "## Export parity (`benchmarks/export_parity.py`)",
        "",
        f"`python benchmarks/export_parity.py {args.name} --count {args.count}`: greedy outputs of the Keras model "
        f"against each export on {len(texts)} inputs ({'given texts' if args.texts else 'test split'}), TFLite run one input "
        "at a time at its own length.",
        "",
        "| export | same output sequence | same token (over Keras' output positions) |",
        "|---|---|---|",
    ]
    for name, (sequence, token) in rows.items():
        lines.append(f"| {name} | {100 * sequence:.2f}% | {100 * token:.2f}% |")
    lines += [
        f"| SavedModel `serving_default` (text in, text out) | {100 * np.mean([a == b for a, b in zip(saved_texts, keras_texts)]):.2f}% (texts) | |",
        "",
        f"Sizes: generator fp32 {sizes['tflite'] / 1e6:.1f} MB, int8 {sizes['tflite_int8'] / 1e6:.1f} MB "
        f"({100 * sizes['tflite_int8'] / sizes['tflite']:.1f}%); forward fp32 {forward_sizes['tflite'] / 1e6:.1f} MB, "
        f"int8 {forward_sizes['tflite_int8'] / 1e6:.1f} MB ({100 * forward_sizes['tflite_int8'] / forward_sizes['tflite']:.1f}%).",
    ]
    markdown = "\n".join(lines)
    from _report import publish

    publish("export", markdown, write=not args.no_write)


if __name__ == "__main__":
    main()
