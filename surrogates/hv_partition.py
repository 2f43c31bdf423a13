"""Box decomposition of the non-dominated space for qLogNEHVI, with numba kernels.

qLogNEHVI (3 or more objectives) builds one exact box decomposition per quasi-MC sample
of the baseline's Pareto front, through BoTorch's `FastNondominatedPartitioning`: the
incremental local-upper-bound algorithm of Lacour, Klamroth & Fonseca, "A box
decomposition algorithm to compute the hypervolume indicator", Computers & Operations
Research 79, 347 (2017), Alg. 1, applied twice (Yang et al. 2019's non-dominated cells).
BoTorch runs Alg. 1 point by point on tiny tensors; in a 60-experiment CdSe campaign that
was ~25 s of ~70 s.

`NumbaNondominatedPartitioning` is that class with the two Alg. 1 passes and Eq. 2 (the
cell bounds) as numba kernels over numpy arrays. The kernels do only comparisons, maxima
and copies, and keep BoTorch's row order (surviving bounds first, then the new ones by
coordinate j), so the cells are the same numbers in the same order: the acquisition
values, and so every proposal, stay bit-identical (`tests/surrogates/test_hv_partition.py`
checks this against BoTorch's class).
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.utils.multi_objective.box_decompositions.non_dominated import (
    FastNondominatedPartitioning,
)
from numba import njit


@njit(cache=True)
def _add_point(U: np.ndarray, Z: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lacour et al. (2017) Alg. 1 for one new point z (minimisation).

    U: (n, m) local upper bounds; Z: (n, m, m) defining points (Z[u, j] is z^j(u));
    z: (m,). Returns the new (U, Z): bounds that z does not dominate, in order, then for
    each j the dominated bounds u with z[j] >= max_{k != j} Z[u, k, j], u_j replaced by z_j.
    """
    n, m = U.shape
    dominated = np.zeros(n, dtype=np.bool_)
    n_dom = 0
    for i in range(n):
        d = True
        for k in range(m):
            if not U[i, k] > z[k]:
                d = False
                break
        dominated[i] = d
        n_dom += d
    if n_dom == 0:
        return U, Z
    add = np.zeros((m, n), dtype=np.bool_)
    n_add = 0
    for j in range(m):
        for i in range(n):
            if dominated[i]:
                zmax = -np.inf
                for k in range(m):
                    if k != j and Z[i, k, j] > zmax:
                        zmax = Z[i, k, j]
                if z[j] >= zmax:
                    add[j, i] = True
                    n_add += 1
    U2 = np.empty((n - n_dom + n_add, m))
    Z2 = np.empty((n - n_dom + n_add, m, m))
    r = 0
    for i in range(n):
        if not dominated[i]:
            U2[r] = U[i]
            Z2[r] = Z[i]
            r += 1
    for j in range(m):
        for i in range(n):
            if add[j, i]:
                U2[r] = U[i]
                U2[r, j] = z[j]
                Z2[r] = Z[i]
                Z2[r, j] = z
                r += 1
    return U2, Z2


@njit(cache=True)
def local_upper_bounds(U: np.ndarray, Z: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alg. 1 for each row of `points` (p, m) in turn (BoTorch's
    `update_local_upper_bounds_incremental`)."""
    for i in range(points.shape[0]):
        U, Z = _add_point(U, Z, points[i])
    return U, Z


@njit(cache=True)
def partition_bounds(Z: np.ndarray, U: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Cell bounds from local upper bounds (Lacour et al. 2017, Eq. 2), empty cells
    dropped: (2, cells, m), [0] lower and [1] upper vertices."""
    n, m = U.shape
    b = np.empty((2, n, m))
    keep = np.ones(n, dtype=np.bool_)
    n_keep = 0
    for u in range(n):
        b[0, u, 0] = Z[u, 0, 0]
        b[1, u, 0] = ref[0]
        for j in range(1, m):
            mx = Z[u, 0, j]
            for k in range(1, j):
                if Z[u, k, j] > mx:
                    mx = Z[u, k, j]
            b[0, u, j] = mx
            b[1, u, j] = U[u, j]
        for j in range(m):
            if b[1, u, j] <= b[0, u, j]:
                keep[u] = False
                break
        n_keep += keep[u]
    out = np.empty((2, n_keep, m))
    r = 0
    for u in range(n):
        if keep[u]:
            out[:, r] = b[:, u]
            r += 1
    return out


class NumbaNondominatedPartitioning(FastNondominatedPartitioning):
    """`FastNondominatedPartitioning` (3+ outcomes, no batch dimension) with the local
    upper bounds and cell bounds computed by the numba kernels above."""

    def _partition_space(self) -> None:
        if len(self.batch_shape) > 0:  # as BoTorch's: qLogNEHVI builds one per sample
            raise NotImplementedError("_partition_space does not support batch dimensions.")
        m = self.num_outcomes
        U = self._neg_ref_point.detach().cpu().numpy().reshape(1, m).astype(np.float64, copy=True)
        Z = np.zeros((1, m, m))
        for j in range(m):
            Z[0, j] = -np.inf
            Z[0, j, j] = U[0, j]
        U, Z = local_upper_bounds(U, Z, self._neg_pareto_Y.detach().cpu().numpy().astype(np.float64))
        self.register_buffer("_U", torch.from_numpy(U).to(self._neg_ref_point))
        self._Z = torch.from_numpy(Z).to(self._neg_ref_point)
        self._get_partitioning()

    def _get_partitioning(self) -> None:
        m = self.num_outcomes
        ref = self.ref_point.detach().cpu().numpy().astype(np.float64)
        U2 = np.full((1, m), np.inf)
        Z2 = np.broadcast_to(ref, (1, m, m)).copy()
        for j in range(m):
            Z2[0, j, j] = np.inf
        U2, Z2 = local_upper_bounds(U2, Z2, -self._U.detach().cpu().numpy())
        self._U2 = torch.from_numpy(U2).to(self._neg_ref_point)
        self._Z2 = torch.from_numpy(Z2).to(self._neg_ref_point)
        bounds = partition_bounds(Z2, U2, np.full(m, np.inf))
        self.hypercell_bounds = torch.from_numpy(bounds).to(self._neg_ref_point)


class QLogNEHVI(qLogNoisyExpectedHypervolumeImprovement):
    """BoTorch's qLogNEHVI whose exact partitionings (alpha = 0) use
    `NumbaNondominatedPartitioning`; with alpha > 0 BoTorch's approximate class stays."""

    def _set_cell_bounds(self, num_new_points: int) -> None:
        if self.p_class is FastNondominatedPartitioning:
            self.p_class = NumbaNondominatedPartitioning
        super()._set_cell_bounds(num_new_points)
