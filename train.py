"""Train an AASIST / AASIST-L detector on a CodecFake config.

    accelerate launch train.py --config E                       # one GPU, or every GPU Accelerate sees
    accelerate launch --multi_gpu --num_processes 4 --mixed_precision bf16 train.py --config E
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 train.py --config E ...
    accelerate launch train.py --config-file runs/e.yaml --resume

Every option of codecfake_hf.training.TrainingConfig is a flag (or a key of --config-file).
Precision comes from Accelerate (launcher flag, `accelerate config`, ACCELERATE_MIXED_PRECISION)
unless --mixed-precision is given.
A user error (bad path, option or checkpoint) prints one line and exits 2 on every process;
--debug or CODECFAKE_DEBUG=1 shows its traceback. The launcher then reports the failure too (and
exits 1); in a one-process run `accelerate launch -q` leaves train.py's line alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from codecfake_hf.errors import debug_requested, report_user_error
from codecfake_hf.training import TrainingConfig, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", help="YAML or JSON file with any of the options below")
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    for item in dataclasses.fields(TrainingConfig):
        flag = "--" + item.name.replace("_", "-")
        if item.type == "bool":
            parser.add_argument(flag, action="store_true", default=None)
        elif item.name in ("class_weights", "log_with"):
            parser.add_argument(flag, nargs="+", type=float if item.name == "class_weights" else str)
        else:
            kind = {"int | None": int, "int": int, "float | None": float, "float": float}.get(item.type, str)
            parser.add_argument(flag, type=kind)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainingConfig:
    options = {k: v for k, v in vars(args).items() if k not in ("config_file", "debug")}
    if args.config_file:
        return TrainingConfig.from_file(args.config_file, **options)
    return TrainingConfig(**{k: v for k, v in options.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = None
    try:
        config = config_from_args(args)
        train(config)
    except Exception as error:
        # Every process meets the same user error (the resume check is collective); one reports it.
        main_process = os.environ.get("RANK", "0") == "0"
        output = config.output_dir if config is not None else args.output_dir
        if debug_requested(args.debug) or not report_user_error(error, "train.py", output, show=main_process):
            raise
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
