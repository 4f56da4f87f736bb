"""Export parity on a trained zoo model, decoded with the model's own settings (g2p_en: beam 4):
`pipeline.predict` against the SavedModel (`serving_default` texts, `generate_ids` tokens) and the
TFLite fp32 and int8 generators on the same inputs; agreement and file sizes.

    python benchmarks/export_parity.py g2p_en --count 2000    # writes the "export" section of BENCHMARKS.md

Inputs are the first `--count` sources of the model's test split (or `--texts` given on the command line).
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
    from keras_transformer.export import export

    pipeline = zoo.load(args.name)
    settings = pipeline.settings  # resolved: max_output_length is set
    if args.texts:
        texts = args.texts
    else:
        from keras_transformer.data import load_split

        info = pipeline.info
        dataset = load_split(info.dataset, f"test[:{args.count}]", config=info.dataset_config)
        texts = [example[info.source_field].decode("utf-8") for example in dataset.as_numpy_iterator()]
    # The reference: what `predict` decodes (texts) and the ids its compiled function produces.
    keras_texts = pipeline.predict(texts)
    ids = pipeline.encode_texts(texts)
    keras_tokens = pipeline.runtime.ids_function()(tf.constant(ids))["tokens"].numpy()

    with tempfile.TemporaryDirectory() as directory:
        # No overrides: every export decodes with the pipeline's own settings.
        written = {fmt: export(pipeline, fmt, os.path.join(directory, fmt)) for fmt in ("saved_model", "tflite", "tflite_int8")}
        serving = tf.saved_model.load(written["saved_model"]["saved_model"])
        saved_tokens = serving.signatures["generate_ids"](encoder_tokens=tf.constant(ids))["tokens"].numpy()
        saved_texts = [t.decode("utf-8") for t in serving.signatures["serving_default"](texts=tf.constant(texts))["outputs"].numpy()]
        tokens, sizes = {}, {}
        for fmt in ("tflite", "tflite_int8"):
            path = written[fmt]["generator"]
            sizes[fmt] = os.path.getsize(path)
            runner = Interpreter(model_path=path).get_signature_runner()
            # One text at a time, each at its own length: the dynamic-shape path a phone would use.
            rows = []
            for row in ids:
                length = max(1, int((row != 0).sum()))
                rows.append(runner(encoder_tokens=row[None, :length])["tokens"][0])
            tokens[fmt] = np.stack(rows)
        forward_sizes = {fmt: os.path.getsize(written[fmt]["forward"]) for fmt in ("tflite", "tflite_int8")}

    def detokenize(rows):
        return [t.decode("utf-8") for t in pipeline.target_tokenizer.detokenize(tf.constant(rows)).numpy()]

    def same_texts(outputs):
        return np.mean([a == b for a, b in zip(outputs, keras_texts)])

    def same_tokens(rows):
        same_sequence = np.mean([np.array_equal(a, b) for a, b in zip(rows, keras_tokens)])
        real = keras_tokens != 0
        return same_sequence, np.mean(rows[real] == keras_tokens[real])

    table = {
        "SavedModel `serving_default` (text in, text out)": (same_texts(saved_texts), None),
        "SavedModel `generate_ids`": (same_texts(detokenize(saved_tokens)), same_tokens(saved_tokens)),
        "TFLite generator fp32": (same_texts(detokenize(tokens["tflite"])), same_tokens(tokens["tflite"])),
        "TFLite generator int8": (same_texts(detokenize(tokens["tflite_int8"])), same_tokens(tokens["tflite_int8"])),
    }
    decoding = settings.strategy
    if settings.strategy == "beam":
        decoding += f", beam size {settings.beam_size}, length penalty {settings.length_penalty}"
    lines = [
        "## Export parity (`benchmarks/export_parity.py`)",
        "",
        f"`python benchmarks/export_parity.py {args.name} --count {args.count}`: `pipeline.predict` of the zoo model "
        f"against each export on {len(texts)} inputs ({'given texts' if args.texts else 'test split'}), all decoding with "
        f"the model's own settings ({decoding}, at most {settings.max_output_length} ids); TFLite run one input at a time "
        "at its own length.",
        "",
        "| export | same output text | same output ids | same id (over `predict`'s output positions) |",
        "|---|---|---|---|",
    ]
    for name, (text, ids_agreement) in table.items():
        sequence, token = ("", "") if ids_agreement is None else (f"{100 * ids_agreement[0]:.2f}%", f"{100 * ids_agreement[1]:.2f}%")
        lines.append(f"| {name} | {100 * text:.2f}% | {sequence} | {token} |")
    lines += [
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
