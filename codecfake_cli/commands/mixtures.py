"""``codecfake mixtures``: add or remove mixture configs of a built folder (its card and report only; no
audio is copied)."""

from __future__ import annotations

import argparse

from codecfake_cli.commands.shared import add_mixture_option, print_mixtures


def register(commands: argparse._SubParsersAction) -> None:
    mixtures = commands.add_parser(
        "mixtures",
        help="add mixture configs (every subset, every subset but a family, ...) to a built dataset folder",
    )
    mixtures.add_argument("folder", help="the folder `codecfake build` wrote")
    add_mixture_option(mixtures, "--add")
    mixtures.add_argument("--remove", action="append", default=[], metavar="NAME", help="a mixture to drop")
    mixtures.add_argument("--write-card", action="store_true", help="rewrite README.md even if you edited it")
    mixtures.set_defaults(
        func=run,
        interrupted="{folder}/README.md and build_report.json are whole (as before or as newly written); "
        "rerun the same command",
    )


def run(args: argparse.Namespace) -> int:
    from dataset_builder.mixture_configs import add_mixtures

    report = add_mixtures(args.folder, args.add, args.remove, regenerate_card=args.write_card)
    print(f"wrote {args.folder}/README.md and build_report.json: {len(report['mixtures'])} mixture config(s)")
    print_mixtures(args.folder, report)
    return 0
