"""What every plot here shares: headless figures, fonts that can show CJK labels, argument checks, saving."""

import contextlib
import functools
import math
import warnings

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from keras_transformer import _validation

# Fonts that cover Japanese (and most CJK) glyphs, most common first. The first ones found are put
# after DejaVu Sans in the family list: matplotlib (>= 3.6) falls back glyph by glyph, so Latin text
# keeps DejaVu and kana/kanji come from the CJK font.
CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "Source Han Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "VL Gothic",
    "Hiragino Sans",
    "Hiragino Kaku Gothic ProN",
    "Yu Gothic",
    "Meiryo",
    "MS Gothic",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Unifont",
)
_GLYPH_WARNING = r"Glyph \d+ .*missing from (current )?font"


@functools.lru_cache(maxsize=1)
def font_families():
    """The font family list used for every text here: DejaVu Sans, then any installed CJK fonts."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + [name for name in CJK_FONTS if name in installed]


@contextlib.contextmanager
def drawing():
    """Create and render figures with the CJK-capable fonts, without glyph warnings.

    A font without a glyph draws a box and matplotlib warns once per glyph; with no CJK font
    installed that is expected, so the warning is silenced here (and only here).
    """
    with matplotlib.rc_context({"font.family": font_families()}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_GLYPH_WARNING, category=UserWarning)
        yield


def new_figure(width, height):
    """A `Figure` not registered with pyplot: no display, no global state, any backend."""
    figure = Figure(figsize=(width, height), layout="constrained")
    # Twice the default padding: descenders of the outermost labels were clipped with the default.
    figure.get_layout_engine().set(w_pad=0.08, h_pad=0.08)
    return figure


def finish(figure, save_path, dpi=100):
    """Save `figure` as PNG when `save_path` is given, and return it."""
    if save_path is not None:
        with drawing():
            figure.savefig(save_path, format="png", dpi=dpi)
    return figure


def set_tick_labels(axes, column_labels, row_labels):
    """Put one label on each column (x) and row (y) of a heatmap drawn with `imshow`; a label made of
    spaces (the space character of a "characters" tokenizer) shows as "␣" so that it can be seen."""
    column_labels, row_labels = [_visible(label) for label in column_labels], [_visible(label) for label in row_labels]
    long_labels = any(len(label) > 2 for label in column_labels)
    axes.set_xticks(range(len(column_labels)), column_labels, rotation=90 if long_labels else 0)
    axes.set_yticks(range(len(row_labels)), row_labels)
    for labels in (axes.get_xticklabels(), axes.get_yticklabels()):
        for label in labels:
            label.set_fontsize(_label_size(len(labels)))
            label.set_fontfamily(font_families())
    axes.tick_params(length=0)


def _visible(label):
    return "\u2423" * len(label) if label and not label.strip(" ") else label


def _label_size(count):
    return 9 if count <= 30 else max(5, 9 - math.ceil((count - 30) / 10))


def check_index(name, value, count):
    """`value` indexes `count` items Python-style (negative from the end); returns it in [0, count)."""
    return _validation.int_in_range(name, value, -count, count) % count
