"""``codecfake calibrate``: fit a score calibration (LLR) and an operating point on labelled audio and
store them in the detector folder's ``config.json``."""

from __future__ import annotations

import argparse
from pathlib import Path

from codecfake_cli.commands.shared import (
    add_scoring_options,
    detection_costs,
    named_test_sets,
    report_skipped,
)
from codecfake_hf.errors import CodecFakeError


def register(commands: argparse._SubParsersAction) -> None:
    calibrate = commands.add_parser(
        "calibrate",
        help="fit a score calibration (LLR) and an operating point on labelled audio; store them in the "
        "model's config.json",
    )
    calibrate.add_argument(
        "--model", required=True, help="a local detector folder (its config.json is updated)"
    )
    calibrate.add_argument(
        "--overwrite", action="store_true", help="replace a calibration the folder holds already"
    )
    calibrate.add_argument(
        "--fit-prior-spoof",
        type=float,
        default=0.5,
        help="spoof prior the logistic regression is weighted to (default 0.5: minimises Cllr)",
    )
    add_scoring_options(calibrate, split="validation")
    calibrate.set_defaults(
        func=run,
        interrupted="{model}/config.json is unchanged (the calibration is stored at the end); rerun the same "
        "command",
    )


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation.scoring import calibrate_detector
    from codecfake_hf.markdown import markdown_table

    test_sets = named_test_sets(args)
    if len(test_sets) != 1:
        raise CodecFakeError(
            f"--subsets {args.subsets}: {len(test_sets)} subsets; calibrate on one (the subset the "
            "detector was trained on, e.g. --subsets E)"
        )
    ((name, test_set),) = test_sets.items()
    fitted_on = (
        f"{test_set.source} {test_set.config} {test_set.split}" if test_set.config else test_set.source
    )
    report = calibrate_detector(
        args.model, test_set.load(), fitted_on, prior_spoof=args.fit_prior_spoof, overwrite=args.overwrite,
        mode=args.mode, batch_size=args.batch_size, device=args.device, **detection_costs(args),
    )  # fmt: skip
    calibration = report.calibration
    rows = [["raw score", *report.before.values()], ["calibrated LLR", *report.after.values()]]
    print(markdown_table(rows, ["scores", *report.before], float_format="{:.4f}"))
    print(
        f"\nllr = {calibration.scale:.6g} * score + {calibration.offset:.6g} (fitted at p_spoof "
        f"{calibration.prior_spoof:g} on {calibration.n_bonafide} bona fide and {calibration.n_spoof} spoof "
        f"trials); operating point: llr >= {calibration.threshold:.6g} (validation EER threshold); "
        f"stored in {Path(args.model) / 'config.json'}"
    )
    return report_skipped("calibrate", report.n_skipped, None, "the calibration leaves them out")
