"""``codecfake compare``: is a build the paper's data? Every utterance of a built folder measured against
the same utterance of an imported release (SNR, lag, gain, log-spectral distance) and a verdict per
subset."""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction) -> None:
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
    compare.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation.comparison import ComparisonOptions, compare_datasets

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
