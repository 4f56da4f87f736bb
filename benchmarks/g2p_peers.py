"""Ours (`zoo.load("g2p_en")`) against the g2p-en package's neural network, on the same CMUdict test
words with the same scorer, in one run: WER and PER with stress digits and with stress ignored, and
words a second, with each system's speed as a multiple of g2p-en's in the same run.

Ours runs four ways: the TensorFlow pipeline with the folder's default decoding and greedy, the
LiteRT runtime (`zoo.load(name, runtime="litert")`, the folder's `generator.tflite`, its default
decoding), and the CLI, `keras-transformer predict NAME` in its own process reading every word from
standard input (wall time including the process start), as a user runs it.

    pip install -e ".[data]" g2p-en==2.1.0   # the peer (in the benchmark extra)
    python benchmarks/g2p_peers.py           # writes the "g2p_peers" section of BENCHMARKS.md
    python benchmarks/g2p_peers.py --limit 300 --no-write
    python benchmarks/g2p_peers.py --model ./saved_models/g2p_en --card   # also the folder's card.md

The peer is g2p-en's network alone, `G2p.predict(word)`: no lexicon lookup, no homograph rules. Its
constructor and even its import want NLTK data (a POS tagger and the CMUdict lexicon) that they
download when missing; `load_peer` builds it without either (see there). g2p-en was trained on all of
CMUdict, so it has seen most of our test words: its figures are optimistic.
"""

import argparse
import importlib
import os
import pathlib
import platform
import re
import subprocess
import sys
import time
import types
from unittest import mock

PEER = "g2p-en"
# `predict`'s batch size for ours in process. Rough words/s on 500 test words, 2 loaded cores: default
# beam 4: 111 (16), 153 (32), 186 (64), 174 (128), 154 (256), 125 (512); greedy: 311, 510, 581, 759,
# 577, 588. Larger batches pad more and a beam batch runs until its slowest row ends, so 64.
BATCH_SIZE = 64
# Issue 14's speed targets: words/s of ours as a multiple of the peer's, on the whole test split.
TARGETS = (("default", "default decoding", 2.0), ("greedy", "greedy", 5.0), ("cli", "CLI stdin", 1.0))
CARD_HEADING = "## Against g2p-en"
def score(predictions, references):
    """WER and PER of `predictions` (str each) against `references` (a list of acceptable str each),
    with stress digits as they are and with them stripped from both sides (`keras_transformer.evaluation`'s
    metrics, the ones the zoo's card reports).

    Returns:
        `{"wer": ..., "per": ..., "wer_no_stress": ..., "per_no_stress": ...}`, fractions.
    """
    from keras_transformer import evaluation

    return {
        "wer": evaluation.word_error_rate(predictions, references),
        "per": evaluation.phoneme_error_rate(predictions, references),
        "wer_no_stress": evaluation.word_error_rate_no_stress(predictions, references),
        "per_no_stress": evaluation.phoneme_error_rate_no_stress(predictions, references),
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


def is_folder_path(name):
    """Whether `--model` names a zoo folder by path rather than by name, as `zoo.load` reads it."""
    from keras_transformer.zoo.registry import is_path

    return is_path(name)


def cli_command(model):
    """`keras-transformer predict MODEL` as this interpreter's environment runs it: the console script
    beside `sys.executable`, else `python -m keras_transformer.cli`. A folder path is made absolute."""
    if is_folder_path(model):
        model = str(pathlib.Path(model).expanduser().resolve())
    script = pathlib.Path(sys.executable).parent / ("keras-transformer" + (".exe" if os.name == "nt" else ""))
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "keras_transformer.cli"]
    return [*program, "predict", model]


def parse_cli_output(stdout, words):
    """The predictions in a `keras-transformer predict` output (a "word<TAB>prediction" line per input,
    in input order); `ValueError` when the lines do not match `words` one for one."""
    lines = stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(words):
        raise ValueError(f"the CLI printed {len(lines)} lines for {len(words)} words")
    predictions = []
    for number, (line, word) in enumerate(zip(lines, words), 1):
        text, tab, prediction = line.partition("\t")
        if not tab or text != word:
            raise ValueError(f"the CLI's line {number} is {line!r}, not for the word {word!r}")
        predictions.append(prediction)
    return predictions


