"""Regenerate every picture of the concept guides (docs/concepts.md, docs/concepts.ja.md) from a model.

By default a small Transformer is trained here, in a few minutes on 2 CPU cores, to reverse words of
letters (the task of examples/train_reverse.py, spelled with a character tokenizer so the axes show
letters). Reversing sends the first output to the last input, so its source-target attention is an
easy pattern to read. With `--zoo NAME` a pretrained model from `keras_transformer.zoo` is used
instead (once the zoo has one).

    python examples/make_concept_figures.py                          # train, then write docs/images/*.png
    python examples/make_concept_figures.py --zoo g2p_en --source transformer
"""

import argparse
import pathlib
import string
import sys
import time

import keras
import numpy as np

import keras_transformer
from keras_transformer import layers, training, viz
from keras_transformer.text import Tokenizer

IMAGES = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images"
LETTERS = string.ascii_lowercase


def train_reverse_model(examples, epochs, max_length, seed):
    """A 2+2-layer, 4-head model fitted to reverse words of 3 to `max_length` letters.

    Returns `(model, tokenizer, history)`; the tokenizer serves as source and target tokenizer.
    """
    keras.utils.set_random_seed(seed)
    tokenizer = Tokenizer(list(LETTERS))
    rng = np.random.default_rng(seed)
    first_letter = tokenizer.vocabulary_size - len(LETTERS)

    def words(count):
        lengths = rng.integers(3, max_length + 1, size=count)
        return [rng.integers(first_letter, tokenizer.vocabulary_size, size=n).tolist() for n in lengths]

    config = keras_transformer.TransformerConfig.from_name(
        "tiny",
        source_vocab_size=tokenizer.vocabulary_size,
        target_vocab_size=tokenizer.vocabulary_size,
        d_model=64,
        num_heads=4,
        d_ff=128,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dropout=0.0,
        max_length=max_length + 2,  # the start id, the word, the end id
        share_embeddings=True,
    )
    model = keras_transformer.build_transformer(config)
    model.compile(
        optimizer=training.paper_optimizer(config.d_model, warmup_steps=400),
        loss=training.MaskedSparseCrossEntropy(label_smoothing=0.1),
        metrics=[training.MaskedAccuracy(name="accuracy")],
    )
    ids = dict(start_id=tokenizer.start_id, end_id=tokenizer.end_id)
    train_sources, validation_sources = words(examples), words(500)
    train = training.teacher_forcing(train_sources, [w[::-1] for w in train_sources], **ids)
    validation = training.teacher_forcing(validation_sources, [w[::-1] for w in validation_sources], **ids)
    started = time.perf_counter()
    history = model.fit(*train, batch_size=64, epochs=epochs, validation_data=validation, verbose=2)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    return model, tokenizer, history


def load_zoo_model(name):
    """`(model, source_tokenizer, target_tokenizer)` of zoo model `name` (`keras_transformer.zoo.load`)."""
    try:
        from keras_transformer import zoo
    except ImportError:
        sys.exit("keras_transformer.zoo is not available in this checkout: run without --zoo.")
    try:
        entry = zoo.load(name)
    except ValueError as error:  # zoo.ZooError: unknown name, missing file, bad checksum
        sys.exit(str(error))
    return entry.model, entry.source_tokenizer, entry.target_tokenizer


def most_focused_head(weights):
    """The head whose query rows put the most weight on a single key, from `(H, T, S)` weights."""
    return int(weights.max(axis=-1).mean(axis=-1).argmax())


def toy_query_key_value():
    """Three keys (two fruits, one vehicle) and two queries, in a 4-dimensional feature space."""
    # Features: [is fruit, is vehicle, is yellow, is red]
    keys = np.array([[3, 0, 0, 3], [3, 0, 3, 0], [0, 3, 0, 3]], "float32")  # apple, banana, car
    values = np.eye(3, dtype="float32")
    queries = np.array([[3, 0, 3, 0], [0, 3, 0, 0], [0, 0, 0, 3]], "float32")  # yellow fruit?, vehicle?, red?
    output, weights = layers.scaled_dot_product_attention(queries[None], keys[None], values[None])
    return np.asarray(weights)[0], np.asarray(output)[0]


def scaling_comparison(d_k=256, seed=0):
    """softmax(QKᵀ) and softmax(QKᵀ/√d_k) for random unit-variance queries and keys, as `(2, T, S)`."""
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(1, 4, d_k)).astype("float32")
    key = rng.normal(size=(1, 6, d_k)).astype("float32")
    _, scaled = layers.scaled_dot_product_attention(query, key, key)
    # Multiplying the queries by √d_k cancels the scaling: what the softmax would see without it.
    _, unscaled = layers.scaled_dot_product_attention(query * np.sqrt(d_k), key, key)
    return np.stack([np.asarray(unscaled)[0], np.asarray(scaled)[0]])


def make_figures(model, source, source_tokenizer, target_tokenizer, history, output_dir):
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def save(name, figure_function, *args, **kwargs):
        path = output_dir / f"{name}.png"
        figure_function(*args, save_path=path, **kwargs)
        written.append(path)

    maps = viz.attention_maps(model, source, source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer)
    print(f"source {maps.source_tokens} -> decoder input {maps.target_tokens}")
    last = maps.num_layers - 1
    if history is not None:
        save("transformer_vs_rnn", viz.plot_history, history)
    else:
        print("no training history for this model: transformer_vs_rnn.png is left as it is")
    head = most_focused_head(maps.source_target_attention[last])
    save("source_target_attention", viz.plot_attention, maps, kind="source_target", layer=last, head=head)
    save("self_attention", viz.plot_attention, maps, kind="encoder_self", layer=0)
    save("encoder_decoder", viz.plot_attention_overview, maps, layer=last)
    save("masked_self_attention", viz.plot_attention, maps, kind="decoder_masked_self", layer=last)
    weights, _ = toy_query_key_value()
    save(
        "query_key_value",
        viz.plot_attention_weights,
        weights,
        ["query: yellow fruit?", "query: vehicle?", "query: red?"],
        ["key: apple", "key: banana", "key: car"],
        panel_titles=["softmax(q·k / √d_k) for each query"],
    )
    save(
        "scaled_dot_product_attention",
        viz.plot_attention_weights,
        scaling_comparison(),
        [f"q{i}" for i in range(4)],
        [f"k{j}" for j in range(6)],
        title="random queries and keys, d_k = 256",
        panel_titles=["softmax(QKᵀ): not scaled", "softmax(QKᵀ / √d_k): scaled"],
    )
    save("multi_head_attention", viz.plot_attention, maps, kind="source_target", layer=last)
    d_model = model.get_layer("source_embedding").d_model
    save("positional_encoding", viz.plot_positional_encoding, 50, d_model)
    save("output_probabilities", viz.plot_output_probabilities, maps)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", help="use this zoo model instead of training one (keras_transformer.zoo.load)")
    parser.add_argument("--source", default="attention", help="the example the attention pictures show")
    parser.add_argument("--examples", type=int, default=16000, help="training words (without --zoo)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=10, help="longest training word")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", type=pathlib.Path, default=IMAGES)
    args = parser.parse_args(argv)

    if args.zoo:
        model, source_tokenizer, target_tokenizer = load_zoo_model(args.zoo)
        history = None  # a zoo folder keeps no training history
    else:
        model, source_tokenizer, history = train_reverse_model(args.examples, args.epochs, args.max_length, args.seed)
        target_tokenizer = source_tokenizer
    written = make_figures(model, args.source, source_tokenizer, target_tokenizer, history, args.output_dir)
    for path in written:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return written


if __name__ == "__main__":
    main()
