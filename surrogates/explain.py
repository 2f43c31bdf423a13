"""What the fitted models say, in the outcomes' own units, for the report (no tensors leave
this module: inputs are conditions dicts, outputs numpy arrays and floats).

`fit_explainer(campaign, history)` fits one GP per objective (`surrogates.models.fit_one`,
the optimiser's own model and fitting) on the successful observations and returns an
`Explainer` with:
  predict(conditions)  posterior mean and standard deviation (of the latent function,
                       observation noise excluded) per objective, original units;
  slice(anchor, name)  the same along one parameter, the others held at `anchor`;
  importance()         1 / ARD lengthscale per parameter (one-hot blocks: the largest
                       of their columns), normalised so the largest is 1;
  loo()                closed-form leave-one-out predictions (Rasmussen & Williams 2006,
                       Eq. 5.10-5.12): mu_i = y_i - alpha_i / [K^-1]_ii,
                       sigma_i^2 = 1 / [K^-1]_ii (noise of point i included),
                       back in original units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surrogates.encoding import Encoder
from surrogates.settings import DEFAULT, Settings
from surrogates.types import Observation

MIN_POINTS = 3  # an objective needs this many successful observations to be modelled


@dataclass
class Explainer:
    """Fitted per-objective GPs of a campaign (see module docstring)."""

    encoder: Encoder
    models: dict[str, Any]  # objective name -> SingleTaskGP (eval mode)
    skipped: dict[str, str] = field(default_factory=dict)  # objective -> why not modelled
    notes: list[str] = field(default_factory=list)

    def predict(self, conditions: Sequence[Mapping[str, Any]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """name -> (mean (N,), sd (N,)) at the given conditions (original units)."""
        import torch

        X = torch.tensor(self.encoder.encode_many(list(conditions)), dtype=torch.float64)
        out = {}
        with torch.no_grad():
            for name, m in self.models.items():
                post = m.posterior(X)
                mean = post.mean.squeeze(-1).numpy().copy()
                sd = post.variance.clamp_min(0).sqrt().squeeze(-1).numpy().copy()
                out[name] = (mean, sd)
        return out

    def slice(self, anchor: Mapping[str, Any], name: str, n: int = 41
              ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Grid (n,) of parameter `name` (original units, log-spaced for log parameters)
        with the others at `anchor`, and `predict` along it."""
        c = self.encoder.by_name[name]
        if c.kind == "categorical":
            raise ValueError(f"{name} is categorical: no continuous slice")
        grid = np.array([c.from_unit(u) for u in np.linspace(0.0, 1.0, n)], dtype=np.float64)
        pts = [{**anchor, name: float(x)} for x in grid]
        return grid, self.predict(pts)

    def importance(self) -> dict[str, dict[str, float]]:
        """objective -> parameter -> relative importance in [0, 1]."""
        out = {}
        for oname, m in self.models.items():
            ls = _lengthscale(m)
            inv = 1.0 / ls
            per = {c.name: float(np.max(inv[c.start:c.start + c.width])) for c in self.encoder.params}
            top = max(per.values()) or 1.0
            out[oname] = {k: v / top for k, v in per.items()}
        return out

    def loo(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """objective -> (observed (n,), LOO mean (n,), LOO sd (n,)), original units."""
        import torch

        out = {}
        for name, m in self.models.items():
            X = m.train_inputs[0]
            y = m.train_targets  # standardised
            n = X.shape[-2]
            with torch.no_grad():
                K = m.covar_module(X).to_dense()
                noise = m.likelihood.noise.reshape(-1)
                noise = noise.expand(n) if noise.numel() == 1 else noise
                K = K + torch.diag(noise) + 1e-10 * torch.eye(n, dtype=K.dtype)
                mu0 = m.mean_module(X)
                Kinv = torch.cholesky_inverse(torch.linalg.cholesky(K))
                alpha = Kinv @ (y - mu0)
                d = torch.diagonal(Kinv)
                loo_mean = y - alpha / d
                loo_sd = torch.sqrt(1.0 / d)
                t = m.outcome_transform
                mean_y, std_y = float(t.means.reshape(-1)[0]), float(t.stdvs.reshape(-1)[0])
            out[name] = ((y.numpy() * std_y + mean_y).copy(),
                         (loo_mean.numpy() * std_y + mean_y).copy(),
                         (loo_sd.numpy() * std_y).copy())
        return out


def _lengthscale(model: Any) -> np.ndarray:
    for mod in model.covar_module.modules():
        ls = getattr(mod, "lengthscale", None)
        if ls is not None:
            return ls.detach().reshape(-1).numpy().copy()
    raise ValueError("the model's kernel has no lengthscale")


def fit_explainer(campaign: Any, history: Sequence[Observation], *,
                  settings: Settings | None = None) -> Explainer:
    """Fit one GP per objective on the successful observations of `history`.

    Objectives with fewer than `MIN_POINTS` finite values are listed in `skipped`.
    Deterministic: torch's generator is forked and seeded from the campaign seed.
    """
    import torch

    from surrogates.models import fit_one, make_outcome_data

    settings = settings or DEFAULT
    enc = Encoder.from_campaign(campaign)
    ex = Explainer(enc, {})
    ok = [o for o in history if not o.failed]
    with torch.random.fork_rng():
        torch.manual_seed(int(campaign.seed))
        for obj in campaign.objectives:
            rows = [o for o in ok if obj.name in o.outcomes and np.isfinite(o.outcomes[obj.name][0])]
            if len(rows) < MIN_POINTS:
                ex.skipped[obj.name] = f"{len(rows)} successful values (< {MIN_POINTS})"
                continue
            X = torch.tensor(enc.encode_many([o.conditions for o in rows]), dtype=torch.float64)
            data = make_outcome_data(X, [o.outcomes[obj.name][0] for o in rows],
                                     [o.outcomes[obj.name][1] for o in rows])
            model, notes = fit_one(data, obj.name, settings)
            ex.models[obj.name] = model
            ex.notes += notes
    return ex
