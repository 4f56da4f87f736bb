"""How the `itn_numbers` zoo model does on the numbers people type most: every number 0..999 as an
English and Japanese cardinal and ordinal, written by num2words (the words the training data uses;
most of these numbers are in the training split, so this is a check of coverage, not a held-out score).

    python examples/probe_itn_small_numbers.py            # needs the [data] extra (num2words)
"""

import argparse

from num2words import num2words

from keras_transformer import zoo

SUFFIXES = {"en": ("st", "nd", "rd", "th"), "ja": ("番目",)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="itn_numbers")
    parser.add_argument("--below", type=int, default=1000)
    args = parser.parse_args(argv)
    entry = zoo.load(args.name)
    numbers = range(args.below)
    for language in ("en", "ja"):
        for kind in ("cardinal", "ordinal"):
            texts = [num2words(n, lang=language, to=kind) for n in numbers]
            outputs = entry.predict(texts, batch_size=256)
            if kind == "cardinal":
                right = [output == str(n) for output, n in zip(outputs, numbers)]
            else:
                right = [output.startswith(str(n)) and output[len(str(n)):] in SUFFIXES[language]
                         for output, n in zip(outputs, numbers)]  # fmt: skip
            wrong = [f"{text} -> {output}" for text, output, ok in zip(texts, outputs, right) if not ok]
            print(f"{language} {kind} 0..{args.below - 1}: {sum(right)} of {len(right)} right; wrong: {', '.join(wrong[:8])}")


if __name__ == "__main__":
    main()
