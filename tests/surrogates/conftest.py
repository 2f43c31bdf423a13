"""Each optimiser test starts with an empty anchor-fit cache (`surrogates.warm`)."""

import pytest

from surrogates.warm import clear_cache


@pytest.fixture(autouse=True)
def _fresh_warm_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def notpsd_once(monkeypatch):
    """The first GP fit raises NotPSDError (as gpytorch does when jitter runs out), later
    fits run normally; returns {"n": number of fit calls so far}."""
    from linear_operator.utils.errors import NotPSDError

    from surrogates import models

    calls = {"n": 0}
    real = models.fit_gpytorch_mll

    def flaky(mll, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise NotPSDError("Matrix not positive definite after repeatedly adding jitter")
        return real(mll, *a, **kw)

    monkeypatch.setattr(models, "fit_gpytorch_mll", flaky)
    return calls
