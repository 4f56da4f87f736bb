"""The pieces of `benchmarks/g2p_peers.py`: the stress-stripping scorer on hand examples, and the peer
built offline (skipped without the g2p-en package)."""

import importlib.util
import itertools
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import g2p_peers  # noqa: E402


def test_strip_stress_removes_only_vowel_stress_digits():
    # The benchmark scores through the library's `strip_stress` (keras_transformer.evaluation).
    from keras_transformer.evaluation import strip_stress

    assert strip_stress("AH0 B AW1 T") == "AH B AW T"
    assert strip_stress("IH2 NG G AO1 L Z") == "IH NG G AO L Z"
    assert strip_stress("  K  AE1 T ") == "K AE T"
    assert strip_stress("UW K T") == "UW K T"
    assert strip_stress("") == ""


def test_score_with_and_without_stress():
    predictions = ["AH0 B AW1 T", "K AE1 T", "D AO1 G"]
    # The first is right but for its stress; the second matches its second reference but for its
    # stress; the third is wrong by one phoneme either way.
    references = [["AH1 B AW1 T"], ["K AA1 T", "K AE0 T"], ["D AO1 G Z"]]
    scores = g2p_peers.score(predictions, references)
    assert scores["wer"] == pytest.approx(1.0)
    assert scores["per"] == pytest.approx(3 / 11)  # 1 + 1 + 1 edits over 4 + 3 + 4 phonemes
    assert scores["wer_no_stress"] == pytest.approx(1 / 3)
    assert scores["per_no_stress"] == pytest.approx(1 / 11)


# Not `pytest.importorskip("g2p_en")`: importing g2p_en runs its NLTK downloads, which `load_peer` avoids.
@pytest.mark.skipif(importlib.util.find_spec("g2p_en") is None, reason="needs the g2p-en package (the benchmark extra)")
def test_peer_network_runs_offline_without_its_lexicon():
    import nltk

    download = nltk.download
    peer = g2p_peers.load_peer()
    assert nltk.download is download  # the refusal is undone
    assert peer.cmu == {}  # no lexicon: predict is the network alone
    assert peer.predict("cat") == ["K", "AE1", "T"]


def test_is_folder_path_reads_model_as_the_zoo_does():
    assert not g2p_peers.is_folder_path("g2p_en")
    assert g2p_peers.is_folder_path("./g2p_en")
    assert g2p_peers.is_folder_path("saved_models/g2p_en")
    assert g2p_peers.is_folder_path("/abs/g2p_en")
    assert g2p_peers.is_folder_path("~/g2p_en")


def test_cli_command_runs_this_environment_predict():
    command = g2p_peers.cli_command("g2p_en")
    assert command[-2:] == ["predict", "g2p_en"]
    assert command[0].startswith(str(pathlib.Path(sys.executable).parent))
    # A folder path reaches the subprocess absolute, whatever its working directory.
    assert pathlib.Path(g2p_peers.cli_command("./some/folder")[-1]).is_absolute()


def test_parse_cli_output_keeps_input_order_and_checks_each_line():
    words = ["cat", "a", "dog"]
    assert g2p_peers.parse_cli_output("cat\tK AE1 T\na\tAH0\ndog\t\n", words) == ["K AE1 T", "AH0", ""]
    with pytest.raises(ValueError, match="2 lines for 3 words"):
        g2p_peers.parse_cli_output("cat\tK AE1 T\na\tAH0\n", words)
    with pytest.raises(ValueError, match="line 2"):
        g2p_peers.parse_cli_output("cat\tK AE1 T\ndog\tD AO1 G\na\tAH0\n", words)


def test_run_cli_feeds_every_word_on_stdin():
    script = "import sys\nfor line in sys.stdin: print(line.rstrip('\\n') + '\\t' + line.strip().upper())"
    echo = [sys.executable, "-c", script]
    assert g2p_peers.run_cli(echo, ["cat", "dog"]) == ["CAT", "DOG"]
    with pytest.raises(RuntimeError, match="exited with 3"):
        g2p_peers.run_cli([sys.executable, "-c", "raise SystemExit(3)"], ["cat"])


def test_table_ratio_column_and_targets():
    scores = {"wer": 0.3, "per": 0.1, "wer_no_stress": 0.2, "per_no_stress": 0.05}
    rows = [("default", "ours", scores, 250.0, 1.4e6), ("peer", "g2p-en", scores, 100.0, 0.83e6)]
    table = g2p_peers.table_lines(rows, peer_words_per_second=100.0)
    assert "× g2p-en" in table[0]
    assert table[2] == "| ours | 30.0% | 10.0% | 20.0% | 5.0% | 250 | 2.50× | 1.40M |"
    assert table[3].endswith("| 100 | 1.00× | 0.83M |")
    (line,) = g2p_peers.target_lines({"default": 250.0, "greedy": 400.0, "peer": 100.0}, 100.0, whole_split=True)
    assert "default decoding ≥ 2×: met (2.50×)" in line
    assert "greedy ≥ 5×: missed (4.00×)" in line
    assert "CLI stdin ≥ 1×: not measured" in line
    assert "whole test split" in line
    (line,) = g2p_peers.target_lines({"cli": 50.0}, 100.0, whole_split=False)
    assert "CLI stdin ≥ 1×: missed (0.50×)" in line and "indicative only" in line


