"""A picture of the sinusoidal positional encoding: the whole table, and a few of its dimensions."""

import numpy as np

from keras_transformer import _validation
from keras_transformer.layers import sinusoidal_table
from keras_transformer.viz import _figures


def plot_positional_encoding(length, d_model, dimensions=None, save_path=None):
    """The `(length, d_model)` table of `layers.sinusoidal_table` as a heatmap, beside curves of a few
    dimensions against position.

    Even dimensions are sines and odd ones cosines; the wavelength grows with the dimension, from 2π
    at dimensions 0 and 1 to nearly 10000·2π at the last ones, so every position gets its own pattern.

    Args:
        length: the number of positions (rows), a positive int.
        d_model: the number of dimensions (columns), a positive int.
        dimensions: the dimensions to draw as curves; default four spread from fast to slow waves:
            about d_model/16, d_model/8 and d_model/4 (even, so sines), and the cosine after the last.
        save_path: also write the figure there as PNG.

    Returns:
        A `matplotlib.figure.Figure` with three axes: the heatmap (positions down, dimensions across),
        the curves, and the heatmap's colorbar.

    Example:
    >>> figure = plot_positional_encoding(50, 32)
    >>> [axes.get_title() for axes in figure.axes if axes.get_title()]
    ['positional encoding PE(pos, i), d_model = 32', 'PE(pos, i) for a few dimensions i']
    """
    _validation.positive_int("length", length)
    _validation.positive_int("d_model", d_model)
    if dimensions is None:
        even = [d - d % 2 for d in (d_model // 16, d_model // 8, d_model // 4)]
        dimensions = sorted({d for d in (*even, even[-1] + 1) if d < d_model})
    dimensions = list(dimensions)
    if not dimensions:
        raise ValueError(f"`dimensions` must name at least one dimension. Received: dimensions={dimensions!r}")
    for dimension in dimensions:
        if isinstance(dimension, bool) or not isinstance(dimension, (int, np.integer)) or not 0 <= dimension < d_model:
            raise ValueError(
                f"`dimensions` must hold ints in [0, d_model={d_model}). Received: dimensions={dimensions!r}"
            )
    table = sinusoidal_table(length, d_model)  # (length, d_model)
    with _figures.drawing():
        figure = _figures.new_figure(11.0, 4.2)
        heatmap_axes, curve_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1.0]})
        image = heatmap_axes.imshow(table, cmap="RdBu", vmin=-1.0, vmax=1.0, aspect="auto", interpolation="nearest")
        heatmap_axes.set_title(f"positional encoding PE(pos, i), d_model = {d_model}", fontsize=10)
        heatmap_axes.set_xlabel("dimension i (even: sin, odd: cos)")
        heatmap_axes.set_ylabel("position pos")
        figure.colorbar(image, ax=heatmap_axes, label="PE(pos, i)")
        positions = np.arange(length)
        for dimension in dimensions:
            wave = "sin" if dimension % 2 == 0 else "cos"
            curve_axes.plot(positions, table[:, dimension], label=f"i = {dimension} ({wave})")
        curve_axes.set_title("PE(pos, i) for a few dimensions i", fontsize=10)
        curve_axes.set_xlabel("position pos")
        curve_axes.set_ylabel("PE(pos, i)")
        curve_axes.set_ylim(-1.1, 1.1)
        curve_axes.legend(loc="lower right", fontsize=8)
        curve_axes.grid(alpha=0.3)
    return _figures.finish(figure, save_path)
