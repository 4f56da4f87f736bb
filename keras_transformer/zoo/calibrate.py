"""Calibrate what `predict(..., flag=True)` flags in a zoo folder, and write it there:

    python -m keras_transformer.zoo.calibrate NAME_OR_FOLDER

Decodes (TensorFlow runtime, the folder's decoding) a seeded sample of the validation split and
generated out-of-domain inputs (`zoo.out_of_domain`, validation half); for each signal in
`zoo.confidence.SIGNALS` sets the threshold that flags at most `--target-rate` of the correct
validation outputs (counting those the unknown-character and output checks flag already), and keeps
the signal that flags most wrong validation outputs and out-of-domain inputs (their mean share). Then
measures it once on a test sample and on other generated inputs, and writes `confidence.json`, the
card's "## Confidence" section and the manifest.

Translation folders have no exact answer: the threshold flags `--target-rate` of all validation
outputs, and the card compares the sentence chrF of flagged and unflagged test outputs.
"""

import argparse
import math
import pathlib
import sys
import warnings

import numpy as np

from keras_transformer.zoo import confidence as confidence_module
from keras_transformer.zoo import out_of_domain
from keras_transformer.zoo.card import with_section
from keras_transformer.zoo.manifest import verify_manifest, write_manifest

CARD_HEADING = "## Confidence"
TRANSLATION_OUT_OF_DOMAIN = ("random_letters", "other_scripts")
TARGETS = {"out_of_domain_flagged": 0.90, "correct_flagged": 0.02, "wrong_flagged": 0.50}


def _task_of(model):
    """The zoo task the folder was trained by (its check and out-of-domain kinds), or None."""
    from keras_transformer.zoo import tasks

    return tasks.get_task(model.name) if model.name in tasks.task_names() else None


def read_sample(model, split, count, seed):
    """`(sources, references)` of `count` examples of `split` of the folder's dataset, drawn with
    `seed` (all of them when the split is smaller); references are lists of acceptable outputs."""
    info = model.info
    if model.kind == "translation":
        from keras_transformer.data import bible

        pairs = bible.verse_pairs(split=split) if info.source_language == "pt" else [
            (english, portuguese) for portuguese, english in bible.verse_pairs(split=split)
        ]  # fmt: skip
        sources, references = [source for source, _ in pairs], [[target] for _, target in pairs]
    else:
        from keras_transformer.data import read_columns

        field = info.references_field or info.target_field
        columns = read_columns(info.dataset, split, [info.source_field, field], config=info.dataset_config)
        sources = columns[info.source_field]
        references = [[item] if isinstance(item, str) else list(item) for item in columns[field]]
    if count is not None and count < len(sources):
        rng = np.random.default_rng([seed, ("validation", "test").index(split)])
        keep = np.sort(rng.choice(len(sources), size=count, replace=False))
        sources, references = [sources[i] for i in keep], [references[i] for i in keep]
    return list(sources), references


def _decode(model, texts, batch_size):
    with warnings.catch_warnings():
        # Long out-of-domain sentences are truncated to the model's max_length: flagged all the same.
        warnings.filterwarnings("ignore", ".* texts are longer than", UserWarning)
        predictions = model.predict(texts, batch_size=batch_size, return_scores=True)
    return predictions, np.asarray(model.encode_texts(texts))


def _reasons(checker, texts, predictions, ids):
    return [checker.reason(text, prediction, row.tolist()) for text, prediction, row in zip(texts, predictions, ids)]


def choose_threshold(values, correct, already_flagged, target_rate):
    """The highest threshold that flags (signal < threshold) at most `target_rate` of the correct
    outputs, counting the correct ones `already_flagged` for another reason; -inf when those alone
    reach it.

    Example:
    >>> values = np.array([-3.0, -2.0, -1.0, -0.5, -0.1])
    >>> float(choose_threshold(values, np.ones(5, bool), np.zeros(5, bool), 0.4))
    -1.0
    """
    budget = math.floor(target_rate * correct.sum() + 1e-9) - int((correct & already_flagged).sum())
    candidates = np.sort(values[correct & ~already_flagged])
    if budget < 0 or len(candidates) == 0:
        return -math.inf
    return float(candidates[min(budget, len(candidates) - 1)])


