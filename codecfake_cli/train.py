"""Train an AASIST / AASIST-L / SSL-AASIST detector on a CodecFake subset.

    accelerate launch train.py --subset E                       # one GPU, or every GPU Accelerate sees
    accelerate launch --multi_gpu --num_processes 4 --mixed_precision bf16 train.py --subset E
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 train.py --subset E ...
    accelerate launch train.py --config-file runs/e.yaml --resume
    accelerate launch train.py --subset E --seeds 1,2,3         # runs/aasist-l-E/seed-{1,2,3}/
    accelerate launch train.py --subset E --model ssl-aasist --rawboost 5 --learning-rate 1e-6 --scheduler constant

--config E is the same as --subset E (its earlier name).

Every option of codecfake_hf.training.config.TrainingConfig is a flag (--learning-rate, or
--learning_rate) and a key of --config-file (learning_rate: 1e-3); a flag on the command line wins
over the file. Precision comes from Accelerate (launcher flag, `accelerate config`,
ACCELERATE_MIXED_PRECISION) unless --mixed-precision is given.
Ctrl-C prints one line (the checkpoints are kept; rerun with --resume) and exits 130.
A user error (bad path, option or checkpoint) prints one line and exits 2 on every process;
--debug or CODECFAKE_DEBUG=1 shows its traceback. The launcher then reports the failure too (and
exits 1); in a one-process run `accelerate launch -q` leaves train.py's line alone.
"""

from __future__ import annotations

import argparse
import dataclasses

from transformers import HfArgumentParser

from codecfake_cli.reporting import run_reported
from codecfake_hf.training import train, train_seeds
from codecfake_hf.training.config import TrainingConfig, read_options_file


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help; this docstring's layout kept."""


def build_parser() -> HfArgumentParser:
    """The flags of every :class:`TrainingConfig` field (help and defaults from the dataclass), plus
    ``--config-file``, ``--seeds`` and ``--debug``."""
    parser = HfArgumentParser(TrainingConfig, description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument(
        "--config-file", help="YAML or JSON file of options (field names as keys); flags given here win"
    )
    parser.add_argument(
        "--seeds",
        type=_seed_list,
        default=None,
        help="comma-separated seeds (1,2,3): one run per seed in <output-dir>/seed-<n>/, which `codecfake "
        "matrix` averages (mean ± sd); replaces --seed",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    return parser


def _seed_list(value: str) -> list[int]:
    try:
        return [int(item) for item in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected integers separated by commas, e.g. 1,2,3"
        ) from None


def config_from_args(
    parser: HfArgumentParser, args: argparse.Namespace, argv: list[str] | None
) -> TrainingConfig:
    """The run's options: the flags of ``argv`` (already parsed into ``args``) over those of
    ``--config-file`` over the dataclass defaults.

    Raises:
        InputFileError, TrainingConfigError: a bad options file or option value.
    """
    if args.config_file:
        # argparse fills in a default only where the namespace has no value yet: the file's
        # values stand in for the defaults, and the flags on the command line still win
        file_values = argparse.Namespace(**read_options_file(args.config_file))
        args = parser.parse_args(argv, namespace=file_values)
    return TrainingConfig(
        **{item.name: getattr(args, item.name) for item in dataclasses.fields(TrainingConfig)}
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``train.py ARGV`` (default: the process's arguments); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = None

    def run() -> None:
        nonlocal config
        config = config_from_args(parser, args, argv)
        if args.seeds:
            train_seeds(config, args.seeds)
        else:
            train(config)

    def kept() -> str:
        output, resume = (
            (config.output_dir, config.resume) if config is not None else (args.output_dir, args.resume)
        )
        again = "the same command" if resume else "the same command with --resume"
        return (
            f"the checkpoints under {output} are kept; rerun {again} to continue from the latest one "
            "(a run without one starts afresh)"
        )

    # Every process meets the same user error (the resume check is collective); one reports it.
    return run_reported(
        "train.py",
        run,
        args.debug,
        output=lambda: config.output_dir if config is not None else args.output_dir,
        kept=kept,
    )
