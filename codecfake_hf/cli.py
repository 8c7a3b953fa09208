"""The ``codecfake`` command line. Each sub-command parses its arguments here and calls the library.

Errors a user can cause (bad paths, corrupt audio, offline, a full disk) print one line to stderr
and exit 2 (:mod:`codecfake_hf.errors`); ``--debug`` or ``CODECFAKE_DEBUG=1`` shows their traceback.

Other packages add sub-commands through the entry-point group :data:`COMMAND_GROUP`
(``codecfake_hf.commands``): each entry point is named after its command and points to a function
``add(commands)`` that adds the command's sub-parser to ``commands`` (the parser's sub-parsers) and sets
its handler with ``set_defaults(func=...)`` (and, optionally, ``interrupted=TEXT``: what Ctrl-C leaves
and how to go on, in one line, formatted with the command's arguments, ``{out}``). This distribution's ``pyproject.toml`` registers the
builder's ``build``, ``push`` and ``demo`` that way (:mod:`dataset_builder.cli`), so this library
never loads the builder itself; the entry points exist once the package is installed
(``pip install -e .``).
Commands are listed in the order of :data:`HELP_ORDER`, then any other plug-in command by name; a
plug-in cannot replace a built-in command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from codecfake_hf.errors import (
    CodecFakeError,
    InputFileError,
    debug_requested,
    report_interrupted,
    report_user_error,
)


def _codecs(args: argparse.Namespace) -> int:
    from codecfake_hf.codecs.registry import CODECS, implemented

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
        status = "ready" if implemented(spec) else "not implemented yet"
        kbps = "" if spec.kbps is None else f"{spec.kbps:g}"
        rows.append(
            (
                spec.id,
                spec.family,
                spec.model_name,
                str(spec.sampling_rate),
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
    model = convert_aasist_checkpoint(checkpoint, args.output_dir, variant=args.variant)
    count = sum(parameter.numel() for parameter in model.parameters())
    print(f"{args.variant} ({count:,} parameters) saved to {args.output_dir}")
    return 0


def _detect(args: argparse.Namespace) -> int:
    import json

    from codecfake_hf.detection import Detector
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
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    failed = [result for result in results if result.error is not None]
    for result in failed:
        print(f"codecfake detect: error: {result.error}", file=sys.stderr)
    return 2 if failed else 0


def _add_convert_aasist_command(commands) -> None:
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
        func=_convert_aasist,
        interrupted="nothing was converted, and a partial download is removed; rerun the same command",
    )


def _add_detect_command(commands) -> None:
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
    detect.set_defaults(func=_detect, interrupted="nothing was written; rerun the same command")


def _calibrate(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation import calibrate_detector
    from codecfake_hf.markdown import markdown_table

    test_sets = _test_sets(args)
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
        mode=args.mode, batch_size=args.batch_size, device=args.device, **_costs(args),
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
    return _report_skipped("calibrate", report.n_skipped, None, "the calibration leaves them out")


def _add_calibrate_command(commands) -> None:
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
    _add_scoring_options(calibrate, split="validation")
    calibrate.set_defaults(
        func=_calibrate,
        interrupted="{model}/config.json is unchanged (the calibration is stored at the end); rerun the same "
        "command",
    )


def _name_path_pairs(values: list[str]) -> list[tuple[str, str]]:
    """``NAME=PATH`` or ``PATH`` items -> ``(name, path)`` pairs (name: the model's training config
    or the folder name)."""
    from codecfake_hf.evaluation import model_row_name

    pairs = []
    for value in values:
        name, _, path = value.rpartition("=")
        pairs.append((name or model_row_name(path), path))
    return pairs


def _named_paths(values: list[str], unit: str = "row") -> dict[str, str]:
    """``NAME=PATH`` or ``PATH`` items -> ``{name: path}`` (:func:`_name_path_pairs`). Two items with
    one name are an error that asks for ``NAME=PATH``, since they would otherwise merge into one
    ``unit`` of the matrix."""
    named: dict[str, str] = {}
    for name, path in _name_path_pairs(values):
        if name in named:
            raise CodecFakeError(
                f"{named[name]} and {path} would both be named {name!r} (one {unit}); name each one as "
                f"NAME=PATH, e.g. '{name}-1={named[name]}' '{name}-2={path}'"
            )
        named[name] = path
    return named


def _test_sets(
    args: argparse.Namespace, dataset: str | None = None, subsets: list[str] | None = None
) -> dict:
    """``{name: TestSet}`` of ``dataset`` (default ``--dataset``) and ``subsets`` (default ``--subsets``):
    a bonafide/ + spoof/ folder is one test set named after the folder."""
    from codecfake_hf.data import check_label_folder, is_label_folder
    from codecfake_hf.evaluation import TestSet, codecfake_test_sets

    dataset = dataset or args.dataset
    check_label_folder(dataset)
    if is_label_folder(dataset):
        return {Path(dataset).name: TestSet(dataset)}
    return codecfake_test_sets(dataset, subsets or args.subsets.split(","), args.split)


def _matrix_datasets(args: argparse.Namespace) -> dict[str, dict] | None:
    """The test sets of ``codecfake matrix``'s ``--dataset`` items, ``{dataset name: {name: TestSet}}``,
    when there are several or a named one; None for one bare ``--dataset DIR`` (the single-dataset
    matrix, whose columns are the subsets).

    ``--subsets`` items are ``SUBSET`` (every dataset) or ``NAME/SUBSET`` (dataset ``NAME`` only): a
    dataset named in some ``NAME/SUBSET`` item gets those subsets, every other one the ``SUBSET`` items
    (``all`` when there is none). Every test set is checked before anything is scored."""
    values = args.dataset or ["codecfake"]
    if len(values) == 1 and "=" not in values[0]:
        return None
    datasets = _named_paths(values, unit="dataset")
    for name in datasets:
        if "/" in name:
            raise CodecFakeError(
                f"--dataset {name}={datasets[name]}: a dataset name cannot hold '/' (columns are named "
                "NAME/SUBSET); name it NAME=DIR"
            )
    shared, chosen = [], {}
    for item in args.subsets.split(","):
        name, slash, subset = item.rpartition("/")
        if not slash:
            shared.append(item)
        elif name in datasets:
            chosen.setdefault(name, []).append(subset)
        else:
            raise CodecFakeError(
                f"--subsets {item}: no --dataset is named {name!r} (names: {', '.join(datasets)}); write "
                "NAME/SUBSET with one of those, or SUBSET for every dataset"
            )
    return {
        name: _test_sets(args, path, chosen.get(name) or shared or ["all"]) for name, path in datasets.items()
    }


def _dataset_grid(
    models: dict[str, str], datasets: dict[str, dict], scores_dir: Path, args: argparse.Namespace
) -> dict:
    """:func:`~codecfake_hf.evaluation.eer_grid` of every model on every dataset's test sets, each
    dataset scored apart (a detector's score cache is keyed by codec and utterance, which two datasets
    share; scores go to ``scores_dir/<dataset>/<model>/``): ``{model: summary}`` with the test sets
    named ``NAME/SUBSET``, or ``NAME`` for a bonafide/ + spoof/ folder."""
    import pandas as pd

    from codecfake_hf.evaluation import eer_grid

    grids = {}
    for name, test_sets in datasets.items():
        grid = eer_grid(
            models, test_sets, scores_dir / name, args.mode, args.batch_size, args.device, costs=_costs(args)
        )
        columns = {test: name if test_sets[test].config is None else f"{name}/{test}" for test in test_sets}
        grids[name] = {model: summary.rename(index=columns) for model, summary in grid.items()}
    return {model: pd.concat([grid[model] for grid in grids.values()]) for model in models}


def _evaluate(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation import evaluate_detector

    summary = evaluate_detector(
        args.model,
        _test_sets(args),
        args.output_dir,
        against=args.against,
        mode=args.mode,
        batch_size=args.batch_size,
        device=args.device,
        costs=_costs(args),
    )
    shown = summary.assign(eer=100 * summary["eer"]).rename(columns={"eer": "eer_%"})
    if "baseline_eer" in shown:
        shown["baseline_eer"] = 100 * shown["baseline_eer"]
    print(shown.to_string(float_format=lambda v: f"{v:.4g}"))
    if args.output_dir:
        print(f"per-utterance scores, eer.csv and metrics.csv written to {args.output_dir}")
    return _report_skipped("evaluate", int(summary["n_skipped"].sum()), args.output_dir)


def _report_skipped(
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


def _compare(args: argparse.Namespace) -> int:
    from codecfake_hf.comparison import ComparisonOptions, compare_datasets

    given = {
        name: getattr(args, name) for name in ("sampling_rate", "max_lag_ms", "min_snr_db", "max_lsd_db")
    }
    options = ComparisonOptions(**{name: value for name, value in given.items() if value is not None})
    report = compare_datasets(
        args.built,
        args.imported,
        subsets=None if args.subsets == "all" else args.subsets.split(","),
        splits=None if args.splits == "all" else args.splits.split(","),
        output_dir=args.output_dir,
        options=options,
        num_proc=args.num_proc,
    )
    for side, subsets in (("BUILT", report.only_built), ("IMPORTED", report.only_imported)):
        if subsets:
            print(f"only in {side}, not compared: {', '.join(subsets)}")
    shown = {"n_matched": "matched", "n_only_built": "only_built", "n_only_imported": "only_imported",
             "n_unreadable": "unreadable", "sampling_rate": "rate_hz", "median_length_difference_ms": "length_ms",
             "median_lag_ms": "lag_ms", "median_gain_db": "gain_db", "median_snr_db": "snr_db",
             "median_gain_compensated_snr_db": "snr_lag_gain_db", "median_low_band_snr_db": "snr_low_band_db",
             "median_correlation": "correlation", "median_lsd_db": "lsd_db", "verdict": "verdict"}  # fmt: skip
    shown = report.summary[list(shown)].rename(columns=shown)
    print(shown.to_string(float_format=lambda value: f"{value:.4g}"))
    print(
        f"medians over each subset's utterances (length_ms: build minus release); verdict 'same': snr_db >= "
        f"{options.min_snr_db:g} and lsd_db <= {options.max_lsd_db:g}; 'same after alignment': snr_lag_gain_db "
        f"(lag within +-{options.max_lag_ms:g} ms and gain removed) instead; 'same up to <f> kHz': "
        "snr_low_band_db (below 0.7 Nyquist) instead: the resampling differs"
    )
    print(f"wrote {', '.join(path.name for path in report.files)} to {args.output_dir}")
    if report.n_unreadable:
        print(
            f"codecfake compare: error: {report.n_unreadable} utterance(s) with unreadable audio were not "
            f"compared (listed above and in the error column of {report.files[0]})",
            file=sys.stderr,
        )
        return 2
    return 0


def _add_compare_command(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="is my build the paper's data? SNR, lag, gain and log-spectral distance of every utterance "
        "against an imported release, and a verdict per subset",
    )
    compare.add_argument("built", help="a dataset folder written by `codecfake build`")
    compare.add_argument("imported", help="a dataset folder written by `codecfake import` (or another build)")
    compare.add_argument(
        "--subsets",
        default="all",
        help="comma-separated subsets (E,A,bonafide,...), each on both sides; 'all' (default): every subset "
        "both folders hold",
    )
    compare.add_argument(
        "--splits", default="all", help="comma-separated splits to read on both sides (default all)"
    )
    compare.add_argument(
        "--output-dir",
        default="compare",
        help="where compare_utterances.csv, compare_summary.csv and compare_snr.png go (default compare)",
    )
    compare.add_argument(
        "--sampling-rate",
        type=int,
        default=None,
        help="common rate (Hz) of every pair (default: the lower of the pair's two rates)",
    )
    compare.add_argument(
        "--max-lag-ms",
        type=float,
        default=None,
        help="the lag search window, +- milliseconds (default 50; 0: no search)",
    )
    compare.add_argument(
        "--min-snr-db",
        type=float,
        default=None,
        help="verdict 'same' needs a median SNR of at least this (dB, default 20)",
    )
    compare.add_argument(
        "--max-lsd-db",
        type=float,
        default=None,
        help="... and a median log-spectral distance of at most this (dB, default 2)",
    )
    compare.add_argument(
        "--num-proc", type=int, default=1, help="processes that decode and measure the pairs (default 1)"
    )
    compare.set_defaults(func=_compare)


#: What ``codecfake matrix --metric`` can show, and its unit there.
METRIC_UNITS = {
    "eer": "%",
    "min_dcf": "fraction",
    "act_dcf": "fraction",
    "cllr": "bits",
    "min_cllr": "bits",
}


def _matrix(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    import pandas as pd

    from codecfake_hf import tables
    from codecfake_hf.evaluation import METRIC_COLUMNS, TestSet, eer_grid, seed_replica_rows, seed_statistics
    from codecfake_hf.metrics import DetectionCosts

    out = Path(args.output_dir)
    rows = seed_replica_rows(_name_path_pairs(args.models))  # seed replicas share a row
    models = {run: path for runs in rows.values() for run, path in runs.items()}
    datasets = None if args.zero_shot else _matrix_datasets(args)
    if args.zero_shot:
        from codecfake_hf.data import check_label_folder

        test_sets = {
            name: TestSet(path, None, args.split) for name, path in _named_paths(args.zero_shot).items()
        }
        for test_set in test_sets.values():
            check_label_folder(test_set.source)
    elif datasets is None:
        test_sets = _test_sets(args, (args.dataset or ["codecfake"])[0])
    if datasets is None:
        summaries = eer_grid(
            models, test_sets, out / "scores", args.mode, args.batch_size, args.device, costs=_costs(args)
        )
    else:
        summaries = _dataset_grid(models, datasets, out / "scores", args)
    grid = {name: summary["eer"].to_dict() for name, summary in summaries.items()}
    replicated = any(len(runs) > 1 for runs in rows.values())
    if replicated:
        statistics = seed_statistics(rows, grid)
        grid = {
            row: dict(zip(cells["test"], cells["mean"]))
            for row, cells in statistics.groupby("train", sort=False)
        }
    if args.zero_shot:
        ours = tables.eer_matrix(grid).T.rename_axis("test_source")
        paper = tables.paper_zero_shot()
        stem = "zero_shot"
    else:
        ours, paper, stem = tables.eer_matrix(grid), tables.paper_cross_test(), "cross_test"
        if datasets is not None:  # NAME/SUBSET beside the paper's SUBSET column
            subset_of = {column: column.rpartition("/")[2] for column in ours.columns}
            paper = pd.DataFrame(
                {column: paper[subset] for column, subset in subset_of.items() if subset in paper.columns},
                index=paper.index,
            )
    ours.to_csv(out / f"{stem}_eer.csv", float_format="%.2f")
    tables.side_by_side(ours, paper).to_csv(out / f"{stem}_vs_paper.csv", index=False, float_format="%.2f")
    tables.plot_matrix(ours, out / f"{stem}_eer.png", title=f"{stem.replace('_', '-')} EER (%)")
    written = [f"{stem}_eer.csv", f"{stem}_eer.png", f"{stem}_vs_paper.csv", f"{stem}_metrics.csv"]
    long = pd.concat(summaries, names=["model", "test_set"])[["eer", *METRIC_COLUMNS]]
    long.assign(**asdict(DetectionCosts(**_costs(args)))).to_csv(out / f"{stem}_metrics.csv")
    if replicated:
        _write_seed_statistics(statistics, out / f"{stem}_eer_seeds.csv")
        written.insert(1, f"{stem}_eer_seeds.csv")
    if args.metric == "eer":
        shown = ours
    else:  # the same cells in the same order as the EER matrix; seed replicas: their mean
        row_of = {run: row for row, runs in rows.items() for run in runs}
        models_level = long.index.get_level_values("model").map(row_of)
        cells = long[args.metric].groupby([models_level, long.index.get_level_values("test_set")]).mean()
        cells = cells.unstack()
        shown = (cells.T if args.zero_shot else cells).loc[ours.index, ours.columns]
        shown.to_csv(out / f"{stem}_{args.metric}.csv", float_format="%.4f")
        written.append(f"{stem}_{args.metric}.csv")
    if args.metric != "eer":
        print(f"{args.metric} ({METRIC_UNITS[args.metric]}):")
    print(shown.to_string(float_format=lambda v: f"{v:.2f}" if args.metric == "eer" else f"{v:.4f}"))
    print(f"wrote {', '.join(written)} to {out}")
    skipped = sum(int(summary["n_skipped"].sum()) for summary in summaries.values())
    return _report_skipped("matrix", skipped, out / "scores")


def _write_seed_statistics(statistics, path: Path) -> None:
    """Write the seed statistics of a matrix (:func:`~codecfake_hf.evaluation.seed_statistics`) as EER %
    to ``path`` and print them as ``mean ± sd (n)`` per cell; the matrix above holds the means."""
    percent = statistics.assign(mean=100 * statistics["mean"], sd=100 * statistics["sd"])
    percent.rename(columns={"mean": "mean_eer_%", "sd": "sd_eer_%"}).to_csv(
        path, index=False, float_format="%.2f"
    )
    cells = percent.assign(
        cell=[
            f"{mean:.2f} ± {sd:.2f} ({n})" if n > 1 else f"{mean:.2f} (1)"
            for mean, sd, n in zip(percent["mean"], percent["sd"], percent["n"])
        ]
    )
    table = cells.pivot(index="train", columns="test", values="cell").loc[list(dict.fromkeys(cells["train"]))]
    print(f"EER % over seeds, mean ± sample sd (runs); {path.name}:")
    print(table.fillna("").to_string())


def _read_csv(path: str, fix: str, **options):
    """``pandas.read_csv(path, **options)``; a missing or unreadable file is an :class:`InputFileError`
    that ends with ``fix`` (what to pass instead)."""
    import pandas as pd

    if not Path(path).is_file():
        raise InputFileError(f"{path}: no such file; {fix}")
    try:
        return pd.read_csv(path, **options)
    except ValueError as error:  # pandas' parser errors and undecodable bytes are ValueErrors
        raise InputFileError(f"{path}: not a readable CSV file ({type(error).__name__}); {fix}") from error


def _read_eers(path: str) -> dict[str, float]:
    """``{test set: EER fraction}`` from the ``eer.csv`` that ``codecfake evaluate --output-dir`` writes."""
    import pandas as pd

    fix = "pass the eer.csv that `codecfake evaluate --output-dir` writes (columns test_set, eer, ...)"
    table = _read_csv(path, fix, index_col=0)
    if "eer" not in table.columns:
        raise InputFileError(
            f"{path}: no 'eer' column (columns: {', '.join(map(str, table.columns))}); {fix}"
        )
    eers = pd.to_numeric(table["eer"], errors="coerce")
    if eers.empty or eers.isna().any() or not eers.between(0, 1).all():
        raise InputFileError(f"{path}: the 'eer' column must hold EER fractions between 0 and 1; {fix}")
    return {str(name): float(eer) for name, eer in eers.items()}


def _read_metrics(path: str, eers: dict[str, float] | None) -> dict[str, dict[str, float]]:
    """``{test set: {"min_dcf", "act_dcf", "cllr", "min_cllr"}}`` from the ``metrics.csv`` that
    ``codecfake evaluate --output-dir`` writes, for every test set of ``eers``."""
    import pandas as pd

    fix = (
        "pass the metrics.csv that `codecfake evaluate --output-dir` writes next to eer.csv (with --eer-csv)"
    )
    if eers is None:
        raise InputFileError(f"{path}: --metrics-csv goes with --eer-csv (the card's EERs); {fix}")
    table = _read_csv(path, fix, index_col=0)
    columns = ["min_dcf", "act_dcf", "cllr", "min_cllr"]
    missing = [column for column in columns if column not in table.columns]
    absent = [str(name) for name in eers if name not in table.index]
    if missing or absent:
        raise InputFileError(f"{path}: no {', '.join(missing or absent)} (columns or test sets); {fix}")
    values = table.loc[list(eers), columns].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        raise InputFileError(f"{path}: the metric columns must hold non-negative numbers; {fix}")
    return {str(name): row.to_dict() for name, row in values.iterrows()}


def _push_model(args: argparse.Namespace) -> int:
    from codecfake_hf.cards import push_detector

    eers = _read_eers(args.eer_csv) if args.eer_csv else None
    metrics = _read_metrics(args.metrics_csv, eers) if args.metrics_csv else None
    url = push_detector(
        args.folder, args.repo, eers=eers, metrics=metrics, dataset_id=args.dataset_id, base_model=args.base_model,
        baseline=args.baseline, private=args.private, write_card=args.write_card, space=args.space,
    )  # fmt: skip
    print(f"pushed to {url}")
    return 0


def _resynthesize(args: argparse.Namespace) -> int:
    """Read one audio file (any rate, mixed to mono), run it through the codec's engine and write a new
    file (never replacing one) as 16-bit PCM at the codec's rate, clamped to +-0.99 as the official data."""
    from codecfake_hf.audio import check_output_file, load_audio, write_audio
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


