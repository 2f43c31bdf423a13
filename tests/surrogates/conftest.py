"""Each optimiser test starts with an empty anchor-fit cache (`surrogates.warm`)."""

import pytest

from surrogates.warm import clear_cache


@pytest.fixture(autouse=True)
def _fresh_warm_cache():
    clear_cache()
    yield
    clear_cache()
