"""Score calibration (codecfake_hf.detection.calibration): the logistic-regression fit recovers a known affine
LLR, lowers actDCF and Cllr of miscalibrated scores, is stored in and read back from config.json, is
refused over an existing one without --overwrite, and changes ``codecfake detect``'s output only for a
calibrated folder (the LLR, the posterior at the prior and the operating point's label)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from codecfake_cli.main import main
from codecfake_hf.detection.calibration import (
    CalibrationError,
    ScoreCalibration,
    calibrate_scores,
    fit_calibration,
    fit_llr_map,
    read_calibration,
    write_calibration,
)
from codecfake_hf.detection.detector import Detector
from codecfake_hf.metrics import MetricInputError, compute_act_dcf, compute_cllr, compute_eer

pytestmark = pytest.mark.usefixtures("one_thread")


def gaussian_trials(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Scores of two equal-variance Gaussians (bona fide N(2, 1.5^2), spoof N(-1, 1.5^2)), whose true
    natural-log LLR is affine: ``a s + b`` with a = 3 / 1.5^2, b = -(2^2 - 1^2) / (2 * 1.5^2)."""
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(2, 1.5, n_per_class), rng.normal(-1, 1.5, n_per_class)])
    labels = np.concatenate([np.ones(n_per_class, int), np.zeros(n_per_class, int)])
    return scores, labels, 3 / 1.5**2, -3 / (2 * 1.5**2)


def test_the_fit_recovers_a_known_affine_llr():
    scores, labels, scale, offset = gaussian_trials(100_000)
    fitted_scale, fitted_offset = fit_llr_map(scores, labels)
    assert fitted_scale == pytest.approx(scale, rel=0.02) and fitted_offset == pytest.approx(offset, abs=0.02)
    # the class balance of the trials does not move it (each class is averaged over its own trials)
    unbalanced = np.r_[np.arange(100_000), np.arange(100_000, 200_000)[:10_000]]
    assert fit_llr_map(scores[unbalanced], labels[unbalanced]) == pytest.approx((scale, offset), abs=0.05)
    # a stretched, shifted copy of the scores gives the same LLRs; the fit is deterministic
    a, b = fit_llr_map(5 * scores + 3, labels)
    assert a * 5 == pytest.approx(fitted_scale, rel=1e-6) and a * 3 + b == pytest.approx(
        fitted_offset, abs=1e-6
    )
    assert fit_llr_map(scores, labels) == (fitted_scale, fitted_offset)


def test_calibration_lowers_act_dcf_and_cllr_of_miscalibrated_scores():
    scores, labels, scale, offset = gaussian_trials(2_000, seed=1)
    miscalibrated = 4 * (scale * scores + offset) + 6  # overconfident and shifted toward bona fide
    report = calibrate_scores(miscalibrated, labels, "bonafide", "synthetic")
    assert report.after["act_dcf"] < report.before["act_dcf"] - 0.05
    assert report.after["cllr"] < report.before["cllr"] - 0.5
    for rank_metric in ("eer", "min_dcf", "min_cllr"):  # a monotone map leaves these as they were
        assert report.after[rank_metric] == pytest.approx(report.before[rank_metric], abs=1e-12)
    llrs = report.calibration.llr(miscalibrated)
    assert report.after["act_dcf"] == compute_act_dcf(llrs, labels)
    assert report.after["cllr"] == pytest.approx(compute_cllr(scale * scores + offset, labels), abs=0.01)


def test_separable_scores_give_a_finite_scale_and_bad_trials_a_clear_error():
    scale, offset = fit_llr_map([0.0, 1.0, 2.0, 3.0], [0, 0, 1, 1])
    assert math.isfinite(scale) and scale > 0 and math.isfinite(offset)
    with pytest.raises(CalibrationError, match="constant score"):
        fit_llr_map([1.0, 1.0, 1.0], [0, 1, 1])
    with pytest.raises(MetricInputError):
        fit_llr_map([1.0, 2.0], [1, 1])
    with pytest.raises(CalibrationError, match="invert the detector"):
        fit_calibration([3.0, 2.0, 1.0, 0.0], [0, 0, 1, 1], "bonafide", "inverted")


