"""Train the `dates_iso` zoo model (dates in English, Japanese, French, German or Spanish -> ISO 8601),
then compare greedy and beam search on a few inputs.

The same as `keras-transformer train dates_iso [options]`: the task (data, option defaults, scoring
of ambiguous short dates, model card) is registered in `keras_transformer.zoo.tasks`.

    python examples/train_dates.py --time-budget-minutes 20 --zoo-dir saved_models/dates_iso   # the zoo model
    python examples/train_dates.py --max-examples 3000 --time-budget-minutes 1 --output-dir /tmp/dates   # a smoke run
"""

import sys

from keras_transformer import zoo
from keras_transformer.zoo import tasks


def main(argv=None):
    figures = tasks.run_task("dates_iso", sys.argv[1:] if argv is None else argv)
    if figures.zoo_dir is None:  # --no-package
        return figures
    pipeline = zoo.load(figures.zoo_dir)
    texts = ["Friday, January 5, 2024", "5. März 1961", "2024年1月5日金曜日", "3/6/99"]
    greedy, beam = pipeline.predict(texts, strategy="greedy"), pipeline.predict(texts, strategy="beam")
    for text, first, second in zip(texts, greedy, beam):
        print(f"{text}: greedy {first}, beam {second}")
    return figures


if __name__ == "__main__":
    main()
