"""``codecfake build``: the CodecFake dataset (Hub layout) from VCTK or another speech corpus, on this
process or on every process ``accelerate launch -m codecfake_cli build`` starts."""

from __future__ import annotations

import argparse

from transformers import HfArgumentParser

from codecfake_cli.commands.shared import add_mixture_option, print_mixtures
from dataset_builder.build_options import BuildOptions
from dataset_builder.source_options import SourceOptions


def register(commands: argparse._SubParsersAction) -> None:
    """A flag for every :class:`~dataset_builder.build_options.BuildOptions` and
    :class:`~dataset_builder.source_options.SourceOptions` field (help and default from the dataclass),
    then the command's own."""
    build = commands.add_parser(
        "build",
        parents=[HfArgumentParser((BuildOptions, SourceOptions), add_help=False)],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="build the CodecFake dataset (Hub layout) from a VCTK folder or another speech corpus",
    )
    build.add_argument(
        "--vctk",
        default=None,
        help="VCTK corpus folder (0.92 or 0.80 layout); or --source for another corpus",
    )
    build.add_argument(
        "--subsets",
        "--configs",
        default="all",
        help="comma-separated subset ids (E,A,...) or 'all'; --configs is the same option",
    )
    build.add_argument("--out", default="codecfake", help="output folder")
    build.add_argument(
        "--force", action="store_true", help="build into a non-empty folder that is no CodecFake build"
    )
    build.add_argument(
        "--write-card",
        action="store_true",
        help="rewrite README.md even if you edited it since an earlier build wrote it",
    )
    add_mixture_option(build, "--mixture")
    build.set_defaults(
        func=run,
        interrupted="the finished shards in {out} are kept; rerun the same command to resume (only "
        "unfinished shards are built)",
    )


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from codecfake_hf.codecs.registry import PAPER_SUBSETS
    from dataset_builder import DatasetBuildError
    from dataset_builder.build import build_codecfake
    from dataset_builder.build_processes import BuildProcesses

    subsets = list(PAPER_SUBSETS) if args.subsets == "all" else [c for c in args.subsets.split(",") if c]
    options, source = (
        kind(**{item.name: getattr(args, item.name) for item in dataclasses.fields(kind)})
        for kind in (BuildOptions, SourceOptions)
    )
    if (args.vctk is None) == (source.source is None):
        raise DatasetBuildError(
            "codecfake build: pass the corpus once, --vctk PATH or --source audiofolder:PATH / hf:ID"
        )
    report = build_codecfake(
        args.vctk or source,
        args.out,
        subsets,
        options,
        force=args.force,
        regenerate_card=args.write_card,
        mixtures=args.mixture,
    )
    if not BuildProcesses.current().is_main:
        return 0  # the main process of a launched build tells what was written
    print(f"wrote {args.out}: configs {', '.join(report['configs'])}; ", end="")
    print(
        ", ".join(f"{split} {info['utterances']} utterances" for split, info in report["splits"].items()),
        end="",
    )
    print(f"; {len(report['excluded'])} source file(s) excluded (see {args.out}/build_report.json)")
    print_mixtures(args.out, report)
    return 0