def _share(mask, within):
    within = np.asarray(within, bool)
    return float(np.asarray(mask, bool)[within].mean()) if within.any() else None


def _counts(reasons):
    counts = {}
    for reason in reasons:
        if reason is not None:
            counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _sentence_chrf(outputs, references):
    import sacrebleu

    return [sacrebleu.sentence_chrf(output, [reference]).score for output, reference in zip(outputs, references)]


def calibrate(model, validation_examples=10000, test_examples=10000, out_of_domain_count=1000,
              target_rate=0.015, batch_size=256, seed=0, command=None, progress=print):  # fmt: skip
    """Choose the signal and threshold on validation data, measure them on test data.

    Args:
        model: a `ZooModel` (seq2seq or translation), best with the TensorFlow runtime.
        validation_examples, test_examples: examples drawn from each split (None: all).
        out_of_domain_count: generated inputs of each `zoo.out_of_domain` kind, each split.
        target_rate: the share of correct validation outputs (translation: of all) flagged at most.
        batch_size: texts decoded at once.
        seed: the draws' seed.
        command: the command line the card gives to redo it.
        progress: called with a line of text at each step (None: silent).

    Returns:
        The `zoo.confidence.Confidence`, its `calibration` holding what was measured.
    """
    say = progress or (lambda line: None)
    task = _task_of(model)
    translation = model.kind == "translation"
    check = task.output_check if task is not None else None
    counted = TRANSLATION_OUT_OF_DOMAIN if translation or task is None else task.out_of_domain
    unknown_id = int(model.source_tokenizer.unknown_id)
    base = confidence_module.Confidence("sequence_score", -math.inf, unknown_id, check)

    say(f"{model.name}: decoding {validation_examples} validation examples")
    sources, references = read_sample(model, "validation", validation_examples, seed)
    predictions, ids = _decode(model, sources, batch_size)
    correct = np.ones(len(sources), bool) if translation else np.array(
        [p.text in refs for p, refs in zip(predictions, references)])  # fmt: skip
    flagged_before = np.array([reason is not None for reason in _reasons(base, sources, predictions, ids)])
    say(f"{model.name}: decoding {out_of_domain_count} out-of-domain inputs of {list(counted)}, validation half")
    ood = out_of_domain.generate(counted, out_of_domain_count, "validation", seed)
    ood_texts = [text for kind in counted for text in ood[kind]]
    ood_predictions, ood_ids = _decode(model, ood_texts, batch_size)
    ood_before = np.array([reason is not None for reason in _reasons(base, ood_texts, ood_predictions, ood_ids)])

    compared = {}
    for signal, measure in confidence_module.SIGNALS.items():
        values = np.array([measure(p) for p in predictions])
        threshold = choose_threshold(values, correct, flagged_before, target_rate)
        flagged = flagged_before | (values < threshold)
        ood_flagged = ood_before | (np.array([measure(p) for p in ood_predictions]) < threshold)
        compared[signal] = {
            "threshold": threshold if math.isfinite(threshold) else None,
            "correct_flagged": _share(flagged, correct),
            "wrong_flagged": None if translation else _share(flagged, ~correct),
            "out_of_domain_flagged": float(ood_flagged.mean()),
        }
    chosen = max(compared, key=lambda s: (compared[s]["out_of_domain_flagged"] + (compared[s]["wrong_flagged"] or 0)))
    threshold = compared[chosen]["threshold"]
    checker = confidence_module.Confidence(chosen, -math.inf if threshold is None else threshold, unknown_id, check)
    say(f"{model.name}: chose {chosen} < {checker.threshold:.4f} ({compared})")

    say(f"{model.name}: decoding {test_examples} test examples and {out_of_domain_count} of each out-of-domain kind")
    test_sources, test_references = read_sample(model, "test", test_examples, seed)
    test_predictions, test_ids = _decode(model, test_sources, batch_size)
    test_flags = checker.flag_ids(test_ids, test_predictions, test_sources)
    test_flagged = np.array([p.flagged for p in test_flags])
    test = {"examples": len(test_sources), "flagged": float(test_flagged.mean()),
            "reasons": _counts(p.reason for p in test_flags)}  # fmt: skip
    if translation:
        chrf = np.array(_sentence_chrf([p.text for p in test_predictions], [r[0] for r in test_references]))
        test.update(chrf_flagged=float(chrf[test_flagged].mean()) if test_flagged.any() else None,
                    chrf_unflagged=float(chrf[~test_flagged].mean()))  # fmt: skip
    else:
        test_correct = np.array([p.text in refs for p, refs in zip(test_predictions, test_references)])
        test.update(
            correct=int(test_correct.sum()),
            wrong=int((~test_correct).sum()),
            correct_flagged=_share(test_flagged, test_correct),
            wrong_flagged=_share(test_flagged, ~test_correct),
            precision=_share(~test_correct, test_flagged),
        )
    kinds = {}
    generated = out_of_domain.generate(out_of_domain.KINDS, out_of_domain_count, "test", seed)
    for kind in out_of_domain.KINDS:
        texts = generated[kind]
        flags = checker.flag(texts, _decode(model, texts, batch_size)[0], model.runtime)
        kinds[kind] = {"examples": len(texts), "flagged": float(np.mean([p.flagged for p in flags])),
                       "counted": kind in counted, "reasons": _counts(p.reason for p in flags)}  # fmt: skip
    counted_flagged = float(np.mean([kinds[kind]["flagged"] for kind in counted]))
    calibration = {
        "runtime": "tensorflow",
        "decoding": model.settings.to_dict(),
        "target_rate": target_rate,
        "seed": seed,
        "validation": {
            "examples": len(sources),
            "correct": None if translation else int(correct.sum()),
            "out_of_domain": len(ood_texts),
            "signals": compared,
        },
        "test": test,
        "out_of_domain": {"counted_flagged": counted_flagged, "kinds": kinds},
        "command": command,
    }
    say(f"{model.name}: test {test}; out of domain {counted_flagged:.3f} {kinds}")
    return confidence_module.Confidence(checker.signal, checker.threshold, unknown_id, check, calibration)


