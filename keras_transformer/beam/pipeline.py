"""The batch-inference job: text lines (or TSV rows with a key) from files -> a zoo model through
RunInference -> JSON lines (or Parquet), with every line the model could not take in a dead-letter
output that names its file and line.

`ReadTexts`, `Infer` and `WriteOutputs` are the job's three steps as PTransforms (to put in a pipeline of
your own); `run` builds and runs the whole job, as `keras-transformer beam` does.
"""

import os
import re

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from keras_transformer import _validation
from keras_transformer._json import json_line as _json_line
from keras_transformer.errors import DataError, InvalidArgumentError

DEAD_LETTER = "dead_letter"
FORMATS = ("jsonl", "parquet")
_COUNTERS = "keras_transformer"


def _dead(file, line, reason, raw=b""):
    """A dead-letter record: where the line is, why it was not used, and its text as far as it reads."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "backslashreplace")
    beam.metrics.Metrics.counter(_COUNTERS, "dead_letter").inc()
    return beam.pvalue.TaggedOutput(DEAD_LETTER, {"file": file, "line": line, "reason": reason, "text": text})


class _ReadLines(beam.DoFn):
    """A matched file -> `((key, file, line), text)` a line, numbered from 1; the lines it cannot use
    go to the dead letter. Plain text: the key is "FILE:LINE". TSV (`key_column` set): the first line
    is the header, naming the key column and the text column."""

    def __init__(self, key_column, text_column, base):
        self._key_column = key_column
        self._text_column = text_column
        self._base = base

    def process(self, readable):
        path = readable.metadata.path
        name = path.removeprefix(self._base)  # the key's FILE
        with readable.open() as handle:  # compressed files (.gz, ...) open uncompressed, by their suffix
            lines = enumerate(handle, start=1)
            columns = None
            if self._key_column is not None:
                columns = yield from self._header(path, lines)
                if columns is None:
                    return
            for number, raw in lines:
                raw = raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw
                beam.metrics.Metrics.counter(_COUNTERS, "lines").inc()
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    yield _dead(path, number, f"not UTF-8: {error}", raw)
                    continue
                if columns is None:
                    yield (f"{name}:{number}", path, number), text
                    continue
                fields = text.split("\t")
                if len(fields) != len(columns):
                    yield _dead(path, number, f"{len(fields)} tab-separated fields; the header has {len(columns)}", raw)
                    continue
                key = fields[columns.index(self._key_column)]
                if not key:
                    yield _dead(path, number, f"an empty key ({self._key_column!r})", raw)
                    continue
                yield (key, path, number), fields[columns.index(self._text_column)]

    def _header(self, path, lines):
        """The header's column names (a generator returning them), or None after a dead-letter record for
        a header that lacks a column (the rest of the file is then not read)."""
        number, raw = next(lines, (1, b""))
        header = raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        columns = header.split("\t")
        missing = [name for name in (self._key_column, self._text_column) if name not in columns]
        if missing:
            rest = sum(1 for _ in lines)
            yield _dead(
                path,
                number,
                f"the header names no column {missing[0]!r} (columns: {columns}); its {rest} lines were not read",
                raw,
            )
            return None
        return columns


class _FirstOfKey(beam.DoFn):
    """`(key, [(source, text), ...])` -> the first by file and line; the others are dead letters (a key
    repeated would give two outputs for one key)."""

    def process(self, grouped):
        key, items = grouped
        first, *others = sorted(items, key=lambda item: item[0][1:])
        yield first
        for (_, file, line), text in others:
            yield _dead(file, line, f"key {key!r} repeated (first at {first[0][1]}:{first[0][2]})", text)


class ReadTexts(beam.PTransform):
    """Files matching `pattern` (a glob, local or on a Beam filesystem) -> `(inputs, dead_letter)`.

    `inputs` holds `((key, file, line), text)` once a key (for plain text "FILE:LINE", FILE the path
    after the pattern's folder: "part-0.txt:1" for the pattern "data/part-*.txt"), spread over the workers (a shuffle: a file is
    read by one worker); `dead_letter` a dict a line that cannot be used (not UTF-8, a TSV row without
    the header's fields or with an empty key, a key already seen): `{"file", "line", "reason", "text"}`.

    Args:
        pattern: the files' glob (`fileio.MatchFiles`; a local one is made absolute here, and a pattern
            that matches nothing fails the job).
        key_column: None: plain text, a text a line, keyed "FILE:LINE". A column name: TSV whose first
            line (of each file) is a header naming this column and `text_column`.
        text_column: the TSV column that holds the text (default "text").
    """

    def __init__(self, pattern, key_column=None, text_column="text"):
        super().__init__()
        if "://" not in pattern:  # Beam's local file system does not match relative globs
            pattern = os.path.abspath(pattern)
        self._pattern = pattern
        # The folder part of the pattern, before its first wildcard: what the keys leave out.
        self._base = pattern[: pattern.rfind("/", 0, re.search(r"[*?[]|$", pattern).start()) + 1]
        self._key_column = key_column
        self._text_column = text_column

    def expand(self, pipeline):
        lines = (
            pipeline
            | "Match" >> fileio.MatchFiles(self._pattern, empty_match_treatment=fileio.EmptyMatchTreatment.DISALLOW)
            | "Open" >> fileio.ReadMatches()
            | "Lines"
            >> beam.ParDo(_ReadLines(self._key_column, self._text_column, self._base)).with_outputs(
                DEAD_LETTER, main="texts"
            )
        )
        unique = (
            lines.texts
            | "ByKey" >> beam.Map(lambda item: (item[0][0], item))
            | "GroupByKey" >> beam.GroupByKey()
            | "FirstOfKey" >> beam.ParDo(_FirstOfKey()).with_outputs(DEAD_LETTER, main="texts")
        )
        dead = (lines[DEAD_LETTER], unique[DEAD_LETTER]) | "DeadLetters" >> beam.Flatten()
        return unique.texts, dead


def _failed_batch(failure):
    """RunInference's failed batch `(batch, error)` -> a dead-letter record a text."""
    batch, error = failure
    reason = error[1] if isinstance(error, tuple) and len(error) > 1 else error
    for (_, file, line), text in batch:
        yield _dead(file, line, f"inference failed: {reason}", text).value


