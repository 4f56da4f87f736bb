"""Zoo tasks: what `keras-transformer train TASK` runs. Each task is a declaration in its own module
(`reverse`, `g2p_en`, `itn_numbers`, `dates_iso`, `pairs`: a `TASK = Task(...)`), and running one is
four steps (`zoo.tasks.run`: read -> train -> choose decoding -> package).

    from keras_transformer.zoo import tasks
    tasks.run_task("reverse", ["--epochs", "1", "--output-dir", "/tmp/reverse"])
    tasks.task_names()        # ['dates_iso', 'g2p_en', 'itn_numbers', 'pairs', 'reverse']

Declarations import no TensorFlow, so `train TASK --help` answers at once; a new task is a module like
them, named in `DECLARATIONS`, or a `Task` given to `register_task`.
"""

import importlib

from keras_transformer.errors import InvalidArgumentError
from keras_transformer.zoo.tasks.task import DatasetSource, ReverseSource, Split, Task

# Task name -> the module that declares it (its `TASK`).
DECLARATIONS = {
    "reverse": "keras_transformer.zoo.tasks.reverse",
    "g2p_en": "keras_transformer.zoo.tasks.g2p_en",
    "itn_numbers": "keras_transformer.zoo.tasks.itn_numbers",
    "dates_iso": "keras_transformer.zoo.tasks.dates_iso",
    "pairs": "keras_transformer.zoo.tasks.pairs",
}
_REGISTERED = {}


def register_task(task, replace=False):
    """Make `task` (a `Task`) runnable as `keras-transformer train <task.name>` in this process. Returns `task`.

    Raises:
        ValueError: a task of that name exists already (and not `replace`).
    """
    if not isinstance(task, Task):
        raise TypeError(f"`task` must be a Task. Received: task={task!r}")
    if task.name in task_names() and not replace:
        raise ValueError(f"A task named {task.name!r} is registered already. Received: task={task!r}")
    _REGISTERED[task.name] = task
    return task


def task_names():
    """The task names, sorted."""
    return sorted({*DECLARATIONS, *_REGISTERED})


def get_task(name):
    """The task `name`; `ValueError` naming the known tasks if there is none."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in DECLARATIONS:
        raise InvalidArgumentError(f"Unknown task. Known: {task_names()}. Received: name={name!r}")
    return importlib.import_module(DECLARATIONS[name]).TASK


def run_task(name, argv=None):
    """Parse `argv` (the task's options; `--help` lists them) and run task `name`.

    Returns:
        The run's `Figures` (also written to `<output-dir>/metrics.json`).
    """
    task = get_task(name)
    argv = [] if argv is None else list(argv)
    args = task.parser().parse_args(argv)
    from keras_transformer.zoo.tasks.run import run

    return run(task, args, argv)


__all__ = ["DECLARATIONS", "DatasetSource", "ReverseSource", "Split", "Task", "get_task", "register_task",
           "run_task", "task_names"]  # fmt: skip
