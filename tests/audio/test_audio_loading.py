"""What ``load_audio`` (and so ``detect``, the builder and evaluation) says about unusual files: formats
only FFmpeg reads, directories, audio too short to resample, truncated WAV files, NaN."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from codecfake_cli.main import main
from codecfake_hf.audio import audio_io
from codecfake_hf.data.loading import load_waveform
from codecfake_hf.detection.detector import Detector


def _tone(seconds: float, rate: int) -> np.ndarray:
    time = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * time) * (1 + np.sin(2 * np.pi * 3 * time)) / 2).astype(np.float32)


def _ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *arguments], check=True)


def test_m4a_is_decoded_through_ffmpeg(tmp_path, tiny_aasist_dir, capsys):
    source = tmp_path / "tone.wav"
    sf.write(source, np.stack([_tone(1.5, 44100)] * 2, axis=1), 44100)
    m4a = tmp_path / "tone.m4a"
    _ffmpeg("-i", str(source), "-c:a", "aac", "-b:a", "128k", str(m4a))
    with pytest.raises(sf.LibsndfileError):
        sf.info(m4a)  # libsndfile cannot read it
    waveform, rate = audio_io.load_audio(m4a, sampling_rate=16000)
    reference, _ = audio_io.load_audio(source, sampling_rate=16000)
    assert rate == 16000 and abs(waveform.shape[0] - reference.shape[0]) < 160
    length = min(waveform.shape[0], reference.shape[0])
    assert np.corrcoef(waveform[:length], reference[:length])[0, 1] > 0.99  # the same tone, lossy
    embedded = load_waveform(
        {"bytes": m4a.read_bytes(), "path": None}, 16000, "tone.m4a"
    )  # a dataset's bytes
    assert np.array_equal(embedded, waveform)
    assert main(["detect", str(m4a), "--model", str(tiny_aasist_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["label"] in ("spoof", "bonafide")


def test_undecodable_file_is_still_called_corrupt(tmp_path):
    bad = tmp_path / "bad.m4a"
    bad.write_bytes(b"\x00\x00\x00\x20ftypM4A not really" * 8)
    with pytest.raises(audio_io.AudioError, match=r"bad\.m4a: cannot decode audio .*corrupt or not audio"):
        audio_io.load_audio(bad)


def test_a_directory_is_called_a_directory(tmp_path, tiny_aasist_dir, capsys):
    with pytest.raises(audio_io.AudioError, match="is a directory, not an audio file"):
        audio_io.load_audio(tmp_path)
    assert main(["detect", str(tmp_path), "--model", str(tiny_aasist_dir)]) == 2
    assert f"{tmp_path}: is a directory" in capsys.readouterr().err


def test_too_short_to_resample_says_so_with_the_numbers(tmp_path, tiny_aasist_dir, capsys):
    path = tmp_path / "two.wav"
    sf.write(path, np.array([0.1, -0.1], np.float32), 96000)
    message = "too short: 2 sample(s) at 96000 Hz (0.0208 ms) give no sample at 16000 Hz"
    with pytest.raises(audio_io.AudioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        audio_io.load_audio(path, sampling_rate=16000)
    for mode in ("first", "full"):
        assert main(["detect", str(path), "--model", str(tiny_aasist_dir), "--mode", mode]) == 2
        assert message in capsys.readouterr().err
    detector = Detector.from_pretrained(tiny_aasist_dir, device="cpu")
    with pytest.raises(audio_io.AudioError, match="<array 0>: too short: 2 sample"):
        detector.score([np.array([0.1, -0.1], np.float32)], 96000)


def test_truncated_wav_is_reported_not_scored(tmp_path, tiny_aasist_dir, capsys):
    whole = tmp_path / "whole.wav"
    sf.write(whole, _tone(1.0, 16000), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(whole.read_bytes()[:-12_000])  # 6,000 of 16,000 samples missing
    assert sf.info(truncated).frames == 10_000  # libsndfile silently reads what is there
    with pytest.raises(audio_io.AudioError) as info:
        audio_io.load_audio(truncated)
    message = str(info.value)
    assert message.startswith(f"{truncated}: truncated WAV") and "32,000 bytes" in message
    assert "20,000 (0.62 of 1.00 s)" in message and "ffmpeg -i truncated.wav repaired.wav" in message
    assert main(["detect", str(whole), str(truncated), "--model", str(tiny_aasist_dir), "--json"]) == 2
    captured = capsys.readouterr()
    scored, failed = json.loads(captured.out)
    assert scored["score"] is not None and failed["score"] is None and "truncated WAV" in captured.err

    # the suggested repair keeps exactly the samples that are there
    repaired = tmp_path / "repaired.wav"
    _ffmpeg("-i", str(truncated), str(repaired))
    assert np.array_equal(audio_io.load_audio(repaired)[0], sf.read(truncated, dtype="float32")[0])


def test_wav_of_unknown_length_is_not_called_truncated(tmp_path):
    """Streamed WAV output (FFmpeg to a pipe) writes 0xFFFFFFFF as the data size: not a truncation."""
    source = tmp_path / "source.wav"
    sf.write(source, _tone(0.5, 16000), 16000, subtype="PCM_16")
    streamed = tmp_path / "streamed.wav"
    with streamed.open("wb") as sink:
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-f", "wav", "-"],
            stdout=sink,
            check=True,
        )
    assert streamed.read_bytes()[4:8] == b"\xff\xff\xff\xff"
    assert np.array_equal(audio_io.load_audio(streamed)[0], audio_io.load_audio(source)[0])


def test_nan_names_the_file_and_the_time(tmp_path):
    waveform = np.zeros(48000, np.float32)
    waveform[36000] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, waveform, 48000, subtype="FLOAT")
    with pytest.raises(
        audio_io.AudioError, match=r"nan\.wav: the audio has NaN/inf samples \(the first at 0\.750 s\)"
    ):
        audio_io.load_audio(path)


def test_blocks_concatenate_to_the_whole_file(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.1 * rng.standard_normal((70_001, 2))).astype(np.float32)
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, 22050)
    decoded = sf.read(path, dtype="float32")[0].mean(axis=1)
    blocks = list(audio_io.AudioFile(path).blocks(block_frames=4096))
    assert max(block.shape[0] for block in blocks) == 4096
    assert np.array_equal(np.concatenate(blocks), decoded)
    assert np.array_equal(audio_io.load_audio(path)[0], decoded)
