import pytest

from keras_transformer.models import TransformerConfig, build_transformer


def test_named_sizes_follow_the_paper():
    base = TransformerConfig.from_name("base", source_vocab_size=37000, target_vocab_size=37000)
    assert (base.d_model, base.num_heads, base.d_ff, base.num_encoder_layers, base.num_decoder_layers, base.dropout) == (
        512,
        8,
        2048,
        6,
        6,
        0.1,
    )
    big = TransformerConfig.from_name("big", source_vocab_size=10, target_vocab_size=10)
    assert (big.d_model, big.num_heads, big.d_ff, big.dropout) == (1024, 16, 4096, 0.3)
    assert TransformerConfig.from_name("tiny", d_model=64).d_model == 64
    assert set(TransformerConfig.names()) == {"tiny", "compact", "small", "base", "big"}


def test_json_round_trip():
    config = TransformerConfig.from_name("small", source_vocab_size=50, target_vocab_size=60, normalize_first=True)
    assert TransformerConfig.from_json(config.to_json()) == config


def count_base_parameters(vocabulary, d_model=512, d_ff=2048, layers=6):
    """The paper's base model counted by hand: shared embedding (tied output), attention projections with
    biases, feed-forward, layer norms."""
    attention = 4 * (d_model * d_model + d_model)
    feed_forward = d_model * d_ff + d_ff + d_ff * d_model + d_model
    norm = 2 * d_model
    encoder = layers * (attention + feed_forward + 2 * norm)
    decoder = layers * (2 * attention + feed_forward + 3 * norm)
    return vocabulary * d_model + encoder + decoder


def test_base_with_shared_37000_vocabulary_and_tied_output_has_the_hand_counted_parameters():
    config = TransformerConfig.from_name(
        "base", source_vocab_size=37000, target_vocab_size=37000, share_embeddings=True, tie_output=True
    )
    model = build_transformer(config)
    assert model.count_params() == count_base_parameters(37000) == 63_082_496


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_model": 250, "num_heads": 8}, "d_model=250, num_heads=8"),
        ({"d_model": 0}, "d_model=0"),
        ({"d_ff": -5}, "d_ff=-5"),
        ({"num_encoder_layers": 0}, "num_encoder_layers=0"),
        ({"max_length": 2.5}, "max_length=2.5"),
        ({"dropout": 1.0}, "dropout=1.0"),
        ({"dropout": -0.1}, "dropout=-0.1"),
        ({"activation": "tanh"}, "activation='tanh'"),
        ({"source_vocab_size": 10, "share_embeddings": True}, "source_vocab_size=10, target_vocab_size=100"),
        ({"tie_output": "yes"}, "tie_output='yes'"),
    ],
)
def test_invalid_configs_name_the_argument_and_value(overrides, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TransformerConfig.from_name("tiny", **overrides)


def test_unknown_name_and_fields():
    with pytest.raises(ValueError, match="name='huge'"):
        TransformerConfig.from_name("huge")
    with pytest.raises(ValueError, match="d_models"):
        TransformerConfig.from_name("tiny", d_models=3)
    with pytest.raises(ValueError, match="source_vocab_size"):
        TransformerConfig.from_name("base")
    with pytest.raises(TypeError, match="TransformerConfig"):
        build_transformer({"d_model": 8})


def test_marian_options_validate_and_round_trip():
    from keras_transformer import TransformerConfig

    config = TransformerConfig.from_name(
        "tiny", decoder_self_attention="ssru", positional_layout="tensor2tensor", scale_embeddings=False,
        share_embeddings=True, output_bias=True, layer_norm_epsilon=1e-9,
    )  # fmt: skip
    assert TransformerConfig.from_json(config.to_json()) == config
    old = {k: v for k, v in TransformerConfig.from_name("tiny").to_dict().items()}
    for field in ("decoder_self_attention", "positional_layout", "scale_embeddings", "output_bias", "layer_norm_epsilon"):
        old.pop(field)  # a config.json written before these options existed
    assert TransformerConfig.from_dict(old) == TransformerConfig.from_name("tiny")
    for field, value in (("decoder_self_attention", "lstm"), ("positional_layout", "sines"), ("layer_norm_epsilon", 0)):
        with pytest.raises(ValueError, match=field):
            TransformerConfig.from_name("tiny", **{field: value})
    with pytest.raises(ValueError, match="output_bias=True with tie_output=False"):
        TransformerConfig.from_name("tiny", output_bias=True, tie_output=False)
