"""Score a raw measurement for a campaign: the loop's thin wrapper over
`sdl.analysis.score.score`, returning JSON-ready outcomes for the record."""

from __future__ import annotations

from typing import Any

from sdl.schema.campaign import Campaign


def score_raw(raw: Any, campaign: Campaign) -> dict[str, dict[str, Any]]:
    """{outcome name: {"value", "stderr"} or {"no_outcome", "detail"}} for the campaign's
    objectives and constrained outcomes."""
    from sdl.analysis.score import score

    results = score(raw, campaign.outcome_names, campaign.campaign.material)
    return {name: results[name].to_json() for name in campaign.outcome_names if name in results}
