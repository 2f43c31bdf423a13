"""Photon acquisition time as a fidelity: screen cheaply, confirm the best at full fidelity.

A campaign declares `[strategy.fidelity]` (parameter `acquisition_s`, range [low, high],
cost per experiment `overhead_s + acquisition_s`). What the strategy does:

* Conditions come from the ordinary step (`surrogates.strategies`; qLogNEI on GPs whose
  noise is the analysis' standard errors, so a 2 s HBT run with g2 stderr ~0.1 counts
  for less than a 30 s run with ~0.03: the g2 stderr from the photon core is the noise
  model; the expected g2(0) does not depend on the acquisition time, only its noise
  does, so the fidelity enters through the noise and needs no fidelity kernel).
* The initial design (the first `strategy.initial` experiments, no model yet) is
  screened at `low`. After it, each new BO point x is screened at a time the strategy
  chooses in [low, high]: the one that buys the most posterior variance of the
  objective at x per second of experiment cost. With the noise variance of a run of
  length t equal to a(x) / t (a(x) from the analysis' reported g2 stderrs: a GP on
  log(stderr**2 * t) of the finished experiments, `local_noise_coefficients`, since a
  dim dot's g2 is far noisier than a bright one's at equal t) and cost overhead_s + t,
  that is
  t* = sqrt(a * overhead_s) / sigma_f(x), sigma_f the latent posterior sd of the
  objective at x (`optimal_time`, derived there), clipped to [low, high] and rounded to
  0.1 s. Regions the model knows little about get short screens (any look teaches it
  much), well-known regions longer ones (a 2 s screen there, whose g2 stderr is as wide
  as the differences left to resolve, teaches it nothing). A point with t* >= high runs
  at full fidelity and counts as confirmed. The choice (a, sigma_f, t*, t) is recorded
  in `info.details["fidelity"]` and the notes. This is BOCA's "cheapest informative
  fidelity" (Kandasamy et al., ICML 2017) in closed form for a 1/t noise law, with
  cost-weighted acquisition as in Snoek et al. (NeurIPS 2012).
* Confirmation is chosen from the model, not from the raw screen: after the initial
  design, the outcome GPs (fitted as in the BO step, noise = the analysis' stderrs) give
  at each screened point the posterior probability that every outcome constraint holds
  and the posterior mean of the objective's utility. The screened point with the best
  mean utility among those with a feasibility probability >= `P_FEASIBLE` is run again
  at `high` before any new conditions, if its mean beats the model's mean at every
  feasible point already measured at full fidelity (one at a time, each point once). A
  2 s screen of a blinking dot can miss the brightness floor by chance although the
  point and its neighbours say it is bright (and pass it by chance although it is not);
  the old rule confirmed only screens whose measured constraints passed, so such good
  points were never confirmed. Only full-fidelity measurements can become the reported
  best, so the best point is always confirmed at full fidelity.

The cost rule is explicit (cost of an experiment overhead + t); the conditions come from
qLogNEI, the time from the closed-form variance reduction per second, so it is a
screening/confirmation policy over a heteroskedastic GP, not multi-fidelity knowledge
gradient. Only the objective's noise is modelled as a / t: the count-rate constraint's
stderr is dominated by blinking and does not shrink as 1/t, so it does not enter the
time choice. Multi-objective campaigns screen at `low`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from surrogates.types import Observation, Proposal, StrategyInfo

# Smallest model probability that a screened point meets every outcome constraint for it
# to be confirmed.
P_FEASIBLE = 0.3


def _key(conditions: dict[str, Any], names: Sequence[str]) -> tuple:
    return tuple(round(float(conditions[n]), 9) if isinstance(conditions[n], int | float)
                 else conditions[n] for n in names)


def _fidelity_of(o: Observation | Proposal, fid: Any) -> float:
    return float(o.conditions.get(fid.parameter, fid.high))


def _has(o: Observation, name: str) -> bool:
    v = o.outcomes.get(name)
    return v is not None and math.isfinite(float(v[0]))


class _OneThread:
    """Run torch on one thread inside the block (same arithmetic on every machine, so
    replay verifies bit for bit), restoring the thread count after."""

    def __enter__(self) -> None:
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.threads)


class OutcomeFit:
    """The outcome GPs fitted on a history as the BO step fits them; posterior at points.

    Build with `OutcomeFit.of(campaign, history)` (None when the data cannot support a
    model). `posterior(points)` gives the latent posterior mean and sd of every modelled
    outcome (original units), shape (len(points), len(problem.modelled)).
    """

    def __init__(self, problem: Any, encoder: Any, fitted: Any) -> None:
        self.problem, self.encoder, self.fitted = problem, encoder, fitted

    @classmethod
    def of(cls, campaign: Any, history: Sequence[Observation]) -> OutcomeFit | None:
        """Fit on `history` (`surrogates.models.fit_models`: heteroskedastic, noise = the
        analysis' stderrs, deterministic start; failed and unencodable experiments
        skipped), on one thread. None when fewer than 2 measurements of an outcome, or
        no experiment with every outcome."""
        import torch

        from surrogates.encoding import Encoder
        from surrogates.errors import EncodingError
        from surrogates.models import DTYPE, fit_models, make_outcome_data
        from surrogates.objectives import Problem
        from surrogates.settings import DEFAULT

        problem = Problem.from_campaign(campaign)
        encoder = Encoder.from_campaign(campaign)
        obs, rows = [], []
        for o in history:
            try:
                rows.append(encoder.encode(o.conditions))
                obs.append(o)
            except EncodingError:
                continue
        if not any(not o.failed and all(_has(o, m) for m in problem.modelled) for o in obs):
            return None
        X = torch.as_tensor(np.stack(rows), dtype=DTYPE)
        data = {}
        for name in problem.modelled:
            idx = [i for i, o in enumerate(obs) if not o.failed and _has(o, name)]
            if len(idx) < 2:
                return None
            data[name] = make_outcome_data(X[idx], [float(obs[i].outcomes[name][0]) for i in idx],
                                           [float(obs[i].outcomes[name][1]) for i in idx])
        with _OneThread():
            fitted = fit_models(data, DEFAULT)
        return cls(problem, encoder, fitted)

    def posterior(self, points: Sequence[Observation | Proposal]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd) of the latent posterior, each (len(points), len(modelled)), original
        units (no observation noise in sd)."""
        import torch

        from surrogates.models import DTYPE

        Xp = torch.as_tensor(np.stack([self.encoder.encode(p.conditions) for p in points]),
                             dtype=DTYPE)
        with _OneThread(), torch.no_grad():
            post = self.fitted.model.posterior(Xp)
            mean = post.mean.reshape(len(points), -1)
            sd = post.variance.clamp_min(1e-18).sqrt().reshape(len(points), -1)
        return mean.numpy(), sd.numpy()


