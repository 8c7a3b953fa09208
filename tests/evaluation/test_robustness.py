"""Compression-robustness sets: conditions, report and the `codecfake robustness` command."""

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from codecfake_cli.main import main
from codecfake_hf.audio.audio_io import resample, write_audio
from codecfake_hf.detection.detector import Detector
from codecfake_hf.evaluation import robustness
from codecfake_hf.evaluation.robustness import (
    RobustnessError,
    apply_condition,
    make_conditions,
    robustness_report,
)

RATE = 16000


def _load_example():
    """The robustness example of docs/evaluation.md: its synthetic voices and toy detector are the fixtures
    here, so the example keeps working."""
    path = Path(__file__).resolve().parents[2] / "examples" / "compression_robustness_demo.py"
    spec = importlib.util.spec_from_file_location("compression_robustness_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_EXAMPLE = _load_example()
_voice = functools.partial(_EXAMPLE.synthetic_voice, seconds=0.5)
_high_band_score = _EXAMPLE.high_band_detector


@pytest.fixture(scope="module")
def label_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    for index in range(4):
        (root / "bonafide" / "spk1").mkdir(parents=True, exist_ok=True)
        (root / "spoof").mkdir(exist_ok=True)
        write_audio(root / "bonafide" / "spk1" / f"real_{index}.wav", _voice(index), RATE)
        write_audio(root / "spoof" / f"fake_{index}.flac", _voice(10 + index, lowpass_hz=5000), RATE)
    return root


@pytest.mark.parametrize("name", list(robustness.CONDITIONS))
def test_every_condition_keeps_length_rate_and_alignment(name):
    x = _voice(0)
    y = apply_condition(x, RATE, name)
    assert y.dtype == np.float32 and y.shape == x.shape
    snr = 10 * np.log10((x**2).sum() / max(((x - y) ** 2).sum(), 1e-20))
    assert snr > 5  # a decoder delay or a wrong rate would destroy the waveform match
    if name == "clean":
        np.testing.assert_array_equal(x, y)
    else:
        assert snr < 60  # something lossy happened


def test_narrowband_conditions_remove_the_band_above_4khz():
    x = _voice(1)
    for name in ("tel-8k", "g711-8k"):
        power = np.abs(np.fft.rfft(apply_condition(x, RATE, name))) ** 2
        freqs = np.fft.rfftfreq(x.size, 1 / RATE)
        assert power[freqs > 4100].sum() / power.sum() < 1e-4
    tel, g711 = apply_condition(x, RATE, "tel-8k"), apply_condition(x, RATE, "g711-8k")
    assert np.abs(tel - g711).max() > 1e-4  # mu-law quantisation adds its own error


def test_low_bitrate_mp3_is_really_low_bitrate_at_48khz():
    x = resample(_voice(2, seconds=2.0), RATE, 48000)
    y16, y64 = apply_condition(x, 48000, "mp3-16"), apply_condition(x, 48000, "mp3-64")
    error16, error64 = ((x - y16) ** 2).sum(), ((x - y64) ** 2).sum()
    assert error16 > 2 * error64


def test_make_conditions_mirrors_the_input_folder(label_folder, tmp_path):
    out = make_conditions(label_folder, tmp_path / "out", conditions="mp3-32,g711-8k", progress=False)
    manifest = json.loads((out / "conditions.json").read_text())
    assert [c["name"] for c in manifest["conditions"]] == ["clean", "mp3-32", "g711-8k"]
    for condition in ("clean", "mp3-32", "g711-8k"):
        files = sorted(p.relative_to(out / condition).as_posix() for p in (out / condition).rglob("*.flac"))
        assert files == [f"bonafide/spk1/real_{i}.flac" for i in range(4)] + [
            f"spoof/fake_{i}.flac" for i in range(4)
        ]
        info = sf.info(out / condition / "bonafide" / "spk1" / "real_0.flac")
        assert (info.samplerate, info.frames, info.subtype) == (RATE, 8000, "PCM_16")


def test_make_conditions_from_arrays(tmp_path):
    arrays = {"bonafide": [_voice(0)], "spoof": [_voice(1, lowpass_hz=5000)]}
    out = make_conditions(arrays, tmp_path, conditions=["tel-8k"], sampling_rate=RATE, progress=False)
    assert (out / "tel-8k" / "bonafide" / "00000.flac").is_file() and (
        out / "clean" / "spoof" / "00000.flac"
    ).is_file()
    with pytest.raises(RobustnessError, match="sampling_rate"):
        make_conditions(arrays, tmp_path, conditions=["tel-8k"])
    with pytest.raises(RobustnessError, match="'bonafide' and 'spoof'"):
        make_conditions({"bonafide": arrays["bonafide"]}, tmp_path, sampling_rate=RATE)


def test_report_shows_the_telephone_band_breaking_a_high_band_detector(label_folder, tmp_path):
    out = make_conditions(label_folder, tmp_path, conditions=["tel-8k", "opus-64"], progress=False)
    report = robustness_report(_high_band_score, out, sampling_rate=RATE, batch_size=3, progress=False)
    assert list(report.columns) == [
        "condition", "eer", "bonafide_frr_at_clean", "spoof_far_at_clean", "n_bonafide", "n_spoof"
    ]  # fmt: skip
    report = report.set_index("condition")
    assert list(report.index) == ["clean", "tel-8k", "opus-64"]
    assert (report["n_bonafide"] == 4).all() and (report["n_spoof"] == 4).all()
    assert report.loc["clean", "eer"] == 0.0 and report.loc["clean", "bonafide_frr_at_clean"] == 0.0
    assert report.loc["tel-8k", "bonafide_frr_at_clean"] == 1.0  # every real voice now looks fake
    assert report.loc["tel-8k", "spoof_far_at_clean"] == 0.0
    assert report["eer"].between(0, 1).all()


def test_user_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(
        RobustnessError, match="unsupported condition\\(s\\) mp3-128; supported: clean, mp3-16"
    ):
        robustness.get_conditions("mp3-128")
    with pytest.raises(RobustnessError, match="no conditions.json"):
        robustness_report(_high_band_score, tmp_path)
    clash = tmp_path / "clash"
    for name in ("bonafide/a.wav", "bonafide/a.flac", "spoof/b.wav"):
        (clash / name).parent.mkdir(parents=True, exist_ok=True)
        write_audio(clash / name, _voice(0), RATE)
    with pytest.raises(RobustnessError, match="differing only in suffix"):
        make_conditions(clash, tmp_path / "out", conditions="tel-8k", progress=False)
    monkeypatch.setattr(robustness.shutil, "which", lambda name: None)
    with pytest.raises(RobustnessError, match="apt-get install -y ffmpeg"):
        apply_condition(_voice(0), RATE, "opus-32")
    assert apply_condition(_voice(0), RATE, "tel-8k").size == 8000  # no ffmpeg needed


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory):
    """A tiny random audio-classification model saved like a detector (spoof=0, bonafide=1)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        conv_dim=(8, 8),
        conv_kernel=(10, 3),
        conv_stride=(5, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        classifier_proj_size=8,
        id2label={0: "spoof", 1: "bonafide"},
        label2id={"spoof": 0, "bonafide": 1},
    )
    path = tmp_path_factory.mktemp("detector")
    Wav2Vec2ForSequenceClassification(config).save_pretrained(path)
    Wav2Vec2FeatureExtractor(sampling_rate=RATE).save_pretrained(path)
    return path


def test_detector_scores_the_bonafide_logit_of_any_audio_classifier(tiny_detector):
    scorer = Detector.from_pretrained(tiny_detector)
    assert scorer.sampling_rate == RATE and scorer.bonafide_index == 1
    waveforms = [_voice(0), _voice(1, seconds=0.3)]
    scores = scorer(waveforms, RATE)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    np.testing.assert_allclose(scorer(waveforms[1:], RATE), scores[1:], rtol=1e-5)  # per utterance
    at_48k = scorer([resample(waveforms[0], RATE, 48000)], 48000)
    assert abs(at_48k[0] - scores[0]) < 0.05 * (abs(scores[0]) + 1)  # resampled to the model rate first
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        Detector.from_pretrained(tiny_detector / "missing")


@pytest.fixture(scope="module")
def tiny_aasist(tiny_aasist_dir):
    return tiny_aasist_dir


def test_aasist_scores_match_its_own_logits_in_any_batch_size(tiny_aasist):
    import torch

    from codecfake_hf.models.aasist import AasistFeatureExtractor, AasistForAudioClassification

    waveforms = [_voice(0), _voice(1, seconds=0.3), _voice(2, seconds=0.7)]
    batched = Detector.from_pretrained(tiny_aasist, batch_size=3)(waveforms, RATE)
    single = Detector.from_pretrained(tiny_aasist, batch_size=1)(waveforms, RATE)
    model = AasistForAudioClassification.from_pretrained(tiny_aasist).eval()
    inputs = AasistFeatureExtractor.from_pretrained(tiny_aasist)(
        waveforms, sampling_rate=RATE, return_tensors="pt"
    )
    with torch.inference_mode():
        expected = model(**inputs).logits[:, 1].numpy()
    np.testing.assert_allclose(batched, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(single, expected, rtol=1e-5, atol=1e-6)


def test_cli_writes_conditions_and_report(label_folder, tiny_aasist, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["robustness", str(label_folder), "--model", str(tiny_aasist), "--out", str(out)]
    assert main([*argv, "--conditions", "tel-8k"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("| condition | eer | bonafide_frr_at_clean |")
    assert "| tel-8k |" in printed and (out / "robustness.csv").is_file()
    report = pd.read_csv(out / "robustness.csv")
    assert list(report["condition"]) == ["clean", "tel-8k"] and list(report["n_spoof"]) == [4, 4]
    assert main([*argv, "--conditions", "aac-96"]) == 2
    assert "unsupported condition(s) aac-96" in capsys.readouterr().err