def _number(value):
    return "none (-inf)" if value is None or value == -math.inf else f"{value:.4f}"


def _reason_counts(counts):
    return ", ".join(f"{reason} {count}" for reason, count in counts.items()) or "none"


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def card_section(confidence, translation=False):
    """The card's "## Confidence" section (without its heading) for a calibrated `Confidence`."""
    figures = confidence.calibration
    validation, test, ood = figures["validation"], figures["test"], figures["out_of_domain"]
    check = confidence_module.CHECKS[confidence.check].reason if confidence.check else None
    rate = _percent(figures["target_rate"])
    lines = [
        "`predict(texts, flag=True)` gives each output's `flagged` and `reason` (`keras_transformer.zoo.confidence`): "
        '"unknown characters" when the input holds a character the model\'s vocabulary lacks'
        + (f', "{check}" when the output fails the task\'s check' if check else "")
        + f', else "low confidence" when the output\'s {confidence.signal.replace("_", " ")} is below '
        f"{_number(confidence.threshold)}. A blank input is never flagged.",
        "",
        f"The signal and threshold were chosen on {validation['examples']:,} validation examples and "
        f"{validation['out_of_domain']:,} generated out-of-domain inputs (`keras_transformer.zoo.out_of_domain`, "
        f"validation half): each signal's threshold flags at most {rate} of the "
        + ("validation outputs" if translation else "correct validation outputs (exact match)")
        + ", and the one flagging the most "
        + ("out-of-domain inputs" if translation else "wrong outputs and out-of-domain inputs")
        + " was kept.",
        "",
        "| signal | threshold | validation: correct flagged | wrong flagged | out-of-domain flagged |",
        "|---|---|---|---|---|",
        *[
            f"| {name}{' (chosen)' if name == confidence.signal else ''} | {_number(row['threshold'])} | "
            f"{_percent(row['correct_flagged'])} | {_percent(row['wrong_flagged'])} | {_percent(row['out_of_domain_flagged'])} |"
            for name, row in validation["signals"].items()
        ],
        "",
    ]
    reasons = _reason_counts(test["reasons"])
    if translation:
        lines += [
            (
                f"Test split, {test['examples']:,} examples: {_percent(test['flagged'])} flagged; mean sentence chrF "
                f"of flagged outputs {test['chrf_flagged'] or 0:.1f}, of the others {test['chrf_unflagged']:.1f} "
                f"(flags: {reasons})."
            ),
            "",
        ]
    else:
        lines += [
            "| test split | examples | correct flagged | wrong flagged (recall) | precision (flagged ⇒ wrong) |",
            "|---|---|---|---|---|",
            (
                f"| {test['examples']:,} | {test['correct']:,} correct, {test['wrong']:,} wrong | "
                f"{_percent(test['correct_flagged'])} | {_percent(test['wrong_flagged'])} | "
                f"{_percent(test['precision'])} |"
            ),
            "",
            f"Flags on the test split: {reasons}.",
            "",
        ]
    lines += [
        "| out-of-domain inputs (test half) | examples | flagged | reasons |",
        "|---|---|---|---|",
        *[
            f"| {kind.replace('_', ' ')}{'' if row['counted'] else ' (not counted)'} | {row['examples']:,} | "
            f"{_percent(row['flagged'])} | {_reason_counts(row['reasons'])} |"
            for kind, row in ood["kinds"].items()
        ],
        "",
    ]
    targets = [("out-of-domain inputs flagged", ood["counted_flagged"], "≥", TARGETS["out_of_domain_flagged"])]
    if not translation:
        targets += [
            ("correct test outputs flagged", test["correct_flagged"], "≤", TARGETS["correct_flagged"]),
            ("wrong test outputs flagged", test["wrong_flagged"], "≥", TARGETS["wrong_flagged"]),
        ]
    missed = [name for name, value, sign, target in targets if (value < target if sign == "≥" else value > target)]
    stated = "; ".join(f"{name} {_percent(value)} (target {sign} {_percent(target)})" for name, value, sign, target in targets)
    lines += [f"Against the targets: {stated}. " + (f"Missed: {', '.join(missed)}." if missed else "All met."), ""]
    uncounted = [kind.replace("_", " ") for kind, row in ood["kinds"].items() if not row["counted"]]
    if uncounted:
        lines += [
            (
                f"Not counted as out of domain for this model: {', '.join(uncounted)} "
                + (
                    "(a translation model's input may be, or hold, English text, names say, which it rightly "
                    "translates or copies)."
                    if translation
                    else "(`out_of_domain` in its `zoo.tasks` declaration says why)."
                )
            ),
            "",
        ]
    lines += [
        "Redo it (decodes with TensorFlow; rewrites confidence.json, this section and the manifest):",
        "",
        "```bash",
        figures["command"] or f"{confidence_module.CALIBRATE_COMMAND} NAME",
        "```",
    ]
    return "\n".join(lines)