def test_card_section_is_appended_once_and_replaced_in_place():
    card = "# m\n\n**Task.** x\n"
    once = g2p_peers.with_card_section(card, "| old |")
    assert once == "# m\n\n**Task.** x\n\n## Against g2p-en\n\n| old |\n"
    assert g2p_peers.with_card_section(once, "| new |") == once.replace("old", "new")
    # A later level-2 section stays where it was; a level-3 heading inside the old section goes with it.
    middle = "# m\n\n## Against g2p-en\n\n| old |\n\n### detail\n\ntext\n\n## Later\n\nkept\n"
    assert g2p_peers.with_card_section(middle, "| new |") == "# m\n\n## Against g2p-en\n\n| new |\n\n## Later\n\nkept\n"


def test_write_card_rewrites_the_manifest_so_the_folder_still_verifies(tmp_path):
    import shutil

    from keras_transformer.zoo.manifest import read_manifest, verify_manifest

    source = pathlib.Path(__file__).resolve().parents[1] / "saved_models" / "g2p_en"
    if not (source / "card.md").is_file():
        pytest.skip("no saved_models/g2p_en in this checkout")
    folder = tmp_path / "g2p_en"
    shutil.copytree(source, folder)
    before = read_manifest(folder)
    g2p_peers.write_card(folder, "| a table |")
    g2p_peers.write_card(folder, "| another table |")
    card = (folder / "card.md").read_text(encoding="utf-8")
    assert card.count("## Against g2p-en") == 1 and "| another table |" in card and "| a table |" not in card
    verify_manifest(folder)
    after = read_manifest(folder)
    assert after["card.md"] != before["card.md"]
    assert {name: digest for name, digest in after.items() if name != "card.md"} == {
        name: digest for name, digest in before.items() if name != "card.md"
    }


def test_lexicon_text_is_one_tab_separated_line_a_pair_and_refuses_what_the_aligner_cannot_read():
    words = ["tomato", "tomato", "o'neil"]
    pronunciations = ["T AH0 M EY1 T OW2", "T AH0 M AA1 T OW2", "OW0 N IY1 L"]
    assert g2p_peers.lexicon_text(words, pronunciations) == (
        "tomato\tT AH0 M EY1 T OW2\ntomato\tT AH0 M AA1 T OW2\no'neil\tOW0 N IY1 L\n"
    )
    assert g2p_peers.lexicon_text([], []) == ""
    for word, pronunciation in [
        ("a_b", "EY1 B IY1"),  # "_" is the aligner's "nothing"
        ("ab", "EY1|B IY1"),
        ("a}b", "EY1 B IY1"),
        ("a b", "EY1 B IY1"),
        ("", "EY1"),
        ("ab", ""),
        ("ab", "EY1  B IY1"),  # an empty phoneme between two spaces
        ("ab", "EY1\tB"),
    ]:
        with pytest.raises(ValueError, match="Received: word="):
            g2p_peers.lexicon_text([word], [pronunciation])
    with pytest.raises(ValueError, match="2 words, 1 pronunciations"):
        g2p_peers.lexicon_text(["a", "b"], ["EY1"])


def test_training_commands_are_phonetisaurus_trains_three_steps_with_our_options(tmp_path):
    align, estimate, convert = g2p_peers.training_commands(tmp_path, g2p_peers.PHONETISAURUS_OPTIONS)
    assert align == [
        str(tmp_path / "phonetisaurus-align"),
        "--input=lexicon.tsv",
        "--ofile=model.corpus",
        "--seq1_del=false",
        "--seq2_del=true",
        "--seq1_max=2",
        "--seq2_max=2",
        "--grow=true",
    ]
    assert estimate == [str(tmp_path / "estimate-ngram"), "-o", "8", "-t", "model.corpus", "-wl", "model.arpa"]
    assert convert == [str(tmp_path / "phonetisaurus-arpa2wfst"), "--lm=model.arpa", "--ofile=model.fst"]
    decoder = g2p_peers.g2pfst_command(tmp_path, tmp_path / "model.fst")
    assert decoder[0] == str(tmp_path / "phonetisaurus-g2pfst")
    assert f"--model={tmp_path / 'model.fst'}" in decoder and "--nbest=1" in decoder


def test_ngram_count_sums_the_arpa_header():
    arpa = ["", "\\data\\", "ngram 1=71", "ngram 2=1500", "ngram 3=20", "", "\\1-grams:", "-1.2\t<s>\t-0.3"]
    assert g2p_peers.ngram_count(arpa) == 1591
    assert g2p_peers.ngram_count(["no header"]) == 0


