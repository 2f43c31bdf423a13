"""Space-filling designs: a seeded scrambled Sobol sequence and uniform random points.

Both work in the encoder's design space `[0, 1)^P` and honour linear input constraints by
filtering in original units (exact for any parameter scale). The Sobol sequence of a
campaign is one fixed sequence (seeded by the campaign seed alone); iteration k takes the
points at positions `offset, offset + 1, ...` of its *feasible* subsequence, with
`offset = len(history) + len(pending)`, so no point repeats across iterations.
Source: Owen-scrambled Sobol' points as implemented by `scipy.stats.qmc.Sobol`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from surrogates.encoding import Encoder
from surrogates.errors import InfeasibleDesignError

# Give up when fewer than this many of the box's points satisfy the input constraints.
MAX_DESIGN_DRAWS = 1 << 20
_CHUNK = 1024


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed derived from the campaign seed and integer keys (stream, k, ...)."""
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *[int(k) & 0xFFFFFFFF for k in keys]])
    return int(ss.generate_state(1, dtype=np.uint64)[0]) >> 1


def sobol_points(encoder: Encoder, seed: int, offset: int, n: int) -> list[dict[str, Any]]:
    """Points `offset .. offset + n - 1` of the campaign's feasible scrambled Sobol sequence.

    Args:
        encoder: the campaign's encoder.
        seed: campaign seed (the same for every iteration).
        offset: number of points already used (history + pending).
        n: number of points.

    Raises:
        InfeasibleDesignError: the input constraints reject nearly the whole box.
    """
    from scipy.stats import qmc

    engine = qmc.Sobol(d=len(encoder.params), scramble=True, seed=derive_seed(seed, 1))
    out: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balance-properties warning for non-powers of 2
        if not encoder.constraints:
            if offset:
                engine.fast_forward(offset)
            return encoder.from_design(engine.random(n)) if n else []
        seen = 0
        drawn = 0
        while len(out) < n:
            if drawn >= MAX_DESIGN_DRAWS:
                raise InfeasibleDesignError(
                    f"fewer than {offset + n} of the first {drawn} Sobol points satisfy the "
                    "input_constraints; widen the constraints or the parameter ranges"
                )
            for cond in encoder.from_design(engine.random(_CHUNK)):
                if encoder.satisfies(cond):
                    if seen >= offset:
                        out.append(cond)
                        if len(out) == n:
                            break
                    seen += 1
            drawn += _CHUNK
    return out


def random_points(encoder: Encoder, seed: int, k: int, n: int) -> list[dict[str, Any]]:
    """n uniform random feasible points for iteration k (seeded by (seed, k)).

    Raises:
        InfeasibleDesignError: the input constraints reject nearly the whole box.
    """
    rng = np.random.default_rng(derive_seed(seed, 2, k))
    out: list[dict[str, Any]] = []
    drawn = 0
    while len(out) < n:
        if drawn >= MAX_DESIGN_DRAWS:
            raise InfeasibleDesignError(
                "random points almost never satisfy the input_constraints; widen them"
            )
        for cond in encoder.from_design(rng.random((_CHUNK if encoder.constraints else n, len(encoder.params)))):
            if encoder.satisfies(cond):
                out.append(cond)
                if len(out) == n:
                    break
        drawn += _CHUNK
    return out
