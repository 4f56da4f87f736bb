"""Write keras_transformer/text/bert_characters.json: what BERT's normalizer and pre-tokenizer do to
each Unicode code point, read off the reference implementation (Hugging Face `tokenizers`, the
backend of sentence-transformers' BertTokenizer) one code point at a time.

    pip install -e ".[benchmark]"
    python benchmarks/bert_characters.py           # rewrites the table
    python benchmarks/bert_characters.py --check   # exits 1 if the table differs from the reference

Why a table and not Python's `unicodedata`: the reference mixes Unicode versions (its lowercasing
knows characters that Python 3.11's tables call unassigned; its "is a nonspacing mark" and "is a
control character" tests are older and miss some that Python knows), and Python's own tables change
with the Python version. Read off the reference once, the table makes our tokenizer agree with it on
every code point, under any Python.
"""

import argparse
import json
import pathlib
import sys

from keras_transformer.text.unicode_runs import code_point_runs

TABLE = pathlib.Path(__file__).resolve().parents[1] / "keras_transformer" / "text" / "bert_characters.json"
LAST_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)
HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)


def hangul_jamo(cp):
    """The canonical decomposition of a Hangul syllable into its 2 or 3 jamo (Unicode section 3.12)."""
    index = cp - HANGUL_SYLLABLES.start
    lead, vowel, trail = 0x1100 + index // 588, 0x1161 + (index % 588) // 28, 0x11A7 + index % 28
    return chr(lead) + chr(vowel) + (chr(trail) if trail != 0x11A7 else "")


def build_table():
    import tokenizers
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    def normalizer(**flags):
        options = {"clean_text": False, "handle_chinese_chars": False, "strip_accents": False, "lowercase": False}
        options.update(flags)
        return BertNormalizer(**options).normalize_str

    clean = normalizer(clean_text=True)
    chinese = normalizer(handle_chinese_chars=True)
    strip = normalizer(strip_accents=True)
    lower = normalizer(lowercase=True)
    pre_tokenize = BertPreTokenizer().pre_tokenize_str

    removed, spaces, ideographs, punctuation, stripped, lowered = [], [], [], [], [], []
    for cp in range(LAST_CODE_POINT + 1):
        if cp in SURROGATES:
            continue
        character = chr(cp)
        cleaned = clean(character)
        if cleaned == "":
            removed.append(cp)
        elif cleaned == " " and character != " ":
            spaces.append(cp)
        if chinese(character) == f" {character} ":
            ideographs.append(cp)
        if (value := strip(character)) != character:
            if cp in HANGUL_SYLLABLES and value == hangul_jamo(cp):
                continue  # the 11,172 syllables decompose by rule: the tokenizer computes them
            stripped.append([cp, value])
        if (value := lower(character)) != character:
            lowered.append([cp, value])
        if [piece for piece, _ in pre_tokenize(f"a{character}a")] == ["a", character, "a"]:
            punctuation.append(cp)
    return {
        "about": (
            "What BERT's normalizer (clean text, Chinese characters, strip accents, lowercase) and "
            "pre-tokenizer (punctuation) do to each code point, read off Hugging Face tokenizers "
            f"{tokenizers.__version__} by benchmarks/bert_characters.py. Ranges are [first, last]."
        ),
        "removed": code_point_runs(removed),
        "spaces": code_point_runs(spaces),
        "chinese": code_point_runs(ideographs),
        "punctuation": code_point_runs(punctuation),
        "strip_accents": stripped,
        "strip_accents_hangul_syllables": "decomposed into jamo by rule (Unicode section 3.12)",
        "lowercase": lowered,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed table, write nothing")
    args = parser.parse_args()
    table = build_table()
    if args.check:
        committed = json.loads(TABLE.read_text(encoding="utf-8"))
        same = {key: committed.get(key) == value for key, value in table.items() if key != "about"}
        print(json.dumps(same, indent=2))
        return 0 if all(same.values()) else 1
    TABLE.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TABLE} ({TABLE.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