def write(directory, confidence, translation=False):
    """Write `confidence.json`, the card's "## Confidence" section and the manifest into `directory`."""
    directory = pathlib.Path(directory)
    confidence_module.write(directory, confidence)
    card = directory / "card.md"
    card.write_text(with_section(card.read_text(encoding="utf-8"), CARD_HEADING, card_section(confidence, translation)),
                    encoding="utf-8")  # fmt: skip
    write_manifest(directory)
    verify_manifest(directory)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_transformer.zoo.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("model", help="a zoo model name or a zoo folder path (written into)")
    parser.add_argument("--validation-examples", type=int, default=10000, help="(default: %(default)s)")
    parser.add_argument("--test-examples", type=int, default=10000, help="(default: %(default)s)")
    parser.add_argument("--out-of-domain", type=int, default=1000, help="inputs of each kind (default: %(default)s)")
    parser.add_argument("--target-rate", type=float, default=0.015,
                        help="correct validation outputs flagged at most (default: %(default)s)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=256, help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--no-write", action="store_true", help="measure and print; write nothing")
    args = parser.parse_args(argv)
    from keras_transformer import zoo

    model = zoo.load(args.model)
    words = [parser.prog, args.model]
    for option in ("--validation-examples", "--test-examples", "--out-of-domain", "--target-rate", "--seed"):
        dest = option[2:].replace("-", "_")
        if getattr(args, dest) != parser.get_default(dest):
            words += [option, str(getattr(args, dest))]
    result = calibrate(model, args.validation_examples, args.test_examples, args.out_of_domain, args.target_rate,
                       args.batch_size, args.seed, command=" ".join(words), progress=lambda line: print(line, file=sys.stderr))  # fmt: skip
    print(card_section(result, model.kind == "translation"))
    if not args.no_write:
        write(model.path, result, model.kind == "translation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
