import pytest

from keras_transformer.zoo.prepared import CACHE_VARIABLE


@pytest.fixture(scope="module")
def own_cache(tmp_path_factory):
    """A cache folder of the test module's own (CTranslate2 conversions, prepared runtimes), so that
    every conversion in it starts cold and none is left to another module."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_VARIABLE, str(folder))
        yield folder
