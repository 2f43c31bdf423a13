"""Campaign file schema: what to vary, what to optimise, how many experiments.

See `campaigns/*.toml` for examples and `sdl schema campaign` for the JSON Schema.
Unknown keys are errors (a typo must never be silently ignored).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sdl.vocab.conditions import CONDITIONS, shell_error
from sdl.vocab.constants import MATERIALS

# Outcome names produced by `sdl.analysis.score`, with their units.
OUTCOME_NAMES: dict[str, str] = {
    "abs_peak_nm": "first excitonic absorption peak, nm",
    "pl_peak_nm": "photoluminescence peak, nm",
    "fwhm_nm": "PL full width at half maximum, nm",
    "fwhm_mev": "PL full width at half maximum, meV",
    "plqy": "photoluminescence quantum yield, 0..1",
    "diameter_nm": "mean particle diameter from the sizing curve, nm",
    "size_dispersion": "relative size spread sigma_D / D",
    "g2_zero": "second-order correlation at zero delay (single-photon purity)",
    "mn_ratio": "Mn (dopant) / exciton PL band area ratio",
    "yield": "chemical yield of metal in dots vs feed, 0..1",
    "count_rate_kcps": "detected single-photon count rate of one dot at the chosen excitation, kcps",
}

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


def _strict_number(value: object) -> object:
    """Numbers stay numbers: a quoted "300" or a true/false is an error, not 300.0 or 1.0."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, str):
        raise ValueError("must be a number, not a string (write it without quotes)")
    return value


def _no_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number or a category name, not true/false")
    return value


