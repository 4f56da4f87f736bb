"""`evaluation.evaluate`: score a zoo model or a pipeline on given texts or on its dataset's split, in one call."""

import pytest

from keras_transformer import DecodingSettings, TextPipeline, TransformerConfig, build_transformer, evaluation, zoo
from keras_transformer.text import Tokenizer


def tiny_pipeline(sources, targets):
    source = Tokenizer.from_corpus(sources, lowercase=True)
    target = Tokenizer.from_corpus(targets)
    config = TransformerConfig.from_name("tiny", source_vocab_size=source.vocabulary_size,
                                         target_vocab_size=target.vocabulary_size, max_length=48)  # fmt: skip
    return TextPipeline(build_transformer(config, name="tiny"), source, target, DecodingSettings(max_output_length=6))


def test_given_texts_are_decoded_once_and_scored():
    pipeline = tiny_pipeline(["abc", "cab"], ["12", "21"])
    sources, references = ["abc", "cab", "bca"], ["12", ["21", "12"], "33"]
    result = evaluation.evaluate(pipeline, "heldout", sources=sources, references=references,
                                 metrics=["exact_match", "character_error_rate"])  # fmt: skip
    assert result.predictions == pipeline.predict(sources)
    assert result.sources == sources and result.references == [["12"], ["21", "12"], ["33"]]
    report = result.report
    assert (report["model"], report["split"], report["examples"], report["strategy"]) == (
        "tiny",
        "heldout",
        3,
        "greedy",
    )
    assert report["measured"] == {
        "exact_match": round(evaluation.exact_match(result.predictions, references), 4),
        "character_error_rate": round(evaluation.character_error_rate(result.predictions, references), 4),
    }
    assert report["card"] == {} and result.seconds >= 0


def test_limit_and_decoding_overrides():
    pipeline = tiny_pipeline(["abc"], ["12"])
    result = evaluation.evaluate(
        pipeline, limit=2, sources=["a", "b", "c"], references=["1", "2", "3"], strategy="beam"
    )
    assert result.report["examples"] == 2 and result.report["strategy"] == "beam"
    assert result.predictions == pipeline.predict(["a", "b"], strategy="beam")


def test_errors_say_what_is_missing():
    pipeline = tiny_pipeline(["abc"], ["12"])
    with pytest.raises(ValueError, match="names no keras_transformer.data dataset"):
        evaluation.evaluate(pipeline)
    with pytest.raises(ValueError, match="both `sources` and `references`"):
        evaluation.evaluate(pipeline, sources=["a"])
    with pytest.raises(ValueError, match="Unknown metrics"):
        evaluation.evaluate(pipeline, sources=["a"], references=["1"], metrics=["bleu"])


def test_a_zoo_models_info_gives_the_metrics_and_the_card_figures(tmp_path):
    info = zoo.ZooInfo(task="t", metrics=("character_error_rate",), card_metrics={"character_error_rate": 0.25})
    zoo.save(tmp_path / "tiny", tiny_pipeline(["abc"], ["12"]), info, "# card\n")
    model = zoo.load(str(tmp_path / "tiny"))
    result = evaluation.evaluate(model, "heldout", sources=["a", "b"], references=["1", "2"], strategy="beam")
    assert set(result.report["measured"]) == {"character_error_rate"} and result.report["strategy"] == "beam"
    assert result.report["card"] == {"character_error_rate": 0.25} and result.report["model"] == "tiny"
    assert result.predictions == model.runtime.predict(["a", "b"], strategy="beam")
    # The same info given with a bare pipeline.
    bare = evaluation.evaluate(model.runtime, "heldout", info=info, sources=["a", "b"], references=["1", "2"])
    assert bare.report["card"] == {"character_error_rate": 0.25} and bare.report["strategy"] == "greedy"


def test_a_split_of_the_dataset_its_info_names_is_read(tmp_path):
    info = zoo.ZooInfo(task="itn", dataset="num2words_itn", dataset_config="small", source_field="text",
                       target_field="digits", metrics=("exact_match",), card_metrics={"exact_match": 0.5})  # fmt: skip
    pipeline = tiny_pipeline(["one two three"], ["123"])
    result = evaluation.evaluate(pipeline, "test", limit=10, info=info, data_dir=tmp_path / "tfds")
    assert result.report["split"] == "test[:10]" and result.report["examples"] == len(result.sources) == 10
    assert result.report["card"] == {"exact_match": 0.5} and set(result.report["measured"]) == {"exact_match"}
    assert all(isinstance(text, str) for text in result.sources)
    assert all(len(references) == 1 and references[0][:1].isdigit() for references in result.references)