def model_view(campaign: Any, history: Sequence[Observation], points: Sequence[Observation],
               fit: OutcomeFit | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Posterior mean objective utility and constraint feasibility probability at `points`.

    The outcome GPs are fitted on `history` exactly as the BO step fits them
    (`OutcomeFit.of`), on one thread so the arithmetic is the same on every machine
    (replay verifies bit for bit).

    Args:
        campaign: validated single-objective campaign.
        history: finished experiments (failed ones and unencodable ones are skipped).
        points: observations whose conditions to evaluate.
        fit: the models already fitted on `history` (None: fit them here).

    Returns:
        (utility (len(points),), p_feasible (len(points),)): utility of the posterior mean
        of the objective (original units); p_feasible = prod over constraints of
        P(lo <= f <= hi) under the latent posterior N(mean, var) of the outcome (outcomes
        modelled independently). None when the data cannot support a model (fewer than 2
        measurements of an outcome, or no experiment with every outcome).
    """
    import torch

    from surrogates.models import DTYPE

    fit = fit if fit is not None else OutcomeFit.of(campaign, history)
    if fit is None:
        return None
    problem = fit.problem
    mean_np, sd_np = fit.posterior(points)
    mean, sd = torch.as_tensor(mean_np), torch.as_tensor(sd_np)
    normal = torch.distributions.Normal(torch.zeros((), dtype=DTYPE), torch.ones((), dtype=DTYPE))
    p_ok = torch.ones(len(points), dtype=DTYPE)
    for c in problem.constraints:
        i = problem.modelled.index(c.outcome)
        up = normal.cdf((c.hi - mean[:, i]) / sd[:, i]) if c.hi is not None else 1.0
        low = normal.cdf((c.lo - mean[:, i]) / sd[:, i]) if c.lo is not None else 0.0
        p_ok = p_ok * (up - low)
    spec = problem.objectives[0]
    util = spec.utility(mean[:, problem.modelled.index(spec.name)])
    return util.numpy(), p_ok.numpy()


def confirmation_candidate(campaign: Any, history: Sequence[Observation],
                           pending: Sequence[Proposal], fit: OutcomeFit | None = None
                           ) -> dict[str, Any] | None:
    """Conditions of the screened point to confirm at full fidelity next, or None (see
    the module docstring: chosen from the model's posterior, not the raw screen).

    Single objective only (the first); multi-objective campaigns confirm nothing, and
    nothing is confirmed before `strategy.initial` experiments have finished. `fit`: the
    outcome models already fitted on `history` (None: fit them here when needed).
    """
    from surrogates.objectives import Problem

    fid = campaign.strategy.fidelity
    if Problem.from_campaign(campaign).multi or len(history) < campaign.strategy.initial:
        return None
    names = [p.name for p in campaign.parameters]
    usable = [o for o in history if not o.failed and all(n in o.conditions for n in names)]
    full = {_key(o.conditions, names) for o in list(history) + list(pending)
            if _fidelity_of(o, fid) >= fid.high and all(n in o.conditions for n in names)}
    screens, seen = [], set()
    for o in usable:
        key = _key(o.conditions, names)
        if _fidelity_of(o, fid) < fid.high and key not in full and key not in seen:
            screens.append(o)
            seen.add(key)
    if not screens:
        return None
    confirmed = [o for o in usable if _fidelity_of(o, fid) >= fid.high]
    view = model_view(campaign, history, screens + confirmed, fit)
    if view is None:
        return None
    util, p_ok = view
    ok = p_ok >= P_FEASIBLE
    incumbent = max((float(u) for u, f in zip(util[len(screens):], ok[len(screens):], strict=True)
                     if f), default=-math.inf)
    best, best_u = None, incumbent
    for o, u, f in zip(screens, util[: len(screens)], ok[: len(screens)], strict=True):
        if f and float(u) > best_u:
            best, best_u = o, float(u)
    if best is None:
        return None
    return {n: best.conditions[n] for n in names}


def noise_coefficient(history: Sequence[Observation], outcome: str, parameter: str
                      ) -> float | None:
    """Measurement-noise coefficient a of an outcome whose variance is a / t at
    acquisition time t (s): the median over finished experiments of stderr**2 * t.

    The stderrs are the ones the analysis reported (the photon core's g2 stderr), so the
    noise law is learnt from the campaign's own data; the median keeps one odd
    experiment (a dim dot, a blinking-dominated run) from setting it.

    Args:
        history: finished experiments.
        outcome: outcome name (the objective).
        parameter: the fidelity parameter (acquisition time, s).

    Returns:
        a in (outcome unit)**2 * s, or None when no experiment reports the outcome with a
        finite positive stderr at a positive time.
    """
    vals = [a for _, a in _noise_samples(history, outcome, parameter)]
    return float(np.median(vals)) if vals else None


def _noise_samples(history: Sequence[Observation], outcome: str, parameter: str
                   ) -> list[tuple[Observation, float]]:
    """(experiment, stderr**2 * t) of every finished experiment that reports `outcome`
    with a finite value and a finite positive stderr at a positive time `parameter`."""
    out = []
    for o in history:
        v = o.outcomes.get(outcome)
        t = o.conditions.get(parameter)
        if o.failed or v is None or not isinstance(t, int | float) or not t > 0:
            continue
        se = float(v[1])
        if math.isfinite(float(v[0])) and math.isfinite(se) and se > 0:
            out.append((o, se * se * float(t)))
    return out


def local_noise_coefficients(fit: OutcomeFit, history: Sequence[Observation], outcome: str,
                             parameter: str, points: Sequence[Observation | Proposal]
                             ) -> list[float]:
    """Noise coefficient a(x) of `outcome` at each of `points`: where the dots are dim the
    same acquisition time gives a far wider g2 stderr than where they are bright (HBT
    coincidences grow as rate**2 * t, so stderr**2 * t ~ 1 / rate**2; the single-photon
    campaign's reported stderrs at equal t differ ~100x across the space), so one
    campaign-wide a would give bright points screens several times longer than they
    need and dim points too short ones.

    log(stderr**2 * t) of the finished experiments is modelled by a GP over the same
    encoded inputs (`surrogates.models.fit_one`, inferred noise; a heteroskedastic noise
    model as in Kersting et al., ICML 2007), and a(x) = exp(posterior mean), kept inside
    the range of the observed values (no extrapolation beyond what was measured). With
    fewer than 3 such experiments, or all of them alike, it is the campaign-wide
    `noise_coefficient`.

    Returns:
        a(x) per point, (outcome unit)**2 * s; empty list when no experiment reports
        the outcome with a finite positive stderr at a positive time.
    """
    import torch

    from surrogates.errors import EncodingError
    from surrogates.models import DTYPE, fit_one, make_outcome_data
    from surrogates.settings import DEFAULT

    samples = _noise_samples(history, outcome, parameter)
    if not samples:
        return []
    a0 = float(np.median([a for _, a in samples]))  # = noise_coefficient
    rows, logs = [], []
    for o, a in samples:
        try:
            rows.append(fit.encoder.encode(o.conditions))
        except EncodingError:
            continue
        logs.append(math.log(a))
    if len(logs) < 3 or max(logs) - min(logs) < 1e-9:
        return [a0] * len(points)
    data = make_outcome_data(torch.as_tensor(np.stack(rows), dtype=DTYPE), logs,
                             [float("nan")] * len(logs))
    Xp = torch.as_tensor(np.stack([fit.encoder.encode(p.conditions) for p in points]), dtype=DTYPE)
    with _OneThread():
        model, _ = fit_one(data, f"log noise coefficient of {outcome}", DEFAULT)
        with torch.no_grad():
            mean = model.posterior(Xp).mean.reshape(len(points)).numpy()
    return [math.exp(min(max(float(m), min(logs)), max(logs))) for m in mean]


def optimal_time(sigma_f: float, a: float, overhead_s: float) -> float:
    """Acquisition time t* (s) that maximises the posterior-variance reduction at a point
    per second of experiment cost.

    One measurement at time t with noise variance a / t, on a point whose latent posterior
    variance is s2 = sigma_f**2, leaves s2 * (a / t) / (s2 + a / t); the reduction is
    s2**2 / (s2 + a / t). Per cost c + t (c = overhead_s):

        r(t) = s2**2 / ((s2 + a / t) (c + t)) = s2**2 t / ((s2 t + a)(c + t)).

    d/dt [t / ((s2 t + a)(c + t))] = 0  <=>  (s2 t + a)(c + t) = t (s2 (c + t) + (s2 t + a))
    <=>  s2 t c + s2 t**2 + a c + a t = s2 t c + 2 s2 t**2 + a t  <=>  a c = s2 t**2, so

        t* = sqrt(a c) / sigma_f

    (the only positive stationary point; r rises from 0 at t = 0 and falls as 1/t at large
    t, so it is the maximum). Uncertain points get short screens (the model gains most from
    any look), well-known points longer ones (only a precise look tells it anything). This
    is the "cheapest informative fidelity" of BOCA (Kandasamy et al., ICML 2017) in closed
    form for a 1/t noise law, with the cost-weighted acquisition of Snoek et al. (NeurIPS
    2012, "expected improvement per second").

    Args:
        sigma_f: latent posterior sd of the outcome at the point (outcome units), > 0.
        a: noise coefficient (`noise_coefficient`), (outcome units)**2 * s, >= 0.
        overhead_s: fixed cost of an experiment, s, >= 0.

    Returns:
        t*, s (0 when a or overhead_s is 0; inf when sigma_f is 0).
    """
    if sigma_f <= 0:
        return math.inf
    return math.sqrt(a * overhead_s) / sigma_f


def screen_time(t_star: float, low: float, high: float) -> float:
    """t* clipped to [low, high] and rounded to 0.1 s (kept inside the range), s."""
    t = min(max(t_star, low), high)
    return min(max(round(t, 1), low), high)


def _sig(x: float) -> float:
    return float(f"{x:.4g}") if math.isfinite(x) else -1.0


def screen_times(campaign: Any, history: Sequence[Observation], props: Sequence[Proposal],
                 fit: OutcomeFit | None) -> tuple[list[float], dict[str, Any] | None]:
    """Acquisition time of each new (screen) proposal and what chose it.

    `low` before `strategy.initial` experiments have finished, for multi-objective
    campaigns, and when there is no model or no noise estimate; otherwise
    `screen_time(optimal_time(sigma_f(x), a(x), overhead_s))` with sigma_f(x) the latent
    posterior sd of the (first) objective's outcome at x from `fit` and a(x) from
    `local_noise_coefficients`.

    Returns:
        (times, details): details (JSON-able) has the campaign-wide median noise
        coefficient, the overhead and per proposal sigma_f, a(x), t* and the chosen time;
        None when `low` was used by rule.
    """
    fid = campaign.strategy.fidelity
    low = [float(fid.low)] * len(props)
    if fit is None or fit.problem.multi or len(history) < campaign.strategy.initial or not props:
        return low, None
    name = fit.problem.objectives[0].name
    a_med = noise_coefficient(history, name, fid.parameter)
    if a_med is None:
        return low, None
    a_x = local_noise_coefficients(fit, history, name, fid.parameter, props)
    _, sd = fit.posterior(props)
    sigma = [float(s) for s in sd[:, fit.problem.modelled.index(name)]]
    t_star = [optimal_time(s, a, fid.overhead_s) for s, a in zip(sigma, a_x, strict=True)]
    times = [screen_time(t, fid.low, fid.high) for t in t_star]
    return times, {"outcome": name, "noise_a_median": _sig(a_med),
                   "overhead_s": float(fid.overhead_s),
                   "screens": [{"sigma_f": _sig(s), "noise_a": _sig(a), "t_star_s": _sig(t),
                                "acquisition_s": x}
                               for s, a, t, x in zip(sigma, a_x, t_star, times, strict=True)]}


def propose_fidelity(campaign: Any, history: Sequence[Observation], k: int,
                     pending: Sequence[Proposal], n: int,
                     inner: Callable[..., tuple[list[Proposal], StrategyInfo]]
                     ) -> tuple[list[Proposal], StrategyInfo]:
    """Proposals with a fidelity value each (see the module docstring).

    Args:
        campaign: validated campaign with `strategy.fidelity`.
        history, k, pending, n: as `surrogates.propose`.
        inner: the ordinary proposal step, `inner(history, pending, n) -> (proposals,
            info)`.

    Returns:
        n proposals whose conditions include the fidelity parameter, and the info (its
        strategy suffixed ":confirm" for a confirmation; `details["fidelity"]` records
        how each screen time was chosen, see `screen_times`).
    """
    from dataclasses import replace

    from surrogates.objectives import Problem

    fid = campaign.strategy.fidelity
    fit = (OutcomeFit.of(campaign, history)
           if len(history) >= campaign.strategy.initial
           and not Problem.from_campaign(campaign).multi else None)
    out: list[Proposal] = []
    notes: list[str] = []
    cand = confirmation_candidate(campaign, history, pending, fit) if fit is not None else None
    if cand is not None:
        out.append(Proposal({**cand, fid.parameter: float(fid.high)}))
        notes.append(f"fidelity: confirm a screened point at {fid.parameter} = {fid.high:g}")
    info = StrategyInfo("fidelity:confirm", notes=notes)
    chosen = None
    if len(out) < n:
        props, info = inner(history, list(pending) + out, n - len(out))
        times, chosen = screen_times(campaign, history, props, fit)
        out.extend(Proposal({**p.conditions, fid.parameter: t}) for p, t in zip(props, times, strict=True))
        notes.extend(info.notes)
        if chosen is not None:
            notes.append(f"fidelity: screen times t* = sqrt(a c) / sigma_f, c = {fid.overhead_s:g} s; "
                         + ", ".join(f"a {s['noise_a']:g}, sigma_f {s['sigma_f']:g} -> t* "
                                     f"{s['t_star_s']:g} s -> {s['acquisition_s']:g} s"
                                     for s in chosen["screens"]))
    cost = sum(fid.overhead_s + float(p.conditions[fid.parameter]) for p in out)
    notes.append(f"fidelity: cost {cost:.0f} s ({fid.parameter} "
                 + ", ".join(f"{float(p.conditions[fid.parameter]):g}" for p in out) + ")")
    strategy = info.strategy + (":confirm" if cand is not None and info.strategy != "fidelity:confirm"
                                else "")
    details = {**info.details, "fidelity": chosen} if chosen is not None else info.details
    return out, replace(info, strategy=strategy, notes=notes, details=details)
