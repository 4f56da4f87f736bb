"""The pieces of `benchmarks/g2p_peers.py`: the stress-stripping scorer on hand examples, and the peer
built offline (skipped without the g2p-en package)."""

import importlib.util
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))

import g2p_peers  # noqa: E402


def test_strip_stress_removes_only_vowel_stress_digits():
    assert g2p_peers.strip_stress("AH0 B AW1 T") == "AH B AW T"
    assert g2p_peers.strip_stress("IH2 NG G AO1 L Z") == "IH NG G AO L Z"
    assert g2p_peers.strip_stress("  K  AE1 T ") == "K AE T"
    assert g2p_peers.strip_stress("UW K T") == "UW K T"
    assert g2p_peers.strip_stress("") == ""


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
