"""Training curves from `model.fit`: the loss and each metric, training beside validation."""

import math
import numbers

from matplotlib.ticker import MaxNLocator

from keras_transformer.viz import _figures


def plot_history(history, save_path=None):
    """One panel for the loss and one for each metric, each with its `val_` curve when there is one.

    Args:
        history: the `keras.callbacks.History` that `model.fit` returns, or its `.history` dict
            (name -> one value per epoch), e.g. a zoo model's `zoo.load(name).history`.
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure`, one axes per panel: "loss" first, then the metrics in the
        order `fit` logged them.

    Example:
    >>> figure = plot_history({"loss": [2.0, 1.2, 0.8], "val_loss": [2.1, 1.5, 1.1], "accuracy": [0.3, 0.6, 0.8]})
    >>> [axes.get_title() for axes in figure.axes]
    ['loss', 'accuracy']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(
            f"`history` must be a keras.callbacks.History or a dict of lists. Received: history={history!r}"
        )
    if not logs:
        raise ValueError("`history` holds no values: was `fit` run? Received: history={}")
    for name, values in logs.items():
        if (
            not isinstance(name, str)
            or isinstance(values, (str, bytes))
            or not hasattr(values, "__len__")
            or not len(values)
            or not all(isinstance(v, numbers.Real) for v in values)
        ):
            raise ValueError(
                f"`history` must map each name to a non-empty list of numbers. Received: {name!r}: {values!r}"
            )
    names = []
    for name in logs:
        base = name.removeprefix("val_")
        if base not in names:
            names.append(base)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")

    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    with _figures.drawing():
        figure = _figures.new_figure(4.0 * columns, 3.0 * rows)
        grid = figure.subplots(rows, columns, squeeze=False)
        for index, axes in enumerate(grid.flat):
            if index >= len(names):
                figure.delaxes(axes)
                continue
            name = names[index]
            for key, label, style in ((name, "training", "-o"), (f"val_{name}", "validation", "--s")):
                if key in logs:
                    values = [float(v) for v in logs[key]]
                    axes.plot(range(1, len(values) + 1), values, style, markersize=3, label=label)
            axes.set_title(name, fontsize=10)
            axes.set_xlabel("epoch")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(alpha=0.3)
            axes.legend(fontsize=8)
    return _figures.finish(figure, save_path)
