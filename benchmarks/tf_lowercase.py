"""Write keras_transformer/text/tf_lowercase.json: what `tf.strings.lower(..., encoding="utf-8")` (ICU's
root-locale full lowercase mapping, with the Unicode version TensorFlow's ICU has) does to each code
point, read off TensorFlow one code point at a time, for `keras_transformer.text.PythonTokenizer`.

    python benchmarks/tf_lowercase.py           # rewrites the table
    python benchmarks/tf_lowercase.py --check   # exits 1 if the table differs from TensorFlow's

Why a table and not `str.lower`: TensorFlow's ICU is older than Python's Unicode data (TF 2.21: Unicode
13; Python 3.11: 14, 3.12: 15), so Python lowercases letters that TensorFlow leaves alone (Glagolitic
Ⱟ, Vithkuqi, Latin Ꟁ ...), and the Greek final-sigma rule looks at which neighbours are "cased" and
"case-ignorable", which moves with the version too. The table holds, from TensorFlow itself:

- `lower`: `[code point, lowercase]` for every code point that lowercasing changes (Σ: its non-final σ);
- `cased`, `case_ignorable`: `[first, last]` runs of code points, as the final-sigma rule (Unicode
  section 3.13, "Final_Sigma") classifies them: Σ after a cased letter (case-ignorable ones skipped),
  and not before one, lowercases to ς.
"""

import argparse
import json
import pathlib
import sys

from keras_transformer.text.unicode_runs import code_point_runs

TABLE = pathlib.Path(__file__).resolve().parents[1] / "keras_transformer" / "text" / "tf_lowercase.json"
SIGMA, SMALL_SIGMA, FINAL_SIGMA = "\u03a3", "\u03c3", "\u03c2"
CODE_POINTS = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000 and cp != 0]  # NUL: see the module


def build_table():
    import tensorflow as tf

    def lower(texts):
        return [text.decode("utf-8") for text in tf.strings.lower(tf.constant(texts), encoding="utf-8").numpy()]

    characters = [chr(cp) for cp in CODE_POINTS]
    mapping = [[ord(c), low] for c, low in zip(characters, lower(characters)) if low != c]
    # After Σ: with a cased letter there, Σ is not final (σ). "ΑΣ" + c + "Α": σ also when c is skipped
    # as case-ignorable (the Α after it is cased).
    after = lower(["\u0391" + SIGMA + c for c in characters])
    after_then_cased = lower(["\u0391" + SIGMA + c + "\u0391" for c in characters])
    cased, ignorable = [], []
    for cp, alone, then_cased in zip(CODE_POINTS, after, after_then_cased):
        if alone[1] == SMALL_SIGMA:  # c is cased and not case-ignorable
            cased.append(cp)
        elif then_cased[1] == SMALL_SIGMA:  # c was skipped: case-ignorable
            ignorable.append(cp)
    # Before Σ the same classes must hold: c + "Σ" is final (ς) exactly for a cased c (not ignorable).
    before = lower([c + SIGMA for c in characters])
    cased_set = set(cased)
    mismatched = [cp for cp, text in zip(CODE_POINTS, before) if (text[-1] == FINAL_SIGMA) != (cp in cased_set)]
    if mismatched:
        raise RuntimeError(f"final sigma is not symmetric for {[hex(cp) for cp in mismatched[:10]]}")
    return {
        "about": "tf.strings.lower(encoding='utf-8') per code point; see benchmarks/tf_lowercase.py",
        "tensorflow": tf.__version__,
        "lower": mapping,
        "cased": code_point_runs(cased),
        "case_ignorable": code_point_runs(ignorable),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the stored table instead of writing it")
    args = parser.parse_args(argv)
    table = build_table()
    if args.check:
        stored = json.loads(TABLE.read_text(encoding="utf-8"))
        same = all(stored[key] == table[key] for key in ("lower", "cased", "case_ignorable"))
        print(f"{TABLE.name}: {'matches' if same else 'DIFFERS FROM'} TensorFlow {table['tensorflow']}")
        return 0 if same else 1
    TABLE.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TABLE}: {len(table['lower'])} mappings, {len(table['cased'])} cased and "
          f"{len(table['case_ignorable'])} case-ignorable runs")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
