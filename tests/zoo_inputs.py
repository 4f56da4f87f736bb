"""The test-split inputs of a zoo model, the same on every machine.

They are walked from the dataset builder's own `generate_examples(config, split)`, never read from a
prepared copy: a prepared dataset lists its examples in another order, so a test that read it when
present would test other inputs on a machine with a warm cache than on a fresh one.
"""

import importlib
import itertools

from keras_transformer.data import BUILDERS


def test_split_pairs(info, count=None, split="test", field=None):
    """The first `count` (all for None) examples of `split` (the test split by default) of the zoo
    model whose `ZooInfo` is `info`, as `(source, target)` pairs, in the builder's generation order;
    `field` names the target field (default `info.target_field`; e.g. `info.references_field`)."""
    builder = BUILDERS[info.dataset]
    config = builder.builder_configs[info.dataset_config or builder.DEFAULT_CONFIG_NAME] if builder.BUILDER_CONFIGS else None
    module = importlib.import_module(builder.__module__)
    examples = itertools.islice(module.generate_examples(config, split=split), count)
    return [(example[info.source_field], example[field or info.target_field]) for _, example in examples]


test_split_pairs.__test__ = False  # a helper, not a test
