"""``codecfake push``: upload a built dataset folder to the Hub (resumable)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    push = commands.add_parser("push", help="upload a built dataset folder to the Hub (resumable)")
    push.add_argument("folder", help="the folder `codecfake build` wrote")
    push.add_argument("--repo", required=True, help="Hub dataset repo, ORG/NAME")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--write-card", action="store_true", help="regenerate README.md even if you edited it")
    push.set_defaults(func=run, interrupted="rerun the same command: the upload resumes where it stopped")


def run(args: argparse.Namespace) -> int:
    from dataset_builder.publishing import push_to_hub

    print(push_to_hub(args.folder, args.repo, private=args.private, regenerate_card=args.write_card))
    return 0
