"""Score calibration: a detector's raw score turned into a log-likelihood ratio, and an operating point.

A detector's score (the bona fide logit, :mod:`codecfake_hf.detection.detector`) ranks clips well but is not a
likelihood ratio, so actDCF and Cllr, which read scores as natural-log LLRs, punish it. Calibration
fits an affine map ``llr = scale * score + offset`` on labelled trials (the validation split) by
prior-weighted logistic regression, the standard linear calibration of speaker and spoofing
detection (Brümmer's FoCal):

- the bona fide posterior log-odds are modelled as ``scale * score + offset + ln((1 - p) / p)`` for a
  stated spoof prior ``p`` (default 1/2), so ``scale * score + offset`` is the LLR with the prior's
  log-odds removed;
- each class's cross-entropy is averaged over its own trials and weighted by its prior (bona fide
  ``1 - p``, spoof ``p``), so the class balance of the calibration set does not matter; at ``p = 1/2``
  the loss is the Cllr of the calibrated scores (in nats), which the fit minimises;
- targets are smoothed as Platt did (bona fide ``(N_bona + 1) / (N_bona + 2)``, spoof
  ``1 / (N_spoof + 2)``), so separable trials give a finite scale instead of an infinite one;
- the minimum is found by Newton's method on standardised scores in float64 (the loss is convex),
  with a halving line search: deterministic, no random start.

The operating point is the EER threshold of the calibrated LLRs on the same trials (the exact
ASVspoof EER definition, :func:`codecfake_hf.metrics.compute_eer`, which rejects the scores at or
below it): a clip whose LLR lies above it is called bona fide. Both live in the model's ``config.json`` under ``"calibration"``
(:meth:`ScoreCalibration.to_dict`), so they travel with the folder; its pipeline
(``pipeline_aasist.calibrated_verdict``) and ``codecfake detect`` apply them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.metrics import compute_asvspoof5_metrics, compute_eer
from codecfake_hf.metrics.trials import check_trials
from codecfake_hf.models.aasist.pipeline_aasist import DEFAULT_PRIOR_SPOOF, calibrated_verdict

#: The key of ``config.json`` (and attribute of the model config) that holds the calibration.
CALIBRATION_KEY = "calibration"

#: Spoof prior the calibration is fitted at by default: 1/2, where the fit minimises Cllr.
DEFAULT_FIT_PRIOR_SPOOF = 0.5


class CalibrationError(CodecFakeError, ValueError):
    """Scores that cannot be calibrated, a calibration that is not valid, or one that exists already."""


@dataclass(frozen=True)
class ScoreCalibration:
    """An affine score-to-LLR map and an operating point, as stored in ``config.json``.

    Attributes:
        scale: a > 0 of ``llr = a * score + b`` (per unit of raw score).
        offset: b, in nats.
        threshold: the operating point on the calibrated LLR (nats): the EER threshold of the
            calibration trials; a clip with ``llr > threshold`` is called bona fide.
        prior_spoof: the spoof prior the fit was weighted to.
        bonafide_label: the label whose logit is the raw score.
        fitted_on: what the trials were (dataset, subset, split).
        n_bonafide, n_spoof: trials of each class in the fit.
    """

    scale: float
    offset: float
    threshold: float
    prior_spoof: float
    bonafide_label: str
    fitted_on: str
    n_bonafide: int
    n_spoof: int

    def llr(self, scores) -> np.ndarray:
        """Calibrated natural-log LLRs ``[N]`` (float64) of raw scores ``[N]``."""
        return self.scale * np.asarray(scores, dtype=np.float64) + self.offset

    def verdict(self, score: float, prior_spoof: float = DEFAULT_PRIOR_SPOOF) -> tuple[float, float, bool]:
        """``(llr, bona fide posterior at prior_spoof, is_bonafide)`` of one raw score, exactly as a
        saved folder's pipeline computes them."""
        return calibrated_verdict(score, self.to_dict(), prior_spoof)

    def to_dict(self) -> dict:
        """The ``config.json`` entry: the fields, and ``threshold_on: "llr"`` to say where the
        threshold lies."""
        return {**asdict(self), "threshold_on": "llr"}

    @classmethod
    def from_dict(cls, entry: Mapping, source: str = "config.json") -> ScoreCalibration:
        """Read the entry :meth:`to_dict` writes.

        Raises:
            CalibrationError: not that entry (a missing field, a wrong type, a scale not above 0).
        """
        fix = f"remove its {CALIBRATION_KEY!r} entry and rerun `codecfake calibrate`"
        numbers = ("scale", "offset", "threshold", "prior_spoof")
        try:
            values = {name: entry[name] for name in (*numbers, "bonafide_label", "fitted_on")}
            values.update(n_bonafide=int(entry["n_bonafide"]), n_spoof=int(entry["n_spoof"]))
        except (KeyError, TypeError, ValueError) as error:
            raise CalibrationError(
                f"{source}: not a calibration entry ({error!r} missing or bad); {fix}"
            ) from None
        valid = all(
            type(values[name]) in (int, float) and math.isfinite(values[name]) for name in numbers
        ) and values["scale"] > 0 and 0 < values["prior_spoof"] < 1 and entry.get("threshold_on") == "llr"  # fmt: skip
        if not valid:
            raise CalibrationError(f"{source}: its calibration has a non-finite or out-of-range value; {fix}")
        return cls(**values)

    @classmethod
    def from_config(cls, config) -> ScoreCalibration | None:
        """The calibration of a loaded model config (``model.config``), or None when it has none."""
        entry = getattr(config, CALIBRATION_KEY, None)
        if not entry:
            return None
        return cls.from_dict(entry, f"{getattr(config, 'name_or_path', '') or 'the model'}/config.json")