# --- Codec taxonomy: taxonomy ------------------------------------------------------------------


def _taxonomy(args: argparse.Namespace) -> int:
    from codecfake_hf.markdown import markdown_table
    from codecfake_hf.taxonomy import TaxonomyError, group_by_taxonomy, taxonomy_table

    if args.results is None:
        print(taxonomy_table())
        return 0
    path = args.results
    results = _read_csv(
        path, "pass the cross_test_eer.csv of `codecfake matrix` or a CSV with columns codec,eer"
    )
    if "codec" not in results.columns:  # a cross-test matrix: first column = row labels
        results = results.set_index(results.columns[0])
    try:
        table = group_by_taxonomy(results, by=args.by.split(","), value=args.value)
    except TaxonomyError as error:
        raise TaxonomyError(f"{path}: {error}") from error
    print(markdown_table(table, float_format="{:.2f}"))
    return 0


def _add_taxonomy(commands) -> None:
    taxonomy = commands.add_parser(
        "taxonomy",
        help="codec taxonomy table, or EERs pooled by quantizer / auxiliary / decoder_domain / family",
    )
    taxonomy.add_argument(
        "results",
        nargs="?",
        default=None,
        help="cross_test_eer.csv from `codecfake matrix`, or a CSV with columns codec,eer[,...]; "
        "omitted: print the taxonomy of every registered codec",
    )
    taxonomy.add_argument("--by", default="quantizer", help="comma-separated taxonomy fields")
    taxonomy.add_argument("--value", default="eer", help="value column of a long CSV (default eer)")
    taxonomy.set_defaults(func=_taxonomy)


