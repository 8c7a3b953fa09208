"""``codecfake resynthesize``: one audio file through a codec."""

from __future__ import annotations

import argparse
from pathlib import Path

from codecfake_hf.errors import InputFileError


def register(commands: argparse._SubParsersAction) -> None:
    resyn = commands.add_parser(
        "resynthesize", help="run one audio file through a codec (16-bit, codec rate)"
    )
    resyn.add_argument("input", help="input audio file (any rate; mixed to mono)")
    resyn.add_argument("output", help="output file, e.g. out.flac (16-bit PCM at the codec's rate)")
    resyn.add_argument(
        "--codec", required=True, help="subset id: E, D1, D2, D3, ... (see `codecfake codecs`)"
    )
    resyn.add_argument("--tiny", action="store_true", help="tiny random-weight model (offline demo, tests)")
    resyn.add_argument("--checkpoint-dir", default=None, help="folder holding the codec's checkpoint files")
    resyn.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    resyn.add_argument(
        "--revision",
        default=None,
        help="Hub branch, tag or commit of the codec's weights (default: the commit the registry pins; "
        "main: the newest upload)",
    )
    resyn.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read one audio file (any rate, mixed to mono), run it through the codec's engine and write a new
    file (never replacing one) as 16-bit PCM at the codec's rate, clamped to +-0.99 as the official data."""
    from codecfake_hf.audio.audio_io import check_output_file, load_audio, write_audio
    from codecfake_hf.codecs.registry import load_codec

    output = Path(args.output)
    if not output.parent.is_dir():
        raise InputFileError(f"{output.parent}: output folder does not exist; create it first")
    check_output_file(output)
    waveform, rate = load_audio(args.input)
    local_dir = None if args.checkpoint_dir is None else str(args.checkpoint_dir)
    codec = load_codec(
        args.codec, tiny=args.tiny, device=args.device, local_dir=local_dir, revision=args.revision
    )
    write_audio(output, codec.resynthesize_one(waveform, rate), codec.sampling_rate)
    print(
        f"wrote {args.output} ({codec.sampling_rate} Hz, 16-bit, codec {args.codec}"
        f"{', tiny random weights' if args.tiny else ''})"
    )
    return 0
