"""The numba box decomposition gives BoTorch's cells exactly (same numbers, same order),
so qLogNEHVI values, and so proposals, do not change (reference: BoTorch's
`FastNondominatedPartitioning`, Lacour et al. 2017 Alg. 1 + Eq. 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.models import SingleTaskGP
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.multi_objective.box_decompositions.non_dominated import (
    FastNondominatedPartitioning,
)

from surrogates.hv_partition import NumbaNondominatedPartitioning, QLogNEHVI


def _fronts():
    rng = np.random.default_rng(11)
    for trial in range(60):
        m = (3, 4, 5)[trial % 3]
        Y = rng.standard_normal((int(rng.integers(0, 25)), m))
        if trial % 4 == 0 and len(Y) > 3:
            Y[1] = Y[0]              # a duplicated point
            Y[2, 0] = Y[0, 0]        # a tie in one coordinate
            Y[3, :2] = Y[0, :2]      # ties in two
        yield torch.from_numpy(Y), torch.full((m,), -1.5, dtype=torch.float64)


@pytest.mark.parametrize("i_front", range(60))
def test_cells_equal_botorch_bit_for_bit(i_front):
    Y, ref = list(_fronts())[i_front]
    want = FastNondominatedPartitioning(ref_point=ref, Y=Y)
    got = NumbaNondominatedPartitioning(ref_point=ref, Y=Y)
    assert got.hypercell_bounds.shape == want.hypercell_bounds.shape
    assert torch.equal(got.hypercell_bounds, want.hypercell_bounds)
    if want._neg_pareto_Y.shape[0]:  # else one cell, no local upper bounds
        assert torch.equal(got._U, want._U) and torch.equal(got._Z, want._Z)


def test_incremental_update_after_the_numba_partition_matches_botorch():
    """`update` (BoTorch's torch path) continues from the numba pass's U and Z."""
    rng = np.random.default_rng(3)
    Y1, Y2 = (torch.from_numpy(rng.standard_normal((12, 3))) for _ in range(2))
    ref = torch.full((3,), -2.0, dtype=torch.float64)
    want = FastNondominatedPartitioning(ref_point=ref, Y=Y1)
    got = NumbaNondominatedPartitioning(ref_point=ref, Y=Y1)
    want.update(Y2)
    got.update(Y2)
    assert torch.equal(got.hypercell_bounds, want.hypercell_bounds)


def test_qlognehvi_values_equal_botorch_class():
    torch.manual_seed(0)
    X = torch.rand(14, 2, dtype=torch.float64)
    Y = torch.stack([torch.sin(6 * X[:, 0]), torch.cos(5 * X[:, 1]), X.sum(-1)], -1)
    model = SingleTaskGP(X, Y)
    ref = torch.full((3,), -1.2, dtype=torch.float64)
    acqs = [cls(model=model, ref_point=ref, X_baseline=X, prune_baseline=True,
                sampler=SobolQMCNormalSampler(torch.Size([16]), seed=5))
            for cls in (qLogNoisyExpectedHypervolumeImprovement, QLogNEHVI)]
    assert acqs[1].p_class is NumbaNondominatedPartitioning
    Xt = torch.rand(9, 1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert torch.equal(acqs[0](Xt), acqs[1](Xt))
