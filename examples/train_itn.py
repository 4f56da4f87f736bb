"""Train the `itn_numbers` zoo model (English and Japanese number words -> digits), then use it.

The same as `keras-transformer train itn_numbers [options]` followed by `keras-transformer predict`:
the task (data, oversampling of rare kinds, option defaults, model card) is registered in
`keras_transformer.zoo.tasks`.

    python examples/train_itn.py --time-budget-minutes 20 --zoo-dir saved_models/itn_numbers   # the zoo model
    python examples/train_itn.py --max-examples 3000 --time-budget-minutes 1 --output-dir /tmp/itn   # a smoke run
"""

import sys

from keras_transformer import zoo
from keras_transformer.zoo import tasks


def main(argv=None):
    figures = tasks.run_task("itn_numbers", sys.argv[1:] if argv is None else argv)
    if figures.zoo_dir is None:  # --no-package
        return figures
    pipeline = zoo.load(figures.zoo_dir)
    texts = ["two thousand and twenty-four", "twenty-first", "nineteen ninety-nine", "二千二十四", "二十一番目"]
    for text, digits in zip(texts, pipeline.predict(texts)):
        print(f"{text} -> {digits}")
    return figures


if __name__ == "__main__":
    main()
