"""``codecfake push-model``: upload a detector folder to the Hub, with a model card (and its
model-index of EERs and ASVspoof 5 metrics from ``codecfake evaluate``) when it has none."""

from __future__ import annotations

import argparse

from codecfake_cli.commands.shared import read_csv
from codecfake_hf.errors import InputFileError


def register(commands: argparse._SubParsersAction) -> None:
    push_model = commands.add_parser(
        "push-model", help="upload a detector folder (writes a model card when it has none)"
    )
    push_model.add_argument("folder", help="detector folder (training's best/ or convert-aasist output)")
    push_model.add_argument("--repo", required=True, help="ORG/NAME on the Hub")
    push_model.add_argument(
        "--eer-csv", help="eer.csv from `codecfake evaluate --output-dir` for model-index"
    )
    push_model.add_argument(
        "--metrics-csv",
        help="metrics.csv from the same `codecfake evaluate`: minDCF, actDCF, Cllr, minCllr in model-index",
    )
    push_model.add_argument(
        "--dataset-id",
        help="Hub id (ORG/NAME) of the CodecFake dataset it was trained/evaluated on "
        "(default: the training dataset, when that is a Hub id)",
    )
    push_model.add_argument(
        "--base-model", help="Hub id of the model it was fine-tuned from (default: from training)"
    )
    push_model.add_argument("--baseline", action="store_true", help="official ASVspoof 2019 weights")
    push_model.add_argument("--private", action="store_true")
    push_model.add_argument(
        "--write-card", action="store_true", help="replace an existing README.md with a generated model card"
    )
    push_model.add_argument(
        "--space",
        help="Hub id (ORG/NAME) of a Space that runs this detector (`codecfake space`): linked from the card",
    )
    push_model.set_defaults(
        func=run,
        interrupted="rerun the same command: the upload resumes where it stopped",
    )


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.publishing.detector_card import push_detector

    eers = read_eers(args.eer_csv) if args.eer_csv else None
    metrics = read_metrics(args.metrics_csv, eers) if args.metrics_csv else None
    url = push_detector(
        args.folder, args.repo, eers=eers, metrics=metrics, dataset_id=args.dataset_id, base_model=args.base_model,
        baseline=args.baseline, private=args.private, write_card=args.write_card, space=args.space,
    )  # fmt: skip
    print(f"pushed to {url}")
    return 0


def read_eers(path: str) -> dict[str, float]:
    """``{test set: EER fraction}`` from the ``eer.csv`` that ``codecfake evaluate --output-dir`` writes."""
    import pandas as pd

    fix = "pass the eer.csv that `codecfake evaluate --output-dir` writes (columns test_set, eer, ...)"
    table = read_csv(path, fix, index_col=0)
    if "eer" not in table.columns:
        raise InputFileError(
            f"{path}: no 'eer' column (columns: {', '.join(map(str, table.columns))}); {fix}"
        )
    eers = pd.to_numeric(table["eer"], errors="coerce")
    if eers.empty or eers.isna().any() or not eers.between(0, 1).all():
        raise InputFileError(f"{path}: the 'eer' column must hold EER fractions between 0 and 1; {fix}")
    return {str(name): float(eer) for name, eer in eers.items()}


def read_metrics(path: str, eers: dict[str, float] | None) -> dict[str, dict[str, float]]:
    """``{test set: {"min_dcf", "act_dcf", "cllr", "min_cllr"}}`` from the ``metrics.csv`` that
    ``codecfake evaluate --output-dir`` writes, for every test set of ``eers``."""
    import pandas as pd

    fix = (
        "pass the metrics.csv that `codecfake evaluate --output-dir` writes next to eer.csv (with --eer-csv)"
    )
    if eers is None:
        raise InputFileError(f"{path}: --metrics-csv goes with --eer-csv (the card's EERs); {fix}")
    table = read_csv(path, fix, index_col=0)
    columns = ["min_dcf", "act_dcf", "cllr", "min_cllr"]
    missing = [column for column in columns if column not in table.columns]
    absent = [str(name) for name in eers if name not in table.index]
    if missing or absent:
        raise InputFileError(f"{path}: no {', '.join(missing or absent)} (columns or test sets); {fix}")
    values = table.loc[list(eers), columns].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        raise InputFileError(f"{path}: the metric columns must hold non-negative numbers; {fix}")
    return {str(name): row.to_dict() for name, row in values.iterrows()}
