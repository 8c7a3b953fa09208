"""Training ends by calibrating ``best/`` on the validation split (``--no-calibrate`` skips it) and drops a
calibration inherited from a pretrained start."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codecfake_hf.data.loading import load_labelled_dataset
from codecfake_hf.detection.calibration import (
    CalibrationError,
    ScoreCalibration,
    fit_calibration,
    read_calibration,
    write_calibration,
)
from codecfake_hf.evaluation.scoring import Scorer
from codecfake_hf.training.calibration import calibrate_after_training

pytestmark = pytest.mark.usefixtures("one_thread")


def test_training_stores_the_calibration_of_its_validation_scores(tiny_run):
    best = tiny_run.root / "reference" / "best"
    scores = Scorer(best, device="cpu").score_dataset(load_labelled_dataset(tiny_run.root / "data"))
    fitted_on = f"{tiny_run.root / 'data'} default validation"
    try:
        expected = fit_calibration(scores["score"], scores["label"], "bonafide", fitted_on)
    except CalibrationError:  # the tiny model ranks this noise the wrong way round: nothing stored
        expected = None
    stored = read_calibration(best)
    if expected is None:
        assert stored is None
    else:
        assert stored.fitted_on.endswith("validation") and stored.n_bonafide == stored.n_spoof == 4
        assert (stored.scale, stored.offset, stored.threshold) == pytest.approx(
            (expected.scale, expected.offset, expected.threshold),
            rel=1e-3,  # batch rounding
        )


def test_an_inherited_calibration_is_removed_when_none_is_fitted(tiny_aasist_dir, tmp_path):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "best"))
    write_calibration(folder, ScoreCalibration(1.0, 0.0, 0.0, 0.5, "bonafide", "other weights", 1, 1))
    calibrate_after_training(folder, None, "unused", enabled=False)
    assert read_calibration(folder) is None
