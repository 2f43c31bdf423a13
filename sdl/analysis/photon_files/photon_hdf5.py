"""Read and write Photon-HDF5 files (single spot) with h5py.

Layout follows the Photon-HDF5 specification v0.5 (Ingargiola et al., Biophys. J. 110,
26-33 (2016); field list in phconvert's ``specs/photon-hdf5_specs.json``):

    / (attrs format_name="Photon-HDF5", format_version="0.5", format_url)
    /description, /acquisition_duration (s)
    /photon_data/timestamps (int64), /photon_data/detectors (uint8)
    /photon_data/timestamps_specs/timestamps_unit (s per timestamp unit)
    /photon_data/nanotimes (T3), /photon_data/nanotimes_specs/{tcspc_unit, tcspc_num_bins,
        tcspc_range}
    /photon_data/measurement_specs/measurement_type ("generic"), laser_repetition_rate (Hz)
    /setup/{num_pixels, num_spots, num_spectral_ch, num_polarization_ch, num_split_ch,
        modulated_excitation, excitation_alternated, lifetime, excitation_cw}
    /identity/{creator, software, software_version, format_name, format_version,
        format_url, creation_time, filename}
    /provenance/{filename, software} when the data came from another file

Every dataset carries a ``TITLE`` attribute (the spec's description). Data with no place
in the spec live under ``/user/sdl`` (the spec's free-form group): ``nsync`` (T3 sync
index per photon), ``markers_ps``, ``marker_channels``, ``record_type``.

We write timestamps in ps (timestamps_unit 1e-12) so nothing is rounded; nanotimes are the
T3 dtime bins (tcspc_unit = the dtime resolution). Reading accepts any timestamps_unit and
converts to int64 ps (exactly when the unit is a whole number of ps).
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import numpy as np

from sdl.analysis.photon_files.data import PhotonData
from sdl.analysis.photon_files.errors import PhotonFileError
from sdl.analysis.photon_files.ptu_format import as_integer_ps

FORMAT_VERSION = "0.5"
FORMAT_URL = "http://photon-hdf5.org/"

_TITLES = {
    "description": "A user-defined comment describing the data file.",
    "acquisition_duration": "Measurement duration in seconds.",
    "photon_data": "Group containing arrays of photon-data.",
    "photon_data/timestamps": "Array of photon timestamps.",
    "photon_data/detectors": "Array of pixel IDs for each timestamp.",
    "photon_data/nanotimes": "TCSPC photon arrival time (nanotimes).",
    "photon_data/timestamps_specs": "Specifications for timestamps.",
    "photon_data/timestamps_specs/timestamps_unit": "Value of 1-unit timestamp-increment in seconds.",
    "photon_data/nanotimes_specs": "Group for nanotime-specific data.",
    "photon_data/nanotimes_specs/tcspc_unit": "TCSPC time bin duration in seconds.",
    "photon_data/nanotimes_specs/tcspc_num_bins": "Number of TCSPC bins.",
    "photon_data/nanotimes_specs/tcspc_range": "TCSPC full-scale range in seconds.",
    "photon_data/measurement_specs": "Metadata for the interpretation of the measurement.",
    "photon_data/measurement_specs/measurement_type": "Name of the measurement the data represents.",
    "photon_data/measurement_specs/laser_repetition_rate": "Repetition rate of the pulsed excitation laser (Hz).",
    "setup": "Information about the experimental setup.",
    "setup/num_pixels": "Total number of detector pixels.",
    "setup/num_spots": "Number of excitation (or detection) spots in the sample.",
    "setup/num_spectral_ch": "Number of distinct spectral bands which are acquired.",
    "setup/num_polarization_ch": "Number of distinct polarization states which are acquired.",
    "setup/num_split_ch": "Number of distinct detection channels detecting the same band and polarization.",
    "setup/modulated_excitation": "True (1) if the excitation is modulated (ALEX, PIE, ...).",
    "setup/excitation_alternated": "Whether each excitation source is alternated.",
    "setup/lifetime": "True (1) if the measurement includes TCSPC nanotimes.",
    "setup/excitation_cw": "For each excitation source: CW (1) or pulsed (0).",
    "identity": "Information about the Photon-HDF5 data file.",
    "provenance": "Information about the original data file.",
    "user": "User-defined data.",
}


def write_photon_hdf5(
    path: str | os.PathLike[str],
    data: PhotonData | None = None,
    *,
    timestamps_ps: np.ndarray | None = None,
    channels: np.ndarray | None = None,
    sync_period_ps: int = 0,
    description: str = "qd-sdl photon time tags (HBT / TCSPC)",
    author: str | None = None,
    provenance_filename: str | None = None,
) -> None:
    """Write a single-spot Photon-HDF5 file.

    Args:
        path: output file (overwritten).
        data: the photon stream; or give `timestamps_ps` and `channels` (T2 only) instead.
        timestamps_ps: shape (n,), int64, ps, non-decreasing (when `data` is None).
        channels: shape (n,), uint8 detector per photon (when `data` is None).
        sync_period_ps: laser period in ps, 0 if CW (when `data` is None).
        description: free text for ``/description``.
        author: optional ``/identity/author``.
        provenance_filename: name of the file the data was converted from, if any.

    Raises:
        PhotonFileError: timestamps not non-decreasing or arrays inconsistent.
    """
    if data is None:
        if timestamps_ps is None or channels is None:
            raise PhotonFileError("give `data` or both `timestamps_ps` and `channels`")
        try:
            data = PhotonData(timestamps_ps=np.asarray(timestamps_ps, dtype=np.int64),
                              channels=np.asarray(channels, dtype=np.uint8),
                              sync_period_ps=sync_period_ps, record_type="arrays")
        except ValueError as exc:
            raise PhotonFileError(str(exc)) from exc
    ts = data.timestamps_ps
    if ts.size > 1 and np.any(np.diff(ts) < 0):
        raise PhotonFileError("timestamps_ps must be non-decreasing")
    import h5py

    name = os.fspath(path)
    pulsed = data.sync_period_ps > 0
    dets = np.unique(data.channels)
    with h5py.File(name, "w") as f:
        f.attrs["format_name"] = "Photon-HDF5"
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["format_url"] = FORMAT_URL
        _put(f, "description", description)
        duration = float(ts[-1] - ts[0]) * 1e-12 if ts.size else 0.0
        _put(f, "acquisition_duration", duration)
        _put(f, "photon_data/timestamps", ts, compress=True)
        _put(f, "photon_data/detectors", data.channels, compress=True)
        _put(f, "photon_data/timestamps_specs/timestamps_unit", 1e-12)
        _put(f, "photon_data/measurement_specs/measurement_type", "generic")
        if pulsed:
            _put(f, "photon_data/measurement_specs/laser_repetition_rate",
                 1e12 / data.sync_period_ps)
        if data.is_t3:
            bins = np.rint(data.dtime_ps / data.resolution_ps).astype(np.int64)
            nbins = int(bins.max()) + 1 if bins.size else 1
            ntype = np.uint16 if nbins <= 65536 else np.uint32
            _put(f, "photon_data/nanotimes", bins.astype(ntype), compress=True)
            _put(f, "photon_data/nanotimes_specs/tcspc_unit", data.resolution_ps * 1e-12)
            _put(f, "photon_data/nanotimes_specs/tcspc_num_bins", nbins)
            _put(f, "photon_data/nanotimes_specs/tcspc_range", nbins * data.resolution_ps * 1e-12)
        _put(f, "setup/num_pixels", int(dets.size))
        _put(f, "setup/num_spots", 1)
        _put(f, "setup/num_spectral_ch", 1)
        _put(f, "setup/num_polarization_ch", 1)
        _put(f, "setup/num_split_ch", int(max(dets.size, 1)))
        # Booleans as integers 0/1, as the spec describes them ("True (i.e. 1)") and as
        # phconvert writes them; h5py would otherwise store an HDF5 enum.
        _put(f, "setup/modulated_excitation", 0)
        _put(f, "setup/excitation_alternated", np.array([0]))
        _put(f, "setup/lifetime", int(data.is_t3))
        _put(f, "setup/excitation_cw", np.array([int(not pulsed)]))
        ident = {
            "creator": "qd-sdl",
            "software": "qd-sdl sdl.analysis.photon_files",
            "software_version": _software_version(),
            "format_name": "Photon-HDF5",
            "format_version": FORMAT_VERSION,
            "format_url": FORMAT_URL,
            "creation_time": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "filename": os.path.basename(name),
        }
        if author:
            ident["author"] = author
        for key, value in ident.items():
            _put(f, f"identity/{key}", value)
        if provenance_filename:
            _put(f, "provenance/filename", os.path.basename(provenance_filename))
            _put(f, "provenance/software", data.record_type or "unknown")
        _put(f, "user/sdl/record_type", data.record_type)
        _put(f, "user/sdl/resolution_ps", data.resolution_ps)
        _put(f, "user/sdl/sync_period_ps", data.sync_period_ps)
        _put(f, "user/sdl/markers_ps", data.markers_ps)
        _put(f, "user/sdl/marker_channels", data.marker_channels)
        if data.is_t3:
            _put(f, "user/sdl/nsync", data.nsync, compress=True)


def read_photon_hdf5(path: str | os.PathLike[str], *, spot: int | None = None) -> PhotonData:
    """Read a Photon-HDF5 file into `PhotonData`.

    Args:
        path: file path.
        spot: for multi-spot files (``/photon_data0``, ``/photon_data1``, ...) the spot
            number; None for single-spot files.

    Returns:
        `PhotonData`; timestamps converted to int64 ps, detectors as channels, nanotimes
        x tcspc_unit as dtime_ps, markers from ``/user/sdl`` when present. T3 files of
        ours carry ``/user/sdl/nsync``; for other files see `_foreign_t3` (macrotime in
        laser periods -> nsync, photon time = nsync x period + dtime). Nanotimes without
        a laser_repetition_rate are dropped (T2 result). `header` maps field paths to the
        scalar/string metadata values.

    Raises:
        PhotonFileError: not HDF5, missing mandatory fields, inconsistent lengths or
            unsorted timestamps.
    """
    import h5py

    name = os.fspath(path)
    try:
        f = h5py.File(name, "r")
    except OSError as exc:
        raise PhotonFileError(f"not a readable HDF5 file ({exc})", path=name) from exc
    with f:
        group = "photon_data" if spot is None else f"photon_data{spot}"
        if group not in f:
            spots = sorted(k for k in f if k.startswith("photon_data"))
            hint = f"; this file has {spots} (pass spot=N)" if spots else ""
            raise PhotonFileError(f"no /{group} group, not a Photon-HDF5 file{hint}", path=name)
        pd = f[group]
        ts_raw = _dataset(pd, "timestamps", name)
        unit_s = _scalar(pd, "timestamps_specs/timestamps_unit", name)
        if not (unit_s > 0 and np.isfinite(unit_s)):
            raise PhotonFileError(f"timestamps_unit must be > 0 s, got {unit_s}", path=name)
        if not np.issubdtype(ts_raw.dtype, np.integer):
            raise PhotonFileError(f"/{group}/timestamps must be integers, got {ts_raw.dtype}",
                                  path=name)
        ts = _scale_to_ps(ts_raw.astype(np.int64), unit_s * 1e12)
        if "detectors" in pd:
            det = _per_photon(pd, "detectors", ts_raw.shape[0], name)
            if det.size and (det.min() < 0 or det.max() > 255):
                raise PhotonFileError("detector IDs outside 0..255 are not supported", path=name)
            channels = det.astype(np.uint8)
        else:
            channels = np.zeros(ts.shape[0], np.uint8)
        if ts.size > 1 and np.any(np.diff(ts) < 0):
            i = int(np.flatnonzero(np.diff(ts) < 0)[0]) + 1
            raise PhotonFileError(f"/{group}/timestamps decrease at index {i}", path=name)
        rate_key = "measurement_specs/laser_repetition_rate"
        rate = _scalar(pd, rate_key, name) if rate_key in pd else 0.0
        sync_period_ps = int(round(1e12 / rate)) if rate > 0 else 0
        user = f["user/sdl"] if "user/sdl" in f else None
        resolution_ps = unit_s * 1e12
        nsync = dtime_ps = None
        if "nanotimes" in pd:
            nt = _per_photon(pd, "nanotimes", ts_raw.shape[0], name)
            resolution_ps = _scalar(pd, "nanotimes_specs/tcspc_unit", name) * 1e12
            if not (resolution_ps > 0 and np.isfinite(resolution_ps)):
                raise PhotonFileError(f"tcspc_unit must be > 0, got {resolution_ps} ps", path=name)
            dtime_ps = _scale_to_ps(nt.astype(np.int64), resolution_ps)
            if user is not None and "nsync" in user and user["nsync"].shape == ts.shape:
                nsync = user["nsync"][()].astype(np.int64)  # our own file: ts include dtime
            elif sync_period_ps > 0:
                ts, nsync, dtime_ps, channels = _foreign_t3(ts_raw.astype(np.int64), ts,
                                                            dtime_ps, channels, unit_s, rate)
            else:
                dtime_ps = None  # nanotimes without a laser period: keep T2 semantics
        markers = np.zeros(0, np.int64)
        marker_ch = np.zeros(0, np.uint8)
        record_type = "PhotonHDF5"
        if user is not None:
            if "markers_ps" in user and "marker_channels" in user:
                markers = user["markers_ps"][()].astype(np.int64)
                marker_ch = user["marker_channels"][()].astype(np.uint8)
            if "record_type" in user:
                record_type = _text(user["record_type"][()]) or record_type
            if "resolution_ps" in user and nsync is None:
                resolution_ps = float(user["resolution_ps"][()])
        header = _collect_metadata(f)
    try:
        return PhotonData(timestamps_ps=ts, channels=channels, sync_period_ps=sync_period_ps,
                          resolution_ps=resolution_ps, nsync=nsync, dtime_ps=dtime_ps,
                          markers_ps=markers, marker_channels=marker_ch, header=header,
                          record_type=record_type)
    except ValueError as exc:
        raise PhotonFileError(str(exc), path=name) from exc


def _foreign_t3(macro: np.ndarray, macro_ps: np.ndarray, dtime_ps: np.ndarray,
                channels: np.ndarray, unit_s: float, rate_hz: float):
    """T3 arrays from a Photon-HDF5 file written by another tool.

    There timestamps are macrotimes and nanotimes a separate delay (phconvert convention).
    If the timestamp unit is the laser period (sync-counting hardware, e.g. PicoQuant T3),
    the macrotime is the sync index: photon time = nsync x period + dtime, re-sorted by
    time. Otherwise (free-running macrotime clock) the photon time is the macrotime and
    nsync = floor(macrotime / period), an approximation.
    """
    period_f = 1e12 / rate_hz
    if abs(unit_s * 1e12 - period_f) <= 1e-9 * period_f:
        nsync = macro
        period_int = as_integer_ps(period_f)
        if period_int > 0:
            ts = nsync * period_int + dtime_ps
        else:
            ts = np.rint(nsync * period_f + dtime_ps).astype(np.int64)
        order = np.argsort(ts, kind="stable")
        return ts[order], nsync[order], dtime_ps[order], channels[order]
    nsync = np.floor(macro_ps / period_f).astype(np.int64)
    return macro_ps, nsync, dtime_ps, channels


def _put(f, key: str, value: Any, compress: bool = False) -> None:
    if isinstance(value, str):
        ds = f.create_dataset(key, data=np.bytes_(value.encode("utf-8")))
    elif compress:
        ds = f.create_dataset(key, data=value, compression="gzip", compression_opts=1,
                              shuffle=True)
    else:
        ds = f.create_dataset(key, data=value)
    title = _TITLES.get(key)
    if title:
        ds.attrs["TITLE"] = np.bytes_(title.encode("utf-8"))
    parent = key.rsplit("/", 1)[0] if "/" in key else None
    while parent:
        if parent in _TITLES and "TITLE" not in f[parent].attrs:
            f[parent].attrs["TITLE"] = np.bytes_(_TITLES[parent].encode("utf-8"))
        parent = parent.rsplit("/", 1)[0] if "/" in parent else None


def _dataset(group, key: str, path: str) -> np.ndarray:
    if key not in group:
        raise PhotonFileError(f"missing mandatory field /{group.name.strip('/')}/{key}", path=path)
    obj = group[key]
    if not hasattr(obj, "shape") or obj.ndim != 1:
        raise PhotonFileError(f"/{group.name.strip('/')}/{key} must be a 1-D array", path=path)
    return obj[()]


def _per_photon(group, key: str, n_photons: int, path: str) -> np.ndarray:
    """1-D dataset `key` of a photon_data group, checked to hold one entry per time stamp."""
    arr = _dataset(group, key, path)
    if arr.shape[0] != n_photons:
        raise PhotonFileError(f"/{group.name.strip('/')}/{key} has {arr.shape[0]} entries, "
                              f"timestamps {n_photons}", path=path)
    return arr


def _scalar(group, key: str, path: str) -> float:
    if key not in group:
        raise PhotonFileError(f"missing mandatory field /{group.name.strip('/')}/{key}", path=path)
    try:
        return float(np.asarray(group[key][()]).reshape(-1)[0])
    except (TypeError, ValueError, IndexError) as exc:
        raise PhotonFileError(f"/{group.name.strip('/')}/{key} must be a number", path=path) from exc


def _scale_to_ps(values: np.ndarray, unit_ps: float) -> np.ndarray:
    unit_int = as_integer_ps(unit_ps)
    if unit_int > 0:
        return values * unit_int
    return np.rint(values * unit_ps).astype(np.int64)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def _collect_metadata(f) -> dict[str, Any]:
    """Scalar and string fields of the metadata groups, keyed by their path."""
    out: dict[str, Any] = {}
    for group in ("", "identity", "provenance", "setup", "sample"):
        if group and group not in f:
            continue
        g = f[group] if group else f
        for key, obj in g.items():
            if not hasattr(obj, "shape") or obj.size > 16:
                continue
            value = obj[()]
            if isinstance(value, (bytes, np.bytes_)):
                value = _text(value)
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, np.generic):
                value = value.item()
            out[f"/{group}/{key}" if group else f"/{key}"] = value
    for attr in ("format_name", "format_version"):
        if attr in f.attrs:
            out[f"/@{attr}"] = _text(f.attrs[attr])
    return out


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("qd-sdl")
    except Exception:  # noqa: BLE001 - metadata is optional
        return "unknown"
