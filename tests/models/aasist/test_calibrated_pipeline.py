"""A calibrated folder's own pipeline, run where ``import codecfake_hf`` fails, reports the calibrated LLR,
the bona fide posterior at the prior and the operating point's label, equal to ``codecfake detect``'s."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codecfake_hf.detection.calibration import ScoreCalibration, write_calibration
from codecfake_hf.detection.detector import Detector
from tests.models.aasist.test_remote_code import run_outside_the_checkout

PROBE = Path(__file__).with_name("calibrated_pipeline_probe.py")


def calibrated_folder(tiny_aasist_dir: Path, tmp_path: Path, write_labelled_folder) -> tuple[Path, list[str]]:
    """A copy of the tiny AASIST with a calibration whose threshold splits six noise clips 3 : 3."""
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    files = sorted(str(path) for path in write_labelled_folder(tmp_path / "set", 3, 12_000).rglob("*.wav"))
    scores = [result.score for result in Detector.from_pretrained(folder, device="cpu").detect_files(files)]
    ranked = sorted(scores)
    assert ranked[2] < ranked[3]
    threshold = 3.0 * (ranked[2] + ranked[3]) / 2 - 0.2  # between the scores, so both labels are decided
    write_calibration(folder, ScoreCalibration(3.0, -0.2, threshold, 0.5, "bonafide", "synthetic", 3, 3))
    return folder, files


def test_the_folder_pipeline_reports_the_calibrated_verdict(tiny_aasist_dir, tmp_path, write_labelled_folder):
    from transformers import pipeline

    folder, files = calibrated_folder(tiny_aasist_dir, tmp_path, write_labelled_folder)
    classifier = pipeline(
        "audio-classification", model=str(folder), trust_remote_code=True
    )  # the folder's code
    outputs = {
        path: {"default": classifier(path), "prior": classifier(path, prior_spoof=0.05)} for path in files
    }
    assert_equal_to_detect(folder, files, outputs)


@pytest.mark.slow
def test_the_folder_pipeline_reports_it_without_this_package(
    tiny_aasist_dir, tmp_path, write_labelled_folder
):
    folder, files = calibrated_folder(tiny_aasist_dir, tmp_path, write_labelled_folder)
    (tmp_path / "spec.json").write_text(
        json.dumps({"folder": str(folder), "files": files, "prior_spoof": 0.05})
    )
    assert_equal_to_detect(folder, files, run_outside_the_checkout(PROBE, [tmp_path / "spec.json"], tmp_path))


def assert_equal_to_detect(folder: Path, files: list[str], outputs: dict) -> None:
    """The pipeline's outputs (``{file: {"default" | "prior": [decided, other]}}``) equal ``detect``'s at
    the default prior (1/2) and at 0.05; both labels occur."""
    labels = set()
    for prior, key in ((0.5, "default"), (0.05, "prior")):
        for result in Detector.from_pretrained(folder, device="cpu", prior_spoof=prior).detect_files(files):
            decided, other = outputs[result.path][key]
            labels.add(decided["label"])
            assert decided["label"] == result.label  # the operating point's label comes first
            bonafide = decided if decided["label"] == "bonafide" else other
            assert bonafide["llr"] == pytest.approx(result.llr, abs=1e-6)
            assert bonafide["score"] == pytest.approx(result.probability, abs=1e-6)
            assert decided["score"] + other["score"] == pytest.approx(1.0) and other["llr"] == -decided["llr"]
    assert labels == {"bonafide", "spoof"}