# --- Robustness to ordinary compression: robustness ------------------------------------------


def _robustness(args: argparse.Namespace) -> int:
    from codecfake_hf.detection import Detector
    from codecfake_hf.markdown import markdown_table
    from codecfake_hf.robustness import get_conditions, make_conditions, robustness_report

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


def _add_robustness(commands) -> None:
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
        func=_robustness,
        interrupted="the audio written under {out} so far is whole files, and no report; rerun the same "
        "command (it writes every condition again)",
    )


# --- Try it in a browser: app, space, push-space ----------------------------------------------


def _app(args: argparse.Namespace) -> int:
    from codecfake_hf.app import require_gradio

    require_gradio()
    from codecfake_hf.app.local import launch_app

    launch_app(args.model, server_port=args.port, device=args.device, share=args.share)
    return 0


def _add_app_command(commands) -> None:
    app = commands.add_parser(
        "app",
        help='a detection page in the browser (Gradio, optional extra: pip install -e ".[app]")',
        description="Serve a page on 127.0.0.1 where a recording (uploaded or recorded) gets each detector's "
        "verdict, probability, calibrated LLR and a timeline of its windows; the same numbers as "
        "`codecfake detect --json`.",
    )
    app.add_argument(
        "--model",
        action="append",
        required=True,
        help="detector folder or Hub id; repeat for several side by side",
    )
    app.add_argument("--port", type=int, default=None, help="port (default: 7860 or the next free one)")
    app.add_argument("--device", default="cpu", help="torch device for the detectors (default cpu)")
    app.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (off: only this machine)"
    )
    app.set_defaults(func=_app)


