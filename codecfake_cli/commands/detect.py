"""``codecfake detect``: score audio files as bona fide or spoof with a detector folder."""

from __future__ import annotations

import argparse
import sys

from codecfake_cli.commands.shared import print_columns


def register(commands: argparse._SubParsersAction) -> None:
    detect = commands.add_parser(
        "detect", help="score audio files as bona fide or spoof with an AASIST model"
    )
    detect.add_argument("files", nargs="+", help="audio files (any sample rate, length and channel count)")
    detect.add_argument("--model", required=True, help="a converted / trained AASIST model folder")
    detect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    detect.add_argument(
        "--windows",
        action="store_true",
        help="with --json: each file's windows too (window_starts in s, window_scores, window_probabilities)",
    )
    detect.add_argument(
        "--mode",
        choices=["first", "full"],
        default="first",
        help="first: the first 4.04 s as in the official recipe; full: mean logits over the whole file",
    )
    detect.add_argument(
        "--bonafide-label",
        default=None,
        help="name of the bona fide class, for a classifier whose labels do not say it (e.g. LABEL_1)",
    )
    detect.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="windows per forward pass (default 4 on CPU, about 1 GB; 32 on a GPU); memory grows with it, "
        "not with the file's length",
    )
    detect.add_argument(
        "--device", default=None, help="torch device: cpu, cuda, cuda:1 (default: cuda if available)"
    )
    detect.add_argument(
        "--prior-spoof",
        type=float,
        default=None,
        help="calibrated models: spoof prior of the reported bona fide posterior (default 0.5); an "
        "uncalibrated model ignores it, with a warning",
    )
    detect.set_defaults(func=run, interrupted="nothing was written; rerun the same command")


def run(args: argparse.Namespace) -> int:
    import json

    from codecfake_hf.detection.detector import Detector
    from codecfake_hf.models.aasist.pipeline_aasist import DEFAULT_PRIOR_SPOOF

    prior_spoof = DEFAULT_PRIOR_SPOOF if args.prior_spoof is None else args.prior_spoof
    detector = Detector.from_pretrained(
        args.model,
        mode=args.mode,
        batch_size=args.batch_size,
        device=args.device,
        bonafide_label=args.bonafide_label,
        prior_spoof=prior_spoof,
    )
    calibrated = detector.calibration is not None
    if args.prior_spoof is not None and not calibrated:
        print(
            f"codecfake detect: warning: --prior-spoof {args.prior_spoof:g} is ignored: {args.model} holds no "
            "calibration, so p_bonafide is the softmax of its logits; calibrate it first "
            "(`codecfake calibrate --model ...`)",
            file=sys.stderr,
        )
    results = detector.detect_files(args.files)
    if args.json:
        print(json.dumps([result.to_dict(windows=args.windows) for result in results], indent=2))
    else:
        if calibrated:  # the posterior's prior in its column name; the label is the operating point's
            rows = [("file", "score", "llr", f"p_bonafide(p_spoof={prior_spoof:g})", "label", "windows")]
        else:
            rows = [("file", "score", "p_bonafide", "label", "windows")]
        for result in results:
            if result.error is None:
                llr = (f"{result.llr:.4f}",) if calibrated else ()
                rows.append(
                    (
                        result.path,
                        f"{result.score:.4f}",
                        *llr,
                        f"{result.probability:.4f}",
                        result.label,
                        str(result.num_windows),
                    )
                )
        print_columns(rows)
    failed = [result for result in results if result.error is not None]
    for result in failed:
        print(f"codecfake detect: error: {result.error}", file=sys.stderr)
    return 2 if failed else 0