class Infer(beam.PTransform):
    """`((key, file, line), text)` -> `(results, dead_letter)`: RunInference with `handler` (a
    `ZooModelHandler` or `SavedModelHandler`), each result `((key, file, line), PredictionResult)`; a
    batch whose inference raises goes to `dead_letter`, a record a text, and the job goes on."""

    def __init__(self, handler):
        super().__init__()
        self._handler = handler

    def expand(self, inputs):
        results, failed = (
            inputs | "RunInference" >> RunInference(KeyedModelHandler(self._handler)).with_exception_handling()
        )
        dead = failed.failed_inferences | "FailedBatches" >> beam.FlatMap(_failed_batch)
        return results, dead


def record(keyed):
    """`((key, file, line), PredictionResult)` -> the output's dict: "key", "input", and "output" (a
    str; with scores "score" and "token_scores", with flags "flagged" and "reason"), "embedding" (a
    list of floats) or "tokens" (pronounce: `[{"token", "phonemes", "source"}, ...]`)."""
    (key, _, _), result = keyed
    values = {"key": key, "input": result.example}
    inference = result.inference
    if isinstance(inference, str):
        values["output"] = inference
    elif isinstance(inference, np.ndarray):
        values["embedding"] = [float(value) for value in inference]
    elif isinstance(inference, list):
        values["tokens"] = [token.to_dict() for token in inference]
    else:  # a decoding.prediction.Prediction
        details = inference.to_dict()
        values["output"] = details.pop("text")
        values.update(details)
    return values


