"""Emulated STS: counts from the shared world, and every spectrometer fault."""

from __future__ import annotations

import numpy as np
import pytest

from hardware.drivers.ne1000 import Ne1000Pump
from hardware.drivers.ocean_obp import STS_MAX_COUNTS, OceanObpSpectrometer
from hardware.emulators.ocean import DEFAULT_ITIME_US
from hardware.errors import CommandRejected
from hardware.retry import RetryPolicy


@pytest.fixture
def sts(emu):
    s = OceanObpSpectrometer(emu.urls["sts"], timeout_s=0.5, retry=RetryPolicy(1), name="sts")
    s.set_integration_time_us(50_000)
    yield s
    s.close()


def start_flow(emu, clock):
    """Metal + anion + ligand + solvent flowing, core heater held at 250 C."""
    pumps = []
    for name, addr, rate in (("pump_metal", 0, 100.0), ("pump_anion", 1, 100.0),
                             ("pump_ligand", 2, 100.0), ("pump_solvent", 4, 200.0)):
        p = Ne1000Pump(emu.urls[name], addr, timeout_s=0.05)
        p.set_rate(rate)
        p.run()
        pumps.append(p)
    heater = emu.devices["heater_core"]
    heater.temp_c = heater.target_c = heater.working_sp_c = 250.0
    clock.advance(1.0)
    return pumps


def test_absorbance_from_counts_matches_world_optics(emu, clock, sts):
    pumps = start_flow(emu, clock)
    cond = emu.world.conditions()
    assert cond["residence_time_s"] == pytest.approx(60.0)     # 500 µL at 500 µL/min
    assert cond["metal_conc_mm"] == pytest.approx(1000 * 0.2 * 100 / 500)
    emu.world.light = "dark"
    dark = sts.raw_spectrum().astype(float)
    emu.world.light, emu.world.cell = "lamp", "solvent"
    ref = sts.raw_spectrum().astype(float)
    emu.world.cell = "sample"
    sample = sts.raw_spectrum().astype(float)
    wl = sts.wavelengths()
    a_true = emu.world.optics(wl).absorbance
    assert a_true.max() > 0.1
    bright = (ref - dark) > 2000
    a_meas = -np.log10((sample[bright] - dark[bright]) / (ref[bright] - dark[bright]))
    resid = a_meas - a_true[bright]
    # Beer-Lambert through the emulated detector: unbiased, scatter from shot + read noise
    assert abs(resid.mean()) < 0.005 and resid.std() < 0.03
    assert np.corrcoef(a_meas, a_true[bright])[0, 1] > 0.98
    emu.world.light = "excitation"
    pl = sts.raw_spectrum().astype(float) - dark
    rate = emu.world.optics(wl).pl_photon_rate
    assert pl.max() > 20 * 6.0                                   # well above read noise
    # counts = scale * t * rate (+ noise): the emitted PL shape comes through the detector
    assert np.corrcoef(pl, rate)[0, 1] > 0.98
    assert wl[np.argmax(pl)] == pytest.approx(wl[np.argmax(rate)], abs=5)
    for p in pumps:
        p.close()


def test_saturation(emu, sts):
    emu.inject("sts", "saturation")
    assert sts.raw_spectrum().max() == STS_MAX_COUNTS


def test_lamp_failure_leaves_dark_only(emu, sts):
    emu.world.light = "dark"
    dark = sts.raw_spectrum().astype(float).mean()
    emu.world.light = "lamp"
    assert sts.raw_spectrum().astype(float).mean() > dark + 1000
    emu.inject("sts", "lamp_failure")
    assert sts.raw_spectrum().astype(float).mean() == pytest.approx(dark, abs=5)


def test_bubbles_lose_light_for_n_scans(emu, sts):
    normal = sts.raw_spectrum().astype(float).sum()
    emu.inject("sts", "bubbles", 2)
    assert sts.raw_spectrum().astype(float).sum() < 0.8 * normal
    assert sts.raw_spectrum().astype(float).sum() < 0.8 * normal
    assert sts.raw_spectrum().astype(float).sum() == pytest.approx(normal, rel=0.01)


def test_dark_drift_on_the_clock(emu, clock, sts):
    emu.world.light = "dark"
    d0 = sts.raw_spectrum().astype(float).mean()
    emu.inject("sts", "dark_drift", 0.5)
    clock.advance(100.0)
    assert sts.raw_spectrum().astype(float).mean() - d0 == pytest.approx(50.0, abs=2.0)


def test_not_ready_error_7(emu, sts):
    emu.inject("sts", "not_ready", 1)
    with pytest.raises(CommandRejected) as e:
        sts.raw_spectrum()
    assert e.value.code == 7
    assert sts.raw_spectrum().shape == (1024,)


def test_unexpected_reset_error_9_loses_settings(emu, sts):
    dev = emu.devices["sts"]
    assert dev.integration_time_us == 50_000
    emu.inject("sts", "reset")
    with pytest.raises(CommandRejected) as e:
        sts.serial_number()
    assert e.value.code == 9 and "re-send" in e.value.next_step
    assert dev.integration_time_us == DEFAULT_ITIME_US
    sts.set_integration_time_us(50_000)
    assert dev.integration_time_us == 50_000


def test_invalid_integration_time_nacked_by_device(emu, sts):
    with pytest.raises(CommandRejected) as e:
        sts.transact(0x00110010, (5).to_bytes(4, "little"), ack=True)
    assert e.value.code == 6


def test_unknown_message_nack_2(sts):
    with pytest.raises(CommandRejected) as e:
        sts.transact(0x00999999)
    assert e.value.code == 2


def test_identity_and_calibration(sts):
    assert sts.serial_number() == "S12345"
    wl = sts.wavelengths()
    assert wl.shape == (1024,) and np.all(np.diff(wl) > 0)
    assert len(sts.nonlinearity_coefficients()) == 8
