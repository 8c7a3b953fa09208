"""``codecfake convert-aasist``: an official AASIST / AASIST-L checkpoint as a transformers folder."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    convert = commands.add_parser(
        "convert-aasist", help="convert an official AASIST / AASIST-L checkpoint to a transformers folder"
    )
    convert.add_argument(
        "checkpoint", help="the official .pth file, or 'download' to fetch it (needs network)"
    )
    convert.add_argument(
        "output_dir", help="folder to write (config, safetensors weights, feature extractor)"
    )
    convert.add_argument("--variant", choices=["AASIST", "AASIST-L"], default="AASIST-L")
    convert.set_defaults(
        func=run,
        interrupted="nothing was converted, and a partial download is removed; rerun the same command",
    )


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint

    checkpoint = None if args.checkpoint == "download" else args.checkpoint
    model = convert_aasist_checkpoint(checkpoint, args.output_dir, variant=args.variant)
    count = sum(parameter.numel() for parameter in model.parameters())
    print(f"{args.variant} ({count:,} parameters) saved to {args.output_dir}")
    return 0
