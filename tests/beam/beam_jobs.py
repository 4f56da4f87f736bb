"""What the Beam tests share: input files with known bad lines, a job run on a runner of choice, and
its output files read back."""

import json
import os
import pathlib

from keras_transformer import beam

# A worker of the multi-process DirectRunner kills itself (os._exit) on this text the first time any
# worker meets it: the marker file says it happened.
KILL_TEXT = "zzkillworker"


def write_inputs(directory, texts, files=2):
    """`texts` spread over `files` plain-text files in `directory`, one a line; returns the glob."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        part = texts[index::files]
        (directory / f"part-{index}.txt").write_text("".join(f"{text}\n" for text in part), encoding="utf-8")
    return str(directory / "part-*.txt")


def expected_keys(directory, files=2):
    """The keys the job gives the lines of `write_inputs`' files: {key: text}."""
    keys = {}
    for index in range(files):
        path = pathlib.Path(directory) / f"part-{index}.txt"
        for number, text in enumerate(path.read_text(encoding="utf-8").split("\n")[:-1], start=1):
            keys[f"{path.name}:{number}"] = text
    return keys


def read_jsonl(pattern_prefix, dead=False):
    """Every JSON line of the job's outputs (or its dead letters), as dicts."""
    prefix = pathlib.Path(pattern_prefix)
    name = f"{prefix.name}-dead-letter-" if dead else f"{prefix.name}-"
    records = []
    for path in sorted(prefix.parent.glob(f"{name}*.jsonl")):
        if not dead and "-dead-letter-" in path.name:
            continue
        # Lines end at "\n" only: a text may hold other line breaks (U+2028, U+0085) that JSON keeps as they are.
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    return records


MULTI_PROCESS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


class KillOnce:
    """A step that ends its worker process (no exception, no cleanup) on `KILL_TEXT`, once: the first
    worker to see it writes `marker` and dies; a retry finds the marker and passes the text on."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __call__(self, item):
        if item[1] == KILL_TEXT:
            try:
                descriptor = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return item
            os.close(descriptor)
            os._exit(1)
        return item


def run_job(handler, pattern, prefix, beam_args=(), kill_marker=None):
    """The job of `beam.run`, with `KillOnce` before inference when `kill_marker` is given."""
    import apache_beam as beam_sdk
    from apache_beam.options.pipeline_options import PipelineOptions

    if kill_marker is None:
        return beam.run(handler, pattern, prefix, beam_args=beam_args)
    with beam_sdk.Pipeline(options=PipelineOptions(list(beam_args))) as pipeline:
        texts, unreadable = pipeline | "Read" >> beam.ReadTexts(pattern)
        texts = texts | "KillOnce" >> beam_sdk.Map(KillOnce(kill_marker))
        results, failed = texts | "Infer" >> beam.Infer(handler)
        dead = (unreadable, failed) | beam_sdk.Flatten()
        _ = (results, dead) | "Write" >> beam.WriteOutputs(prefix)
    return {}