def fit_llr_map(
    scores, labels, prior_spoof: float = DEFAULT_FIT_PRIOR_SPOOF, max_iterations: int = 100
) -> tuple[float, float]:
    """``(scale, offset)`` of the LLR ``scale * score + offset`` by prior-weighted logistic regression
    (module docstring).

    Args:
        scores: ``[N]`` raw scores, higher = more bona fide.
        labels: ``[N]`` 1 = bona fide, 0 = spoof (both present).
        prior_spoof: spoof prior of the weighting, strictly between 0 and 1.

    Raises:
        MetricInputError: empty, non-finite, one class only, mismatched lengths.
        CalibrationError: every score is equal.
    """
    if not 0 < prior_spoof < 1:
        raise CalibrationError(f"prior_spoof={prior_spoof!r}: a prior must lie strictly between 0 and 1")
    scores, labels = check_trials(scores, labels, "fit_llr_map")
    mean, spread = scores.mean(), scores.std()
    if not spread > 0:
        raise CalibrationError(f"every score is {scores[0]:g}: a constant score carries nothing to calibrate")
    features = np.stack([(scores - mean) / spread, np.ones_like(scores)], axis=1)  # [N, 2]
    bona = labels == 1
    n_bona, n_spoof = int(bona.sum()), int((~bona).sum())
    targets = np.where(bona, (n_bona + 1) / (n_bona + 2), 1 / (n_spoof + 2))
    weights = np.where(bona, (1 - prior_spoof) / n_bona, prior_spoof / n_spoof)
    prior_log_odds = math.log((1 - prior_spoof) / prior_spoof)

    def loss(parameters: np.ndarray) -> float:
        log_odds = features @ parameters + prior_log_odds
        nats = targets * np.logaddexp(0, -log_odds) + (1 - targets) * np.logaddexp(0, log_odds)
        return float(weights @ nats)

    parameters = np.zeros(2)
    current = loss(parameters)
    for _ in range(max_iterations):
        posterior = 1 / (1 + np.exp(-(features @ parameters + prior_log_odds)))
        gradient = features.T @ (weights * (posterior - targets))
        hessian = (features * (weights * posterior * (1 - posterior))[:, None]).T @ features
        step = np.linalg.solve(hessian, gradient)
        length = 1.0
        while (candidate := loss(parameters - length * step)) > current and length > 1e-10:
            length /= 2
        parameters, previous, current = parameters - length * step, current, candidate
        if previous - current <= 1e-15 * max(1.0, abs(current)):
            break
    slope, intercept = parameters
    return float(slope / spread), float(intercept - slope * mean / spread)


