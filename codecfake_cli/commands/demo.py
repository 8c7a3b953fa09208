"""``codecfake demo``: the offline pipeline check of :mod:`dataset_builder.demo` (tiny corpus, tiny
codecs, train, evaluate)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
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
        func=run,
        interrupted="what is done in {out} is kept; rerun the same command to resume",
    )


def run(args: argparse.Namespace) -> int:
    from dataset_builder.demo import run_demo

    written = run_demo(args.out, tuple(c for c in args.subsets.split(",") if c), epochs=args.epochs)
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
