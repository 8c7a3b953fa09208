"""The builder's sub-commands of ``codecfake``: ``build``, ``import``, ``push``, ``demo`` and ``mixtures``.

They plug into the library's command line through the ``codecfake_hf.commands`` entry-point group
(``pyproject.toml``): each ``add_*_command(commands)`` adds one sub-parser to the ``codecfake``
parser's sub-parsers and sets its handler. Only the parser is built at start-up, so this module imports
nothing heavy at the top; each handler imports the builder when its command runs.
"""

from __future__ import annotations

import argparse


def _build(args: argparse.Namespace) -> int:
    import dataclasses

    from codecfake_hf.codecs.registry import PAPER_SUBSETS
    from dataset_builder import DatasetBuildError
    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.build_processes import BuildProcesses
    from dataset_builder.source_options import SourceOptions

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
    _print_mixtures(args.out, report)
    return 0


def _print_mixtures(folder: str, report: dict) -> None:
    from dataset_builder.mixture_configs import describe_mixtures

    for line in describe_mixtures(folder, report):
        print(line)


def _import(args: argparse.Namespace) -> int:
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
    _print_mixtures(args.out, report)
    return 0


def _mixtures(args: argparse.Namespace) -> int:
    from dataset_builder.mixture_configs import add_mixtures

    report = add_mixtures(args.folder, args.add, args.remove, regenerate_card=args.write_card)
    print(f"wrote {args.folder}/README.md and build_report.json: {len(report['mixtures'])} mixture config(s)")
    _print_mixtures(args.folder, report)
    return 0


def _push(args: argparse.Namespace) -> int:
    from dataset_builder.hub import push_to_hub

    print(push_to_hub(args.folder, args.repo, private=args.private, regenerate_card=args.write_card))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dataset_builder.demo import run_demo

    written = run_demo(args.out, tuple(c for c in args.subsets.split(",") if c), epochs=args.epochs)
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def add_build_command(commands: argparse._SubParsersAction) -> None:
    """``codecfake build``: a flag for every :class:`~dataset_builder.build_options.BuildOptions` field
    (help and default from the dataclass), then the command's own."""
    from transformers import HfArgumentParser

    from dataset_builder.build_options import BuildOptions
    from dataset_builder.source_options import SourceOptions

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
    _add_mixture_option(build, "--mixture")
    build.set_defaults(
        func=_build,
        interrupted="the finished shards in {out} are kept; rerun the same command to resume (only "
        "unfinished shards are built)",
    )


def _add_mixture_option(command: argparse.ArgumentParser, flag: str) -> None:
    """The repeatable ``flag`` (``--mixture`` of build, ``--add`` of mixtures) taking a mixture spec."""
    command.add_argument(
        flag,
        action="append",
        default=[],
        metavar="NAME=SELECTION",
        help="a config pooling several subsets' shards (no audio copied), kept by later builds; repeatable. "
        "SELECTION: 'all' or FIELD:VALUE or a subset id, then '-TERM' per exclusion (FIELD: family, "
        "quantizer, auxiliary, decoder_domain), e.g. 'all', 'heldout-frequency=all-decoder_domain:frequency'",
    )


def add_import_command(commands: argparse._SubParsersAction) -> None:
    """``codecfake import KIND SOURCE --out DIR``: one sub-command per corpus kind of
    :data:`~dataset_builder.corpora.IMPORT_KINDS`, with the flags of its module's ``Options`` (help and
    default from the dataclass) and the import's own."""
    import importlib

    from transformers import HfArgumentParser

    from dataset_builder.corpora import IMPORT_KINDS

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
        _add_mixture_option(parser, "--mixture")
        parser.set_defaults(func=_import)
        debug = "show the traceback of errors (also CODECFAKE_DEBUG=1)"
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)


def add_mixtures_command(commands: argparse._SubParsersAction) -> None:
    """``codecfake mixtures``: add or remove mixture configs of a built folder (card and report only)."""
    mixtures = commands.add_parser(
        "mixtures",
        help="add mixture configs (every subset, every subset but a family, ...) to a built dataset folder",
    )
    mixtures.add_argument("folder", help="the folder `codecfake build` wrote")
    _add_mixture_option(mixtures, "--add")
    mixtures.add_argument("--remove", action="append", default=[], metavar="NAME", help="a mixture to drop")
    mixtures.add_argument("--write-card", action="store_true", help="rewrite README.md even if you edited it")
    mixtures.set_defaults(
        func=_mixtures,
        interrupted="{folder}/README.md and build_report.json are whole (as before or as newly written); "
        "rerun the same command",
    )


def add_push_command(commands: argparse._SubParsersAction) -> None:
    """``codecfake push``: upload a built dataset folder."""
    push = commands.add_parser("push", help="upload a built dataset folder to the Hub (resumable)")
    push.add_argument("folder", help="the folder `codecfake build` wrote")
    push.add_argument("--repo", required=True, help="Hub dataset repo, ORG/NAME")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--write-card", action="store_true", help="regenerate README.md even if you edited it")
    push.set_defaults(func=_push, interrupted="rerun the same command: the upload resumes where it stopped")


def add_demo_command(commands: argparse._SubParsersAction) -> None:
    """``codecfake demo``: the offline pipeline check of :mod:`dataset_builder.demo`."""
    demo = commands.add_parser(
        "demo", help="offline pipeline check: tiny corpus, tiny codecs, train, evaluate"
    )
    demo.add_argument("--out", default="codecfake-demo", help="output folder")
    demo.add_argument(
        "--subsets",
        "--configs",
        default="E,D1,A",
        help="comma-separated CodecFake subsets; --configs is the same option",
    )
    demo.add_argument("--epochs", type=int, default=2)
    demo.set_defaults(
        func=_demo,
        interrupted="what is done in {out} is kept; rerun the same command to resume",
    )