def _space(args: argparse.Namespace) -> int:
    from codecfake_hf.app.space import write_space

    out = write_space(args.model, args.out)
    print(
        f"wrote the Space folder {out} for {args.model}; try it with `cd {out} && python app.py` (needs the "
        f"packages of its requirements.txt), upload it with `codecfake push-space {out} --repo ORG/NAME`"
    )
    return 0


def _add_space_command(commands) -> None:
    space = commands.add_parser(
        "space",
        help="write a Hugging Face Space folder that shows a pushed detector in a browser (no codecfake-hf needed)",
    )
    space.add_argument(
        "--model", required=True, help="the detector's Hub id, ORG/NAME (pushed with push-model)"
    )
    space.add_argument(
        "--out", required=True, help="folder to write (new or empty, or one `codecfake space` wrote before)"
    )
    space.set_defaults(func=_space)


def _push_space(args: argparse.Namespace) -> int:
    from codecfake_hf.app.space import push_space

    print(f"pushed to {push_space(args.folder, args.repo, private=args.private)}")
    return 0


def _add_push_space_command(commands) -> None:
    push_space = commands.add_parser(
        "push-space", help="upload a Space folder written by `codecfake space` to the Hub"
    )
    push_space.add_argument("folder", help="the folder `codecfake space --out` wrote")
    push_space.add_argument("--repo", required=True, help="the Space's ORG/NAME on the Hub")
    push_space.add_argument("--private", action="store_true")
    push_space.set_defaults(func=_push_space)


