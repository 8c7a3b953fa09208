"""``codecfake convert-aasist`` and ``codecfake detect`` (library: codecfake_hf.detection.detector)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from codecfake_cli.main import main
from codecfake_hf.detection.detector import Detector

WINDOW = 8000


@pytest.fixture(scope="module")
def tiny_model_dir(tiny_aasist_dir) -> Path:
    return tiny_aasist_dir


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    rng = np.random.default_rng(0)
    short = folder / "short_16k.wav"  # 0.5 s, the shortest audio that gets a verdict
    sf.write(short, rng.normal(0, 0.1, 8000).astype(np.float32), 16000)
    long_stereo = folder / "long_44k_stereo.flac"
    sf.write(long_stereo, rng.normal(0, 0.1, (44100, 2)).astype(np.float32), 44100)  # 1 s = 2 windows
    corrupt = folder / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really audio")
    return {"short": short, "long": long_stereo, "corrupt": corrupt}


def test_detect_files_scores_and_full_mode(tiny_model_dir, audio_files):
    first, full = (
        Detector.from_pretrained(tiny_model_dir, mode=mode).detect_files([audio_files["long"]])[0]
        for mode in ("first", "full")
    )
    detector = Detector.from_pretrained(tiny_model_dir)
    model, extractor = detector.model, detector.feature_extractor
    assert first.num_windows == 1 and full.num_windows == 2
    assert first.score != full.score
    # the reported numbers are the bona fide logit, its softmax probability and the arg-max label
    waveform, _ = sf.read(audio_files["short"], dtype="float32")
    inputs = extractor(waveform, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0]
    result = detector.detect_files([audio_files["short"]])[0]
    assert result.score == pytest.approx(float(logits[1]), abs=1e-6)
    assert result.probability == pytest.approx(float(torch.softmax(logits, -1)[1]), abs=1e-6)
    assert result.label == ("bonafide" if logits[1] > logits[0] else "spoof")


def test_cli_detect_json_reports_good_files_and_fails_on_bad(tiny_model_dir, audio_files, capsys):
    paths = [str(audio_files[name]) for name in ("short", "corrupt", "long")]
    code = main(["detect", *paths, "--model", str(tiny_model_dir), "--json", "--mode", "full"])
    captured = capsys.readouterr()
    assert code == 2
    results = json.loads(captured.out)
    assert [r["path"] for r in results] == paths
    assert results[1]["error"] and results[1]["score"] is None
    assert all(isinstance(results[i]["score"], float) and 0 <= results[i]["probability"] <= 1 for i in (0, 2))
    assert results[2]["num_windows"] == 2
    assert "corrupt.wav" in captured.err


def test_cli_detect_table(tiny_model_dir, audio_files, capsys):
    code = main(["detect", str(audio_files["short"]), "--model", str(tiny_model_dir)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0].split() == ["file", "score", "p_bonafide", "label", "windows"]
    assert lines[1].startswith(str(audio_files["short"])) and lines[1].split()[3] in ("spoof", "bonafide")


def test_cli_detect_missing_model_is_a_clear_error(audio_files, tmp_path, capsys):
    assert main(["detect", str(audio_files["short"]), "--model", str(tmp_path / "nope")]) == 2
    assert f"{tmp_path / 'nope'}: no such model folder; check the path" in capsys.readouterr().err


def test_cli_convert_aasist(fixtures_dir, tmp_path, capsys):
    out = tmp_path / "aasist-l"
    assert (
        main(
            [
                "convert-aasist",
                str(fixtures_dir / "aasist" / "AASIST-L.pth"),
                str(out),
                "--variant",
                "AASIST-L",
            ]
        )
        == 0
    )
    assert "85,306 parameters" in capsys.readouterr().out
    assert (out / "model.safetensors").is_file() and (out / "preprocessor_config.json").is_file()
    # wrong variant and offline download: one-line errors, exit code 2
    assert (
        main(
            [
                "convert-aasist",
                str(fixtures_dir / "aasist" / "AASIST-L.pth"),
                str(tmp_path / "x"),
                "--variant",
                "AASIST",
            ]
        )
        == 2
    )
    assert main(["convert-aasist", "download", str(tmp_path / "y")]) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err
