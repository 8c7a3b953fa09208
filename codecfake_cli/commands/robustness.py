"""``codecfake robustness``: a bonafide/ + spoof/ folder through ordinary lossy codecs (MP3, Opus,
telephone), every condition scored by a detector."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    robustness = commands.add_parser(
        "robustness",
        help="EER and bona fide false rejections after MP3/Opus/telephone compression",
        description="Pass a bonafide/ + spoof/ folder through ordinary lossy codecs and score every "
        "condition with a saved audio-classification detector (score = logits[:, bonafide]).",
    )
    robustness.add_argument("folder", help="folder with bonafide/ and spoof/ subfolders of audio files")
    robustness.add_argument(
        "--model", required=True, help="saved detector folder (save_pretrained) or Hub id"
    )
    robustness.add_argument(
        "--out", required=True, help="output folder: one subfolder per condition + robustness.csv"
    )
    robustness.add_argument(
        "--conditions",
        default=None,
        help="comma-separated conditions (default all): clean, mp3-16/32/64, opus-16/32/64, tel-8k, g711-8k",
    )
    robustness.add_argument(
        "--batch-size", type=int, default=16, help="utterances per detector call (AASIST: any size is exact)"
    )
    robustness.add_argument("--device", default="cpu", help="torch device for the detector")
    robustness.set_defaults(
        func=run,
        interrupted="the audio written under {out} so far is whole files, and no report; rerun the same "
        "command (it writes every condition again)",
    )


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.detection.detector import Detector
    from codecfake_hf.evaluation.robustness import get_conditions, make_conditions, robustness_report
    from codecfake_hf.markdown import markdown_table

    conditions = [condition.name for condition in get_conditions(args.conditions)]
    scorer = Detector.from_pretrained(args.model, batch_size=args.batch_size, device=args.device)
    out_dir = make_conditions(args.folder, args.out, conditions=conditions)
    report = robustness_report(
        scorer, out_dir, sampling_rate=scorer.sampling_rate, batch_size=args.batch_size
    )
    report.to_csv(out_dir / "robustness.csv", index=False)
    print(markdown_table(report, float_format="{:.4f}"))
    print(f"\nwritten: {out_dir / 'robustness.csv'} (conditions under {out_dir})")
    return 0
