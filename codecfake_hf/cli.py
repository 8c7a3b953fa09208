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


# --- AASIST: convert-aasist, detect -------------------------------------------------------------


def _convert_aasist(args: argparse.Namespace) -> int:
    from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint

    checkpoint = None if args.checkpoint == "download" else args.checkpoint
    try:
        model = convert_aasist_checkpoint(checkpoint, args.output_dir, variant=args.variant)
    except ValueError as error:  # wrong variant or not an AASIST checkpoint
        print(f"codecfake convert-aasist: error: {error}", file=sys.stderr)
        return 2
    count = sum(parameter.numel() for parameter in model.parameters())
    print(f"{args.variant} ({count:,} parameters) saved to {args.output_dir}")
    return 0


def _detect(args: argparse.Namespace) -> int:
    import json

    from codecfake_hf.detection import detect_files, load_detector

    model, extractor = load_detector(args.model)
    results = detect_files(args.files, model, extractor, mode=args.mode)
    if args.json:
        print(json.dumps([result.to_dict() for result in results], indent=2))
    else:
        rows = [("file", "score", "p_bonafide", "label", "windows")]
        for result in results:
            if result.error is None:
                rows.append(
                    (
                        result.path,
                        f"{result.score:.4f}",
                        f"{result.probability:.4f}",
                        result.label,
                        str(result.num_windows),
                    )
                )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    failed = [result for result in results if result.error is not None]
    for result in failed:
        print(f"codecfake detect: error: {result.error}", file=sys.stderr)
    return 2 if failed else 0


def _add_aasist_commands(commands) -> None:
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
    convert.set_defaults(func=_convert_aasist)

    detect = commands.add_parser(
        "detect", help="score audio files as bona fide or spoof with an AASIST model"
    )
    detect.add_argument("files", nargs="+", help="audio files (any sample rate, length and channel count)")
    detect.add_argument("--model", required=True, help="a converted / trained AASIST model folder")
    detect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    detect.add_argument(
        "--mode",
        choices=["first", "full"],
        default="first",
        help="first: the first 4.04 s as in the official recipe; full: mean logits over the whole file",
    )
    detect.set_defaults(func=_detect)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codecfake", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("codecs", help="list the registered codecs (subset ids) and their status")
    listing.set_defaults(func=_codecs)
    _add_aasist_commands(commands)
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
