"""``codecfake vctk [--download DIR | CORPUS]``: download VCTK 0.92, then print a VCTK folder's split
counts next to the paper's, counted as ``codecfake build`` counts them (was ``python -m
dataset_builder.vctk``, with the same options)."""

from __future__ import annotations

import argparse
import functools


def register(commands: argparse._SubParsersAction) -> None:
    vctk = commands.add_parser(
        "vctk",
        help="download VCTK 0.92, or print a VCTK folder's split counts next to the paper's",
        description="Download VCTK 0.92 (--download DIR) and print its split counts next to the paper's, "
        "counted as `codecfake build` counts them.",
    )
    vctk.add_argument("corpus", nargs="?", help="VCTK folder (0.92 or 0.80 layout)")
    vctk.add_argument("--download", metavar="DIR", help="download and extract VCTK 0.92 into DIR first")
    vctk.add_argument("--mic", default="mic1", choices=("mic1", "mic2"))
    vctk.add_argument("--num-proc", type=int, default=None, help="processes decoding the audio (default 1)")
    vctk.set_defaults(func=functools.partial(run, vctk), interrupted=_kept)


def _kept(args: argparse.Namespace) -> str:
    if args.download:
        return (
            f"what is downloaded into {args.download} is kept; rerun the same command to go on (the download "
            "resumes)"
        )
    return "nothing was written; rerun the same command"


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from dataset_builder.corpora.vctk import download_vctk, print_split_counts

    if not args.corpus and not args.download:
        parser.error("pass a corpus folder or --download DIR")
    print_split_counts(
        download_vctk(args.download) if args.download else args.corpus, args.mic, args.num_proc
    )
    return 0