class WriteOutputs(beam.PTransform):
    """`(results, dead_letter)` -> files: `PREFIX-SSSSS-of-NNNNN.jsonl` (or `.parquet`), a JSON object a
    result (`record`), and `PREFIX-dead-letter-SSSSS-of-NNNNN.jsonl`, a JSON object a dead letter.

    Args:
        prefix: the output files' path prefix (a local path or one on a Beam filesystem).
        output_format: "jsonl", or "parquet" (embeddings only: columns key, input, embedding).
        num_shards: output files (0: the runner decides).
    """

    def __init__(self, prefix, output_format="jsonl", num_shards=0):
        super().__init__()
        self._prefix = prefix
        self._format = _validation.one_of("output_format", output_format, FORMATS)
        self._num_shards = num_shards

    def expand(self, pcolls):
        results, dead = pcolls
        records = results | "Record" >> beam.Map(_counted(record))
        if self._format == "parquet":
            import pyarrow

            schema = pyarrow.schema(
                [
                    ("key", pyarrow.string()),
                    ("input", pyarrow.string()),
                    ("embedding", pyarrow.list_(pyarrow.float32())),
                ]
            )
            written = records | "Parquet" >> beam.io.WriteToParquet(
                self._prefix, schema, file_name_suffix=".parquet", num_shards=self._num_shards
            )
        else:
            written = (
                records
                | "Json" >> beam.Map(_json_line)
                | "Write" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl", num_shards=self._num_shards)
            )
        dead_written = (
            dead
            | "DeadJson" >> beam.Map(_json_line)
            | "WriteDead"
            >> beam.io.WriteToText(
                f"{self._prefix}-dead-letter", file_name_suffix=".jsonl", num_shards=self._num_shards
            )
        )
        return written, dead_written


def _counted(function):
    def run(element):
        beam.metrics.Metrics.counter(_COUNTERS, "outputs").inc()
        return function(element)

    return run


def run(handler, pattern, prefix, key_column=None, text_column="text", output_format="jsonl", beam_args=()):
    """Build and run the job: read `pattern`, run `handler`, write `prefix`-*; wait for it to finish.

    Args:
        handler: a `ZooModelHandler` or `SavedModelHandler`.
        pattern, key_column, text_column: what to read (`ReadTexts`).
        prefix, output_format: what to write (`WriteOutputs`).
        beam_args: Beam's pipeline options as command-line words (`--runner`, `--direct_num_workers`,
            Dataflow's and Flink's options), given to `PipelineOptions` as they are.

    Returns:
        A dict of the job's counters: "lines" read, "outputs" written and "dead_letter" records (those
        the runner reports; an empty dict from a runner that reports none).
    """
    if output_format == "parquet" and getattr(handler, "task", "embed") != "embed":
        raise InvalidArgumentError(f"parquet output holds embeddings; use jsonl for {handler!r}")
    local = pattern if "://" in pattern else os.path.abspath(pattern)
    if not beam.io.filesystems.FileSystems.match([local])[0].metadata_list:  # said before the job starts
        raise DataError(f"no input file matches {pattern!r}")
    options = PipelineOptions(list(beam_args))
    pipeline = beam.Pipeline(options=options)
    texts, unreadable = pipeline | "Read" >> ReadTexts(pattern, key_column, text_column)
    results, failed = texts | "Infer" >> Infer(handler)
    dead = (unreadable, failed) | "AllDeadLetters" >> beam.Flatten()
    _ = (results, dead) | "Write" >> WriteOutputs(prefix, output_format)
    outcome = pipeline.run()
    outcome.wait_until_finish()
    return _counters(outcome)


def _counters(outcome):
    try:
        found = outcome.metrics().query(beam.metrics.MetricsFilter().with_namespace(_COUNTERS))["counters"]
    except (NotImplementedError, AttributeError, KeyError):
        return {}
    totals = {}
    for counter in found:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals
