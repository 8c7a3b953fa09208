"""``codecfake resynthesize IN OUT --codec ID --tiny``: a 16-bit file at the codec's rate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecfake_hf.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def input_wav(tmp_path):
    path = tmp_path / "in.wav"
    t = np.arange(int(1.5 * 48000)) / 48000
    sf.write(path, np.stack([0.3 * np.sin(2 * np.pi * 200 * t)] * 2, axis=1), 48000)  # stereo, 48 kHz
    return path


@pytest.mark.parametrize(("subset", "rate"), [("E", 24000), ("D1", 16000), ("D3", 44100)])
def test_resynthesize_writes_16_bit_at_the_codec_rate(input_wav, tmp_path, capsys, subset, rate):
    output = tmp_path / "out.flac"
    assert main(["resynthesize", str(input_wav), str(output), "--codec", subset, "--tiny"]) == 0
    assert "wrote" in capsys.readouterr().out
    info = sf.info(output)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (rate, 1, "PCM_16", "FLAC")
    assert info.frames == round(1.5 * rate)
    audio, _ = sf.read(output, dtype="float32")
    assert np.abs(audio).max() <= 0.99 and np.abs(audio).max() > 0


def test_resynthesize_user_errors(input_wav, tmp_path, capsys):
    assert (
        main(["resynthesize", str(tmp_path / "missing.wav"), str(tmp_path / "o.flac"), "--codec", "E"]) == 2
    )
    assert "missing.wav" in capsys.readouterr().err
    assert (
        main(["resynthesize", str(input_wav), str(tmp_path / "no" / "o.flac"), "--codec", "E", "--tiny"]) == 2
    )
    assert "output folder does not exist" in capsys.readouterr().err
    assert main(["resynthesize", str(input_wav), str(tmp_path / "o.flac"), "--codec", "D1"]) == 2  # offline
    assert "--checkpoint-dir" in capsys.readouterr().err
