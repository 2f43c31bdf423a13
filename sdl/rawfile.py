"""Raw measurement files: `raw/<experiment_id>.h5`, written atomically, hashed by sha256.

Layout (HDF5, h5py):
  /spectra/<field>            float64 (P,) for each of RawMeasurement.SPECTRUM_FIELDS
  /photon_data/timestamps     int64 (N,)  ps          } Photon-HDF5 layout
  /photon_data/detectors      uint8 (N,)              } (Ingargiola et al., Biophys. J. 2016)
  /photon_data/timestamps_specs/timestamps_unit = 1e-12 s
  /photon_data/measurement_specs/laser_repetition_rate (Hz, pulsed only)
  root attributes: experiment_id, sync_period_ps
  /json/<key>                 UTF-8 JSON text for conditions, metadata, device_log, failure
                              and truth (hidden ground truth; the loop never reads it back).
                              Datasets, not attributes: attributes are capped at 64 kB.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import h5py
import numpy as np

from sdl.errors import RecordError
from sdl.record import canonical_json, jsonable
from sdl.vocab.measurement import Failure, RawMeasurement


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_raw(raw: RawMeasurement, path: str | Path) -> str:
    """Write `raw` to `path` atomically (temp file, fsync, rename); return its sha256."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".part")
    with h5py.File(tmp, "w", track_order=True) as f:
        g = f.create_group("spectra")
        for name in RawMeasurement.SPECTRUM_FIELDS:
            g.create_dataset(name, data=np.asarray(getattr(raw, name), dtype=np.float64),
                             track_times=False)
        if raw.photon_timestamps_ps is not None:
            pd = f.create_group("photon_data")
            pd.create_dataset("timestamps", data=np.asarray(raw.photon_timestamps_ps, np.int64),
                              track_times=False)
            pd.create_dataset("detectors", data=np.asarray(raw.photon_channels, np.uint8),
                              track_times=False)
            pd.create_group("timestamps_specs").create_dataset("timestamps_unit", data=1e-12)
            if raw.sync_period_ps:
                ms = pd.create_group("measurement_specs")
                ms.create_dataset("laser_repetition_rate", data=1e12 / raw.sync_period_ps)
        f.attrs["experiment_id"] = raw.experiment_id
        f.attrs["sync_period_ps"] = int(raw.sync_period_ps)
        js = f.create_group("json")
        texts = {key: canonical_json(jsonable(getattr(raw, key)))
                 for key in ("conditions", "metadata", "device_log", "truth")}
        texts["failure"] = canonical_json(asdict(raw.failure) if raw.failure else None)
        for key, text in texts.items():
            js.create_dataset(key, data=text, dtype=h5py.string_dtype("utf-8"), track_times=False)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return sha256_file(path)


def load_raw(path: str | Path, *, expected_sha256: str | None = None) -> RawMeasurement:
    """Read a raw file back; raise `RecordError` if missing, unreadable or not matching
    `expected_sha256`."""
    path = Path(path)
    if not path.exists():
        raise RecordError(f"raw file {path} is missing")
    if expected_sha256 is not None:
        got = sha256_file(path)
        if got != expected_sha256:
            raise RecordError(f"raw file {path} changed since it was recorded (sha256 {got[:12]}… "
                              f"!= recorded {expected_sha256[:12]}…)")
    try:
        with h5py.File(path, "r") as f:
            spectra = {n: f["spectra"][n][()] for n in RawMeasurement.SPECTRUM_FIELDS}
            ts = ch = None
            if "photon_data" in f:
                ts = f["photon_data/timestamps"][()].astype(np.int64)
                ch = f["photon_data/detectors"][()].astype(np.uint8)
            a = f.attrs
            js = {k: json.loads(f["json"][k][()].decode("utf-8"))
                  for k in ("conditions", "metadata", "device_log", "truth", "failure")}
            failure = js["failure"]
            return RawMeasurement(
                experiment_id=str(a["experiment_id"]),
                conditions=js["conditions"],
                photon_timestamps_ps=ts,
                photon_channels=ch,
                sync_period_ps=int(a["sync_period_ps"]),
                metadata=js["metadata"],
                device_log=js["device_log"],
                failure=Failure(**failure) if failure else None,
                truth=js["truth"],
                **spectra,
            )
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise RecordError(f"raw file {path} is unreadable: {e}") from None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
