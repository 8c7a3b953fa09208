"""Model cards for detectors, filled from the templates in ``codecfake_hf/model_cards/``.

The card's YAML carries ``model-index`` results (EER per test subset) so the Hub shows them; the
body has usage, the results table, training data and recipe, intended use and limits, licences and
citations.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from codecfake_hf.codecs.registry import CODECS, get_spec


def _template(name: str) -> str:
    return resources.files("codecfake_hf.model_cards").joinpath(name).read_text()


def _results_table(eers: Mapping[str, float]) -> str:
    columns = list(eers)
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "---|" * len(columns)
    values = "| " + " | ".join(f"{100 * eers[column]:.2f}" for column in columns) + " |"
    return "\n".join([header, rule, values])


def detector_card(
    *,
    model_name: str,
    repo_id: str,
    train_config: str | None,
    eers: Mapping[str, float] | None = None,
    dataset_id: str = "codecfake",
    split: str = "test",
    architecture: str = "AASIST-L",
    training_summary: str = "",
    license: str = "mit",
) -> ModelCard:
    """A model card for a detector.

    Args:
        model_name: display name ("aasist-l-codecfake-E").
        repo_id: where the model lives or will be pushed ("ORG/NAME" or a local folder).
        train_config: CodecFake subset it was trained on ("E"), or None for the official
            ASVspoof 2019 baseline checkpoints.
        eers: ``{test subset: EER fraction}``; written as ``model-index`` results and a table.
        dataset_id: the dataset the results refer to ("ORG/codecfake" once pushed).
        split: the evaluated split.
        architecture: "AASIST" or "AASIST-L".
        training_summary: recipe in words (optimizer, lr, batch, epochs, selection).
        license: licence of the weights (Hub licence id).
    """
    eers = dict(eers or {})
    baseline = train_config is None
    eval_results = [
        EvalResult(
            task_type="audio-classification",
            task_name="Codec deepfake detection",
            dataset_type=dataset_id,
            dataset_name=f"CodecFake {subset}" if subset in CODECS else subset,
            dataset_config=subset,
            dataset_split=split,
            metric_type="eer",
            metric_name="EER",
            metric_value=round(100 * eer, 4),
        )
        for subset, eer in eers.items()
    ]
    spec = None if baseline else get_spec(train_config)
    noncommercial = "" if spec is None or "NC" not in spec.licence else f"{spec.id}: {spec.licence}"
    card_data = ModelCardData(
        model_name=model_name,
        license=license,
        library_name="transformers",
        pipeline_tag="audio-classification",
        tags=["anti-spoofing", "deepfake-detection", "codecfake", architecture.lower()],
        datasets=[] if baseline else [dataset_id],
        metrics=["eer"],
        eval_results=eval_results or None,
    )
    return ModelCard.from_template(
        card_data,
        template_str=_template("detector_card.md"),
        model_name=model_name,
        repo_id=repo_id,
        architecture=architecture,
        baseline=baseline,
        train_config=train_config,
        codec_description="" if spec is None else f"{spec.family} ({spec.model_name}, {spec.sample_rate} Hz)",
        codec_licence="" if spec is None else f"{spec.id}: {spec.licence}",
        noncommercial=noncommercial,
        results_table=_results_table(eers) if eers else "",
        training_summary=training_summary,
        license=license,
    )