def test_the_operating_point_is_the_eer_threshold_of_the_calibrated_llr():
    scores, labels, _, _ = gaussian_trials(500, seed=2)
    calibration = fit_calibration(scores, labels, "bonafide", "synthetic")
    llrs = calibration.llr(scores)
    bona_fide_rejected = np.mean(llrs[labels == 1] <= calibration.threshold)
    spoof_accepted = np.mean(llrs[labels == 0] > calibration.threshold)
    assert (bona_fide_rejected + spoof_accepted) / 2 == compute_eer(scores, labels)[0]
    assert abs(bona_fide_rejected - spoof_accepted) <= 1 / 500
    assert [calibration.verdict(score)[2] for score in scores] == list(llrs > calibration.threshold)


def stored(folder: Path, scale=2.0, offset=-0.5, threshold=0.25) -> ScoreCalibration:
    calibration = ScoreCalibration(scale, offset, threshold, 0.5, "bonafide", "synthetic", 3, 3)
    write_calibration(folder, calibration)
    return calibration


def test_the_calibration_round_trips_through_config_json(tiny_aasist_dir, tmp_path):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    before = json.loads((folder / "config.json").read_text())
    calibration = stored(folder)
    assert read_calibration(folder) == calibration
    after = json.loads((folder / "config.json").read_text())
    assert {key: value for key, value in after.items() if key != "calibration"} == before
    detector = Detector.from_pretrained(folder, device="cpu")  # through transformers' config loading
    assert detector.calibration == calibration
    assert not list(folder.glob("*.tmp"))


def test_a_stored_calibration_is_not_replaced_without_overwrite(
    tiny_aasist_dir, tmp_path, write_labelled_folder, capsys
):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    stored(folder)
    config = (folder / "config.json").read_bytes()
    with pytest.raises(CalibrationError, match="--overwrite"):
        write_calibration(folder, ScoreCalibration(1.0, 0.0, 0.0, 0.5, "bonafide", "other", 1, 1))
    dataset = write_labelled_folder(tmp_path / "set", per_class=2, samples=4000)
    code = main(["calibrate", "--model", str(folder), "--dataset", str(dataset)])
    assert code == 2 and "holds a calibration already" in capsys.readouterr().err
    assert (folder / "config.json").read_bytes() == config