def _add_codecs_command(commands) -> None:
    listing = commands.add_parser("codecs", help="list the registered codecs (subset ids) and their status")
    listing.set_defaults(func=_codecs)


def _costs(args: argparse.Namespace) -> dict[str, float]:
    """The detection costs given on the command line (the others keep ASVspoof 5's defaults)."""
    return {
        name: getattr(args, name) for name in ("p_spoof", "c_miss", "c_fa") if getattr(args, name) is not None
    }


def _add_scoring_options(
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


def _add_evaluate_command(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="EER of a detector per test set, scores saved per utterance"
    )
    evaluate.add_argument("--model", required=True, help="detector folder or Hub id")
    evaluate.add_argument("--against", help="baseline detector: paired t-test and Wilcoxon (p < 0.01)")
    evaluate.add_argument("--output-dir", help="where scores_<set>.csv and eer.csv go")
    _add_scoring_options(evaluate)
    evaluate.set_defaults(
        func=_evaluate,
        interrupted="the tables written so far are whole files (each as before or as newly written); rerun "
        "the same command to evaluate again",
    )


def _add_matrix_command(commands) -> None:
    matrix = commands.add_parser(
        "matrix", help="the paper's cross-test matrix (Figure 2) or zero-shot table (Table 3)"
    )
    matrix.add_argument("--models", nargs="+", required=True, help="detector folders, optionally NAME=PATH")
    matrix.add_argument(
        "--zero-shot",
        nargs="+",
        metavar="NAME=SOURCE",
        help="zero-shot test sets (Table 3) instead of the CodecFake configs",
    )
    matrix.add_argument("--output-dir", default="matrix")
    matrix.add_argument(
        "--metric",
        choices=list(METRIC_UNITS),
        default="eer",
        help="the metric printed as a matrix (and, other than eer, written as <stem>_<metric>.csv); "
        "every metric of every cell is in <stem>_metrics.csv",
    )
    _add_scoring_options(matrix, several_datasets=True)
    matrix.set_defaults(
        func=_matrix,
        interrupted="the scores of the models done so far are under {output_dir}/scores (whole files), no "
        "matrix yet; rerun the same command to score again",
    )


def _add_push_model_command(commands) -> None:
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
        func=_push_model,
        interrupted="rerun the same command: the upload resumes where it stopped",
    )


