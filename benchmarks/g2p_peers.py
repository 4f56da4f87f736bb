"""Ours (`zoo.load("g2p_en")`) against the g2p-en package's neural network, on the same CMUdict test
words with the same scorer, in one run: WER and PER with stress digits and with stress ignored, and
words a second.

    pip install -e ".[data]" g2p-en==2.1.0   # the peer (in the benchmark extra)
    python benchmarks/g2p_peers.py           # writes the "g2p_peers" section of BENCHMARKS.md
    python benchmarks/g2p_peers.py --limit 300 --no-write

The peer is g2p-en's network alone, `G2p.predict(word)`: no lexicon lookup, no homograph rules. Its
constructor and even its import want NLTK data (a POS tagger and the CMUdict lexicon) that they
download when missing; `load_peer` builds it without either (see there). g2p-en was trained on all of
CMUdict, so it has seen most of our test words: its figures are optimistic.
"""

import argparse
import importlib
import os
import platform
import re
import time
import types
from unittest import mock

PEER = "g2p-en"
STRESS = re.compile(r"(?<=[A-Z])[012]$")  # ARPAbet stress: a trailing 0, 1 or 2 on a vowel


def strip_stress(pronunciation):
    """A space-separated ARPAbet pronunciation with the stress digits removed: "AH0 B AW1 T" -> "AH B AW T"."""
    return " ".join(STRESS.sub("", phoneme) for phoneme in pronunciation.split())


def score(predictions, references):
    """WER and PER of `predictions` (str each) against `references` (a list of acceptable str each),
    with stress digits as they are and with them stripped from both sides.

    Returns:
        `{"wer": ..., "per": ..., "wer_no_stress": ..., "per_no_stress": ...}`, fractions.
    """
    from keras_transformer.evaluation import phoneme_error_rate, word_error_rate

    bare_predictions = [strip_stress(prediction) for prediction in predictions]
    bare_references = [[strip_stress(reference) for reference in alternatives] for alternatives in references]
    return {
        "wer": word_error_rate(predictions, references),
        "per": phoneme_error_rate(predictions, references),
        "wer_no_stress": word_error_rate(bare_predictions, bare_references),
        "per_no_stress": phoneme_error_rate(bare_predictions, bare_references),
    }


def _refuse_download(*args, **kwargs):
    return False  # what nltk.download returns when it could not fetch


def load_peer():
    """g2p-en's `G2p`, holding its network weights and an empty lexicon, built offline.

    `g2p_en/g2p.py` calls `nltk.download` at import time for the POS tagger and the CMUdict lexicon
    when NLTK does not find them, and `G2p.__init__` reads that lexicon (`cmudict.dict()`). Neither is
    used by `G2p.predict(word)`, the network alone, which needs only the vocabularies and the weights
    `__init__` sets up (`g2idx`, `idx2p`, `load_variables()` reading the packaged `checkpoint20.npz`).
    So the import runs with `nltk.download` replaced by a refusal, and the real `__init__` runs with
    the module's `cmudict` replaced by an empty lexicon: the vocabularies and weights stay exactly the
    package's own, its files are untouched, and nothing reaches the network. Both replacements are
    undone on return.
    """
    import nltk

    with mock.patch.object(nltk, "download", _refuse_download):
        module = importlib.import_module("g2p_en.g2p")
    with mock.patch.object(module, "cmudict", types.SimpleNamespace(dict=dict)):
        return module.G2p()


def peer_version():
    from importlib import metadata

    return metadata.version(PEER)


def timed(run):
    """`(result, seconds)` of `run()`."""
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def describe(settings):
    if settings.strategy == "beam":
        return f"beam {settings.beam_size}, length penalty {settings.length_penalty:g}"
    return settings.strategy


def percent(value):
    return f"{100 * value:.1f}%"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N test words")
    parser.add_argument("--model", default="g2p_en", help="zoo name or zoo folder of ours (default g2p_en)")
    parser.add_argument("--batch-size", type=int, default=64, help="ours: words a predict batch (default 64)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave BENCHMARKS.md")
    args = parser.parse_args()

    import tensorflow as tf

    from keras_transformer import zoo
    from keras_transformer.data import read_columns

    pipeline = zoo.load(args.model)
    info = pipeline.info
    split = "test" if args.limit is None else f"test[:{args.limit}]"
    reference_field = info.references_field or info.target_field
    columns = read_columns(info.dataset, split, [info.source_field, reference_field], config=info.dataset_config)
    words = columns[info.source_field]
    references = [[item] if isinstance(item, str) else item for item in columns[reference_field]]
    peer = load_peer()

    rows = []
    default = pipeline.settings
    for label, overrides in ((f"ours, default ({describe(default)})", {}), ("ours, greedy", {"strategy": "greedy"})):
        # A few words first, so that the one-time tracing of the decode function is not timed.
        pipeline.predict(words[:8], batch_size=args.batch_size, **overrides)
        predictions, seconds = timed(lambda: pipeline.predict(words, batch_size=args.batch_size, **overrides))
        rows.append((label, score(predictions, references), len(words) / seconds, pipeline.model.count_params()))
    # The peer as its users call it: one word at a time, a list of phonemes back.
    predictions, seconds = timed(lambda: [" ".join(peer.predict(word)) for word in words])
    peer_parameters = sum(peer.variables[name].size for name in peer.variables.files)
    rows.append((f"{PEER} {peer_version()}, its network alone", score(predictions, references), len(words) / seconds, peer_parameters))

    command = "python benchmarks/g2p_peers.py" + (f" --limit {args.limit}" if args.limit is not None else "")
    lines = [
        "## G2P against g2p-en (`benchmarks/g2p_peers.py`)",
        "",
        f"`{command}` on {platform.machine()}, {os.cpu_count()} cores, TensorFlow {tf.__version__}: "
        f"`{pipeline.name}` against the {PEER} package's network, on {len(words)} words of the "
        f"`{info.dataset}` test split. A word is right if its pronunciation equals any listed one; "
        "\"no stress\" strips the stress digits 0-2 from the prediction and from every reference.",
        "",
        "| system | WER | PER | WER, no stress | PER, no stress | words/s | parameters |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, scores, words_per_second, parameters in rows:
        lines.append(
            f"| {label} | {percent(scores['wer'])} | {percent(scores['per'])} | {percent(scores['wer_no_stress'])} "
            f"| {percent(scores['per_no_stress'])} | {words_per_second:.0f} | {parameters / 1e6:.2f}M |"
        )
    lines += [
        "",
        f"- {PEER} was trained on all of CMUdict, so it has seen most of these test words: its figures are "
        "optimistic for words outside CMUdict.",
        f"- {PEER} is called as `G2p.predict(word)`, its network alone (a GRU encoder-decoder, greedy, at most "
        "20 phonemes): no lexicon lookup or homograph rules. It knows lowercase letters only; apostrophes, "
        "hyphens and periods reach it as its unknown symbol.",
        f"- Words/s times the prediction calls only: ours `predict(words, batch_size={args.batch_size})` after "
        f"one warm-up call, {PEER} one word at a time in NumPy, as their users call them.",
    ]
    from _report import publish

    publish("g2p_peers", "\n".join(lines), write=not args.no_write)


if __name__ == "__main__":
    main()
