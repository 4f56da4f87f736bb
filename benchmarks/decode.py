"""Greedy decoding speed: ours (`generate` as a user calls it, with no options; graph mode; uncached)
against keras-hub BART and torch.nn.Transformer, plus our TFLite generator against our SavedModel.
Random weights, no early stop, one run. The first call of each decoder (tracing, XLA compilation)
is timed on its own and shown beside the steady-state figures.

    pip install -e ".[export]" keras-hub torch==2.13.0
    python benchmarks/decode.py            # writes the "decode" section of BENCHMARKS.md

Config (the issue's): V=8000, D=256, H=8, F=1024, 3+3 layers, source length 32, 64 new tokens,
batch 1 and 32. Times are medians of `--repeats` runs after one warm-up run.
"""

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import tensorflow as tf

V, D, H, F, LAYERS, SOURCE, NEW = 8000, 256, 8, 1024, 3, 32, 64
DEFAULT = "ours, `generate` with no options (XLA over shape buckets)"
GRAPH = "ours, `jit_compile=False` (graph mode, for debugging)"


def median_seconds(run, repeats):
    """`(median seconds of `repeats` runs, seconds of the first call)`: the first call traces,
    compiles and allocates, and is not in the median."""
    started = time.perf_counter()
    run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), first


def ours(batch, new_tokens, repeats, cached=True, jit_compile=None):
    import keras_transformer
    from keras_transformer.decoding import generate

    config = keras_transformer.TransformerConfig(
        source_vocab_size=V, target_vocab_size=V, d_model=D, num_heads=H, d_ff=F,
        num_encoder_layers=LAYERS, num_decoder_layers=LAYERS, dropout=0.0, max_length=160,
    )
    model = keras_transformer.build_transformer(config)
    source = np.random.default_rng(0).integers(3, V, size=(batch, SOURCE)).astype("int32")
    if cached:
        # end_id=-1 never matches: every run decodes exactly `new_tokens` steps.
        return median_seconds(
            lambda: generate(model, source, max_output_length=new_tokens, end_id=-1, jit_compile=jit_compile)["tokens"].numpy(), repeats
        )

    # Uncached: the whole model on the whole prefix every step (compiled, dynamic prefix length).
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)] * 2, reduce_retracing=True)
    def last_logits(encoder_tokens, decoder_tokens):
        return model({"encoder_tokens": encoder_tokens, "decoder_tokens": decoder_tokens})[:, -1]

    def run():
        prefix = np.ones((batch, 1), "int32")
        for _ in range(new_tokens):
            next_ids = tf.argmax(last_logits(source, prefix), axis=-1, output_type=tf.int32).numpy()
            prefix = np.concatenate([prefix, next_ids[:, None]], axis=1)
        return prefix

    return median_seconds(run, repeats)


def keras_hub_bart(batch, new_tokens, repeats):
    import keras_hub

    backbone = keras_hub.models.BartBackbone(
        vocabulary_size=V, num_layers=LAYERS, num_heads=H, hidden_dim=D, intermediate_dim=F,
        dropout=0.0, max_sequence_length=160,
    )
    model = keras_hub.models.BartSeq2SeqLM(backbone=backbone, preprocessor=None)
    model.compile(sampler="greedy")
    rng = np.random.default_rng(0)
    inputs = {
        "encoder_token_ids": rng.integers(3, V, size=(batch, SOURCE)).astype("int32"),
        "encoder_padding_mask": np.ones((batch, SOURCE), bool),
        "decoder_token_ids": np.zeros((batch, new_tokens + 1), "int32"),
        "decoder_padding_mask": np.zeros((batch, new_tokens + 1), bool),
    }
    inputs["decoder_token_ids"][:, 0] = 2
    inputs["decoder_padding_mask"][:, 0] = True
    return median_seconds(lambda: model.generate(inputs, stop_token_ids=None), repeats)


def torch_transformer(batch, new_tokens, repeats):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    embed_source, embed_target = torch.nn.Embedding(V, D), torch.nn.Embedding(V, D)
    transformer = torch.nn.Transformer(
        d_model=D, nhead=H, num_encoder_layers=LAYERS, num_decoder_layers=LAYERS,
        dim_feedforward=F, dropout=0.0, batch_first=True,
    ).eval()
    project = torch.nn.Linear(D, V)
    source = torch.randint(3, V, (batch, SOURCE))

    @torch.inference_mode()
    def run():
        memory = transformer.encoder(embed_source(source))
        prefix = torch.ones((batch, 1), dtype=torch.long)
        for _ in range(new_tokens):
            length = prefix.shape[1]
            causal = torch.nn.Transformer.generate_square_subsequent_mask(length)
            decoded = transformer.decoder(embed_target(prefix), memory, tgt_mask=causal, tgt_is_causal=True)
            next_ids = project(decoded[:, -1]).argmax(-1, keepdim=True)
            prefix = torch.cat([prefix, next_ids], dim=1)
        return prefix

    return median_seconds(run, repeats)


