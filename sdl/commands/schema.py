"""`sdl schema campaign|rig`: print the JSON Schema of a file kind."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of campaign or rig files")
    p.add_argument("kind", choices=["campaign", "rig"], help="which file schema to print")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sdl.schema.campaign import Campaign
    from sdl.schema.rig import RigFile

    model = Campaign if args.kind == "campaign" else RigFile
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0
