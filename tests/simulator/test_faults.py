"""Drift, hashing and clog hazard."""

from __future__ import annotations

import hashlib

from simulator.faults import CampaignDrift, clog_hazard, run_rng, stable_hash
from simulator.materials import load_material


def test_stable_hash_is_process_independent():
    # sha256-based: a fixed value, unlike Python's salted hash().
    assert stable_hash(1, "e0001", 0, "failure") == stable_hash(1, "e0001", 0, "failure")
    digest = hashlib.sha256(b"1\x1f'e0001'\x1f0\x1f'failure'").digest()
    assert stable_hash(1, "e0001", 0, "failure") == int.from_bytes(digest[:8], "little")
    assert run_rng(1, "a", 0, "x").random() == run_rng(1, "a", 0, "x").random()
    assert run_rng(1, "a", 0, "x").random() != run_rng(1, "a", 1, "x").random()


def test_drift_deterministic_bounded_and_order_independent():
    a, b = CampaignDrift(3), CampaignDrift(3)
    late = a.at(500)
    for k in range(501):
        b.at(k)
    assert b.at(500) == late
    states = [a.at(k) for k in range(501)]
    assert all(0.77 < s.reactivity < 1.3 and abs(s.temperature_offset_c) <= 3.0 for s in states)
    assert all(0.97 <= v <= 1.03 for s in states for v in s.pump_bias.values())
    assert len({round(s.reactivity, 6) for s in states}) > 100       # it does move
    assert CampaignDrift(3, enabled=False).at(50).reactivity == 1.0


def test_clog_hazard_rises_with_concentration_temperature_fouling():
    f = load_material("CdSe").faults
    h = lambda c, t, foul: clog_hazard(f, c, t, 120.0, foul, 260.0)  # noqa: E731
    assert h(10, 260, 0) < h(40, 260, 0) < h(40, 300, 0) < h(40, 300, 1.0)
    assert h(20, 260, 0) == f["clog_base_per_run"]
