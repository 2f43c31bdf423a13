"""Campaign parameters <-> the optimiser's unit cube, and linear input constraints.

Two numeric views of a campaign's search space:

* the **design space** `[0, 1)^P`, one coordinate per parameter (P parameters), used by
  the space-filling strategies (Sobol, random). A categorical coordinate picks
  `values[floor(u * m)]`; an integer coordinate picks `floor(low + u * (high - low + 1))`,
  so every value is equally likely.
* the **encoded space** `[0, 1]^D` used by the GP models and the acquisition optimiser:
  continuous and integer parameters take one column each, `u = (x - low) / (high - low)`
  (or the same on `log x` for `scale = "log"`); a categorical parameter with m values
  takes m one-hot columns. Integers are relaxed to a continuous column and rounded when
  decoded. Because the encoding uses the campaign's known bounds, it is also the GP's
  input normalisation (no data-dependent rescaling that would drift as data accumulate).

Linear input constraints (`campaign.input_constraints`, `sum(coef * value) <= max`
and/or `>= min` in original units) are linear in the encoded coordinates of
linear-scale parameters; `linear_constraints_encoded` returns them in BoTorch's
`(indices, coefficients, rhs)` form meaning `sum(coefficients * x[indices]) >= rhs`.
A constraint over a log-scaled parameter is *not* linear in the encoded space: the
space-filling designs honour it (they filter points in original units) but the BO
acquisition optimiser does not take it, so `linear_constraints_encoded` raises
`EncodingError` naming the constraint (make the parameter linear-scale, or drop it from
the constraint). Decoding rounds integers and can leave a point a hair outside a
constraint; `repair` moves it along the segment to a strictly interior point (the
Chebyshev centre of the feasible polytope) and re-rounds, so proposals never violate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surrogates.errors import EncodingError

# Relative tolerance when checking a linear input constraint in original units.
CONSTRAINT_RTOL = 1e-9
# Margin (relative) that `repair` leaves inside a constraint it had to enforce.
_REPAIR_MARGIN = 1e-7
# Most floor/ceil combinations of integer parameters tried when rounding near a constraint.
_MAX_ROUNDING_COMBOS = 256


@dataclass(frozen=True)
class ParamCoding:
    """How one campaign parameter is coded.

    Attributes:
        name: parameter (condition) name.
        kind: "continuous" | "integer" | "categorical".
        low, high: range in original units (numeric kinds); 0, 0 for categorical.
        log: True for scale = "log".
        values: allowed values (categorical), else ().
        start: first encoded column.
        width: number of encoded columns (1, or m for a categorical with m values).
    """

    name: str
    kind: str
    low: float
    high: float
    log: bool
    values: tuple[str, ...]
    start: int
    width: int

    def to_unit(self, x: float) -> float:
        """Original units -> [0, 1] (numeric kinds)."""
        if self.log:
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float | int:
        """[0, 1] -> original units, clipped to [low, high]; integers rounded."""
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        x = min(max(x, self.low), self.high)
        if self.kind == "integer":
            return int(min(max(round(x), self.low), self.high))
        return x


@dataclass(frozen=True)
class LinearConstraint:
    """`lo <= sum(coef[name] * value[name]) <= hi` in original units (either side optional)."""

    terms: tuple[tuple[str, float], ...]
    lo: float | None
    hi: float | None
    index: int

    def lhs(self, conditions: Mapping[str, Any]) -> float:
        return float(sum(c * float(conditions[n]) for n, c in self.terms))

    def scale(self, conditions: Mapping[str, Any]) -> float:
        mag = sum(abs(c * float(conditions[n])) for n, c in self.terms)
        return max(1.0, mag, abs(self.lo or 0.0), abs(self.hi or 0.0))

    def violation(self, conditions: Mapping[str, Any]) -> float:
        """Relative violation (> 0 when violated, <= 0 when satisfied)."""
        v = self.lhs(conditions)
        s = self.scale(conditions)
        worst = -math.inf
        if self.hi is not None:
            worst = max(worst, (v - self.hi) / s)
        if self.lo is not None:
            worst = max(worst, (self.lo - v) / s)
        return worst


class Encoder:
    """Encode and decode a campaign's parameters; check and repair input constraints.

    Args:
        parameters: `campaign.parameters` (pydantic `Parameter` models or equivalents).
        input_constraints: `campaign.input_constraints`.
    """

    def __init__(self, parameters: Sequence[Any], input_constraints: Sequence[Any] = ()):
        codings: list[ParamCoding] = []
        start = 0
        for p in parameters:
            if p.type == "categorical":
                values = tuple(p.values)
                codings.append(ParamCoding(p.name, "categorical", 0.0, 0.0, False, values,
                                           start, len(values)))
                start += len(values)
            else:
                codings.append(ParamCoding(p.name, p.type, float(p.low), float(p.high),
                                           p.scale == "log", (), start, 1))
                start += 1
        self.params: tuple[ParamCoding, ...] = tuple(codings)
        self.by_name: dict[str, ParamCoding] = {c.name: c for c in codings}
        self.dim: int = start
        self.names: tuple[str, ...] = tuple(c.name for c in codings)
        cons = []
        for i, c in enumerate(input_constraints):
            unknown = sorted(set(c.terms) - set(self.by_name))
            if unknown:
                raise EncodingError(f"input_constraints[{i}] names {unknown}, not parameters")
            cat = [n for n in c.terms if self.by_name[n].kind == "categorical"]
            if cat:
                raise EncodingError(f"input_constraints[{i}] uses categorical parameters {cat}")
            cons.append(LinearConstraint(tuple((n, float(v)) for n, v in c.terms.items()),
                                         c.min, c.max, i))
        self.constraints: tuple[LinearConstraint, ...] = tuple(cons)
        self._center: dict[str, float] | None = None

    @classmethod
    def from_campaign(cls, campaign: Any) -> Encoder:
        """Build the encoder of a `sdl.schema.campaign.Campaign`."""
        return cls(campaign.parameters, campaign.input_constraints)

    # ------------------------------------------------------------------ encode / decode
    def encode(self, conditions: Mapping[str, Any]) -> np.ndarray:
        """Conditions (original units) -> encoded point.

        Args:
            conditions: parameter name -> value; extra keys are ignored.

        Returns:
            (D,) float64 array in [0, 1].

        Raises:
            EncodingError: a parameter is missing, out of range or not an allowed value.
        """
        z = np.zeros(self.dim)
        for c in self.params:
            if c.name not in conditions:
                raise EncodingError(f"conditions lack parameter {c.name!r}")
            v = conditions[c.name]
            if c.kind == "categorical":
                if v not in c.values:
                    raise EncodingError(f"{c.name} = {v!r}; allowed: {list(c.values)}")
                z[c.start + c.values.index(v)] = 1.0
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise EncodingError(f"{c.name} = {v!r}; expected a number") from None
            span = c.high - c.low
            if not (math.isfinite(x) and c.low - 1e-9 * span <= x <= c.high + 1e-9 * span):
                raise EncodingError(f"{c.name} = {v!r}; allowed: [{c.low}, {c.high}]")
            z[c.start] = min(max(c.to_unit(min(max(x, c.low), c.high)), 0.0), 1.0)
        return z

    def encode_many(self, conditions: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode several points: returns (N, D) float64."""
        if not conditions:
            return np.zeros((0, self.dim))
        return np.stack([self.encode(c) for c in conditions])

    def decode(self, z: np.ndarray) -> list[dict[str, Any]]:
        """Encoded points -> conditions in original units (ints rounded, categoricals argmax).

        Args:
            z: (N, D) or (D,) array; values are clipped to [0, 1].

        Returns:
            N dicts with Python floats / ints / strs. No constraint repair (see `repair`).
        """
        z = np.atleast_2d(np.asarray(z, dtype=np.float64))
        if z.shape[-1] != self.dim:
            raise EncodingError(f"encoded points have {z.shape[-1]} columns, expected {self.dim}")
        out = []
        for row in z:
            cond: dict[str, Any] = {}
            for c in self.params:
                if c.kind == "categorical":
                    block = row[c.start:c.start + c.width]
                    cond[c.name] = c.values[int(np.argmax(block))]
                else:
                    cond[c.name] = c.from_unit(row[c.start])
            out.append(cond)
        return out

    def from_design(self, u: np.ndarray) -> list[dict[str, Any]]:
        """Design-space points `[0, 1)^P` -> conditions (uniform over values of each kind).

        Args:
            u: (N, P) array, P = number of parameters.
        """
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        if u.shape[-1] != len(self.params):
            raise EncodingError(f"design points have {u.shape[-1]} columns, expected {len(self.params)}")
        out = []
        for row in u:
            cond: dict[str, Any] = {}
            for c, ui in zip(self.params, row, strict=True):
                ui = min(max(float(ui), 0.0), np.nextafter(1.0, 0.0))
                if c.kind == "categorical":
                    cond[c.name] = c.values[min(int(ui * c.width), c.width - 1)]
                elif c.kind == "integer":
                    cond[c.name] = int(min(math.floor(c.low + ui * (c.high - c.low + 1)), c.high))
                else:
                    cond[c.name] = c.from_unit(ui)
            out.append(cond)
        return out

    # ------------------------------------------------------------------ constraints
    def satisfies(self, conditions: Mapping[str, Any], rtol: float = CONSTRAINT_RTOL) -> bool:
        """True when every input constraint holds within relative tolerance `rtol`."""
        return all(c.violation(conditions) <= rtol for c in self.constraints)

    def linear_constraints_encoded(self) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Input constraints in the encoded space, BoTorch form `sum(coef * z[idx]) >= rhs`.

        Returns:
            list of (indices int64 (T,), coefficients float64 (T,), rhs float); a two-sided
            constraint gives two entries.

        Raises:
            EncodingError: a constraint names a log-scaled parameter (not linear here).
        """
        out = []
        for con in self.constraints:
            logs = [n for n, _ in con.terms if self.by_name[n].log]
            if logs:
                raise EncodingError(
                    f"input_constraints[{con.index}] uses log-scaled parameter(s) {logs}: BO "
                    "needs constraints linear in the encoded space; make them scale = \"linear\" "
                    "or use strategy kind sobol/random"
                )
            idx = np.array([self.by_name[n].start for n, _ in con.terms], dtype=np.int64)
            # sum c x = sum c (low + u (high - low)) = offset + sum c (high - low) u
            k = np.array([c * (self.by_name[n].high - self.by_name[n].low) for n, c in con.terms])
            offset = sum(c * self.by_name[n].low for n, c in con.terms)
            if con.hi is not None:
                out.append((idx, -k, -(con.hi - offset)))
            if con.lo is not None:
                out.append((idx, k.copy(), con.lo - offset))
        return out

    def interior_point(self) -> dict[str, float]:
        """A strictly feasible point of the numeric parameters (Chebyshev centre).

        Solved once as a linear programme in the linearly normalised coordinates
        `w = (x - low) / (high - low)` (constraints are linear in x, hence in w, whatever
        the parameter's scale). Only parameters named in constraints are returned.

        Raises:
            EncodingError: the constraints leave no region of positive volume.
        """
        if self._center is not None:
            return self._center
        from scipy.optimize import linprog

        names = sorted({n for con in self.constraints for n, _ in con.terms})
        col = {n: i for i, n in enumerate(names)}
        m = len(names)
        rows, rhs = [], []
        for con in self.constraints:
            a = np.zeros(m)
            off = 0.0
            for n, c in con.terms:
                p = self.by_name[n]
                a[col[n]] += c * (p.high - p.low)
                off += c * p.low
            if con.hi is not None:
                rows.append(a.copy())
                rhs.append(con.hi - off)
            if con.lo is not None:
                rows.append(-a)
                rhs.append(-(con.lo - off))
        # variables (w_1..w_m, r): maximise r subject to a.w + |a| r <= b, r <= w <= 1 - r
        A, b = [], []
        for a, bi in zip(rows, rhs, strict=True):
            A.append(np.append(a, np.linalg.norm(a)))
            b.append(bi)
        for i in range(m):
            e = np.zeros(m + 1)
            e[i], e[m] = -1.0, 1.0
            A.append(e)
            b.append(0.0)
            e = np.zeros(m + 1)
            e[i], e[m] = 1.0, 1.0
            A.append(e)
            b.append(1.0)
        cost = np.zeros(m + 1)
        cost[m] = -1.0
        res = linprog(cost, A_ub=np.array(A), b_ub=np.array(b),
                      bounds=[(0, 1)] * m + [(None, 0.5)], method="highs")
        if res.status != 0 or res.x[m] <= 1e-9:
            raise EncodingError(
                "input_constraints leave no feasible region inside the parameter ranges"
            )
        w = res.x[:m]
        self._center = {n: self.by_name[n].low + float(w[col[n]]) * (self.by_name[n].high - self.by_name[n].low)
                        for n in names}
        return self._center

    def repair(self, conditions: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return `conditions` made to satisfy the input constraints, or None if impossible.

        A feasible point is returned unchanged. Otherwise the constrained numeric
        parameters move along the straight line (in original units) towards the interior
        point just far enough to satisfy every constraint with a small margin; integer
        parameters are then rounded, trying floor/ceil combinations if needed.
        """
        cond = dict(conditions)
        if not self.constraints or self.satisfies(cond):
            return cond
        center = self.interior_point()
        names = list(center)
        x0 = {n: float(cond[n]) for n in names}
        t = 0.0
        for con in self.constraints:
            for side in ("hi", "lo"):
                bound = getattr(con, side)
                if bound is None:
                    continue
                sign = 1.0 if side == "hi" else -1.0
                g0 = sign * (con.lhs(x0) - bound)
                gc = sign * (con.lhs(center) - bound)
                margin = _REPAIR_MARGIN * con.scale(x0)
                if g0 > -margin and gc < -margin:
                    t = max(t, (g0 + margin) / (g0 - gc))
        t = min(t, 1.0)
        moved = {n: x0[n] + t * (center[n] - x0[n]) for n in names}
        ints = [n for n in names if self.by_name[n].kind == "integer"]
        for n in names:
            p = self.by_name[n]
            cond[n] = min(max(moved[n], p.low), p.high)
        if not ints:
            return cond if self.satisfies(cond) else None
        choices = [(math.floor(moved[n]), math.ceil(moved[n])) for n in ints]
        best, best_d = None, math.inf
        for combo in itertools.islice(itertools.product(*choices), _MAX_ROUNDING_COMBOS):
            trial = dict(cond)
            for n, v in zip(ints, combo, strict=True):
                trial[n] = int(min(max(v, self.by_name[n].low), self.by_name[n].high))
            if self.satisfies(trial):
                d = sum((trial[n] - moved[n]) ** 2 for n in ints)
                if d < best_d:
                    best, best_d = trial, d
        return best

    # ------------------------------------------------------------------ categoricals
    def categorical_combinations(self, limit: int) -> list[dict[int, float]] | None:
        """Fixed-feature dicts (encoded column -> 0/1) for every categorical combination.

        Returns [] when there are no categorical parameters, None when there are more than
        `limit` combinations (the caller then relaxes the one-hot columns instead).
        """
        cats = [c for c in self.params if c.kind == "categorical"]
        if not cats:
            return []
        total = math.prod(c.width for c in cats)
        if total > limit:
            return None
        out = []
        for picks in itertools.product(*[range(c.width) for c in cats]):
            ff: dict[int, float] = {}
            for c, j in zip(cats, picks, strict=True):
                for i in range(c.width):
                    ff[c.start + i] = 1.0 if i == j else 0.0
            out.append(ff)
        return out

    def continuous_columns(self) -> list[int]:
        """Encoded columns of continuous and integer parameters."""
        return [c.start for c in self.params if c.kind != "categorical"]

    def unit_distance_columns(self, names: Sequence[str]) -> list[int]:
        """Encoded columns of the named numeric parameters (for the proximal penalty)."""
        out = []
        for n in names:
            c = self.by_name.get(n)
            if c is None:
                raise EncodingError(f"{n!r} is not a parameter")
            if c.kind == "categorical":
                raise EncodingError(f"proximal penalty on categorical parameter {n!r} is not supported")
            out.append(c.start)
        return out
