"""The photon front end: one rule for sync detection and detector choice, shared by
scoring and `sdl analyze`; rho from the decay floor; detector alignment."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sdl.analysis.g2 import analyze_g2
from sdl.analysis.photon_frontend import (
    MIN_SYNC_EVENTS,
    PhotonStream,
    align_detectors,
    detector_channels,
    g2_detectors,
    signal_fraction_from_decay,
    sync_channel,
)
from sdl.analysis.score import score

from .naive_photons import pulsed_stream

P = 100_000


def _with_sync(ts, ch, n_pulses):
    """Detectors moved to inputs 1, 2 and the laser sync time-tagged on 0 (HydraHarp T2)."""
    sync = np.arange(n_pulses, dtype=np.int64) * P
    t = np.concatenate([ts + 20_000, sync])
    c = np.concatenate([ch + 1, np.zeros(n_pulses, np.uint8)]).astype(np.uint8)
    o = np.argsort(t, kind="stable")
    return t[o], c[o]


@pytest.fixture(scope="module")
def pulsed():
    rng = np.random.default_rng(31)
    n = 100_000
    ts, ch, truth = pulsed_stream(rng, n, P, 0.2, 0.004, 4_000, 100, delay_ps=2_000)
    return ts, ch, n, truth


def test_sync_on_channel_0_is_recognised_and_left_out(pulsed):
    ts, ch, n, _ = pulsed
    t, c = _with_sync(ts, ch, n)
    stream = PhotonStream(t, c, P)
    assert sync_channel(stream) == 0
    assert sorted(detector_channels(stream)) == [1, 2] and g2_detectors(stream) == (1, 2)
    # without the period (CW) or as T3 data channel 0 is never the sync
    assert sync_channel(PhotonStream(t, c, 0)) is None
    assert sync_channel(PhotonStream(t, c, P, dtime_ps=np.zeros(t.size, np.int64))) is None


def test_a_detector_on_channel_0_is_not_a_sync(pulsed):
    """The simulator numbers its detectors 0 and 1: both are detectors."""
    ts, ch, _, _ = pulsed
    stream = PhotonStream(ts, ch, P)
    assert sync_channel(stream) is None and g2_detectors(stream) == (0, 1)
    few = PhotonStream(np.arange(MIN_SYNC_EVENTS - 1, dtype=np.int64) * P,
                       np.zeros(MIN_SYNC_EVENTS - 1, np.uint8), P)
    assert sync_channel(few) is None and g2_detectors(few) is None


def test_scoring_and_the_file_path_choose_the_same_detectors(pulsed):
    """A rig's raw measurement keeps the tagger's channels (sync included); scoring then
    gives the same g2(0) as the detector-only stream."""
    ts, ch, n, truth = pulsed
    t, c = _with_sync(ts, ch, n)
    direct = analyze_g2(ts, ch, P)
    via_sync = analyze_g2(t, c, P)
    assert via_sync.g2_zero == pytest.approx(direct.g2_zero, rel=1e-12)
    assert abs(via_sync.g2_zero - truth) < 3 * via_sync.g2_zero_stderr
    raw = SimpleNamespace(photon_timestamps_ps=t, photon_channels=c, sync_period_ps=P,
                          metadata={}, failure=None)
    est = score(raw, ["g2_zero"])["g2_zero"]
    assert est.value == pytest.approx(via_sync.g2_zero, rel=1e-12)


def test_signal_fraction_is_one_without_background(pulsed):
    ts, ch, _, _ = pulsed
    rho = signal_fraction_from_decay(PhotonStream(ts, ch, P), (0, 1))
    assert rho == pytest.approx(1.0, abs=0.02)


def test_align_detectors_removes_a_cable_delay():
    rng = np.random.default_rng(4)
    d = np.mod((rng.exponential(4_000, 20_000) + 10_000).astype(np.int64), P)
    merged, shifts = align_detectors([d, np.mod(d + 3_000, P)], P, 500)
    assert shifts == [0, -3_000]
    assert np.array_equal(np.sort(merged), np.sort(np.concatenate([d, d])))
