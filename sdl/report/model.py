"""The report's model sections: what the fitted GPs (`surrogates.explain`) say about the
campaign, in the outcomes' units.

`model_view(data)` returns a `ModelView` (plain numpy/float data) or None when no
objective has enough successful experiments: slices through the best experiment with
± 2 SD bands, parameter importance, leave-one-out predicted vs observed, and the
predicted optimum: the candidate (1024 Sobol points of the campaign's space plus every
tried condition) whose predicted means have the highest desirability (`sdl.utility`),
with each objective's mean ± 2 SD there. Prior rows (`--prior`) count as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sdl.report.data import ReportData

N_CANDIDATES = 1024
SLICE_POINTS = 41


@dataclass
class ModelView:
    anchor_id: str
    anchor: dict[str, Any]
    objectives: list[str]
    params: list[str]  # continuous parameters (sliced)
    slices: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]  # (obj, param) -> x, mean, sd
    importance: dict[str, dict[str, float]]
    loo: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    optimum: dict[str, Any]
    optimum_pred: dict[str, tuple[float, float]]  # objective -> (mean, sd)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def model_view(data: ReportData) -> ModelView | None:
    """Fit and summarise; None when nothing can be modelled (fewer than 3 successes)."""
    from sdl.session import observations
    from surrogates.explain import fit_explainer

    c = data.campaign
    if c is None or data.best is None:
        return None
    history = observations(c, data.state.completed)
    if getattr(data.state, "priors", None):
        from sdl.prior import prior_observations

        history = prior_observations(data.state.priors) + history
    ex = fit_explainer(c, history)
    if not ex.models:
        return None
    anchor = dict(data.best.conditions)
    params = [p.name for p in c.parameters if p.type != "categorical"]
    slices = {}
    for p in params:
        x, pred = ex.slice(anchor, p, SLICE_POINTS)
        for o, (m, s) in pred.items():
            slices[(o, p)] = (x, m, s)
    optimum, opt_pred = _optimum(c, ex, [e.conditions for e in data.state.completed
                                         if e.status == "scored"])
    return ModelView(data.best.experiment_id, anchor, list(ex.models), params, slices,
                     ex.importance(), ex.loo(), optimum, opt_pred, ex.skipped, ex.notes)


def _optimum(campaign: Any, ex: Any, tried: list[dict[str, Any]]
             ) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    from sdl.utility import utilities
    from surrogates.design import sobol_points

    cands = sobol_points(ex.encoder, campaign.seed, 0, N_CANDIDATES) + list(tried)
    pred = ex.predict(cands)
    sets = [{o: {"value": float(pred[o][0][i])} for o in pred} for i in range(len(cands))]
    # objectives the models could not learn are not judged (neutral) rather than missing
    for o in campaign.objectives:
        if o.name not in pred:
            for s in sets:
                s[o.name] = {"value": o.target if o.goal == "target" else 0.0}
    u = np.asarray(utilities(campaign, sets))
    i = int(np.argmax(u))
    return dict(cands[i]), {o: (float(pred[o][0][i]), float(pred[o][1][i])) for o in pred}
