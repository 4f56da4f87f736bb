"""`evaluate`: score a zoo model (or any runtime with `predict`) on a split of its dataset, or on given
texts, with the metrics its zoo folder names, in one plain function call."""

import dataclasses
import time

from keras_transformer.errors import InvalidArgumentError
from keras_transformer.evaluation import metrics as metric_functions


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What `evaluate` measured, and on what.

    Attributes:
        report: `{"model", "split", "examples", "strategy", "measured": {metric: value}, "card":
            {metric: value the model card states}}`, what `keras-transformer evaluate` prints.
        sources: the texts decoded.
        references: the acceptable outputs of each text (a list of str each).
        predictions: the model's outputs.
        seconds: wall time of reading and decoding.
    """

    report: dict
    sources: list
    references: list
    predictions: list
    seconds: float


def evaluate(
    model,
    split="test",
    limit=None,
    *,
    info=None,
    sources=None,
    references=None,
    metrics=None,
    data_dir=None,
    batch_size=128,
    progress=None,
    **decoding_overrides,
):
    """Decode a split with `model` and score the outputs.

    The texts and references come from the model's dataset (`info`: a zoo folder's dataset, config and
    fields) unless `sources` and `references` are given.

    Args:
        model: what decodes the texts: a zoo model (`zoo.load(name)`, whose `info` is the default for
            `info`), or a runtime with `predict`, `settings` and `name` (a `TextPipeline`, e.g. one
            just trained).
        split: the split to read, and the name the report gives the data.
        limit: only the first `limit` examples.
        info: a `zoo.ZooInfo` naming the dataset, its fields, the metrics and the card's figures;
            default the zoo model's `info` (None for a bare pipeline).
        sources, references: the texts and their acceptable outputs (a str or a list of str each),
            for data that is not a `keras_transformer.data` dataset; give both or neither.
        metrics: names of `keras_transformer.evaluation` metrics; default `info.metrics`, or exact
            match without info.
        data_dir: the TFDS data folder (default `keras_transformer.data.default_data_dir()`).
        batch_size, progress: as for `TextPipeline.predict`.
        **decoding_overrides: `DecodingSettings` fields for this evaluation, e.g. `strategy="beam"`.

    Returns:
        An `Evaluation`.

    Raises:
        ValueError: no dataset is named and no `sources` were given, or an unknown metric.
    """
    started = time.monotonic()
    # evaluation sits below the zoo and cannot import `ZooModel`: a zoo model is known by its `info`.
    info = getattr(model, "info", None) if info is None else info
    if (sources is None) != (references is None):
        raise InvalidArgumentError("Give both `sources` and `references`, or neither (to read the model's dataset).")
    if sources is None:
        if info is None or info.dataset is None:
            raise InvalidArgumentError(
                f"{model.name} names no keras_transformer.data dataset to read {split!r} from: pass "
                "`sources` and `references` (or `info`)."
            )
        # Imported here: `keras_transformer.evaluation` stays plain Python (and quick to import)
        # for callers that only score strings.
        from keras_transformer.data import read_columns

        reference_field = info.references_field or info.target_field
        split = split if limit is None else f"{split}[:{limit}]"
        columns = read_columns(info.dataset, split, [info.source_field, reference_field], data_dir=data_dir,
                               config=info.dataset_config)  # fmt: skip
        sources, references = columns[info.source_field], columns[reference_field]
    elif limit is not None:
        sources, references = sources[:limit], references[:limit]
    references = [[item] if isinstance(item, str) else list(item) for item in references]
    names = tuple(metrics or (info.metrics if info is not None else ("exact_match",)))
    unknown = [name for name in names if name not in metric_functions.METRICS]
    if unknown:
        raise InvalidArgumentError(
            f"Unknown metrics {unknown}; known: {list(metric_functions.METRICS)}. Received: metrics={names}"
        )

    predictions = model.predict(sources, batch_size=batch_size, progress=progress, **decoding_overrides)
    measured = {name: round(getattr(metric_functions, name)(predictions, references), 4) for name in names}
    report = {
        "model": model.name,
        "split": split,
        "examples": len(sources),
        "strategy": decoding_overrides.get("strategy") or model.settings.strategy,
        "measured": measured,
        "card": dict(info.card_metrics) if info is not None else {},
    }
    return Evaluation(report, list(sources), references, predictions, round(time.monotonic() - started, 1))