def write_ranked_folder(root: Path, detector: Detector, seed: int = 0) -> Path:
    """Ten noise clips of different loudness, the six the detector scores highest (but one) as bonafide/
    and the rest as spoof/: a set on which its scores rank mostly right, with one error each way."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    clips = [rng.normal(0, level, 12_000).astype(np.float32) for level in np.linspace(0.02, 0.5, 10)]
    order = np.argsort(detector.score(clips, 16000))[::-1]
    bona_fide = [*order[:4], order[6]]
    for index, clip in enumerate(clips):
        label = "bonafide" if index in bona_fide else "spoof"
        (root / label).mkdir(parents=True, exist_ok=True)
        sf.write(root / label / f"{index}.wav", clip, 16000)
    return root


def test_calibrate_command_then_detect_reports_the_calibrated_verdict(tiny_aasist_dir, tmp_path, capsys):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    dataset = write_ranked_folder(tmp_path / "set", Detector.from_pretrained(folder, device="cpu"))
    assert main(["calibrate", "--model", str(folder), "--dataset", str(dataset)]) == 0
    printed = capsys.readouterr().out
    assert "act_dcf" in printed and "calibrated LLR" in printed
    calibration = read_calibration(folder)
    assert calibration.scale > 0 and calibration.n_bonafide == 5 and calibration.n_spoof == 5
    assert calibration.fitted_on == str(dataset)

    files = sorted(str(path) for path in dataset.rglob("*.wav"))
    assert main(["detect", *files, "--model", str(folder), "--json", "--prior-spoof", "0.05"]) == 0
    results = json.loads(capsys.readouterr().out)
    for result in results:
        llr, posterior, is_bonafide = calibration.verdict(result["score"], 0.05)
        assert result["llr"] == llr and result["probability"] == posterior and result["prior_spoof"] == 0.05
        assert result["label"] == ("bonafide" if is_bonafide else "spoof")
        assert posterior == pytest.approx(1 / (1 + math.exp(-(llr + math.log(19)))), rel=1e-12)
    assert main(["detect", files[0], "--model", str(folder)]) == 0
    assert "llr" in capsys.readouterr().out.splitlines()[0]

    assert main(["calibrate", "--model", str(folder), "--dataset", str(dataset), "--overwrite"]) == 0
    assert read_calibration(folder) == calibration  # deterministic


def test_an_uncalibrated_folder_keeps_its_output(tiny_aasist_dir, tmp_path, write_labelled_folder, capsys):
    dataset = write_labelled_folder(tmp_path / "set", per_class=1, samples=12_000)
    files = sorted(str(path) for path in dataset.rglob("*.wav"))
    assert main(["detect", *files, "--model", str(tiny_aasist_dir), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    detector = Detector.from_pretrained(tiny_aasist_dir, device="cpu")
    assert detector.calibration is None
    for result, path in zip(results, files):
        assert set(result) == {"path", "score", "probability", "label", "num_windows", "error"}
        logits, _ = detector.file_logits(path)
        assert result["probability"] == float(torch.softmax(logits, -1)[1])
        assert result["label"] == detector.id2label[int(logits.argmax())]
    assert main(["detect", files[0], "--model", str(tiny_aasist_dir)]) == 0
    assert capsys.readouterr().out.split()[:5] == ["file", "score", "p_bonafide", "label", "windows"]


def test_evaluate_reports_the_asvspoof5_metrics_of_the_calibrated_llrs(tiny_aasist_dir, tmp_path, capsys):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    dataset = write_ranked_folder(tmp_path / "set", Detector.from_pretrained(folder, device="cpu"))
    out = tmp_path / "eval"
    assert (
        main(["evaluate", "--model", str(folder), "--dataset", str(dataset), "--output-dir", str(out)]) == 0
    )
    import pandas as pd

    raw = pd.read_csv(out / "metrics.csv", index_col=0).loc["set"]
    assert not raw["calibrated"] and raw["p_spoof"] == 0.05 and raw["c_fa"] == 10
    calibration = stored(folder, scale=0.5, offset=0.1)
    out2 = tmp_path / "eval2"
    assert main(["evaluate", "--model", str(folder), "--dataset", str(dataset), "--output-dir", str(out2),
                 "--p-spoof", "0.5", "--c-fa", "1"]) == 0  # fmt: skip
    eer_columns = pd.read_csv(out / "eer.csv").columns
    assert list(pd.read_csv(out2 / "eer.csv").columns) == list(eer_columns)
    assert "min_dcf" not in eer_columns
    scores = pd.read_csv(out2 / "scores_set.csv")
    assert np.allclose(scores["llr"], calibration.llr(scores["score"]))
    calibrated = pd.read_csv(out2 / "metrics.csv", index_col=0).loc["set"]
    assert calibrated["calibrated"] and calibrated["p_spoof"] == 0.5
    labels = scores["label"].to_numpy()
    assert calibrated["act_dcf"] == pytest.approx(
        compute_act_dcf(scores["llr"], labels, p_spoof=0.5, c_fa=1.0)
    )
    assert calibrated["cllr"] == pytest.approx(compute_cllr(scores["llr"], labels))
    assert calibrated["eer"] == raw["eer"] and calibrated["min_cllr"] == pytest.approx(raw["min_cllr"])


def test_matrix_shows_the_metric_asked_for_and_writes_every_metric(tiny_aasist_dir, tmp_path, capsys):
    import pandas as pd

    dataset = write_ranked_folder(tmp_path / "set", Detector.from_pretrained(tiny_aasist_dir, device="cpu"))
    out = tmp_path / "matrix"
    common = ["--models", f"tiny={tiny_aasist_dir}", "--dataset", str(dataset), "--output-dir", str(out)]
    assert main(["matrix", *common, "--metric", "act_dcf", "--p-spoof", "0.5"]) == 0
    assert "act_dcf (fraction):" in capsys.readouterr().out
    long = pd.read_csv(out / "cross_test_metrics.csv", index_col=[0, 1])
    cell = long.loc[("tiny", "set")]
    scores = pd.read_csv(out / "scores" / "tiny" / "scores_set.csv")
    assert cell["act_dcf"] == pytest.approx(compute_act_dcf(scores["score"], scores["label"], p_spoof=0.5))
    assert cell["p_spoof"] == 0.5 and cell["c_fa"] == 10
    shown = pd.read_csv(out / "cross_test_act_dcf.csv", index_col=0)
    assert shown.loc["tiny", "set"] == pytest.approx(cell["act_dcf"], abs=1e-4)
    assert pd.read_csv(out / "cross_test_eer.csv", index_col=0).loc["tiny", "set"] == pytest.approx(
        100 * cell["eer"], abs=0.01
    )


# --- calibrate's user errors, as evaluate's (issue 22, item 14) -----------------------------------------


def test_calibrate_names_the_missing_spoof_folder(tiny_aasist_dir, tmp_path, write_labelled_folder, capsys):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    dataset = write_labelled_folder(tmp_path / "set", per_class=2, samples=4000)
    shutil.rmtree(dataset / "spoof")
    config = (folder / "config.json").read_bytes()
    for command in ("calibrate", "evaluate"):
        assert main([command, "--model", str(folder), "--dataset", str(dataset)]) == 2
        err = capsys.readouterr().err
        assert (
            f"codecfake {command}: error: {dataset}: has bonafide/ but no spoof/ folder, so no spoof trials"
            in err
        )
        assert "0 subsets" not in err
    assert (folder / "config.json").read_bytes() == config


@pytest.mark.parametrize(
    "damaged",
    [{"scale": "steep"}, {**ScoreCalibration(2.0, 0.0, 0.0, 0.5, "spoof", "x", 3, 3).to_dict()}],
    ids=["not a calibration", "fitted on the spoof logit"],
)
def test_calibrate_overwrite_replaces_a_damaged_calibration(tiny_aasist_dir, tmp_path, capsys, damaged):
    """A calibration that does not load (or that detect refuses) is replaced by --overwrite; without
    it, it is kept and the message says to pass --overwrite."""
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    dataset = write_ranked_folder(tmp_path / "set", Detector.from_pretrained(folder, device="cpu"))
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "calibration": damaged}))
    damaged_config = (folder / "config.json").read_bytes()
    assert main(["calibrate", "--model", str(folder), "--dataset", str(dataset)]) == 2
    assert "holds a calibration already; nothing was changed: pass --overwrite" in capsys.readouterr().err
    assert (folder / "config.json").read_bytes() == damaged_config
    assert main(["calibrate", "--model", str(folder), "--dataset", str(dataset), "--overwrite"]) == 0
    calibration = read_calibration(folder)
    assert calibration.bonafide_label == "bonafide" and calibration.n_bonafide == calibration.n_spoof == 5


def test_prior_spoof_on_an_uncalibrated_model_is_a_warning(
    tiny_aasist_dir, tmp_path, write_labelled_folder, capsys
):
    dataset = write_labelled_folder(tmp_path / "set", per_class=1, samples=12_000)
    clip = str(dataset / "bonafide" / "0.wav")
    assert main(["detect", clip, "--model", str(tiny_aasist_dir), "--json"]) == 0
    plain = capsys.readouterr()
    assert "warning" not in plain.err
    assert main(["detect", clip, "--model", str(tiny_aasist_dir), "--json", "--prior-spoof", "0.05"]) == 0
    warned = capsys.readouterr()
    assert warned.out == plain.out  # ignored, as it says
    (line,) = [line for line in warned.err.splitlines() if "warning" in line]
    assert line == (
        f"codecfake detect: warning: --prior-spoof 0.05 is ignored: {tiny_aasist_dir} holds no calibration, so "
        "p_bonafide is the softmax of its logits; calibrate it first (`codecfake calibrate --model ...`)"
    )
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    stored(folder)
    assert main(["detect", clip, "--model", str(folder), "--json", "--prior-spoof", "0.05"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_calibrate_leaves_out_unreadable_files_and_exits_2_as_evaluate(
    tiny_aasist_dir, tmp_path, capsys, caplog
):
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "model"))
    dataset = write_ranked_folder(tmp_path / "set", Detector.from_pretrained(folder, device="cpu"))
    (dataset / "bonafide" / "broken.wav").write_bytes(b"RIFF not really audio")
    assert main(["calibrate", "--model", str(folder), "--dataset", str(dataset)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "codecfake calibrate: error: 1 trial(s) with unreadable audio were skipped (listed above); the "
        "calibration leaves them out"
    )
    assert "broken.wav: cannot decode audio" in caplog.text
    calibration = read_calibration(folder)  # stored, from the readable trials
    assert calibration.n_bonafide == 5 and calibration.n_spoof == 5
