"""``codecfake import KIND SOURCE --out DIR``: a published corpus (the CodecFake release, ASVspoof 2019
LA, ...) in this project's layout, one sub-command per corpus kind of
:data:`~dataset_builder.corpora.IMPORT_KINDS`. (The module is ``import_``: ``import`` is a keyword.)"""

from __future__ import annotations

import argparse
import importlib

from transformers import HfArgumentParser

from codecfake_cli.commands.shared import add_mixture_option, print_mixtures
from dataset_builder.corpora import IMPORT_KINDS


def register(commands: argparse._SubParsersAction) -> None:
    """One sub-command per corpus kind, with the flags of its module's ``Options`` (help and default
    from the dataclass) and the import's own."""
    command = commands.add_parser(
        "import",
        help="import a published corpus (the CodecFake release, ASVspoof 2019 LA, ...) into this project's "
        "layout: one config per codec or attack, speaker-disjoint splits, the audio bytes unchanged",
    )
    kinds = command.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in IMPORT_KINDS.values():
        module = importlib.import_module(kind.module)
        parser = kinds.add_parser(
            kind.name,
            parents=[HfArgumentParser(module.Options, add_help=False)],
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            help=kind.summary,
            description=f"codecfake import {kind.name}: {kind.summary}.",
        )
        parser.add_argument("source", metavar="SOURCE", help=kind.summary)
        parser.add_argument(
            "--out", required=True, help="output folder: new, empty, or an earlier import of it"
        )
        parser.add_argument(
            "--force", action="store_true", help="import into a non-empty folder that is no CodecFake folder"
        )
        parser.add_argument(
            "--write-card", action="store_true", help="rewrite README.md even if you edited it since"
        )
        add_mixture_option(parser, "--mixture")
        parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from dataset_builder.build_processes import BuildProcesses
    from dataset_builder.corpora import corpus_module
    from dataset_builder.corpus_import import import_corpus

    options_class = corpus_module(args.kind).Options
    options = options_class(
        **{item.name: getattr(args, item.name) for item in dataclasses.fields(options_class)}
    )
    report = import_corpus(
        args.kind,
        args.source,
        args.out,
        options,
        args.mixture,
        force=args.force,
        regenerate_card=args.write_card,
    )
    if not BuildProcesses.current().is_main:
        return 0  # the main process of a launched import tells what was written
    entries = report["imported"]["configs"].values()
    rows = {split: sum(entry["rows"][split] for entry in entries) for split in report["splits"]}
    print(f"wrote {args.out}: configs {', '.join(report['configs'])}; ", end="")
    print(", ".join(f"{split} {count:,} rows" for split, count in rows.items()), end="")
    print(f"; {len(report['excluded'])} row(s) left out (see {args.out}/build_report.json)")
    print_mixtures(args.out, report)
    return 0