def _add_resynthesize_command(commands) -> None:
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
    resyn.set_defaults(func=_resynthesize)


#: The entry-point group other packages register ``codecfake`` sub-commands in (module docstring).
COMMAND_GROUP = "codecfake_hf.commands"

#: Where each command is listed in ``codecfake --help``: the order a user meets them. A plug-in command
#: takes the place of its name here; one not named here comes after these, in alphabetical order.
HELP_ORDER = (
    "codecs",
    "convert-aasist",
    "detect",
    "calibrate",
    "build",
    "import",
    "push",
    "mixtures",
    "compare",
    "evaluate",
    "matrix",
    "push-model",
    "demo",
    "resynthesize",
    "taxonomy",
    "robustness",
    "app",
    "space",
    "push-space",
)

#: Said where plug-in commands are expected but none is registered (not installed, only on PYTHONPATH).
_NO_PLUGINS = (
    f"no plug-in commands are registered (entry-point group {COMMAND_GROUP!r}); "
    "install the package with `pip install -e .` in the repository to register them"
)


AddCommand = Callable[[argparse._SubParsersAction], None]

_BUILT_IN_COMMANDS: dict[str, AddCommand] = {
    "codecs": _add_codecs_command,
    "convert-aasist": _add_convert_aasist_command,
    "detect": _add_detect_command,
    "calibrate": _add_calibrate_command,
    "compare": _add_compare_command,
    "evaluate": _add_evaluate_command,
    "matrix": _add_matrix_command,
    "push-model": _add_push_model_command,
    "resynthesize": _add_resynthesize_command,
    "taxonomy": _add_taxonomy,
    "robustness": _add_robustness,
    "app": _add_app_command,
    "space": _add_space_command,
    "push-space": _add_push_space_command,
}


