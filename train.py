"""Train an AASIST / AASIST-L detector on a CodecFake config.

    accelerate launch train.py --config E                       # one GPU, or every GPU Accelerate sees
    accelerate launch --multi_gpu --num_processes 4 --mixed_precision bf16 train.py --config E
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 train.py --config E ...
    accelerate launch train.py --config-file runs/e.yaml --resume

Every option of codecfake_hf.training.TrainingConfig is a flag (or a key of --config-file).
Precision comes from Accelerate (launcher flag, `accelerate config`, ACCELERATE_MIXED_PRECISION)
unless --mixed-precision is given.
"""

from __future__ import annotations

import argparse
import dataclasses

from codecfake_hf.training import TrainingConfig, train


def parse_args(argv: list[str] | None = None) -> TrainingConfig:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", help="YAML or JSON file with any of the options below")
    for item in dataclasses.fields(TrainingConfig):
        flag = "--" + item.name.replace("_", "-")
        if item.type == "bool":
            parser.add_argument(flag, action="store_true", default=None)
        elif item.name in ("class_weights", "log_with"):
            parser.add_argument(flag, nargs="+", type=float if item.name == "class_weights" else str)
        else:
            kind = {"int | None": int, "int": int, "float | None": float, "float": float}.get(item.type, str)
            parser.add_argument(flag, type=kind)
    args = vars(parser.parse_args(argv))
    config_file = args.pop("config_file")
    if config_file:
        return TrainingConfig.from_file(config_file, **args)
    return TrainingConfig(**{k: v for k, v in args.items() if v is not None})


if __name__ == "__main__":
    train(parse_args())
