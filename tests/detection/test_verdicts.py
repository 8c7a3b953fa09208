"""No confident verdict on nothing: silent and too short audio are refused, and a classifier whose
labels do not say which class is bona fide is never read by guessing an index."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecfake_cli.main import main
from codecfake_hf.detection.detector import BonafideLabelError, Detector

RATE = 16000


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("verdicts")
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 1, RATE).astype(np.float32)
    clips = {
        "zeros": np.zeros(RATE, np.float32),  # digital silence, 1 s
        "one": np.full(1, 0.3, np.float32),  # a 1-sample file
        "short": rng.normal(0, 0.1, RATE // 4).astype(np.float32),  # 0.25 s of noise
        "quiet": quiet * (10 ** (-70 / 20) / np.abs(quiet).max()),  # peak -70 dBFS
        "speech": rng.normal(0, 0.1, RATE).astype(np.float32),
    }
    for name, waveform in clips.items():
        sf.write(folder / f"{name}.wav", waveform, RATE, subtype="FLOAT")
    return {name: folder / f"{name}.wav" for name in clips}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zeros", "digital silence"),
        ("one", "lasts 0.000 s, too short to judge"),
        ("short", "too short to judge"),
        ("quiet", "silent \\(peak -70 dBFS\\)"),
    ],
)
def test_detect_refuses_silent_and_too_short_audio(tiny_aasist_dir, files, name, message, capsys):
    code = main(["detect", str(files[name]), str(files["speech"]), "--model", str(tiny_aasist_dir), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("error:") == 1 and f"{name}.wav" in captured.err
    assert re.search(message, captured.err)
    refused, scored = Detector.from_pretrained(tiny_aasist_dir).detect_files([files[name], files["speech"]])
    assert refused.error and refused.label is None and refused.score is None
    assert scored.error is None and scored.label in ("spoof", "bonafide")


def test_anonymous_labels_are_refused_until_named(anonymous_labels_dir, files, capsys):
    with pytest.raises(BonafideLabelError, match="LABEL_0.*bonafide-label"):
        Detector.from_pretrained(anonymous_labels_dir)
    assert main(["detect", str(files["speech"]), "--model", str(anonymous_labels_dir)]) == 2
    assert "do not name exactly one bona fide class" in capsys.readouterr().err
    waveform = sf.read(files["speech"], dtype="float32")[0]
    for label, index in (("LABEL_1", 1), ("LABEL_0", 0)):
        detector = Detector.from_pretrained(anonymous_labels_dir, bonafide_label=label)
        logits, _ = detector.logits([waveform], RATE)
        assert detector.bonafide_index == index
        assert detector.score([waveform], RATE)[0] == pytest.approx(float(logits[0, index]))
    assert (
        main(
            [
                "detect",
                str(files["speech"]),
                "--model",
                str(anonymous_labels_dir),
                "--bonafide-label",
                "LABEL_1",
            ]
        )
        == 0
    )
    with pytest.raises(BonafideLabelError, match="'real' is not one of its labels"):
        Detector.from_pretrained(anonymous_labels_dir, bonafide_label="real")
