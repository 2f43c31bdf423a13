"""Read campaign and rig files (TOML) into validated models, with readable errors.

Every problem becomes one line naming the field path, the bad value and what is allowed;
the caller gets a single `CampaignError` carrying all of them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from sdl.errors import CampaignError
from sdl.schema.campaign import Campaign
from sdl.schema.rig import RigFile

MAX_FILE_BYTES = 1_000_000  # a campaign or rig file is a few kB; refuse anything huge


def load_toml_file(path: str | Path) -> dict[str, Any]:
    """Read and parse a TOML file; raise `CampaignError` for unreadable or malformed files."""
    p = Path(path)
    try:
        raw = p.read_bytes() if p.stat().st_size <= MAX_FILE_BYTES else None
    except FileNotFoundError:
        raise CampaignError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise CampaignError(str(path), ["is a directory, expected a .toml file"]) from None
    except OSError as e:
        raise CampaignError(str(path), [f"cannot read: {e.strerror}"]) from None
    if raw is None:
        raise CampaignError(str(path), [f"file larger than {MAX_FILE_BYTES} bytes; not a campaign file"])
    return parse_toml_bytes(raw, str(path))


def parse_toml_bytes(raw: bytes, where: str = "<input>") -> dict[str, Any]:
    """Decode UTF-8 and parse TOML; raise `CampaignError` naming the byte/line problem."""
    if len(raw) > MAX_FILE_BYTES:
        raise CampaignError(where, [f"input larger than {MAX_FILE_BYTES} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CampaignError(where, [f"not UTF-8 text (bad byte at offset {e.start})"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CampaignError(where, [f"not valid TOML: {e}"]) from None
    except RecursionError:
        raise CampaignError(where, ["not valid TOML: nesting too deep"]) from None


def format_validation_error(err: ValidationError) -> list[str]:
    """One line per problem: `field.path = value: message`."""
    lines = []
    for e in err.errors(include_url=False):
        loc = _format_loc(e.get("loc", ()))
        msg = e.get("msg", "invalid")
        msg = msg.removeprefix("Value error, ")
        inp = e.get("input")
        if not loc:  # a whole-file check: its message names the fields itself
            lines.append(msg)
        elif e.get("type") == "missing":
            lines.append(f"{loc}: missing required field")
        elif e.get("type") == "extra_forbidden":
            lines.append(f"{loc}: unknown key (check the spelling; unknown keys are not allowed)")
        elif isinstance(inp, dict | list):
            lines.append(f"{loc}: {msg}")
        else:
            lines.append(f"{loc} = {_short(inp)}: {msg}")
    return lines


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("pump", "heater", "spectrometer", "photon_timer") and out.endswith("]"):
            continue  # discriminator tag adds noise
        else:
            out += ("." if out else "") + str(part)
    return out


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as written in TOML
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


def _validate(model: type[BaseModel], data: dict[str, Any], where: str):
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise CampaignError(where, format_validation_error(e)) from None
    except RecursionError:
        raise CampaignError(where, ["structure nested too deeply"]) from None


def detect_kind(data: dict[str, Any]) -> Literal["campaign", "rig"] | None:
    """'campaign' if the file has a [campaign] table, 'rig' if it has [rig], else None."""
    if "campaign" in data:
        return "campaign"
    if "rig" in data:
        return "rig"
    return None


def campaign_from_dict(data: dict[str, Any], where: str = "<campaign>") -> Campaign:
    return _validate(Campaign, data, where)


def rig_from_dict(data: dict[str, Any], where: str = "<rig>") -> RigFile:
    return _validate(RigFile, data, where)


def campaign_from_toml(raw: bytes | str, where: str = "<campaign>") -> Campaign:
    """Parse and validate campaign TOML (bytes, or the text a run records in its
    `campaign_started` event); `CampaignError` naming `where` if it is not a valid one.
    Schema only: `load_campaign` also checks the semantics of a new campaign file."""
    data = parse_toml_bytes(raw.encode("utf-8") if isinstance(raw, str) else raw, where)
    return campaign_from_dict(data, where)


def rig_name(raw: bytes) -> str:
    """`[rig] name` of rig-file bytes, "" when absent or unreadable (a label only: the
    file is validated where it is loaded)."""
    try:
        return str(parse_toml_bytes(raw).get("rig", {}).get("name", ""))
    except Exception:  # noqa: BLE001 - a label; never the reason a run cannot start
        return ""


def load_campaign(path: str | Path) -> Campaign:
    """Load and validate a new campaign file, schema and semantics (`sdl.schema.semantics`:
    what the material, analysis and spectrometer can give); raise `CampaignError` with one
    line per problem."""
    from sdl.schema.semantics import check_campaign

    data = load_toml_file(path)
    if detect_kind(data) == "rig":
        raise CampaignError(str(path), ["this is a rig file; a campaign file has a [campaign] table"])
    campaign = campaign_from_dict(data, str(path))
    check_campaign(campaign, str(path))
    return campaign


def load_rig(path: str | Path) -> RigFile:
    """Load and validate a rig file; raise `CampaignError` with one line per problem."""
    data = load_toml_file(path)
    if detect_kind(data) == "campaign":
        raise CampaignError(str(path), ["this is a campaign file; a rig file has a [rig] table"])
    return rig_from_dict(data, str(path))
