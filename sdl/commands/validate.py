"""`sdl validate FILE`: check a campaign or rig file (kind detected from its tables)."""

from __future__ import annotations

import argparse

from sdl.commands import add_read_command, print_json
from sdl.errors import CampaignError


def register(sub: argparse._SubParsersAction) -> None:
    add_read_command(sub, "validate", help="check a campaign or rig file",
                     description="Check a campaign or rig file: the schema (field names, "
                     "types, ranges) and, for a campaign, what the material, its analysis "
                     "and the spectrometer can give. One line per problem, exit 2 if any.",
                     target=("file", "campaign or rig TOML file"),
                     json_help="print the normalised file as JSON", run=run)


def run(args: argparse.Namespace) -> int:
    from sdl.console import plural
    from sdl.schema.load import campaign_from_dict, detect_kind, load_toml_file, rig_from_dict

    data = load_toml_file(args.file)
    kind = detect_kind(data)
    if kind is None:
        raise CampaignError(
            args.file, ["neither a campaign file (needs a [campaign] table) nor a rig file ([rig])"]
        )
    if kind == "campaign":
        from sdl.schema.semantics import check_campaign

        model = campaign_from_dict(data, args.file)
        check_campaign(model, args.file)
    else:
        model = rig_from_dict(data, args.file)
    if args.json:
        print_json({"kind": kind, "valid": True, "content": model.model_dump(mode="json")})
    elif kind == "campaign":
        print(
            f"{args.file}: valid campaign '{model.name}' ({model.campaign.material}): "
            f"{plural(len(model.parameters), 'parameter')}, "
            f"{plural(len(model.objectives), 'objective')}, "
            f"budget {plural(model.budget.experiments, 'experiment')}"
        )
    else:
        print(f"{args.file}: valid rig '{model.rig.name}': {plural(len(model.devices), 'device')}")
    return 0
