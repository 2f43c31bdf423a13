"""Subcommands of `sdl`; each module has `register(subparsers)` and a handler."""
