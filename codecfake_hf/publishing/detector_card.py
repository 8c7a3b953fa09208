"""Model cards for detectors, filled from ``model_cards/detector_card.md`` with
huggingface_hub's ``ModelCard`` / ``ModelCardData``, and the checks a card passes before a push.

The YAML header carries:

- ``license``: derived from what the detector was trained on (:func:`training_data`): for a build, the
  most restrictive of its bona fide corpus's licence (VCTK's CC BY 4.0, or the ``--source`` corpus's) and
  the weight licences of the codecs that made its training subsets
  (:func:`~codecfake_hf.data.licenses.combined_license`), so a detector trained on a non-commercial
  subset (C, xcodec2) is ``cc-by-nc-4.0``; for a published corpus copied by ``codecfake import``, that
  corpus's licence (ODC-By for ASVspoof 2019 LA, MIT for CodecFake+); MIT for the official ASVspoof 2019
  weights;
- ``datasets``: the Hub id (``ORG/NAME``) of the CodecFake dataset it was trained on; a card whose
  dataset links nowhere is refused by :func:`check_card_links`;
- ``base_model``: the pretrained model it was fine-tuned from, when that is a Hub model;
- ``model-index``: one EER per test subset, in percent, as the metric name says ("EER (%)"); the
  ``evaluate`` metric and ``eer.csv`` hold fractions (0.0123 = 1.23 %).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from huggingface_hub import DatasetCard, EvalResult, ModelCard, ModelCardData
from huggingface_hub.errors import HfHubHTTPError, HTTPError

from codecfake_hf.codecs.registry import CODECS, get_spec
from codecfake_hf.data.dataset_card import DEFAULT_CONFIG, default_config_subsets, read_card
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.data.licenses import (
    AASIST_WEIGHTS_LICENSE,
    ConfigLicense,
    combined_license,
    config_license,
    hub_license_id,
)
from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.files.hub_io import (
    InvalidRepoIdError,
    check_repo_id,
    create_repo,
    hub_api_for_push,
    upload_folder,
)
from codecfake_hf.files.json_files import read_json
from codecfake_hf.markdown import markdown_table
from codecfake_hf.training.config import TrainingConfig

#: The metric name on the card: EERs are written in percent.
EER_METRIC_NAME = "EER (%)"
#: The ASVspoof 5 metrics on the card (``metrics.csv`` of ``codecfake evaluate``): ``{column: name}``;
#: the DCFs are fractions, Cllr and minCllr bits, as their names say.
ASVSPOOF5_METRIC_NAMES = {
    "min_dcf": "minDCF",
    "act_dcf": "actDCF",
    "cllr": "Cllr (bits)",
    "min_cllr": "minCllr (bits)",
}


class CardLinkError(CodecFakeError, ValueError):
    """A model card names a dataset that is no Hub dataset (it would link nowhere)."""


def _template(name: str) -> str:
    return resources.files("codecfake_hf.model_cards").joinpath(name).read_text(encoding="utf-8")


def training_license(subsets: Sequence[str] | None) -> ConfigLicense:
    """The licence of a detector trained on VCTK + ``subsets`` (codec ids): the most restrictive of
    theirs (VCTK: CC BY 4.0; each subset: its codec weights'; :func:`combined_license`). ``None``: the
    official baseline."""
    if subsets is None:
        return AASIST_WEIGHTS_LICENSE
    return training_data(subsets).license


@dataclass(frozen=True)
class TrainingData:
    """What a detector was trained on, as its card states it: ``description`` (a phrase: "the CodecFake
    **E** config: ..."), the licences of its parts (``parts``: the bona fide audio's and each codec's, or an
    imported corpus's) and the most restrictive of them (``license``, :func:`combined_license`), and
    ``speech`` (what speech it heard, for the card's limits)."""

    description: str
    parts: tuple[ConfigLicense, ...]
    license: ConfigLicense
    speech: str = "read English speech (VCTK)"
    vctk: bool = True


def _part(config: str) -> ConfigLicense:
    """The licence of codec subset ``config``'s audio; ``unknown`` for a config no codec of the registry
    names (nothing then says whose output it is)."""
    if config in CODECS:
        return config_license(config)
    return ConfigLicense(config, "unknown", "unknown (no registered codec; no build report says more)", "")


def _codec_phrase(subsets: Sequence[str]) -> str:
    specs = [get_spec(subset) for subset in subsets if subset in CODECS]
    return "; ".join(
        f"{s.id}: {s.family} ({s.model_name}, {s.sampling_rate} Hz)" for s in specs
    ) or ", ".join(subsets)


def training_data(
    subsets: Sequence[str], report: Mapping | None = None, config: str | None = None
) -> TrainingData:
    """The training data of a detector trained on config ``config`` (default: the single subset) pooling
    ``subsets`` of a dataset whose ``build_report.json`` is ``report``: an imported corpus (key
    ``imported``: its own licence, title and kind), a build from another speech corpus (key ``source``:
    that corpus's licence for the bona fide audio, the codec weights' for the rest), or a VCTK build
    (``report`` None or key ``vctk``: VCTK's CC BY 4.0 and the codec weights')."""
    config = config or (subsets[0] if len(subsets) == 1 else "default")
    if report and "imported" in report:
        imported = report["imported"]
        part = ConfigLicense(
            imported["title"],
            imported["license"],
            imported.get("license_name") or imported["license"],
            imported.get("license_link") or "",
        )
        return TrainingData(
            f"the **{config}** config of {imported['title']}, copied by `codecfake import {imported['kind']}`",
            (part,),
            part,
            speech=f"the speech of {imported['title']}",
            vctk=False,
        )
    codecs = tuple(_part(subset) for subset in subsets)
    if report and "source" in report:
        source = report["source"]
        name = source.get("hub_id") or Path(source["id"]).name
        link = f"https://huggingface.co/datasets/{source['hub_id']}" if source.get("hub_id") else ""
        bonafide = ConfigLicense(
            f"{BONAFIDE_CONFIG} ({name})", hub_license_id(source["license"]), source["license"], link
        )
        described = (
            f"bona fide speech of `{name}` plus the same utterances resynthesized by {_codec_phrase(subsets)}"
        )
        speech = f"the speech of `{name}`"
        parts, vctk = (bonafide, *codecs), False
    else:
        bonafide = config_license(BONAFIDE_CONFIG)
        bonafide = ConfigLicense(
            f"{BONAFIDE_CONFIG} (VCTK)", bonafide.license, bonafide.license_name, bonafide.license_link
        )
        described = (
            f"VCTK bona fide speech plus the same utterances resynthesized by {_codec_phrase(subsets)}"
        )
        speech, parts, vctk = "read English speech (VCTK)", (bonafide, *codecs), True
    return TrainingData(
        f"the CodecFake **{config}** config: {described}",
        parts,
        combined_license(list(parts), "training data"),
        speech=speech,
        vctk=vctk,
    )


def read_dataset_report(dataset: str | os.PathLike | None) -> dict | None:
    """The ``build_report.json`` of a local dataset folder (a build or an import), or None (a Hub id, a
    folder without one, a file that does not parse)."""
    if dataset is None:
        return None
    try:
        return read_json(Path(dataset) / "build_report.json", "the card reads no report")
    except InputFileError:
        return None


def training_summary(training: TrainingConfig) -> str:
    """The recipe of a run in words, from its options (``training_config.json``)."""
    spoof, bonafide = training.class_weights
    schedule = (
        f"cosine schedule per step to {training.min_learning_rate}"
        if training.scheduler == "cosine"
        else "constant learning rate"
    )
    return (
        f"Recipe `{training.recipe}`: Adam, learning rate {training.learning_rate}, batch "
        f"{training.batch_size} per process, weight decay {training.weight_decay}, {schedule}, "
        f"{training.epochs} epochs, weighted cross-entropy [spoof {spoof}, bona fide {bonafide}], "
        f"mixed precision {training.mixed_precision or 'no'}; the checkpoint with the lowest "
        "validation EER was kept."
    )


def _results_table(eers: Mapping[str, float], metrics: Mapping[str, Mapping[str, float]]) -> str:
    """One row of EERs in percent and one per ASVspoof 5 metric of ``metrics`` (``{test subset:
    {column: value}}``), a column per test subset."""
    rows = [[EER_METRIC_NAME, *(f"{100 * float(eer):.2f}" for eer in eers.values())]]
    for column, name in ASVSPOOF5_METRIC_NAMES.items():
        if metrics:
            rows.append([name, *(f"{float(metrics[subset][column]):.4f}" for subset in eers)])
    return markdown_table(rows, ["metric", *eers])


def detector_card(
    *,
    model_name: str,
    repo_id: str,
    train_config: str | None,
    eers: Mapping[str, float] | None = None,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    dataset_id: str | None = None,
    split: str = "test",
    architecture: str = "AASIST-L",
    training_summary: str = "",
    base_model: str | None = None,
    train_subsets: Sequence[str] | None = None,
    dataset_report: Mapping | None = None,
    space: str | None = None,
) -> ModelCard:
    """A model card for a detector.

    Args:
        model_name: display name ("aasist-l-codecfake-E").
        repo_id: where the model lives or will be pushed ("ORG/NAME" or a local folder).
        train_config: CodecFake config it was trained on ("E"), or None for the official
            ASVspoof 2019 baseline checkpoints.
        eers: ``{test subset: EER fraction}``; written in percent as ``model-index`` results (only
            with ``dataset_id``) and as a table.
        metrics: ``{test subset: {"min_dcf", "act_dcf", "cllr", "min_cllr"}}`` for the same subsets
            (``metrics.csv``); written beside the EERs under :data:`ASVSPOOF5_METRIC_NAMES`.
        dataset_id: Hub id ("ORG/codecfake") of the CodecFake dataset the model was trained and
            evaluated on; None for a card that stays local (no ``datasets:``, no ``model-index``).
        split: the evaluated split.
        architecture: "AASIST" or "AASIST-L".
        training_summary: recipe in words (:func:`training_summary`).
        base_model: Hub id of the pretrained model it was fine-tuned from.
        train_subsets: codec subsets in the training config (default: ``[train_config]``; pass
            them for the pooled ``default`` config).
        dataset_report: the ``build_report.json`` of the training dataset (:func:`read_dataset_report`), which
            says where its audio comes from and under which licence (:func:`training_data`); None: a
            build from VCTK.
        space: Hub id of a Space that runs the detector (``codecfake space``), linked under "How to use".
    """
    eers = dict(eers or {})
    baseline = train_config is None
    subsets = None if baseline else list(train_subsets or [train_config])
    data = None if baseline else training_data(subsets, dataset_report, train_config)
    model_license = AASIST_WEIGHTS_LICENSE if data is None else data.license
    metrics = dict(metrics or {})
    missing = [subset for subset in eers if metrics and subset not in metrics]
    if missing:
        raise ValueError(f"metrics: no ASVspoof 5 metrics for {', '.join(missing)} (the EERs' subsets)")
    values = {
        subset: [
            ("eer", EER_METRIC_NAME, round(100 * eer, 4)),
            *(
                (column, name, round(float(metrics[subset][column]), 6))
                for column, name in ASVSPOOF5_METRIC_NAMES.items()
                if metrics
            ),
        ]
        for subset, eer in eers.items()
    }
    eval_results = [
        EvalResult(
            task_type="audio-classification",
            task_name="Codec deepfake detection",
            dataset_type=dataset_id,
            dataset_name=f"CodecFake {subset}" if subset in CODECS else subset,
            dataset_config=subset,
            dataset_split=split,
            metric_type=metric_type,
            metric_name=metric_name,
            metric_value=value,
        )
        for subset in eers
        for metric_type, metric_name, value in values[subset]
        if dataset_id
    ]
    other = model_license.license == "other"  # the Hub has no id for it: name it and link it
    card_data = ModelCardData(
        model_name=model_name,
        license=model_license.license,
        library_name="transformers",
        pipeline_tag="audio-classification",
        tags=["anti-spoofing", "deepfake-detection", "codecfake", architecture.lower()],
        datasets=[dataset_id] if dataset_id and not baseline else None,
        base_model=base_model,
        metrics=["eer", *ASVSPOOF5_METRIC_NAMES] if metrics else ["eer"],
        eval_results=eval_results or None,
        license_name=model_license.license_name if other else None,
        license_link=model_license.license_link if other else None,
    )
    return ModelCard.from_template(
        card_data,
        template_str=_template("detector_card.md"),
        model_name=model_name,
        repo_id=repo_id,
        architecture=architecture,
        baseline=baseline,
        train_config=train_config,
        trained_on=data.description if data else "",
        license_parts=list(data.parts) if data else [],
        speech=data.speech if data else "read English speech (VCTK)",
        vctk=data.vctk if data else True,
        license=model_license,
        results_table=_results_table(eers, metrics) if eers else "",
        model_index=bool(eval_results),
        split=split,
        training_summary=training_summary,
        eer_metric_name=EER_METRIC_NAME,
        space=space,
    )


def linked_dataset_ids(card: ModelCard) -> list[str]:
    """Every dataset a model card names: ``datasets:`` and the ``model-index`` results' datasets."""
    named = list(card.data.datasets or [])
    named += [result.dataset_type for result in card.data.eval_results or []]
    return list(dict.fromkeys(named))


def check_card_links(
    card: ModelCard, dataset_exists: Callable[[str], bool], source: str = "README.md"
) -> None:
    """Refuse a card that names a dataset which is no Hub dataset.

    Args:
        card: the model card to push.
        dataset_exists: tells whether a Hub dataset id exists (``HfApi.repo_exists`` with
            ``repo_type="dataset"``).
        source: how to name the card in the message.

    Raises:
        CardLinkError: the message names the id and the fix (``--dataset-id ORG/NAME``).
    """
    for dataset_id in linked_dataset_ids(card):
        try:
            check_repo_id(dataset_id, what="dataset", namespace=True)
        except InvalidRepoIdError as error:
            raise CardLinkError(
                f"{source} names the dataset {dataset_id!r}, which is no Hub dataset ({error}); push the "
                "dataset (`codecfake push`) and pass --dataset-id ORG/NAME with --write-card"
            ) from None
        if not dataset_exists(dataset_id):
            raise CardLinkError(
                f"{source} names the dataset {dataset_id}, which does not exist on the Hub (or your token "
                "cannot see it); push it first (`codecfake push`) or pass the right --dataset-id"
            )


# --- Publishing a saved detector ---------------------------------------------------------------


def push_detector(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    eers: Mapping[str, float] | None = None,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    dataset_id: str | None = None,
    base_model: str | None = None,
    baseline: bool = False,
    private: bool = False,
    write_card: bool = False,
    space: str | None = None,
) -> str:
    """Upload a saved detector folder (``save_pretrained`` + ``training_config.json``) to ``repo_id``.

    Every check runs before anything in ``folder`` is touched: the folder, the card's dataset id,
    offline mode, the repo id, the token, that the card's datasets exist on the Hub, and write
    access. The model card is written only when the folder has no README.md or with ``write_card``;
    an existing one is uploaded as it is (after the same link check).

    Args:
        eers: ``{test subset: EER fraction}`` for the card (``eer.csv`` of ``codecfake evaluate``).
        metrics: ``{test subset: {"min_dcf", "act_dcf", "cllr", "min_cllr"}}`` (``metrics.csv``).
        dataset_id: the Hub dataset it was trained / evaluated on (default: the training dataset
            when that was a Hub id).
        base_model: Hub id it was fine-tuned from (default: the training ``model`` when that was a
            Hub id).
        baseline: the official ASVspoof 2019 weights (``codecfake convert-aasist``).
        space: Hub id of a Space that runs the detector, linked from a card this call writes; it must
            exist on the Hub. A kept README.md is not changed (``write_card`` rewrites it).

    Returns:
        The repo URL.

    Raises:
        InputFileError: no such folder, or not a saved detector folder.
        CardLinkError: the card would name no Hub dataset, or one that does not exist.
        codecfake_hf.files.hub_io.HubPushError: offline, no token, refused, unreachable, interrupted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: no such folder; pass a saved detector folder (train.py's best/)")
    if not (folder / "config.json").is_file():
        raise InputFileError(f"{folder}: not a saved detector folder (no config.json)")
    readme = folder / "README.md"
    write = write_card or not readme.is_file()
    training = TrainingConfig.load(folder)
    if write:
        dataset_id = _card_dataset_id(dataset_id, training, baseline, bool(eers))
    if space is not None:
        check_repo_id(space, what="Space", namespace=True)
    api = hub_api_for_push(repo_id, "model")
    if write:
        card = _folder_card(repo_id, training, eers, dataset_id, base_model, baseline, metrics, space)
    else:
        card = ModelCard.load(readme)
    check_card_links(card, lambda dataset: api.repo_exists(dataset, repo_type="dataset"), source=str(readme))
    if space is not None and not api.repo_exists(space, repo_type="space"):
        raise CardLinkError(
            f"--space {space}: no such Space on the Hub (or your token cannot see it); push it first "
            "(`codecfake space`, then `codecfake push-space`)"
        )
    create_repo(api, repo_id, "model", private=private)
    if write:
        with atomic_path(readme) as temporary:
            card.save(temporary)
        print(f"wrote the model card {readme}")
    else:
        linked = f" and link the Space {space}" if space else ""
        print(f"kept {readme} as it is (pass --write-card to replace it with a generated card{linked})")
    return upload_folder(api, folder, repo_id, "model")


def _card_dataset_id(
    dataset_id: str | None, training: TrainingConfig | None, baseline: bool, results: bool
) -> str | None:
    """The Hub dataset a generated card names: ``dataset_id``, else the training dataset when it is a
    Hub id; a trained model (or any results) must name one."""
    if dataset_id:
        return check_repo_id(dataset_id, what="dataset", namespace=True)
    trained_on = training.dataset if training is not None else None
    if trained_on and "/" in trained_on and not Path(trained_on).exists():
        return check_repo_id(trained_on, what="dataset", namespace=True)
    if results or not baseline:
        raise CardLinkError(
            f"the model card must name the Hub dataset it was {'evaluated' if baseline else 'trained'} on "
            f"(training used {trained_on or 'an unknown dataset'}): push it with `codecfake push` and pass "
            "--dataset-id ORG/NAME"
        )
    return None


def _folder_card(
    repo_id: str,
    training: TrainingConfig | None,
    eers: Mapping[str, float] | None,
    dataset_id: str | None,
    base_model: str | None,
    baseline: bool,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    space: str | None = None,
) -> ModelCard:
    """The generated card of a saved detector, from the options it was trained with (None: no
    ``training_config.json``)."""
    from codecfake_hf.models.aasist import AASIST_PRESETS

    config = None if baseline or training is None else training.subset
    subsets = _pooled_subsets(training, dataset_id) if config == DEFAULT_CONFIG else None
    started_from = training.model if training is not None else None
    if base_model is None and started_from and started_from not in AASIST_PRESETS:
        if Path(started_from).exists():
            print(
                f"note: fine-tuned from the local folder {started_from}; pass --base-model ORG/NAME to name it"
            )
        else:
            base_model = started_from
    return detector_card(
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        train_config=config,
        eers=eers,
        metrics=metrics,
        dataset_id=dataset_id,
        training_summary=training_summary(training) if training is not None else "",
        base_model=check_repo_id(base_model, what="model", namespace=True) if base_model else None,
        train_subsets=subsets,
        dataset_report=None if training is None else read_dataset_report(training.dataset),
        space=space,
    )


def _pooled_subsets(training: TrainingConfig, dataset_id: str) -> list[str]:
    """The codec subsets of the ``default`` config a detector was trained on, from the dataset card
    (the local training folder's, else the Hub dataset's)."""
    trained_on = Path(training.dataset)
    try:
        card = (
            read_card(trained_on)
            if trained_on.is_dir()
            else DatasetCard.load(dataset_id, repo_type="dataset")
        )
    except (HfHubHTTPError, HTTPError) as error:
        raise CardLinkError(
            f"cannot read the dataset card of {dataset_id} ({type(error).__name__})"
        ) from None
    if card is None:
        raise CardLinkError(
            f"{trained_on}: no dataset card, so the subsets of its default config are unknown"
        )
    return default_config_subsets(card)