def fit_calibration(
    scores, labels, bonafide_label: str, fitted_on: str, prior_spoof: float = DEFAULT_FIT_PRIOR_SPOOF
) -> ScoreCalibration:
    """Fit the LLR map (:func:`fit_llr_map`) and the EER operating point on labelled trials.

    Raises:
        MetricInputError, CalibrationError: trials that cannot be calibrated; the fitted scale is not
            positive (the scores rank spoof above bona fide: calibrating would invert the detector).
    """
    scores, labels = check_trials(scores, labels, "fit_calibration")
    scale, offset = fit_llr_map(scores, labels, prior_spoof)
    if not scale > 0:
        raise CalibrationError(
            f"{fitted_on}: the scores rank spoof trials above bona fide ones (fitted scale {scale:.3g}); "
            "a calibration would invert the detector: check the labels, or train it further"
        )
    threshold = compute_eer(scale * scores + offset, labels)[1]
    return ScoreCalibration(
        scale=scale,
        offset=offset,
        threshold=threshold,
        prior_spoof=float(prior_spoof),
        bonafide_label=bonafide_label,
        fitted_on=fitted_on,
        n_bonafide=int(labels.sum()),
        n_spoof=int((labels == 0).sum()),
    )


def _config_path(folder: str | os.PathLike) -> Path:
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise InputFileError(
            f"{path}: no such file; calibration writes into a local detector folder (save_pretrained): "
            "pass its path (for a Hub model: `hf download REPO --local-dir DIR` first)"
        )
    return path


def read_calibration(folder: str | os.PathLike) -> ScoreCalibration | None:
    """The calibration stored in ``folder/config.json``, or None."""
    path = _config_path(folder)
    entry = json.loads(path.read_text(encoding="utf-8")).get(CALIBRATION_KEY)
    return ScoreCalibration.from_dict(entry, str(path)) if entry else None


def check_writable(folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """``folder/config.json``, checked before any scoring: it exists and holds no calibration unless
    ``overwrite``.

    Raises:
        InputFileError: no ``config.json``; CalibrationError: a calibration exists and not ``overwrite``.
    """
    path = _config_path(folder)
    if not overwrite and json.loads(path.read_text(encoding="utf-8")).get(CALIBRATION_KEY):
        raise CalibrationError(
            f"{path}: holds a calibration already; nothing was changed: pass --overwrite to replace it"
        )
    return path


def write_calibration(
    folder: str | os.PathLike, calibration: ScoreCalibration | None, overwrite: bool = False
) -> Path:
    """Store ``calibration`` in ``folder/config.json`` (None: remove the entry), atomically; every other
    key is kept as it was.

    Raises:
        InputFileError: no ``config.json``; CalibrationError: a calibration exists and not ``overwrite``.
    """
    path = check_writable(folder, overwrite or calibration is None)
    config = json.loads(path.read_text(encoding="utf-8"))
    if calibration is None:
        config.pop(CALIBRATION_KEY, None)
    else:
        config[CALIBRATION_KEY] = calibration.to_dict()
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class CalibrationReport:
    """A fitted calibration and the ASVspoof 5 metrics of its trials before (raw scores) and after;
    ``n_skipped``: trials left out because their audio could not be read."""

    calibration: ScoreCalibration
    before: dict[str, float]
    after: dict[str, float]
    n_skipped: int = 0


def calibrate_scores(
    scores, labels, bonafide_label: str, fitted_on: str, prior_spoof: float = DEFAULT_FIT_PRIOR_SPOOF,
    **costs: float,
) -> CalibrationReport:  # fmt: skip
    """:func:`fit_calibration` and the metrics (:func:`compute_asvspoof5_metrics` with ``costs``) of
    the raw scores and of their calibrated LLRs."""
    calibration = fit_calibration(scores, labels, bonafide_label, fitted_on, prior_spoof)
    before = compute_asvspoof5_metrics(scores, labels, **costs)
    after = compute_asvspoof5_metrics(calibration.llr(scores), labels, **costs)
    return CalibrationReport(calibration, before, after)
