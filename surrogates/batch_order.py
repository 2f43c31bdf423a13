"""Flow-aware order of a batch: run the proposals in the order of least changeover time.

The changeover cost between two experiments is the order-dependent part of the lab-time
model `sdl.vocab.labtime` (heater settling: |dT| / ramp + stable time; the flush and the
measurement take the same time whatever the order). Ordering is an open-path travelling
salesman problem from the current rig state (the last experiment run or pending) through
every proposal: exact by enumeration for up to `EXACT_MAX` proposals (8! = 40320 paths),
else nearest neighbour followed by 2-opt improvement.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sdl.vocab.labtime import DEFAULT_TIMING, FlowTiming, settle_seconds

EXACT_MAX = 8

Cost = Callable[[Mapping[str, Any] | None, Mapping[str, Any]], float]


def path_cost(start: Mapping[str, Any] | None, points: Sequence[Mapping[str, Any]],
              order: Sequence[int], cost: Cost) -> float:
    """Summed changeover cost of running `points[order[0]], points[order[1]], ...` after
    `start` (None: nothing before)."""
    total, prev = 0.0, start
    for i in order:
        total += cost(prev, points[i])
        prev = points[i]
    return total


def best_order(start: Mapping[str, Any] | None, points: Sequence[Mapping[str, Any]],
               cost: Cost) -> tuple[list[int], float]:
    """Order of `points` with the least summed changeover cost after `start`.

    Args:
        start: conditions of the rig's current (last) experiment, or None.
        points: the proposals, complete conditions.
        cost: changeover cost (previous, next) -> seconds; previous may be None.

    Returns:
        (indices into `points` in run order, summed cost). Exact for len(points) <=
        EXACT_MAX; ties keep the proposal order (the first minimal permutation in
        lexicographic order).
    """
    n = len(points)
    if n <= 1:
        return list(range(n)), path_cost(start, points, range(n), cost)
    if n <= EXACT_MAX:
        best, best_c = None, float("inf")
        for perm in itertools.permutations(range(n)):
            c = path_cost(start, points, perm, cost)
            if c < best_c - 1e-9:
                best, best_c = list(perm), c
        return best, best_c
    left = set(range(n))
    order, prev = [], start
    while left:
        j = min(sorted(left), key=lambda i: cost(prev, points[i]))
        order.append(j)
        left.remove(j)
        prev = points[j]
    best_c = path_cost(start, points, order, cost)
    improved = True
    while improved:
        improved = False
        for a in range(n - 1):
            for b in range(a + 1, n):
                cand = order[:a] + order[a:b + 1][::-1] + order[b + 1:]
                c = path_cost(start, points, cand, cost)
                if c < best_c - 1e-9:
                    order, best_c, improved = cand, c, True
    return order, best_c


def settle_cost(timing: FlowTiming = DEFAULT_TIMING) -> Cost:
    """The changeover cost of `sdl.vocab.labtime`: heater settling seconds."""
    return lambda prev, nxt: settle_seconds(prev, nxt, timing)


def order_proposals(campaign: Any, start: Mapping[str, Any] | None,
                    proposals: Sequence[Mapping[str, Any]],
                    timing: FlowTiming = DEFAULT_TIMING) -> tuple[list[int], float, float]:
    """Flow-aware order of a campaign's proposals.

    Args:
        campaign: validated campaign (its `fixed` conditions complete the proposals).
        start: conditions of the last experiment run or pending (None at the start).
        proposals: proposed conditions (campaign parameters).
        timing: rig constants of the cost model.

    Returns:
        (run order as indices into `proposals`, estimated changeover seconds in that
        order, changeover seconds in the proposed order).
    """
    fixed = dict(campaign.fixed)
    full = [{**fixed, **p} for p in proposals]
    begin = None if start is None else {**fixed, **start}
    cost = settle_cost(timing)
    order, c = best_order(begin, full, cost)
    return order, c, path_cost(begin, full, range(len(full)), cost)