def test_phonetisaurus_key_changes_with_the_lexicon_the_options_and_the_version():
    options = g2p_peers.PHONETISAURUS_OPTIONS
    key = g2p_peers.phonetisaurus_key("a\tEY1\n", options, "0.3.2")
    assert key == g2p_peers.phonetisaurus_key("a\tEY1\n", dict(reversed(options.items())), "0.3.2")
    assert key != g2p_peers.phonetisaurus_key("a\tAH0\n", options, "0.3.2")
    assert key != g2p_peers.phonetisaurus_key("a\tEY1\n", {**options, "order": 7}, "0.3.2")
    assert key != g2p_peers.phonetisaurus_key("a\tEY1\n", options, "0.3.3")


def test_parse_cli_output_reads_phonetisaurus_lines_an_unknown_word_getting_no_phonemes():
    # What `phonetisaurus-g2pfst --print_scores=false` prints, a word of unknown letters included.
    output = "cat\tK AE1 T\n~~\t\ndog\tD AO1 G\n"
    assert g2p_peers.parse_cli_output(output, ["cat", "~~", "dog"]) == ["K AE1 T", "", "D AO1 G"]


def test_phonetisaurus_row_and_notes():
    scores = {"wer": 0.345, "per": 0.091, "wer_no_stress": 0.268, "per_no_stress": 0.065}
    rows = [("phonetisaurus", "Phonetisaurus", scores, 1950.0, 2.5e6), ("peer", "g2p-en", scores, 1300.0, 0.83e6)]
    table = g2p_peers.table_lines(rows, peer_words_per_second=1300.0)
    assert table[2] == "| Phonetisaurus | 34.5% | 9.1% | 26.8% | 6.5% | 1950 | 1.50× | 2.50M |"
    options = g2p_peers.PHONETISAURUS_OPTIONS
    trained = {"version": "0.3.2", "options": options, "pairs": 100, "aligned": 100, "ngrams": 2500000,
               "seconds": {"align": 150.0, "estimate-ngram": 20.0, "arpa2wfst": 15.0, "total": 185.0},
               "date": "2026-12-07", "folder": "runs/x"}  # fmt: skip
    training, speed = g2p_peers.phonetisaurus_lines(trained)
    assert "exactly our train split, its 100 (word, pronunciation) pairs (every one aligned)" in training
    assert "`phonetisaurus-align --seq1_del=false --seq2_del=true --seq1_max=2 --seq2_max=2 --grow=true`" in training
    assert "`estimate-ngram -o 8`" in training and "Training took 185 s (aligning 150 s" in training
    assert "phonetisaurus-g2pfst --nbest=1" in speed and "from its start" in speed
    (training, _) = g2p_peers.phonetisaurus_lines({**trained, "aligned": 97})
    assert "(3 of them dropped as unalignable)" in training


def test_without_the_package_no_tools_and_a_required_row_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(g2p_peers.importlib.util, "find_spec", lambda name: None)
    assert g2p_peers.phonetisaurus_tools() is None
    monkeypatch.setattr(sys, "argv", ["g2p_peers.py", "--phonetisaurus", "--no-write"])
    with pytest.raises(SystemExit) as exit_info:
        g2p_peers.main()  # refused before anything is loaded
    assert exit_info.value.code == 2
    assert g2p_peers.PHONETISAURUS_INSTALL in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("phonetisaurus") is None, reason=f"needs {g2p_peers.PHONETISAURUS_INSTALL}"
)
def test_phonetisaurus_trains_decodes_and_reuses_its_model(tmp_path):
    from keras_transformer.data import cmudict_g2p

    tools = g2p_peers.phonetisaurus_tools()
    train = [example for _, example in itertools.islice(cmudict_g2p.generate_examples(split="train"), 300)]
    test = [example for _, example in itertools.islice(cmudict_g2p.generate_examples(split="test"), 20)]
    lexicon = g2p_peers.lexicon_text([row["word"] for row in train], [row["phonemes"] for row in train])
    record, trained = g2p_peers.train_phonetisaurus(lexicon, tmp_path, tools)
    assert trained and record["pairs"] == 300 and record["aligned"] == 300 and record["ngrams"] > 0
    folder = pathlib.Path(record["folder"])
    assert sorted(path.name for path in tmp_path.iterdir()) == [folder.name]  # no temporary folder left
    assert (folder / "lexicon.tsv").read_text(encoding="utf-8") == lexicon and not (folder / "model.arpa").exists()
    again, trained = g2p_peers.train_phonetisaurus(lexicon, tmp_path, tools)
    assert not trained and again == record
    words = [row["word"] for row in test]
    predictions = g2p_peers.run_cli(g2p_peers.g2pfst_command(tools, folder / "model.fst"), words)
    assert len(predictions) == 20 and all(predictions)
    # 300 words teach little, but a trained model gets some phonemes right.
    assert g2p_peers.score(predictions, [row["pronunciations"] for row in test])["per"] < 0.8