def exported(batch, new_tokens, repeats):
    """(SavedModel generate_ids seconds, TFLite generator seconds) for the same model."""
    import keras_transformer
    from ai_edge_litert.interpreter import Interpreter

    from keras_transformer.decoding import DecodingSettings, IncrementalDecoder, decode
    from keras_transformer.export import tflite
    from keras_transformer.layers import graph_checks_disabled

    config = keras_transformer.TransformerConfig(
        source_vocab_size=V, target_vocab_size=V, d_model=D, num_heads=H, d_ff=F,
        num_encoder_layers=LAYERS, num_decoder_layers=LAYERS, dropout=0.0, max_length=max(new_tokens, SOURCE),
    )
    model = keras_transformer.build_transformer(config)
    source = np.random.default_rng(0).integers(3, V, size=(batch, SOURCE)).astype("int32")
    decoder = IncrementalDecoder(model)
    settings = DecodingSettings(strategy="greedy", max_output_length=new_tokens)
    # Both sides run the exports' decoding loop (`decode`, what `generate_ids` and the TFLite
    # generator call) with end_id=-1, which never matches: every run decodes `new_tokens` steps.
    # (An exported pipeline would stop at the tokenizer's end id, and needs tokenizers of size V.)
    module = tf.Module()
    module.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def generate_ids(encoder_tokens):
        with graph_checks_disabled():
            return decode(decoder, encoder_tokens, settings, start_id=1, end_id=-1)["tokens"]

    module.generate_ids = generate_ids
    with tempfile.TemporaryDirectory() as directory:
        tf.saved_model.save(module, directory)
        loaded = tf.saved_model.load(directory)
        saved_seconds = median_seconds(lambda: loaded.generate_ids(tf.constant(source)).numpy(), repeats)[0]
    generator = tflite.generator_tflite(decoder, settings, start_id=1, end_id=-1)
    interpreter = Interpreter(model_content=generator, num_threads=os.cpu_count())
    runner = interpreter.get_signature_runner()
    tflite_seconds = median_seconds(lambda: runner(encoder_tokens=source), repeats)[0]
    return saved_seconds, tflite_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    results, first_calls = {}, {}
    for batch in (1, 32):
        for name, run in (
            (DEFAULT, lambda b: ours(b, NEW, args.repeats)),
            (GRAPH, lambda b: ours(b, NEW, args.repeats, jit_compile=False)),
            ("ours, uncached", lambda b: ours(b, NEW, args.repeats, cached=False)),
            ("keras-hub BartSeq2SeqLM.generate", lambda b: keras_hub_bart(b, NEW, args.repeats)),
            ("torch.nn.Transformer (no cache)", lambda b: torch_transformer(b, NEW, args.repeats)),
        ):
            try:
                seconds, first = run(batch)
                results[(name, batch)] = 1000 * seconds / NEW
                first_calls[(name, batch)] = first
            except ImportError as error:
                results[(name, batch)] = first_calls[(name, batch)] = None
                print(f"skipped {name}: {error}")
            print(name, batch, results[(name, batch)], flush=True)

    flat = {n: 1000 * ours(1, n, args.repeats)[0] / n for n in (16, 128)}
    saved_seconds, tflite_seconds = exported(1, NEW, args.repeats)
    print(json.dumps({"flat": flat, "saved_model": saved_seconds, "tflite": tflite_seconds}))

    def cell(value):
        return "n/a" if value is None else f"{value:.2f}"

    hub = {b: results[("keras-hub BartSeq2SeqLM.generate", b)] for b in (1, 32)}
    lines = [
        "## Greedy decoding (`benchmarks/decode.py`)",
        "",
        f"`python benchmarks/decode.py` on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}. V={V}, D={D}, H={H}, F={F}, {LAYERS}+{LAYERS} layers, random weights, "
        f"source length {SOURCE}, {NEW} new tokens, no early stop; median of {args.repeats} runs after a warm-up.",
        "",
        "| decoder | ms/token, B=1 | ms/token, B=32 | speed against keras-hub (B=1 / B=32) | first call, s (B=1 / B=32) |",
        "|---|---|---|---|---|",
    ]
    for name in (
        DEFAULT,
        GRAPH,
        "ours, uncached",
        "keras-hub BartSeq2SeqLM.generate",
        "torch.nn.Transformer (no cache)",
    ):
        ratios = " / ".join(
            "n/a" if results[(name, b)] is None or hub[b] is None else f"{hub[b] / results[(name, b)]:.2f}x"
            for b in (1, 32)
        )
        first = " / ".join(cell(first_calls[(name, b)]) for b in (1, 32))
        lines.append(f"| {name} | {cell(results[(name, 1)])} | {cell(results[(name, 32)])} | {ratios} | {first} |")
    default = [hub[b] / results[(DEFAULT, b)] if hub[b] and results[(DEFAULT, b)] else None for b in (1, 32)]
    lines += [
        "",
        "The first call traces the decode function (and, by default, compiles it with XLA for the shape "
        "bucket of the batch and source length); later calls of the same bucket reuse it. "
        + ("The target, `generate` with no options >= 2x keras-hub at B=1 and at B=32: "
           + ("met" if all(r is not None and r >= 2 for r in default) else "missed")
           + " (" + " / ".join("n/a" if r is None else f"{r:.2f}x" for r in default) + ")."),
        "",
        f"Per-token cost against output length (ours, `generate` defaults, B=1): {flat[16]:.2f} ms/token for 16 new tokens, "
        f"{flat[128]:.2f} for 128 (ratio {flat[128] / flat[16]:.2f}).",
        "",
        f"Exports, B=1, {NEW} new tokens: SavedModel `generate_ids` {1000 * saved_seconds / NEW:.2f} ms/token, "
        f"TFLite generator (fp32, XNNPACK) {1000 * tflite_seconds / NEW:.2f} ms/token "
        f"(TFLite / SavedModel = {tflite_seconds / saved_seconds:.2f}).",
    ]
    markdown = "\n".join(lines)
    from _report import publish

    publish("decode", markdown, write=not args.no_write)


if __name__ == "__main__":
    main()
