"""qLogNEHVI never JIT-compiles BoTorch's fused C++ kernel (surrogates/acquisition.py).

Found by `sdl bench campaign` (issue 17): the compile ran g++ for ~22 s at > 1 GB RSS in
the middle of a campaign, hung forever on a lock file left by a killed process, and ties
the numbers to the compiling CPU (-march=native), which replay cannot allow.
"""

from __future__ import annotations

import torch.utils.cpp_extension as cpp_extension
from botorch.acquisition.multi_objective import logei

import surrogates.acquisition as acquisition
from surrogates import propose
from surrogates.settings import FAST
from tests.surrogates._campaigns import make_campaign
from tests.surrogates.test_strategies import history_from_sobol


def test_multi_objective_propose_never_compiles_the_fused_kernel(monkeypatch):
    calls = []
    monkeypatch.setattr(cpp_extension, "load", lambda *a, **k: calls.append(k.get("name")))
    # as in a fresh process: nothing tried yet; importing surrogates.acquisition switched it off
    monkeypatch.setattr(logei, "_load_attempted", False)
    monkeypatch.setattr(logei, "_C", None)
    acquisition._no_jit_fused_kernel()
    c = make_campaign(objectives=[{"name": "plqy", "goal": "maximize"},
                                  {"name": "pl_peak_nm", "target": 600, "tolerance": 5}])
    _, info = propose(c, history_from_sobol(c, 6), 6, settings=FAST)
    assert info.strategy == "bo:qLogNEHVI"
    assert calls == []  # BoTorch would call cpp_extension.load(name="logei_fused_ext")
    assert logei._C is None  # the pure-PyTorch path
