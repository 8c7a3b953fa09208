"""``codecfake matrix``: the paper's cross-test matrix (Figure 2) or zero-shot table (Table 3), of one
dataset or several, with seed replicas averaged, beside the paper's numbers."""

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

#: What ``codecfake matrix --metric`` can show, and its unit there.
METRIC_UNITS = {
    "eer": "%",
    "min_dcf": "fraction",
    "act_dcf": "fraction",
    "cllr": "bits",
    "min_cllr": "bits",
}


def register(commands: argparse._SubParsersAction) -> None:
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
    add_scoring_options(matrix, several_datasets=True)
    matrix.set_defaults(
        func=run,
        interrupted="the scores of the models done so far are under {output_dir}/scores (whole files), no "
        "matrix yet; rerun the same command to score again",
    )


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    import pandas as pd

    from codecfake_hf.evaluation import tables
    from codecfake_hf.evaluation.scoring import METRIC_COLUMNS, TestSet, eer_grid
    from codecfake_hf.metrics import DetectionCosts
    from codecfake_hf.training.replicas import seed_replica_rows, seed_statistics

    out = Path(args.output_dir)
    rows = seed_replica_rows(_name_path_pairs(args.models))  # seed replicas share a row
    models = {run: path for runs in rows.values() for run, path in runs.items()}
    datasets = None if args.zero_shot else _matrix_datasets(args)
    if args.zero_shot:
        from codecfake_hf.data.loading import check_label_folder

        test_sets = {
            name: TestSet(path, None, args.split) for name, path in _named_paths(args.zero_shot).items()
        }
        for test_set in test_sets.values():
            check_label_folder(test_set.source)
    elif datasets is None:
        test_sets = named_test_sets(args, (args.dataset or ["codecfake"])[0])
    if datasets is None:
        summaries = eer_grid(
            models, test_sets, out / "scores", args.mode, args.batch_size, args.device,
            costs=detection_costs(args),
        )  # fmt: skip
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
    long.assign(**asdict(DetectionCosts(**detection_costs(args)))).to_csv(out / f"{stem}_metrics.csv")
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
    return report_skipped("matrix", skipped, out / "scores")


def _name_path_pairs(values: list[str]) -> list[tuple[str, str]]:
    """``NAME=PATH`` or ``PATH`` items -> ``(name, path)`` pairs (name: the model's training config
    or the folder name)."""
    from codecfake_hf.training.replicas import model_row_name

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
        name: named_test_sets(args, path, chosen.get(name) or shared or ["all"])
        for name, path in datasets.items()
    }


def _dataset_grid(
    models: dict[str, str], datasets: dict[str, dict], scores_dir: Path, args: argparse.Namespace
) -> dict:
    """:func:`~codecfake_hf.evaluation.scoring.eer_grid` of every model on every dataset's test sets, each
    dataset scored apart (a detector's score cache is keyed by codec and utterance, which two datasets
    share; scores go to ``scores_dir/<dataset>/<model>/``): ``{model: summary}`` with the test sets
    named ``NAME/SUBSET``, or ``NAME`` for a bonafide/ + spoof/ folder."""
    import pandas as pd

    from codecfake_hf.evaluation.scoring import eer_grid

    grids = {}
    for name, test_sets in datasets.items():
        grid = eer_grid(
            models, test_sets, scores_dir / name, args.mode, args.batch_size, args.device,
            costs=detection_costs(args),
        )  # fmt: skip
        columns = {test: name if test_sets[test].config is None else f"{name}/{test}" for test in test_sets}
        grids[name] = {model: summary.rename(index=columns) for model, summary in grid.items()}
    return {model: pd.concat([grid[model] for grid in grids.values()]) for model in models}


def _write_seed_statistics(statistics, path: Path) -> None:
    """Write the seed statistics of a matrix (:func:`~codecfake_hf.training.replicas.seed_statistics`) as EER %
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
