"""Scoring detectors on labelled audio: EER per CodecFake config, significance against a baseline,
the paper's cross-test matrix (Figure 2) and zero-shot table (Table 3).

Scores are the bona fide logit (``logits[:, 1]``) of the deterministic evaluation window (first
64,600 samples, repeat-padded; or ``mode="full"``: mean logits over windows covering the
utterance). CodecFake configs share their bona fide test audio, so a :class:`Scorer` caches scores
per ``(codec, utterance_id)`` and scores each bona fide utterance once per detector. Audio that cannot
be read is reported (a warning, and the ``error`` column of the scores), left out of the EER and
counted in ``n_skipped``; the other trials are evaluated.

Beside the EER each test set gets the ASVspoof 5 metrics (minDCF, actDCF, Cllr, minCllr;
:func:`codecfake_hf.metrics.compute_asvspoof5_metrics`) at given detection costs. actDCF and Cllr
read scores as natural-log LLRs: for a calibrated detector (:mod:`codecfake_hf.detection.calibration`) they are
computed on its calibrated LLRs (``llr`` column of the scores), otherwise on the raw logit.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from codecfake_hf.data.dataset_card import POOLED_CONFIGS, own_data_configs, own_data_patterns, read_card
from codecfake_hf.data.loading import DatasetError, dataset_config_names, load_labelled_dataset
from codecfake_hf.detection.calibration import (
    DEFAULT_FIT_PRIOR_SPOOF,
    CalibrationReport,
    calibrate_scores,
    check_writable,
    write_calibration,
)
from codecfake_hf.detection.detector import Detector
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.metrics import DetectionCosts, compare_detectors, compute_asvspoof5_metrics, load_eer_metric

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestSet:
    """Where labelled test audio comes from (see :func:`codecfake_hf.data.loading.load_labelled_dataset`)."""

    source: str
    config: str | None = None
    split: str = "test"

    def load(self):
        return load_labelled_dataset(self.source, self.config, self.split)


def codecfake_test_sets(
    source: str, subsets: list[str] | str = "all", split: str = "test"
) -> dict[str, TestSet]:
    """``{subset: TestSet}`` for CodecFake subsets (configs) of ``source`` ("all" = every codec
    subset, and in a local folder every other config with rows of its own in ``split``, such as an
    imported corpus's attacks (ASVspoof's A01 has no test rows, so it is not taken for the test split);
    not the pooled ``default`` and ``bonafide`` configs nor the mixtures of :mod:`codecfake_hf.data.mixtures`).

    Raises:
        DatasetError: a config is not in the dataset (checked before anything is scored).
    """
    from codecfake_hf.codecs.registry import CODECS

    available = dataset_config_names(source)
    if subsets == "all" or subsets == ["all"]:
        card = read_card(source) if Path(source).is_dir() else None
        if card is not None:
            subsets = [
                name
                for name in own_data_configs(card)
                if name not in POOLED_CONFIGS and split in own_data_patterns(card, name)
            ]
        else:
            subsets = [name for name in available if name in CODECS]
        if not subsets:
            raise DatasetError(
                f"{source}: holds no codec subset, so no spoof trials (its configs: {', '.join(available)}); "
                "build one with `codecfake build --subsets E`, or pass a folder with bonafide/ and spoof/"
            )
    unknown = [subset for subset in subsets if subset not in available]
    if unknown:
        raise DatasetError(
            f"{source}: no config {', '.join(unknown)} in this dataset (its configs: {', '.join(available)}); "
            "choose from those (--subsets) or build the missing ones with `codecfake build --subsets ...`"
        )
    return {subset: TestSet(source, subset, split) for subset in subsets}


class Scorer:
    """A :class:`~codecfake_hf.detection.detector.Detector` that scores datasets in batches, caching scores
    by ``(codec, utterance_id)``.

    Args:
        model_path: saved detector folder (``save_pretrained``, ``convert-aasist``) or Hub id.
        mode: ``"first"`` (official window) or ``"full"`` (windows over the whole utterance).
        batch_size: windows per forward pass (first mode: utterances), taken across utterances.
        device: torch device; default CUDA when available.
        calibrated: read the calibration in the model's config (False: raw scores only, as a
            recalibration needs them, whatever the config holds).
    """

    def __init__(self, model_path: str | os.PathLike, mode: str = "first", batch_size: int = 32,
                 device: str | None = None, calibrated: bool = True) -> None:  # fmt: skip
        self.detector = Detector.from_pretrained(
            model_path, mode=mode, batch_size=batch_size, device=device, calibrated=calibrated
        )
        self.cache: dict[tuple[str, str], float] = {}
        self.errors: dict[tuple[str, str], str] = {}  # unreadable audio: the reason

    def score_dataset(self, dataset, desc: str = "scoring") -> pd.DataFrame:
        """Scores of every row of a labelled dataset: ``utterance_id, codec, label, score, error``.

        Rows are scored as ``codecfake detect`` scores files (:meth:`Detector.score_sources`, every
        clip judged as the official protocol does): read ahead in background threads, the windows of
        several rows sharing each forward pass. A row whose audio cannot be read gets score NaN and the
        reason in ``error`` ("" otherwise), and a warning; it does not stop the others.
        """
        keys = list(zip(dataset["codec"], dataset["utterance_id"]))
        todo = [i for i, key in enumerate(keys) if key not in self.cache]
        rows = dataset.select(todo)
        scored = self.detector.score_sources(
            (row["audio"] for row in rows), names=rows["utterance_id"], judge=False, progress=False
        )
        bonafide = self.detector.bonafide_index
        for index, result in tqdm(zip(todo, scored), total=len(todo), desc=desc, unit="utterance"):
            if result.error is not None:
                self.cache[keys[index]], self.errors[keys[index]] = math.nan, str(result.error)
                logger.warning("%s; skipped, not scored", result.error)
                continue
            self.cache[keys[index]] = float(result.logits[bonafide])
        return pd.DataFrame(
            {
                "utterance_id": dataset["utterance_id"],
                "codec": dataset["codec"],
                "label": dataset["label"],
                "score": [self.cache[key] for key in keys],
                "error": [self.errors.get(key, "") for key in keys],
            }
        )


def evaluate_detector(
    model_path: str | os.PathLike,
    test_sets: Mapping[str, TestSet],
    output_dir: str | os.PathLike | None = None,
    against: str | os.PathLike | None = None,
    mode: str = "first",
    batch_size: int = 32,
    device: str | None = None,
    costs: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """EER and the ASVspoof 5 metrics of a detector on each test set, optionally with the paper's
    significance tests.

    Args:
        model_path: the detector.
        test_sets: ``{name: TestSet}`` (CodecFake configs, zero-shot folders, ...).
        output_dir: if given, per-utterance scores go to ``scores_<name>.csv`` (plus
            ``baseline_scores_<name>.csv``) and the summary to ``eer.csv``.
        against: a baseline detector scored on the same trials; adds paired t-test and Wilcoxon
            p-values (alpha 0.01) and which detector is significantly better.
        costs: ``p_spoof``, ``c_miss``, ``c_fa`` of minDCF and actDCF (default ASVspoof 5's).

    Returns:
        One row per test set: ``eer`` (fraction), ``threshold``, ``n_bonafide``, ``n_spoof`` (trials
        scored), ``n_skipped`` (unreadable audio, left out) and, with ``against``, ``baseline_eer``,
        ``ttest_p``, ``wilcoxon_p``, ``significant`` and ``better`` ("model", "baseline", or
        "neither" when the difference is not significant); then ``min_dcf``, ``act_dcf`` (fractions),
        ``cllr``, ``min_cllr`` (bits) and ``calibrated`` (whether actDCF and Cllr are of calibrated
        LLRs). With ``output_dir`` the columns up to ``better`` go to ``eer.csv`` (as before) and the
        metrics with the costs to ``metrics.csv``.
    """
    cost_model = DetectionCosts(**(costs or {}))  # checked before anything is scored
    metric = load_eer_metric()
    scorer = Scorer(model_path, mode, batch_size, device)
    baseline = Scorer(against, mode, batch_size, device) if against is not None else None
    # every test set loads (or says what is wrong) before anything is scored or created
    loaded = {name: test_set.load() for name, test_set in test_sets.items()}
    out = Path(output_dir) if output_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    records = []
    for name, dataset in loaded.items():
        scores = scorer.score_dataset(dataset, desc=f"scoring {name}")
        base = baseline.score_dataset(dataset, desc=f"baseline {name}") if baseline is not None else None
        scored = scores["error"].eq("")
        if base is not None:
            scored &= base["error"].eq("")  # the same trials for both detectors
        labels = scores["label"][scored].to_numpy()
        result = metric.compute(predictions=scores["score"][scored].to_numpy(), references=labels)
        calibration = scorer.detector.calibration
        if calibration is not None:
            scores["llr"] = calibration.llr(scores["score"])
        record = {
            "test_set": name,
            "eer": result["eer"],
            "threshold": result["threshold"],
            "n_bonafide": int((labels == 1).sum()),
            "n_spoof": int((labels == 0).sum()),
            "n_skipped": int((~scored).sum()),
        }
        if out is not None:
            _write_csv(scores, out / f"scores_{name}.csv", index=False)
        if base is not None:
            model_scores, base_scores = scores["score"][scored].to_numpy(), base["score"][scored].to_numpy()
            test = compare_detectors(model_scores, base_scores, labels)
            record.update(
                baseline_eer=metric.compute(predictions=base_scores, references=labels)["eer"],
                ttest_p=test.ttest_p,
                wilcoxon_p=test.wilcoxon_p,
                significant=test.significant,
                better={"a": "model", "b": "baseline", None: "neither"}[test.better],
            )
            if out is not None:
                _write_csv(base, out / f"baseline_scores_{name}.csv", index=False)
        llrs = scores["llr" if calibration is not None else "score"][scored].to_numpy()
        record.update(
            compute_asvspoof5_metrics(llrs, labels, **asdict(cost_model)), calibrated=calibration is not None
        )
        records.append(record)
    summary = pd.DataFrame.from_records(records).set_index("test_set")
    if out is not None:
        _write_csv(summary.drop(columns=METRIC_COLUMNS), out / "eer.csv")
        metrics = summary[["eer", *METRIC_COLUMNS, "n_bonafide", "n_spoof"]].assign(**asdict(cost_model))
        _write_csv(metrics, out / "metrics.csv")
    return summary


#: The columns :func:`evaluate_detector` adds to ``eer.csv``'s in its summary and writes to ``metrics.csv``.
METRIC_COLUMNS = ["min_dcf", "act_dcf", "cllr", "min_cllr", "calibrated"]


def _write_csv(frame: pd.DataFrame, path: Path, **options) -> None:
    """``frame.to_csv(path, **options)``, atomically: a full disk leaves no half-written table."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, **options)


def eer_grid(
    models: Mapping[str, str | os.PathLike],
    test_sets: Mapping[str, TestSet],
    output_dir: str | os.PathLike | None = None,
    mode: str = "first",
    batch_size: int = 32,
    device: str | None = None,
    costs: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every model on every test set: ``{model name: summary}``, each the table of
    :func:`evaluate_detector` (``eer`` fraction, ``n_skipped``, ... per test set); with ``output_dir``
    each model's scores and summary go to ``<output_dir>/<model name>/``.

    Raises:
        SourceNotFoundError: a model is neither a folder nor a Hub repo (checked for every model
            before any is scored).
    """
    from codecfake_hf.files.sources import resolve_model_source

    for path in models.values():
        resolve_model_source(path)
    summaries = {}
    for name, path in models.items():
        out = Path(output_dir) / name if output_dir is not None else None
        summaries[name] = evaluate_detector(
            path, test_sets, out, mode=mode, batch_size=batch_size, device=device, costs=costs
        )
    return summaries


def calibrate_detector(
    folder: str | os.PathLike,
    dataset,
    fitted_on: str,
    prior_spoof: float = DEFAULT_FIT_PRIOR_SPOOF,
    overwrite: bool = False,
    mode: str = "first",
    batch_size: int = 32,
    device: str | None = None,
    **costs: float,
) -> CalibrationReport:
    """Score a labelled dataset with the detector saved in ``folder``, fit a calibration on the raw
    scores and store it in ``folder/config.json``.

    Args:
        folder: a local detector folder (``save_pretrained``).
        dataset: labelled audio (:func:`codecfake_hf.data.loading.load_labelled_dataset`), e.g. the validation split.
        fitted_on: what ``dataset`` is, stored with the calibration.
        overwrite: replace a calibration the folder holds (otherwise refused before scoring).
        **costs: ``p_spoof``, ``c_miss``, ``c_fa`` of the reported metrics (not of the fit).

    Returns:
        The calibration, the metrics before and after, and ``n_skipped``: trials whose audio could
        not be read (each named in a warning), left out of the fit as ``evaluate`` leaves them out.

    Raises:
        CalibrationError: a calibration exists and not ``overwrite``, or the scores cannot be calibrated.
    """
    check_writable(folder, overwrite)
    # raw scores, whatever calibration the folder holds (it is being replaced, and may be damaged)
    scorer = Scorer(folder, mode, batch_size, device, calibrated=False)
    scores = scorer.score_dataset(dataset, desc=f"calibration scores ({fitted_on})")
    scored = scores[scores["error"].eq("")]
    detector = scorer.detector
    bonafide_label = str(detector.id2label[detector.bonafide_index])
    report = calibrate_scores(
        scored["score"].to_numpy(),
        scored["label"].to_numpy(),
        bonafide_label,
        fitted_on,
        prior_spoof,
        **costs,
    )
    write_calibration(folder, report.calibration, overwrite=overwrite)
    return dataclasses.replace(report, n_skipped=len(scores) - len(scored))
