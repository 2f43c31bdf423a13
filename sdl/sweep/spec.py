"""The sweep file and the tasks it names.

```toml
[sweep]
name = "cdse-plan"
seeds = [1, 2, 3]                 # campaign seeds, or {first = 1, count = 10}
budget = 20                       # optional: experiment budget of every run
out = "sweeps/cdse-plan"          # optional: default sweeps/<name> beside the sweep file

[[campaigns]]
file = "../campaigns/cdse_620nm.toml"   # relative to the sweep file

[[strategies]]                    # optional: default one variant, the campaign as is
name = "bo"
kind = "bo"                       # any key of a campaign's [strategy] table
initial = 8

[[strategies]]
name = "sobol"
kind = "sobol"
```

Every (campaign, strategy, seed) is one `SweepTask`, run in
`<out>/<campaign file stem>/<strategy name>/seed-<seed>` from its effective campaign
(the file with `campaign.seed`, the `[strategy]` overrides and the budget applied), which
is validated here, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdl.errors import CampaignError
from sdl.schema.load import campaign_from_dict, format_validation_error, load_toml_file
from sdl.sweep.toml_out import dumps

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedRange(_Strict):
    first: int = Field(ge=0)
    count: Annotated[int, Field(ge=1, le=100_000)]


class SweepInfo(_Strict):
    name: Name
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] | SeedRange
    budget: Annotated[int, Field(ge=1)] | None = None
    out: str | None = None


class CampaignRef(_Strict):
    file: str


class StrategyVariant(BaseModel):
    """A name plus [strategy] keys of a campaign file (checked by the campaign schema)."""

    model_config = ConfigDict(extra="allow")
    name: Name


class SweepFile(_Strict):
    sweep: SweepInfo
    campaigns: Annotated[list[CampaignRef], Field(min_length=1)]
    strategies: list[StrategyVariant] = Field(default_factory=list)

    def seed_list(self) -> list[int]:
        s = self.sweep.seeds
        return list(range(s.first, s.first + s.count)) if isinstance(s, SeedRange) else list(s)


@dataclass(frozen=True)
class SweepTask:
    """One campaign run of a sweep (plain data: it travels to Dask workers).

    Attributes:
        task_id: "<campaign stem>/<strategy>/seed-<seed>".
        campaign_file: the campaign file it derives from (as written in the sweep file).
        strategy: strategy variant name.
        seed: campaign seed.
        campaign_toml: the effective campaign file text.
        run_dir: absolute run directory.
        budget: experiment budget.
    """

    task_id: str
    campaign_file: str
    strategy: str
    seed: int
    campaign_toml: str
    run_dir: str
    budget: int


def load_sweep(path: str | Path, out: str | Path | None = None) -> tuple[SweepFile, list[SweepTask], Path]:
    """Validate a sweep file and every effective campaign; return (file, tasks, out dir).

    Raises:
        CampaignError: one line per problem (sweep file field, campaign file, override).
    """
    path = Path(path)
    raw = load_toml_file(path)
    try:
        sweep = SweepFile.model_validate(raw)
    except ValidationError as e:
        raise CampaignError(str(path), format_validation_error(e)) from None
    base = path.resolve().parent
    out_dir = Path(out) if out else (base / (sweep.sweep.out or f"sweeps/{sweep.sweep.name}"))
    out_dir = out_dir.resolve()
    variants = sweep.strategies or [StrategyVariant(name="campaign")]
    names = [v.name for v in variants]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise CampaignError(str(path), [f"strategies: name {dup[0]!r} used twice; names must be unique"])
    tasks: list[SweepTask] = []
    problems: list[str] = []
    stems: dict[str, str] = {}
    for ref in sweep.campaigns:
        cpath = (base / ref.file).resolve()
        try:
            data = load_toml_file(cpath)
        except CampaignError as e:
            problems.append(f"campaigns: {ref.file}: {'; '.join(e.problems)}")
            continue
        stem = cpath.stem
        if stems.setdefault(stem, ref.file) != ref.file:
            problems.append(f"campaigns: {ref.file} and {stems[stem]} have the same file name {stem!r}")
            continue
        for v in variants:
            overrides = {k: x for k, x in v.model_dump().items() if k != "name"}
            for seed in sweep.seed_list():
                eff = _effective(data, overrides, seed, sweep.sweep.budget)
                try:
                    camp = campaign_from_dict(eff, f"{ref.file} with strategy {v.name!r}")
                except CampaignError as e:
                    problems.extend(f"{ref.file} [strategy {v.name}]: {p}" for p in e.problems)
                    break
                tid = f"{stem}/{v.name}/seed-{seed}"
                tasks.append(SweepTask(tid, ref.file, v.name, seed, dumps(eff),
                                       str(out_dir / stem / v.name / f"seed-{seed}"),
                                       int(sweep.sweep.budget or camp.budget.experiments)))
    if problems:
        raise CampaignError(str(path), problems)
    return sweep, tasks, out_dir


def _effective(data: dict[str, Any], strategy: dict[str, Any], seed: int, budget: int | None) -> dict[str, Any]:
    import copy

    eff = copy.deepcopy(data)
    eff.setdefault("campaign", {})["seed"] = seed
    if strategy:
        eff.setdefault("strategy", {}).update(copy.deepcopy(strategy))
    if budget is not None:
        eff.setdefault("budget", {})["experiments"] = budget
    return eff
