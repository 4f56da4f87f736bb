"""Tests for reading a user's own parallel text: file errors, the length policy and the stable split."""

import doctest
import hashlib

import pytest

from keras_transformer.data import text_pairs
from keras_transformer.data.text_pairs import (
    ColumnError,
    DataFileError,
    EmptyFileError,
    EncodingError,
    LineCountError,
    LineTooLongError,
    MissingFileError,
    build_tokenizers,
    read_aligned,
    read_pairs,
    read_tsv,
    split_of,
    split_pairs,
)


def write(path, data):
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_docstring_example_runs():
    result = doctest.testmod(text_pairs, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_reads_tsv_with_crlf_bom_and_trailing_blank_lines(tmp_path):
    path = write(tmp_path / "my.tsv", b"\xef\xbb\xbfcat\tK AE1 T\r\nna\xc3\xafve\tN AY0 IY1 V\r\n\n\n")
    pairs = read_tsv(path)
    assert pairs.sources == ("cat", "naïve")
    assert pairs.targets == ("K AE1 T", "N AY0 IY1 V")
    assert pairs.lines == (1, 2)
    assert pairs.truncated == 0


def test_reads_two_aligned_files(tmp_path):
    source = write(tmp_path / "src.txt", "one\ntwo\nthree\n")
    target = write(tmp_path / "tgt.txt", "1\n2\n3")
    pairs = read_pairs(source, target_path=target)
    assert pairs.sources == ("one", "two", "three")
    assert pairs.targets == ("1", "2", "3")
    assert pairs.lines == (1, 2, 3)


@pytest.mark.parametrize(
    "content, error, message",
    [
        ("a\tb\nc\td\ne\tf\ng\th\nk\tl\nm\tn\nonly one column\n", ColumnError,
         "my.tsv line 7: expected 2 tab-separated columns (source, target), found 1"),
        ("a\tb\tc\n", ColumnError, "my.tsv line 1: expected 2 tab-separated columns (source, target), found 3"),
        ("a\tb\n\tx\n", ColumnError, "my.tsv line 2: empty source"),
        ("a\tb\nx\t\n", ColumnError, "my.tsv line 2: empty target"),
        ("a\tb\n\nc\td\n", ColumnError, "my.tsv line 2: blank line"),
        ("", EmptyFileError, "my.tsv: the file holds no line of data"),
        ("\n \n\n", EmptyFileError, "my.tsv: the file holds no line of data"),
        (b"a\tb\nc\td\ncaf\xe9\tx\n", EncodingError, "my.tsv line 3: not valid UTF-8 (byte 0xe9 at column 4)"),
        ("a\tb\nabcdefghijk\tx\n", LineTooLongError, "my.tsv line 2: the source has 11 symbols (characters), over the limit of 10"),
        ("a\tb\nx\tabcdefghij\n", LineTooLongError, "my.tsv line 2: the target has 10 symbols (characters), over the limit of 9"),
    ],
)  # fmt: skip
def test_bad_tsv_names_file_and_line(tmp_path, content, error, message):
    path = write(tmp_path / "my.tsv", content)
    with pytest.raises(error) as raised:
        read_tsv(path, max_source_length=10, max_target_length=9)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(str(tmp_path / message.split(":")[0]) + ":")
    assert message.split(":", 1)[1] in str(raised.value)


def test_error_attributes(tmp_path):
    path = write(tmp_path / "my.tsv", "a\tb\nc\n")
    with pytest.raises(DataFileError) as raised:
        read_tsv(path)
    assert raised.value.path == str(path) and raised.value.line == 2


def test_missing_file_is_both_value_error_and_file_not_found(tmp_path):
    with pytest.raises(MissingFileError) as raised:
        read_tsv(tmp_path / "absent.tsv")
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, FileNotFoundError)
    assert str(raised.value) == f"{tmp_path / 'absent.tsv'}: no such file"
    with pytest.raises(MissingFileError, match="is a directory"):
        read_tsv(tmp_path)


def test_aligned_files_with_different_line_counts(tmp_path):
    source = write(tmp_path / "src.txt", "one\ntwo\nthree\n")
    target = write(tmp_path / "tgt.txt", "1\n2\n")
    with pytest.raises(LineCountError) as raised:
        read_aligned(source, target)
    message = str(raised.value)
    assert str(source) in message and str(target) in message
    assert "has 3 lines" in message and "has 2" in message


def test_aligned_errors_name_the_file_they_are_in(tmp_path):
    source = write(tmp_path / "src.txt", "one\ntwo\n")
    target = write(tmp_path / "tgt.txt", b"1\n\xff\n")
    with pytest.raises(EncodingError, match=r"tgt\.txt line 2: not valid UTF-8"):
        read_aligned(source, target)
    source = write(tmp_path / "src.txt", "one\ntwo\nthree\n")
    target = write(tmp_path / "tgt.txt", "1\n   \n3\n")
    with pytest.raises(ColumnError, match=r"tgt\.txt line 2: blank line"):
        read_aligned(source, target)


def test_truncate_policy(tmp_path):
    path = write(tmp_path / "my.tsv", "abcdef\tx y z w\nab\tx\n")
    pairs = read_tsv(path, symbols="characters", max_source_length=3, max_target_length=3, on_long="truncate")
    assert pairs.sources == ("abc", "ab") and pairs.targets == ("x y", "x") and pairs.truncated == 1
    pairs = read_tsv(path, symbols="whitespace", max_source_length=3, max_target_length=3, on_long="truncate")
    assert pairs.sources == ("abcdef", "ab") and pairs.targets == ("x y z", "x") and pairs.truncated == 1


