"""One Keras backend's side of the cross-backend tests (the backend is fixed at `import keras`, so each
backend runs in a process of its own): `python tests/backends/worker.py DIR COMMAND [COMMAND ...]`.

- `save`: build the shared tiny config, train one step, save `DIR/<backend>.weights.h5` and
  `DIR/<backend>.keras`, and write what this model computes to `DIR/<backend>.npz`.
- `load`: load every other backend's two files and write what they compute here to
  `DIR/<producer>.<format>.on.<backend>.npz`.
- `zoo`: rebuild each seq2seq zoo model from its `config.json` and `model.weights.h5` and write its
  logits and `generate` outputs (with the model's own decoding settings) to `DIR/zoo.<backend>.npz`.
  The source ids are those the TensorFlow run wrote in `DIR/zoo_inputs.npz` (its tokenizers).
- `export:<producer>`: on TensorFlow, rebuild the model that `save` wrote on another backend (its
  config and weights), export it to TFLite and write the TFLite outputs to `DIR/export.npz`.
- `refusals`: try what needs TensorFlow's backend and write the errors to `DIR/refusals.<backend>.json`.

Every output is written with `keras.ops.convert_to_numpy`, so the parent compares NumPy arrays.
"""

import json
import os
import pathlib
import sys

import keras
import numpy as np

import keras_transformer
from keras_transformer import TransformerConfig, build_transformer, training
from keras_transformer.decoding import DecodingSettings, generate

BACKENDS = ("tensorflow", "jax", "torch")
CONFIG = TransformerConfig.from_name(
    "tiny", source_vocab_size=40, target_vocab_size=40, d_model=32, num_heads=4, num_encoder_layers=2, num_decoder_layers=2, max_length=16
)
ZOO = pathlib.Path(__file__).resolve().parents[2] / "saved_models"
# Inputs per zoo model (what `.ci/run` feeds `keras-transformer predict`, and a few more).
ZOO_TEXTS = {
    "g2p_en": ["transformer", "keras", "backend", "a"],
    "itn_numbers": ["twenty one", "one hundred and five", "seven"],
    "dates_iso": ["5 June 2024", "december 31, 1999", "1/2/2003"],
}
# The searches compared token for token; sampling draws the same numbers on every backend.
SEARCHES = {
    "greedy": {},
    "beam": {"strategy": "beam", "beam_size": 3},
    "sample": {"strategy": "sample", "seed": 3, "top_k": 5, "top_p": 0.9, "temperature": 1.5},
}


def inputs():
    rng = np.random.default_rng(0)
    source = rng.integers(3, 40, size=(4, 9)).astype("int32")
    target = rng.integers(3, 40, size=(4, 7)).astype("int32")
    source[1, 5:], target[1, 4:] = 0, 0
    return {"encoder_tokens": source, "decoder_tokens": target}


def outputs(model, batch, searches=SEARCHES, max_length=12, start_id=1, end_id=2):
    """Logits and every search's outputs of `model` on `batch`, as NumPy arrays in one flat dict."""
    values = {"logits": model(batch, training=False)}
    for name, options in searches.items():
        settings = DecodingSettings(**options).replace(max_output_length=max_length)
        generated = generate(model, batch["encoder_tokens"], settings, start_id=start_id, end_id=end_id)
        values.update({f"{name}.{key}": value for key, value in generated.items()})
    return {key: keras.ops.convert_to_numpy(value) for key, value in values.items()}


def save(directory, backend):
    keras.utils.set_random_seed(7)
    model = build_transformer(CONFIG)
    batch = inputs()
    # One step of training, so that the weights are not the initializers' (and optimizer slots exist).
    model.compile(optimizer=training.paper_optimizer(CONFIG.d_model, warmup_steps=10), loss=training.MaskedSparseCrossEntropy())
    model.fit(batch, batch["decoder_tokens"], epochs=1, verbose=0)
    model.save_weights(directory / f"{backend}.weights.h5")
    model.save(directory / f"{backend}.keras")
    np.savez(directory / f"{backend}.npz", **outputs(model, batch))


