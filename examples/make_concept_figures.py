"""Regenerate every picture of the concept guides (docs/concepts.md, docs/concepts.ja.md) from a zoo model.

The pictures come from `g2p_en`, the zoo's English grapheme-to-phoneme model (CMUdict; 3 encoder and
3 decoder layers, 4 heads, d_model 128), reading one word: its letters are the source, its ARPAbet
phonemes the target, so every attention map has readable tokens on both axes. The training curves come
from the `history.csv` its zoo folder keeps. Two pictures (query/key/value and the scaling of the
scores) use small hand-made inputs instead, to show one idea without a model around it.

    python examples/make_concept_figures.py                        # g2p_en on "transformer" -> docs/images/*.png
    python examples/make_concept_figures.py --zoo itn_numbers --source "forty-two" --output-dir /tmp/figures
"""

import argparse
import pathlib
import sys

import numpy as np

from keras_transformer import layers, viz, zoo

IMAGES = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images"


def load_zoo_model(name):
    """`zoo.load(name)`, or exit with its message (unknown name, missing file, bad checksum)."""
    try:
        return zoo.load(name)
    except zoo.ZooError as error:
        sys.exit(str(error))


def most_focused_head(weights):
    """The head whose query rows put the most weight on a single key, from `(H, T, S)` weights."""
    return int(weights.max(axis=-1).mean(axis=-1).argmax())


def least_diagonal_layer(weights):
    """The layer whose heads put the least weight on the query's own position, from `(N, H, S, S)`
    self-attention weights: where tokens look most at other tokens (the interesting picture)."""
    weights = np.asarray(weights)
    on_self = np.diagonal(weights, axis1=-2, axis2=-1).mean(axis=(-2, -1))  # (N,)
    return int(on_self.argmin())


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
        print(f"the zoo folder has no history.csv: {output_dir / 'transformer_vs_rnn.png'} is not written")
    head = most_focused_head(maps.source_target_attention[last])
    save("source_target_attention", viz.plot_attention, maps, kind="source_target", layer=last, head=head)
    save("self_attention", viz.plot_attention, maps, kind="encoder_self", layer=least_diagonal_layer(maps.encoder_self_attention))
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
    parser.add_argument("--zoo", default="g2p_en", help="the zoo model (default: %(default)s)")
    parser.add_argument("--source", default="transformer", help="the input the attention pictures show")
    parser.add_argument("--output-dir", type=pathlib.Path, default=IMAGES)
    args = parser.parse_args(argv)

    entry = load_zoo_model(args.zoo)
    written = make_figures(
        entry.model, args.source, entry.source_tokenizer, entry.target_tokenizer, entry.history, args.output_dir
    )
    for path in written:
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return written


if __name__ == "__main__":
    main()
