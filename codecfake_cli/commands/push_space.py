"""``codecfake push-space``: upload a Space folder written by ``codecfake space``."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    push_space = commands.add_parser(
        "push-space", help="upload a Space folder written by `codecfake space` to the Hub"
    )
    push_space.add_argument("folder", help="the folder `codecfake space --out` wrote")
    push_space.add_argument("--repo", required=True, help="the Space's ORG/NAME on the Hub")
    push_space.add_argument("--private", action="store_true")
    push_space.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.app.space import push_space

    print(f"pushed to {push_space(args.folder, args.repo, private=args.private)}")
    return 0
