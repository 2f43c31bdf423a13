"""Related earlier data of a campaign (`[[strategy.related]]`) for transfer learning.

Each entry is read with `sdl.prior.read_prior` (an `sdl export` CSV or a run directory;
the same validation and sha256 as `sdl run --prior`). `related_digests` is what
`campaign_started` records; `check_related` is what `sdl replay --verify` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdl.errors import SdlError

_CACHE: dict[tuple, Any] = {}


class RelatedDataError(SdlError):
    """Related data is missing, unreadable or no longer the data the run recorded."""


def _key(path: Path) -> tuple:
    st = path.stat() if path.exists() else None
    return (str(path.resolve()), st and st.st_size, st and st.st_mtime_ns)


def load_related(campaign: Any) -> list[Any]:
    """`surrogates.transfer.RelatedTask` per `[[strategy.related]]` entry (file order).

    Raises:
        RelatedDataError: a source cannot be read or has no usable row.
    """
    from sdl.prior import PriorError, prior_observations, read_prior
    from surrogates.transfer import RelatedTask

    out = []
    for i, rel in enumerate(campaign.strategy.related):
        path = Path(rel.path)
        key = (_key(path), campaign.model_dump_json(include={"parameters", "objectives"}))
        if key not in _CACHE:
            try:
                data = read_prior(path, campaign)
            except PriorError as e:
                raise RelatedDataError(f"strategy.related[{i}] ({rel.label or rel.path}): "
                                       f"{e}") from None
            obs = prior_observations([{"seq": i + 1, "rows": data.rows}])
            _CACHE[key] = RelatedTask(rel.label, rel.path, data.sha256, tuple(obs))
        out.append(_CACHE[key])
    return out


def related_digests(campaign: Any) -> list[dict[str, str]]:
    """[{"path", "label", "sha256"}] of the campaign's related sources, for the record."""
    return [{"path": t.source, "label": t.label, "sha256": t.sha256}
            for t in load_related(campaign)]


def check_related(recorded: list[dict[str, str]] | None, campaign: Any) -> list[str]:
    """Problems (empty when none) between the recorded related data and the files now."""
    recorded = recorded or []
    if not recorded and not campaign.strategy.related:
        return []
    try:
        now = related_digests(campaign)
    except RelatedDataError as e:
        return [str(e)]
    problems = []
    if len(now) != len(recorded):
        problems.append(f"related data: {len(recorded)} source(s) recorded, "
                        f"{len(now)} in the campaign")
    for r, n in zip(recorded, now, strict=False):
        if r.get("sha256") != n["sha256"]:
            problems.append(f"related data {n['path']} ({n['label']}): sha256 {n['sha256'][:12]} "
                            f"differs from the recorded {str(r.get('sha256'))[:12]}; the file "
                            "was changed since the run, so its proposals cannot be replayed")
    return problems
