"""The ``codecfake`` command line. Each sub-command parses its arguments here and calls the library.

Errors a user can cause (bad paths, corrupt audio, offline) print one line to stderr and exit 2;
they never surface as a stack trace.
"""

from __future__ import annotations

import argparse
import sys

from codecfake_hf.audio import AudioError
from codecfake_hf.codecs.registry import CodecNotImplementedError, UnknownCodecError
from codecfake_hf.hub import CheckpointUnavailableError

USER_ERRORS = (
    AudioError,
    CheckpointUnavailableError,
    CodecNotImplementedError,
    UnknownCodecError,
    FileNotFoundError,
)


def _codecs(args: argparse.Namespace) -> int:
    from codecfake_hf.codecs.registry import CODECS

    header = (
        "id",
        "family",
        "model",
        "rate_hz",
        "n_q",
        "kbps",
        "quantizer",
        "auxiliary",
        "decoder",
        "status",
    )
    rows = [header]
    for spec in CODECS.values():
        status = "ready" if spec.implemented else "not implemented yet"
        kbps = "" if spec.kbps is None else f"{spec.kbps:g}"
        rows.append(
            (
                spec.id,
                spec.family,
                spec.model_name,
                str(spec.sample_rate),
                str(spec.n_quantizers),
                kbps,
                spec.quantizer,
                spec.auxiliary,
                spec.decoder_domain,
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _resynthesize(args: argparse.Namespace) -> int:
    from codecfake_hf.codecs.resynthesize import resynthesize_file

    _, rate = resynthesize_file(
        args.input,
        args.output,
        args.codec,
        tiny=args.tiny,
        checkpoint_dir=args.checkpoint_dir,
        device=args.device,
    )
    print(
        f"wrote {args.output} ({rate} Hz, 16-bit, codec {args.codec}{', tiny random weights' if args.tiny else ''})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codecfake", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("codecs", help="list the registered codecs (subset ids) and their status")
    listing.set_defaults(func=_codecs)

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
    resyn.set_defaults(func=_resynthesize)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as error:
        print(f"codecfake {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
