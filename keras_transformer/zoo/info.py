"""`ZooInfo`: what a zoo folder's `zoo.json` says about a model's task and data (beside its
`DecodingSettings`)."""

import dataclasses
import json
import pathlib

from keras_transformer import _validation
from keras_transformer.errors import InvalidArgumentError, ZooError

# How a zoo folder may store its weights (`zoo.folder.save`): float16 halves the weights file and the generator.
WEIGHTS_DTYPES = ("float32", "float16")


@dataclasses.dataclass(frozen=True)
class ZooInfo:
    """A zoo model's task, data and evaluation settings; validated on construction.

    Args:
        task: one line for `zoo list`, e.g. "English word -> ARPAbet phonemes (CMUdict)".
        dataset: the `keras_transformer.data` builder its splits come from, or None (e.g. a model
            trained on a user's own files).
        dataset_config: the builder's config name, or None.
        source_field, target_field: the dataset fields the model maps.
        references_field: a field listing every acceptable output (default: the target field).
        metrics: names of `keras_transformer.evaluation` metrics the card reports.
        card_metrics: the figures measured when the model was packaged, `{metric: value}`.
    """

    task: str
    dataset: str | None = None
    dataset_config: str | None = None
    source_field: str = "source"
    target_field: str = "target"
    references_field: str | None = None
    metrics: tuple = ("exact_match",)
    card_metrics: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.task, str):
            raise InvalidArgumentError(f"`task` must be a str. Received: task={self.task!r}")
        for name in ("source_field", "target_field"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidArgumentError(f"`{name}` must be a non-empty str. Received: {name}={getattr(self, name)!r}")
        from keras_transformer.evaluation.metrics import METRICS

        metrics = tuple(self.metrics)
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise InvalidArgumentError(f"`metrics` must name metrics in {list(METRICS)}. Received: metrics={list(metrics)}")
        object.__setattr__(self, "metrics", metrics)
        object.__setattr__(self, "card_metrics", dict(self.card_metrics))

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        values = dataclasses.asdict(self)
        values["metrics"] = list(self.metrics)
        return values

    @classmethod
    def from_dict(cls, values):
        return cls(**_validation.known_fields("zoo.json keys", values, cls))


def read_zoo_json(directory):
    """`(ZooInfo, decoding)` from a seq2seq zoo folder's `zoo.json`: its info, and its `DecodingSettings`
    fields as a dict (`zoo.read_settings` makes them a `DecodingSettings`; this imports no TensorFlow)."""
    path = pathlib.Path(directory) / "zoo.json"
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        decoding = values.pop("decoding", {})
        return ZooInfo.from_dict(values), decoding
    except (ValueError, TypeError) as error:
        raise ZooError(f"{path} is not a valid zoo.json: {error}") from None
