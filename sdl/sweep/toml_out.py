"""Write a campaign dictionary back as TOML (the subset campaign files use).

Tables, arrays of tables, nested tables, strings, booleans, integers, floats (exact:
`repr`) and arrays of scalars. `tomllib.loads(dumps(d)) == d` for every campaign file.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(path: str, d: dict[str, Any], out: list[str], header: str | None) -> None:
    if header is not None:
        out.append(header)
    nested = []
    for k, v in d.items():
        if v is None:
            continue  # TOML has no null: an absent key is the schema default
        if isinstance(v, dict) or _is_table_array(v):
            nested.append((k, v))
        else:
            out.append(f"{_key(k)} = {_scalar(v)}")
    for k, v in nested:
        sub = f"{path}.{_key(k)}" if path else _key(k)
        out.append("")
        if isinstance(v, dict):
            _table(sub, v, out, f"[{sub}]")
        else:
            for i, item in enumerate(v):
                if i:
                    out.append("")
                _table(sub, item, out, f"[[{sub}]]")


def dumps(d: dict[str, Any]) -> str:
    """TOML text of `d` (keys with value None are left out)."""
    out: list[str] = []
    _table("", d, out, None)
    return "\n".join(out).lstrip("\n") + "\n"
