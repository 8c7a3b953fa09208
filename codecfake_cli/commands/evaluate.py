"""``codecfake evaluate``: the EER and ASVspoof 5 metrics of a detector per test set, with the scores of
every utterance, and optionally a paired test against a baseline detector."""

from __future__ import annotations

import argparse

from codecfake_cli.commands.shared import (
    add_scoring_options,
    detection_costs,
    named_test_sets,
    report_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="EER of a detector per test set, scores saved per utterance"
    )
    evaluate.add_argument("--model", required=True, help="detector folder or Hub id")
    evaluate.add_argument("--against", help="baseline detector: paired t-test and Wilcoxon (p < 0.01)")
    evaluate.add_argument("--output-dir", help="where scores_<set>.csv and eer.csv go")
    add_scoring_options(evaluate)
    evaluate.set_defaults(
        func=run,
        interrupted="the tables written so far are whole files (each as before or as newly written); rerun "
        "the same command to evaluate again",
    )


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation.scoring import evaluate_detector

    summary = evaluate_detector(
        args.model,
        named_test_sets(args),
        args.output_dir,
        against=args.against,
        mode=args.mode,
        batch_size=args.batch_size,
        device=args.device,
        costs=detection_costs(args),
    )
    shown = summary.assign(eer=100 * summary["eer"]).rename(columns={"eer": "eer_%"})
    if "baseline_eer" in shown:
        shown["baseline_eer"] = 100 * shown["baseline_eer"]
    print(shown.to_string(float_format=lambda v: f"{v:.4g}"))
    if args.output_dir:
        print(f"per-utterance scores, eer.csv and metrics.csv written to {args.output_dir}")
    return report_skipped("evaluate", int(summary["n_skipped"].sum()), args.output_dir)
