"""The offline demo: the whole CodecFake chain on a tiny synthetic corpus, in a few minutes on a CPU.

synthetic VCTK-shaped corpus -> CodecFake configs resynthesized by tiny random-init codecs ->
a tiny AASIST trained briefly on each config -> cross-test EER matrix (CSV + PNG, side by side with
the paper) -> a model card. Nothing is downloaded. Tiny random codecs and a tiny detector make this a
pipeline check: its numbers say nothing about real codecs or detectors.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SUBSETS = ("E", "D1", "A")
DISCLAIMER = (
    "NOTE: the codecs here are tiny random-init models and the detector is a tiny AASIST trained for "
    "seconds on a synthetic corpus: this run checks the pipeline, its EERs are not results."
)


def run_demo(
    output_dir: str | os.PathLike = "codecfake-demo",
    subsets: tuple[str, ...] = DEFAULT_SUBSETS,
    utterances_per_speaker: int = 4,
    epochs: int = 2,
) -> dict[str, Path]:
    """Run the demo; returns the paths of what it wrote (dataset, models, matrix CSV/PNG, card).

    Args:
        output_dir: everything goes below this folder.
        subsets: CodecFake subsets to build and train on (implemented codec families only).
        utterances_per_speaker: size of the synthetic corpus (7 speakers).
        epochs: training epochs per config.
    """
    from codecfake_hf.evaluation import tables
    from codecfake_hf.evaluation.scoring import codecfake_test_sets, eer_grid
    from codecfake_hf.publishing.detector_card import detector_card
    from codecfake_hf.training import TrainingConfig, train
    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.synthetic import make_synthetic_vctk

    out = Path(output_dir)
    dataset = out / "codecfake"
    # options are checked before the build; a rerun continues (or reuses) the earlier runs
    trainings = [
        TrainingConfig(
            subset=subset,
            dataset=str(dataset),
            model="tiny",
            output_dir=str(out / "runs" / subset),
            epochs=epochs,
            batch_size=4,
            num_workers=0,
            log_with=["none"],
            resume=(out / "runs" / subset).is_dir(),
        )
        for subset in subsets
    ]
    vctk = out / "vctk"
    if not vctk.is_dir():
        make_synthetic_vctk(vctk, utterances_per_speaker=utterances_per_speaker)
    build_codecfake(vctk, dataset, list(subsets), BuildOptions(tiny=True, batch_size=8))
    models = {training.subset: train(training) for training in trainings}
    summaries = eer_grid(
        models, codecfake_test_sets(str(dataset), list(subsets)), out / "scores", batch_size=16
    )
    grid = {name: summary["eer"].to_dict() for name, summary in summaries.items()}
    matrix = tables.eer_matrix(grid)
    matrix.to_csv(out / "cross_test_eer.csv", float_format="%.2f")
    tables.side_by_side(matrix, tables.paper_cross_test()).to_csv(
        out / "cross_test_vs_paper.csv", index=False, float_format="%.2f"
    )
    tables.plot_matrix(matrix, out / "cross_test_eer.png", "demo cross-test EER (%), tiny random codecs")
    first = subsets[0]
    card = detector_card(
        model_name=f"aasist-tiny-codecfake-{first}-demo",
        repo_id=str(models[first]),
        train_config=first,
        eers=grid[first],
        architecture="AASIST (tiny demo)",
        training_summary=f"Demo run: tiny AASIST, {epochs} epochs, batch 4, paper recipe otherwise. {DISCLAIMER}",
    )
    card.save(models[first] / "README.md")
    print(matrix.to_string(float_format=lambda v: f"{v:.2f}"))
    print(DISCLAIMER)
    return {
        "dataset": dataset,
        "matrix_csv": out / "cross_test_eer.csv",
        "matrix_png": out / "cross_test_eer.png",
        "comparison_csv": out / "cross_test_vs_paper.csv",
        "card": models[first] / "README.md",
        **{f"model_{subset}": path for subset, path in models.items()},
    }