def run_cli(command, words):
    """Predictions of the CLI `command` fed `words` one a line on standard input."""
    finished = subprocess.run(
        command, input="".join(word + "\n" for word in words), capture_output=True, text=True, encoding="utf-8"
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {finished.returncode}: {finished.stderr.strip()[-2000:]}")
    return parse_cli_output(finished.stdout, words)


def ratio(words_per_second, peer_words_per_second):
    return f"{words_per_second / peer_words_per_second:.2f}×"


def table_lines(rows, peer_words_per_second):
    """The Markdown table of `rows`, `(key, label, scores, words/s, parameters)` each."""
    lines = [
        f"| system | WER | PER | WER, no stress | PER, no stress | words/s | × {PEER} | parameters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, label, scores, words_per_second, parameters in rows:
        lines.append(
            f"| {label} | {percent(scores['wer'])} | {percent(scores['per'])} | {percent(scores['wer_no_stress'])} "
            f"| {percent(scores['per_no_stress'])} | {words_per_second:.0f} "
            f"| {ratio(words_per_second, peer_words_per_second)} | {parameters / 1e6:.2f}M |"
        )
    return lines


def target_lines(speeds, peer_words_per_second, whole_split):
    """Which of issue 14's speed targets (`TARGETS`) the run meets; `speeds` maps a row key to words/s."""
    verdicts = []
    for key, label, target in TARGETS:
        if key not in speeds:
            verdicts.append(f"{label} ≥ {target:g}×: not measured")
            continue
        value = speeds[key] / peer_words_per_second
        verdicts.append(f"{label} ≥ {target:g}×: {'met' if value >= target else 'missed'} ({value:.2f}×)")
    where = "on the whole test split"
    if not whole_split:
        where = "on part of the test split (the targets are for the whole split: indicative only)"
    line = f"- Speed targets (issue 14), words/s as a multiple of {PEER}'s in this run, {where}: "
    line += "; ".join(verdicts) + "."
    if "litert" in speeds:
        line += f" The LiteRT runtime with the default decoding: {speeds['litert'] / peer_words_per_second:.2f}×."
    return [line]


def with_card_section(card, body):
    """`card` (Markdown) with its "## Against g2p-en" section replaced by one holding `body` (appended
    when it has none). The section runs to the next level-2 heading or the end."""
    section = f"{CARD_HEADING}\n\n{body.strip()}\n"
    match = re.search(rf"^{re.escape(CARD_HEADING)}[ \t]*$", card, re.MULTILINE)
    if match is None:
        return card.rstrip("\n") + "\n\n" + section
    following = re.search(r"^## ", card[match.end() :], re.MULTILINE)
    after = "" if following is None else card[match.end() + following.start() :]
    return card[: match.start()] + section + ("\n" + after if after else "")


def write_card(directory, body):
    """Put `body` into `directory`'s card.md as its "## Against g2p-en" section, then rewrite the
    folder's manifest checksums (and check them) so that `zoo.load` still verifies the folder."""
    from keras_transformer.zoo.manifest import verify_manifest, write_manifest

    card = pathlib.Path(directory) / "card.md"
    card.write_text(with_card_section(card.read_text(encoding="utf-8"), body), encoding="utf-8")
    write_manifest(directory)
    verify_manifest(directory)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N test words")
    parser.add_argument("--model", default="g2p_en", help="zoo name or zoo folder of ours (default g2p_en)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"ours in process: words a batch (default {BATCH_SIZE}: the fastest tried)")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave BENCHMARKS.md")
    parser.add_argument("--card", action="store_true",
                        help=f"also write the table into the --model folder's card.md as its \"{CARD_HEADING[3:]}\" "
                        "section and rewrite the folder's manifest (--model must be a folder path)")  # fmt: skip
    args = parser.parse_args()
    if args.card and not (is_folder_path(args.model) and (pathlib.Path(args.model).expanduser() / "card.md").is_file()):
        parser.error(f"--card writes into a zoo folder's card.md: give --model as a path to one (e.g. "
                     f"./saved_models/g2p_en), not a zoo name. Received: --model {args.model}")  # fmt: skip

    import tensorflow as tf

    from keras_transformer import zoo
    from keras_transformer.data import read_columns
    from keras_transformer.zoo import litert

    pipeline = zoo.load(args.model)
    info = pipeline.info
    split = "test" if args.limit is None else f"test[:{args.limit}]"
    reference_field = info.references_field or info.target_field
    columns = read_columns(info.dataset, split, [info.source_field, reference_field], config=info.dataset_config)
    words = columns[info.source_field]
    references = [[item] if isinstance(item, str) else item for item in columns[reference_field]]
    peer = load_peer()
    parameters = pipeline.model.count_params()
    rows, notes = [], []

    def measure(key, label, predict, warm_up=True, batch_size=args.batch_size):
        if warm_up:  # one batch first, so that tracing the decode function is not timed
            predict(words[:batch_size])
        predictions, seconds = timed(lambda: predict(words))
        rows.append((key, label, score(predictions, references), len(words) / seconds, parameters))

    default = describe(pipeline.settings)
    measure("default", f"ours, default ({default})", lambda batch: pipeline.predict(batch, batch_size=args.batch_size))
    measure(
        "greedy", "ours, greedy", lambda batch: pipeline.predict(batch, batch_size=args.batch_size, strategy="greedy")
    )
    try:
        lite = zoo.load(args.model, runtime="litert")
    except (zoo.ZooError, ImportError) as error:
        lite = None
        notes.append(f"- No LiteRT row: {error}")
    if lite is not None:
        label = f"ours, LiteRT runtime, default ({default})"
        # The LiteRT runtime with its own default batch size, as the CLI runs it.
        measure("litert", label, lambda batch: lite.predict(batch), batch_size=litert.BATCH_SIZE)
    command = cli_command(args.model)
    runtime = "LiteRT" if lite is not None else "TensorFlow"
    label = f"ours, CLI stdin (`keras-transformer predict`, {runtime})"
    measure("cli", label, lambda batch: run_cli(command, batch), warm_up=False)
    # The peer as its users call it: one word at a time, a list of phonemes back.
    predictions, seconds = timed(lambda: [" ".join(peer.predict(word)) for word in words])
    peer_parameters = sum(peer.variables[name].size for name in peer.variables.files)
    peer_words_per_second = len(words) / seconds
    label = f"{PEER} {peer_version()}, its network alone"
    rows.append(("peer", label, score(predictions, references), peer_words_per_second, peer_parameters))

    options = (f" --limit {args.limit}" if args.limit is not None else "") + (
        f" --batch-size {args.batch_size}" if args.batch_size != BATCH_SIZE else ""
    )
    run_line = (
        f"`python benchmarks/g2p_peers.py{options}` on {platform.machine()}, {os.cpu_count()} cores, TensorFlow "
        f"{tf.__version__}: `{pipeline.name}` against the {PEER} package's network, on {len(words)} words of the "
        f"`{info.dataset}` test split. A word is right if its pronunciation equals any listed one; "
        "\"no stress\" strips the stress digits 0-2 from the prediction and from every reference. "
        f"× {PEER}: words/s as a multiple of {PEER}'s in the same run."
    )
    table = table_lines(rows, peer_words_per_second)
    peer_notes = [
        f"- {PEER} was trained on all of CMUdict, so it has seen most of these test words: its figures are "
        "optimistic for words outside CMUdict.",
        f"- {PEER} is called as `G2p.predict(word)`, its network alone (a GRU encoder-decoder, greedy, at most "
        "20 phonemes): no lexicon lookup or homograph rules. It knows lowercase letters only; apostrophes, "
        "hyphens and periods reach it as its unknown symbol.",
    ]
    speed_notes = [
        f"- Words/s times the prediction calls only, each after one warm-up batch: ours `predict(words, "
        f"batch_size={args.batch_size})` in TensorFlow ({BATCH_SIZE} was the fastest of 16-512 for the default "
        f"decoding) and `predict(words)` in LiteRT (its default batch of {litert.BATCH_SIZE}); texts sorted by "
        f"length and batched. {PEER} one word at a time "
        "in NumPy, as their users call them. The CLI row is different: the wall time of one "
        f"`keras-transformer predict {args.model}` process, with its default options, fed every word on standard "
        "input, from its start (Python, imports, checksums, loading) to its exit.",
    ]
    lines = [
        "## G2P against g2p-en (`benchmarks/g2p_peers.py`)",
        "",
        run_line,
        "",
        *table,
        "",
        *target_lines({key: value for key, _, _, value, _ in rows}, peer_words_per_second, args.limit is None),
        *peer_notes,
        *speed_notes,
        *notes,
    ]
    from _report import publish

    publish("g2p_peers", "\n".join(lines), write=not args.no_write)
    if args.card:
        directory = pathlib.Path(args.model).expanduser()
        write_card(directory, "\n".join([run_line, "", *table, "", *peer_notes, *speed_notes]))
        print(f"\nwrote the \"{CARD_HEADING[3:]}\" section of {directory / 'card.md'} and its manifest")


if __name__ == "__main__":
    main()