def load(directory, backend):
    batch = inputs()
    for producer in BACKENDS:
        if producer == backend:
            continue
        model = build_transformer(CONFIG)
        model.load_weights(directory / f"{producer}.weights.h5")
        np.savez(directory / f"{producer}.weights.on.{backend}.npz", **outputs(model, batch))
        loaded = keras_transformer.load_model(directory / f"{producer}.keras")  # registers our classes
        np.savez(directory / f"{producer}.keras.on.{backend}.npz", **outputs(loaded, batch))


def zoo_model(name):
    folder = ZOO / name
    config = TransformerConfig.from_json((folder / "config.json").read_text(encoding="utf-8"))
    model = build_transformer(config)
    model.load_weights(folder / "model.weights.h5")
    settings = DecodingSettings.from_dict(json.loads((folder / "zoo.json").read_text(encoding="utf-8"))["decoding"])
    return model, settings


def zoo(directory, backend):
    if backend == "tensorflow":
        from keras_transformer import zoo as zoo_package

        ids = {}
        for name, texts in ZOO_TEXTS.items():
            pipeline = zoo_package.load(name)
            ids[f"{name}.source"] = pipeline.encode_texts(texts)
            ids[f"{name}.ends"] = np.array([pipeline.target_tokenizer.start_id, pipeline.target_tokenizer.end_id])
        np.savez(directory / "zoo_inputs.npz", **ids)
    ids = np.load(directory / "zoo_inputs.npz")
    values = {}
    for name in ZOO_TEXTS:
        model, settings = zoo_model(name)
        source = ids[f"{name}.source"]
        start_id, end_id = (int(i) for i in ids[f"{name}.ends"])
        # Logits along the greedy output, so that the decoder sees what it would in use.
        greedy = generate(model, source, max_output_length=settings.max_output_length, start_id=start_id, end_id=end_id)["tokens"]
        starts = np.full((len(source), 1), start_id, "int32")
        batch = {"encoder_tokens": source, "decoder_tokens": np.concatenate([starts, keras.ops.convert_to_numpy(greedy)[:, :-1]], axis=1)}
        searches = {"greedy": {}, "card": settings.to_dict()}
        found = outputs(model, batch, searches, settings.max_output_length, start_id, end_id)
        values.update({f"{name}.{key}": value for key, value in found.items()})
    np.savez(directory / f"zoo.{backend}.npz", **values)


def export(directory, backend, producer):
    """Rebuild on TensorFlow what `producer` trained and saved, export it, run the TFLite file."""
    from ai_edge_litert.interpreter import Interpreter

    from keras_transformer.export import export as export_model

    assert backend == "tensorflow", backend
    model = build_transformer(CONFIG)
    model.load_weights(directory / f"{producer}.weights.h5")
    written = export_model(model, "tflite", directory / "tflite")
    interpreter = Interpreter(model_path=str(written["forward"]))
    runner = interpreter.get_signature_runner()
    logits = runner(**inputs())["logits"]
    generated = Interpreter(model_path=str(written["generator"])).get_signature_runner()(encoder_tokens=inputs()["encoder_tokens"])
    np.savez(directory / "export.npz", logits=logits, tokens=generated["tokens"])


def refusals(directory, backend):
    from keras_transformer import TextPipeline
    from keras_transformer.export import export as export_model
    from keras_transformer.text import Tokenizer

    model = build_transformer(CONFIG)
    tokenizer = Tokenizer.from_corpus(["abc"])
    attempts = {
        "TextPipeline": lambda: TextPipeline(model, tokenizer, tokenizer),
        "export": lambda: export_model(model, "tflite", directory / f"refused.{backend}"),
    }
    messages = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            messages[name] = None
        except RuntimeError as error:
            messages[name] = str(error)
    (directory / f"refusals.{backend}.json").write_text(json.dumps(messages), encoding="utf-8")


COMMANDS = {"save": save, "load": load, "zoo": zoo, "export": export, "refusals": refusals}

if __name__ == "__main__":
    directory, backend = pathlib.Path(sys.argv[1]), keras.backend.backend()
    assert backend == os.environ.get("KERAS_BACKEND", "tensorflow"), backend
    for command in sys.argv[2:]:
        name, *arguments = command.split(":")
        COMMANDS[name](directory, backend, *arguments)
