"""What several commands share: the options of the commands that score a detector on test sets
(calibrate, evaluate, matrix) and their test sets and costs, the mixture option of build, import and
mixtures, reading a CSV a user passes, and printing a table in aligned columns."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from codecfake_hf.errors import InputFileError

# --- scoring a detector on test sets: calibrate, evaluate, matrix ------------------------------------


def add_scoring_options(
    command: argparse.ArgumentParser, split: str = "test", several_datasets: bool = False
) -> None:
    """The options of a command that scores a detector on test sets; ``several_datasets``: ``--dataset``
    may be repeated and named (``matrix``)."""
    dataset_help = "built dataset folder, Hub id, or a folder with bonafide/ and spoof/"
    subsets_help = "comma-separated CodecFake subsets (E,A,...), or 'all'; --configs is the same option"
    if several_datasets:
        command.add_argument(
            "--dataset",
            action="append",
            metavar="[NAME=]DATASET",
            help=f"{dataset_help} (default codecfake); repeat it, NAME=DATASET, to test on several: the "
            "columns are then NAME/SUBSET",
        )
        subsets_help += "; with several datasets, NAME/SUBSET picks a dataset's own subsets"
    else:
        command.add_argument("--dataset", default="codecfake", help=dataset_help)
    command.add_argument("--subsets", "--configs", default="all", help=subsets_help)
    command.add_argument("--split", default=split)
    command.add_argument(
        "--mode",
        choices=("first", "full"),
        default="first",
        help="first 64,600 samples (official) or windows over the whole utterance",
    )
    command.add_argument("--batch-size", type=int, default=32)
    command.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    costs = "ASVspoof 5 detection costs of minDCF and actDCF"
    command.add_argument("--p-spoof", type=float, default=None, help=f"{costs}: spoof prior (default 0.05)")
    command.add_argument(
        "--c-miss", type=float, default=None, help=f"{costs}: cost of rejecting bona fide (default 1)"
    )
    command.add_argument(
        "--c-fa", type=float, default=None, help=f"{costs}: cost of accepting a spoof (default 10)"
    )


def detection_costs(args: argparse.Namespace) -> dict[str, float]:
    """The detection costs given on the command line (the others keep ASVspoof 5's defaults)."""
    return {
        name: getattr(args, name) for name in ("p_spoof", "c_miss", "c_fa") if getattr(args, name) is not None
    }


def named_test_sets(
    args: argparse.Namespace, dataset: str | None = None, subsets: list[str] | None = None
) -> dict:
    """``{name: TestSet}`` of ``dataset`` (default ``--dataset``) and ``subsets`` (default ``--subsets``):
    a bonafide/ + spoof/ folder is one test set named after the folder."""
    from codecfake_hf.data.loading import check_label_folder, is_label_folder
    from codecfake_hf.evaluation.scoring import TestSet, codecfake_test_sets

    dataset = dataset or args.dataset
    check_label_folder(dataset)
    if is_label_folder(dataset):
        return {Path(dataset).name: TestSet(dataset)}
    return codecfake_test_sets(dataset, subsets or args.subsets.split(","), args.split)


def report_skipped(
    command: str, skipped: int, scores_dir: str | Path | None, left_out: str = "the EERs leave them out"
) -> int:
    """The exit code of a scoring command (evaluate, matrix, calibrate): 0, or 2 after one line on
    stderr when ``skipped`` trials had unreadable audio (each was named in a warning; ``left_out``
    says what leaves them out)."""
    if not skipped:
        return 0
    where = f" and in the error column of scores_<set>.csv under {scores_dir}" if scores_dir else ""
    print(
        f"codecfake {command}: error: {skipped} trial(s) with unreadable audio were skipped (listed above{where}); "
        f"{left_out}",
        file=sys.stderr,
    )
    return 2


# --- mixture configs: build, import, mixtures ---------------------------------------------------------


def add_mixture_option(command: argparse.ArgumentParser, flag: str) -> None:
    """The repeatable ``flag`` (``--mixture`` of build and import, ``--add`` of mixtures) taking a mixture
    spec."""
    command.add_argument(
        flag,
        action="append",
        default=[],
        metavar="NAME=SELECTION",
        help="a config pooling several subsets' shards (no audio copied), kept by later builds; repeatable. "
        "SELECTION: 'all' or FIELD:VALUE or a subset id, then '-TERM' per exclusion (FIELD: family, "
        "quantizer, auxiliary, decoder_domain), e.g. 'all', 'heldout-frequency=all-decoder_domain:frequency'",
    )


def print_mixtures(folder: str, report: dict) -> None:
    """One line per mixture config of the dataset ``folder`` whose build report is ``report``."""
    from dataset_builder.mixture_configs import describe_mixtures

    for line in describe_mixtures(folder, report):
        print(line)


# --- inputs and outputs -------------------------------------------------------------------------------


def read_csv(path: str, fix: str, **options):
    """``pandas.read_csv(path, **options)``; a missing or unreadable file is an :class:`InputFileError`
    that ends with ``fix`` (what to pass instead)."""
    import pandas as pd

    if not Path(path).is_file():
        raise InputFileError(f"{path}: no such file; {fix}")
    try:
        return pd.read_csv(path, **options)
    except ValueError as error:  # pandas' parser errors and undecodable bytes are ValueErrors
        raise InputFileError(f"{path}: not a readable CSV file ({type(error).__name__}); {fix}") from error


def print_columns(rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` (the first one the header) left-aligned in columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