def test_whitespace_symbols_count_words(tmp_path):
    path = write(tmp_path / "my.tsv", "a  b\tK  AE1 T W\n")
    with pytest.raises(LineTooLongError, match="the target has 4 symbols \\(whitespace\\), over the limit of 3"):
        read_tsv(path, symbols="whitespace", max_target_length=3)
    # A space-only field has no whitespace symbol: empty.
    write(path, "a\t   \n")
    with pytest.raises(ColumnError, match="line 1: empty target"):
        read_tsv(path, symbols="whitespace")


@pytest.mark.parametrize(
    "kwargs",
    [{"symbols": "words"}, {"on_long": "cut"}, {"max_source_length": 0}, {"max_target_length": True}],
)
def test_bad_arguments(tmp_path, kwargs):
    path = write(tmp_path / "my.tsv", "a\tb\n")
    with pytest.raises(ValueError, match="Received"):
        read_tsv(path, **kwargs)


def independent_split(source, train=0.9, validation=0.05):
    """The documented formula, written out again: SHA-1 of the UTF-8 text, first 8 bytes big-endian / 2**64."""
    position = int(hashlib.sha1(source.encode("utf-8")).hexdigest()[:16], 16) / float(1 << 64)
    return "train" if position < train else "validation" if position < train + validation else "test"


def test_split_is_a_fixed_function_of_the_source():
    # Fixed expected parts (computed once with the formula above): they must never change, or models
    # trained before and after would be scored on test sets that overlap their training data.
    expected = {
        "cat": "train",
        "naïve": "train",
        "word11": "validation",
        "word34": "validation",
        "word19": "test",
        "word181": "test",
    }
    for source, part in expected.items():
        assert split_of(source) == part == independent_split(source)
    assert [split_of(s, (0.5, 0.25, 0.25)) for s in ("banana", "cat", "dog")] == ["train", "validation", "test"]
    for index in range(300):
        source = f"source {index} ✓"
        assert split_of(source) == independent_split(source)


def test_split_key_follows_the_model_view():
    assert split_of("CAT", lowercase=True) == split_of("cat")
    assert split_of("a   b", symbols="whitespace") == split_of("a b", symbols="whitespace")


def test_split_honours_fractions_and_keeps_a_source_on_one_side(tmp_path):
    lines = [f"word{index}\t{index % 7}" for index in range(6000)]
    lines += [f"word{index}\tsecond reading" for index in range(0, 6000, 10)]  # repeated sources
    path = write(tmp_path / "big.tsv", "\n".join(lines) + "\n")
    pairs = read_tsv(path)
    splits = split_pairs(pairs)
    sizes = splits.sizes()
    assert sum(sizes.values()) == len(pairs) == 6600
    assert sizes["train"] / len(pairs) == pytest.approx(0.90, abs=0.02)
    assert sizes["validation"] / len(pairs) == pytest.approx(0.05, abs=0.015)
    assert sizes["test"] / len(pairs) == pytest.approx(0.05, abs=0.015)
    seen = {name: set(getattr(splits, name).sources) for name in ("train", "validation", "test")}
    assert not seen["train"] & seen["test"] and not seen["train"] & seen["validation"]
    assert not seen["validation"] & seen["test"]
    # File order is kept inside a part, with each pair's line number.
    test = splits.test
    assert list(test.lines) == sorted(test.lines)
    assert all(pairs.sources[line - 1] == source for line, source in zip(test.lines, test.sources))
    # The same file gives the same split again.
    assert split_pairs(read_tsv(path)) == splits


@pytest.mark.parametrize("fractions", [(0.9, 0.1), (0.8, 0.1, 0.2), (0.0, 0.5, 0.5), (1.1, -0.05, -0.05), "abc"])
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        split_of("x", fractions)


def test_build_tokenizers(tmp_path):
    path = write(tmp_path / "my.tsv", "Cat\tK AE1 T\ndog\tD AO1 G\n")
    pairs = read_tsv(path, symbols="whitespace")
    source, target = build_tokenizers(pairs, symbols="whitespace", lowercase=True)
    assert source.split == target.split == "whitespace"
    assert source.vocabulary == ["cat", "dog"]
    assert target.vocabulary == ["AE1", "AO1", "D", "G", "K", "T"]
    source, target = build_tokenizers(read_tsv(path), symbols="characters")
    assert source.vocabulary == ["C", "a", "d", "g", "o", "t"]
    assert " " in target.vocabulary


def test_sides_may_split_differently(tmp_path):
    # g2p-style data: characters in, space-separated phonemes out.
    path = write(tmp_path / "my.tsv", "cat\tK AE1 T\nbanana\tB AH0 N AE1 N AH0\n")
    pairs = read_tsv(path, symbols="characters", target_symbols="whitespace", max_source_length=6, max_target_length=6)
    assert pairs.targets[1] == "B AH0 N AE1 N AH0"
    with pytest.raises(
        LineTooLongError, match="line 2: the target has 6 symbols \\(whitespace\\), over the limit of 5"
    ):
        read_tsv(path, symbols="characters", target_symbols="whitespace", max_target_length=5)
    source, target = build_tokenizers(pairs, symbols="characters", target_symbols="whitespace")
    assert source.split == "characters" and target.split == "whitespace"
    with pytest.raises(ValueError, match="target_symbols"):
        read_tsv(path, target_symbols="phonemes")
