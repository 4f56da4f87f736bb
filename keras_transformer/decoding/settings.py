"""`DecodingSettings`: how a model turns a source into an output, in one frozen, validated value.

The same settings drive `TextPipeline.predict`, the exported SavedModel and the TFLite generator, and
a zoo folder stores them in its `zoo.json`, so every runtime decodes the way the model card measured.
"""

import dataclasses

from keras_transformer.errors import InvalidArgumentError
from keras_transformer import _validation

STRATEGIES = ("greedy", "beam", "sample")


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
    """Decoding options; validated on construction.

    Args:
        strategy: "greedy", "beam" or "sample".
        beam_size: beam width (beam search only).
        length_penalty: GNMT's α in ((5 + length) / 6)^α (beam search only).
        max_output_length: the most ids generated (end id included); None: the model's `max_length`.
        max_length_factor: also stop a row after ceil(factor × its source length) ids (Marian's
            `max-length-factor`; beam search stops at the batch's longest such bound); None: no bound.
        temperature, top_k, top_p, seed: sampling (strategy "sample"): softmax(logits / temperature)
            restricted to the `top_k` most likely and to the nucleus of mass `top_p`; draws are
            reproducible by `seed`, and the same on every backend and runtime (`search.sample` makes
            its own random numbers).
        shortlist: restrict each output to its source's lexical shortlist (a model that has one: the
            translation models; `decoding.shortlist`).

    Example:
    >>> settings = DecodingSettings(strategy="beam", beam_size=4, max_output_length=32)
    >>> settings.replace(strategy="greedy").strategy
    'greedy'
    >>> DecodingSettings.from_dict(settings.to_dict()) == settings
    True
    """

    strategy: str = "greedy"
    beam_size: int = 4
    length_penalty: float = 0.6
    max_output_length: int | None = None
    max_length_factor: float | None = None
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0
    shortlist: bool = False

    def __post_init__(self):
        _validation.one_of("strategy", self.strategy, STRATEGIES)
        _validation.positive_int("beam_size", self.beam_size)
        if isinstance(self.length_penalty, bool) or not isinstance(self.length_penalty, (int, float)):
            raise InvalidArgumentError(f"`length_penalty` must be a number. Received: length_penalty={self.length_penalty!r}")
        _validation.positive_int("max_output_length", self.max_output_length, allow_none=True)
        if self.max_length_factor is not None:
            _validation.positive_number("max_length_factor", self.max_length_factor)
            object.__setattr__(self, "max_length_factor", float(self.max_length_factor))
        _validation.positive_number("temperature", self.temperature)
        _validation.positive_int("top_k", self.top_k, allow_none=True)
        if self.top_p is not None:
            _validation.fraction("top_p", self.top_p, low_open=True, high_open=False)
        _validation.non_negative_int("seed", self.seed)
        _validation.boolean("shortlist", self.shortlist)
        object.__setattr__(self, "length_penalty", float(self.length_penalty))
        object.__setattr__(self, "temperature", float(self.temperature))

    def replace(self, **changes):
        """A copy with `changes` (validated again); `None` values leave a field as it is, and an
        unknown name is an `InvalidTypeError` (a `TypeError` and a `ValueError`) naming it."""
        _validation.known_fields("decoding settings", changes, DecodingSettings, keywords=True)
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def resolved(self, model_max_length):
        """A copy whose `max_output_length` is set: the model's `max_length` when it was None;
        `ValueError` when it is larger than the model allows."""
        length = self.max_output_length or model_max_length
        if length > model_max_length:
            raise InvalidArgumentError(
                f"`max_output_length` must be at most the model's max_length={model_max_length}. "
                f"Received: max_output_length={length}"
            )
        return dataclasses.replace(self, max_output_length=length)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Settings from `to_dict` output; an unknown key is an error naming it."""
        return cls(**_validation.known_fields("decoding settings", values, cls))