def plugin_commands() -> tuple[dict[str, AddCommand], dict[str, str]]:
    """The sub-commands registered in :data:`COMMAND_GROUP`: ``({name: add function}, {name: why it
    could not be loaded})``; the second names entry points whose module or function is gone (a stale
    install). Loading one imports its module, so a plug-in keeps its module light (parser only)."""
    commands: dict[str, AddCommand] = {}
    unloadable: dict[str, str] = {}
    for entry_point in entry_points(group=COMMAND_GROUP):
        if entry_point.name in _BUILT_IN_COMMANDS:
            continue
        try:
            commands[entry_point.name] = entry_point.load()
        except (ImportError, AttributeError) as error:
            unloadable[entry_point.name] = f"{entry_point.value}: {type(error).__name__}: {error}"
    return commands, unloadable


def _help_position(name: str) -> tuple[int, str]:
    return (HELP_ORDER.index(name) if name in HELP_ORDER else len(HELP_ORDER), name)


def build_parser() -> argparse.ArgumentParser:
    """The ``codecfake`` parser: the built-in commands and the plug-ins of :data:`COMMAND_GROUP`."""
    return _parser(plugin_commands()[0])


def _parser(plugins: dict[str, AddCommand]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codecfake",
        description="CodecFake on the Hugging Face stack: build the dataset, convert and run AASIST "
        "detectors, evaluate them, upload to the Hub (training: train.py). A user error prints one line "
        "and exits 2 (--debug: its traceback).",
        epilog=None if plugins else _NO_PLUGINS,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    adders = {**plugins, **_BUILT_IN_COMMANDS}
    for name in sorted(adders, key=_help_position):
        adders[name](commands)
    debug_help = "show the traceback of errors (also CODECFAKE_DEBUG=1)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    for command in commands.choices.values():  # `codecfake detect ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    return parser


def _unavailable_command(
    command: str, plugins: dict[str, AddCommand], unloadable: dict[str, str]
) -> str | None:
    """Why ``command`` (no built-in, not loaded) cannot run, or None when it is merely unknown (argparse
    then lists the valid choices)."""
    if command in unloadable:
        return (
            f"the command {command!r} could not be loaded ({unloadable[command]}); reinstall the package "
            "with `pip install -e .` in the repository"
        )
    if not plugins and not unloadable:
        return f"no built-in command {command!r} and {_NO_PLUGINS}"
    return None


def _output_location(args: argparse.Namespace) -> str | None:
    """Where the command writes, named when the system reports a full disk without a file name."""
    for option in ("output_dir", "out", "output"):
        if getattr(args, option, None):
            return str(getattr(args, option))
    return None


#: What Ctrl-C leaves, for a command whose parser says nothing more (``set_defaults(interrupted=TEXT)``,
#: TEXT formatted with the parsed arguments: ``"... {output_dir} ..."``).
_INTERRUPTED = "every file is written whole or not at all; rerun the same command"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    plugins, unloadable = plugin_commands()
    command = next((word for word in argv if not word.startswith("-")), None)
    if command is not None and command not in _BUILT_IN_COMMANDS and command not in plugins:
        problem = _unavailable_command(command, plugins, unloadable)
        if problem is not None:
            print(f"codecfake: error: {problem}", file=sys.stderr)
            return 2
    args = _parser(plugins).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug_requested(args.debug):
            raise
    except Exception as error:
        if debug_requested(args.debug) or not report_user_error(
            error, f"codecfake {args.command}", _output_location(args)
        ):
            raise
        return 2
    # Ctrl-C, told once the interrupted frames (and their progress bars) are gone
    kept = getattr(args, "interrupted", _INTERRUPTED).format(**vars(args))
    return report_interrupted(f"codecfake {args.command}", kept)


if __name__ == "__main__":
    sys.exit(main())
