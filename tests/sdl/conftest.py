"""Fixtures for the spine's unit tests: a deterministic stand-in proposer and a tiny
in-process rig, so the record / resume / audit mechanics are tested on their own. The
end-to-end tests (tests/sdl/test_end_to_end.py) use the real simulator and optimiser."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from sdl.vocab.measurement import Failure, RawMeasurement

ROOT = Path(__file__).resolve().parents[2]


def uniform_propose(campaign, history, k, pending=(), n=None):
    """Points drawn uniformly in the box from a generator seeded by (seed, k)."""
    from surrogates.types import Proposal, StrategyInfo

    rng = np.random.default_rng([campaign.seed, k])
    n = n or campaign.strategy.batch
    out = []
    for _ in range(n):
        c = {}
        for p in campaign.parameters:
            if p.type == "categorical":
                c[p.name] = p.values[int(rng.integers(len(p.values)))]
            else:
                c[p.name] = float(rng.uniform(p.low, p.high))
        out.append(Proposal(conditions=c))
    return out, StrategyInfo(strategy="uniform-test")


@pytest.fixture
def fake_propose(monkeypatch):
    import surrogates

    monkeypatch.setattr(surrogates, "propose", uniform_propose, raising=False)
    return uniform_propose


class TinyRig:
    """Returns a Gaussian PL spectrum; fails when experiment ids are in `fail_ids`."""

    reactor_volume_ul = 500.0

    def __init__(self, fail_ids=(), fail_kind="clog"):
        self.fail_ids = set(fail_ids)
        self.fail_kind = fail_kind
        self.safe_calls = 0
        self.runs = []

    def limits(self):
        from sdl.schema.rig import RigLimits

        return RigLimits(max_temperature_c=320, max_total_flow_ul_min=5000)

    def prepare(self):
        pass

    def run(self, conditions, experiment_id, *, photons=False):
        self.runs.append(experiment_id)
        wl = np.linspace(400, 800, 64)
        seed = int.from_bytes(hashlib.sha256(experiment_id.encode()).digest()[:4], "little")
        rng = np.random.default_rng(seed)
        dark = np.full_like(wl, 100.0)
        ref = dark + 10000.0
        pl = dark + 5000 * np.exp(-0.5 * ((wl - 600) / 15) ** 2) + rng.normal(0, 5, wl.size)
        failure = (Failure(self.fail_kind, f"{self.fail_kind}:test", "test failure")
                   if experiment_id in self.fail_ids else None)
        return RawMeasurement(experiment_id, dict(conditions), wl, dark, ref, ref * 0.5, dark, pl,
                              pl, metadata={"material": "CdSe"}, failure=failure)

    def safe_state(self):
        self.safe_calls += 1

    def close(self):
        self.safe_state()


@pytest.fixture
def tiny_campaign(tmp_path):
    text = (ROOT / "campaigns/cdse_620nm.toml").read_text().replace("experiments = 60", "experiments = 6")
    text = text.replace("initial = 8", "initial = 6")  # initial > budget is refused
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def peak_scorer(raw, campaign):
    """Stand-in scorer for mechanics tests: PL peak of the synthetic spectrum."""
    import numpy as np

    i = int(np.argmax(raw.pl_sample_counts - raw.pl_dark_counts))
    base = {"pl_peak_nm": {"value": float(raw.wavelengths_nm[i]), "stderr": 0.5},
            "fwhm_nm": {"value": 35.0, "stderr": 1.0},
            "plqy": {"value": 0.3, "stderr": 0.01}}
    return {k: base.get(k, {"no_outcome": "not_modelled", "detail": ""}) for k in campaign.outcome_names}


@pytest.fixture
def fake_scorer(monkeypatch):
    import sdl.scoring

    monkeypatch.setattr(sdl.scoring, "score_raw", peak_scorer)
    return peak_scorer