#: A float field that refuses strings and booleans (TOML integers are fine).
Number = Annotated[float, BeforeValidator(_strict_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CampaignInfo(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")]
    material: Literal[MATERIALS] = "CdSe"  # type: ignore[valid-type]
    seed: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] = 0
    description: str = ""


class Budget(_Strict):
    experiments: Annotated[StrictInt, Field(ge=1, le=100_000)]
    hours: Annotated[Number, Field(gt=0, le=24 * 365)] | None = None
    stop_when_target_reached: StrictBool = False


class Parameter(_Strict):
    """A condition the optimiser varies.

    `type` "continuous" (default) or "integer" use `low`/`high` and `scale`;
    "categorical" uses `values`. The name must be a known condition.
    """

    name: Name
    type: Literal["continuous", "integer", "categorical"] = "continuous"
    low: Number | None = None
    high: Number | None = None
    scale: Literal["linear", "log"] = "linear"
    values: list[str] | None = None
    unit: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        spec = CONDITIONS.get(self.name)
        if spec is None:
            raise ValueError(
                f"unknown condition {self.name!r}; allowed: {', '.join(sorted(CONDITIONS))}"
            )
        if self.type == "categorical":
            if not self.values:
                raise ValueError("a categorical parameter needs a non-empty 'values' list")
            if len(set(self.values)) != len(self.values):
                raise ValueError("'values' has duplicates")
            if spec.choices:
                bad = [v for v in self.values if v not in spec.choices]
                if bad:
                    raise ValueError(f"values {bad} not allowed; allowed: {list(spec.choices)}")
            if self.low is not None or self.high is not None:
                raise ValueError("a categorical parameter takes 'values', not low/high")
            return self
        if spec.choices:
            raise ValueError(f"{self.name} is categorical: use type = \"categorical\" and values")
        if self.values is not None:
            raise ValueError("'values' is only for categorical parameters")
        if self.low is None or self.high is None:
            raise ValueError("a numeric parameter needs both 'low' and 'high'")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.low < spec.low or self.high > spec.high:
            raise ValueError(
                f"range [{self.low}, {self.high}] exceeds the physical bounds "
                f"[{spec.low}, {spec.high}] {spec.unit} of {self.name}"
            )
        if self.scale == "log" and self.low <= 0:
            raise ValueError("a log-scaled parameter needs low > 0")
        if self.type == "integer" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an integer parameter needs integer low and high")
        if self.unit is not None and self.unit != spec.unit:
            raise ValueError(f"unit {self.unit!r} does not match {self.name}'s unit {spec.unit!r}")
        return self


class Objective(_Strict):
    """An outcome to optimise. `target` (with `tolerance`) makes it a set-point objective;
    `goal` may then be omitted."""

    name: Name
    goal: Literal["maximize", "minimize", "target"] | None = None
    target: Number | None = None
    tolerance: Annotated[Number, Field(gt=0)] | None = None
    weight: Annotated[Number, Field(gt=0, le=1000)] = 1.0

    @model_validator(mode="after")
    def _check(self) -> Objective:
        if self.name not in OUTCOME_NAMES:
            raise ValueError(
                f"unknown outcome {self.name!r}; allowed: {', '.join(OUTCOME_NAMES)}"
            )
        goal = self.goal or ("target" if self.target is not None else None)
        if goal is None:
            raise ValueError("give goal = \"maximize\" | \"minimize\", or a target")
        if goal == "target":
            if self.target is None or self.tolerance is None:
                raise ValueError("a target objective needs both 'target' and 'tolerance'")
            if not math.isfinite(self.target):
                raise ValueError("target must be a finite number")
        elif self.target is not None or self.tolerance is not None:
            raise ValueError(f"goal {goal!r} takes no target/tolerance")
        object.__setattr__(self, "goal", goal)
        return self


class OutcomeConstraint(_Strict):
    """Keep an outcome within [min, max] (either bound optional)."""

    outcome: Name
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> OutcomeConstraint:
        if self.outcome not in OUTCOME_NAMES:
            raise ValueError(
                f"unknown outcome {self.outcome!r}; allowed: {', '.join(OUTCOME_NAMES)}"
            )
        if self.min is None and self.max is None:
            raise ValueError("an outcome constraint needs 'min' or 'max'")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class InputConstraint(_Strict):
    """Linear constraint on parameters: sum(coef * value) <= max and/or >= min."""

    terms: dict[Name, Number]
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> InputConstraint:
        if not self.terms:
            raise ValueError("'terms' must name at least one parameter")
        if self.min is None and self.max is None:
            raise ValueError("an input constraint needs 'min' or 'max'")
        if any(not math.isfinite(c) or c == 0 for c in self.terms.values()):
            raise ValueError("coefficients must be finite and non-zero")
        return self


class Related(_Strict):
    """Earlier data for transfer learning (`[[strategy.related]]`): a run directory or an
    `sdl export` CSV, read by `sdl.prior`; `label` is free text for the record."""

    path: Annotated[str, Field(min_length=1)]
    label: str = ""


class Fidelity(_Strict):
    """A fidelity parameter the strategy chooses per experiment (`[strategy.fidelity]`).

    Cost of one experiment, s: `overhead_s` + the parameter's value (instrument seconds).
    `high` is the full fidelity at which the best point is confirmed.
    """

    parameter: Literal["acquisition_s"] = "acquisition_s"
    low: Annotated[float, Field(gt=0)]
    high: Annotated[float, Field(gt=0)]
    overhead_s: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _check(self) -> Fidelity:
        spec = CONDITIONS[self.parameter]
        if not self.low < self.high:
            raise ValueError(f"fidelity low ({self.low}) must be below high ({self.high})")
        if self.low < spec.low or self.high > spec.high:
            raise ValueError(f"fidelity range [{self.low}, {self.high}] exceeds the physical "
                             f"bounds [{spec.low}, {spec.high}] {spec.unit} of {self.parameter}")
        return self


class Strategy(_Strict):
    kind: Literal["bo", "sobol", "random"] = "bo"
    initial: Annotated[StrictInt, Field(ge=1, le=1000)] = 8
    batch: Annotated[StrictInt, Field(ge=1, le=64)] = 1
    proximal: dict[Name, Annotated[Number, Field(gt=0)]] = Field(
        default_factory=dict,
        description="slow knobs and their length scale (fraction of range) for the "
        "proximal penalty, e.g. {temperature_c = 0.1}",
    )
    feasibility: StrictBool = True
    flow_order: bool = Field(
        default=False,
        description="order each batch (and pending proposals) by least changeover time "
        "(sdl.vocab.labtime heater settling); see surrogates.batch_order")
    initial_design: Literal["sobol", "lab_time"] = Field(
        default="sobol",
        description="the initial design: scrambled Sobol points, or lab_time: cheap "
        "space-filling points run in rising temperature (surrogates.labcost)")
    lab_time_aware: bool = Field(
        default=False,
        description="maximise improvement per lab second: the acquisition is divided by "
        "each proposal's lab time after the last experiment (settling, flush, measurement; "
        "sdl.vocab.labtime), its weight cooling to 0 as the budget is spent; see "
        "surrogates.labcost")
    related: list[Related] = Field(
        default_factory=list, description="earlier data for a multi-task GP (transfer)")
    fidelity: Fidelity | None = None


class Campaign(_Strict):
    """A whole campaign file."""

    campaign: CampaignInfo
    budget: Budget
    parameters: Annotated[list[Parameter], Field(min_length=1, max_length=50)]
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=10)]
    constraints: list[OutcomeConstraint] = Field(default_factory=list)
    input_constraints: list[InputConstraint] = Field(default_factory=list)
    fixed: dict[Name, Annotated[float | str, BeforeValidator(_no_bool)]] = Field(
        default_factory=dict, description="conditions held fixed for the whole campaign"
    )
    strategy: Strategy = Field(default_factory=Strategy)

    @field_validator("parameters", "objectives")
    @classmethod
    def _unique_names(cls, v: list, info: ValidationInfo) -> list:
        names = [x.name for x in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate {info.field_name[:-1]} names {dup}")
        return v

    @model_validator(mode="after")
    def _cross_check(self) -> Campaign:
        pnames = {p.name for p in self.parameters}
        for i, c in enumerate(self.input_constraints):
            missing = sorted(set(c.terms) - pnames)
            if missing:
                raise ValueError(f"input_constraints[{i}] names {missing}, not parameters")
            cats = [p.name for p in self.parameters if p.name in c.terms and p.type == "categorical"]
            if cats:
                raise ValueError(f"input_constraints[{i}] uses categorical parameters {cats}")
        for name, value in self.fixed.items():
            spec = CONDITIONS.get(name)
            if spec is None:
                raise ValueError(f"fixed.{name}: unknown condition; allowed: {', '.join(sorted(CONDITIONS))}")
            if name in pnames:
                raise ValueError(f"fixed.{name}: also a parameter; give it in one place only")
            if spec.choices:
                if value not in spec.choices:
                    raise ValueError(f"fixed.{name} = {value!r}; allowed: {list(spec.choices)}")
            elif isinstance(value, str) or not (spec.low <= value <= spec.high):
                raise ValueError(
                    f"fixed.{name} = {value!r}; allowed: a number in [{spec.low}, {spec.high}] {spec.unit}"
                )
        shells = [self.fixed["shell_material"]] if "shell_material" in self.fixed else []
        shells += [v for p in self.parameters if p.name == "shell_material" for v in (p.values or [])]
        for shell in shells:
            err = shell_error(self.campaign.material, str(shell))
            if err:
                raise ValueError(err)
        for name in self.strategy.proximal:
            if name not in pnames:
                raise ValueError(f"strategy.proximal.{name}: not a parameter of this campaign")
        fid = self.strategy.fidelity
        if fid is not None and fid.parameter in pnames:
            raise ValueError(f"strategy.fidelity.{fid.parameter}: also a parameter; the "
                             "strategy chooses a fidelity parameter itself")
        if self.budget.stop_when_target_reached and not any(
            o.goal == "target" for o in self.objectives
        ):
            raise ValueError("budget.stop_when_target_reached needs a target objective")
        return self

    # Convenience views used by the loop and the strategies.
    @property
    def name(self) -> str:
        return self.campaign.name

    @property
    def seed(self) -> int:
        return self.campaign.seed

    @property
    def outcome_names(self) -> list[str]:
        """Outcomes the loop must score: objectives first, then constrained outcomes."""
        names = [o.name for o in self.objectives]
        names += [c.outcome for c in self.constraints if c.outcome not in names]
        return names

    @property
    def wants_photons(self) -> bool:
        """True when g2_zero or count_rate_kcps is an objective or a constraint (the rig must
        record photons)."""
        return bool({"g2_zero", "count_rate_kcps"} & set(self.outcome_names))
