import numpy as np
import pytest
import soundfile as sf

from codecfake_hf.audio import audio_io


def test_load_downmixes_and_resamples(tmp_path):
    stereo = np.stack([np.full(4800, 0.5), np.full(4800, -0.1)], axis=1).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 48000, subtype="FLOAT")
    wave, rate = audio_io.load_audio(path, sampling_rate=16000)
    assert rate == 16000 and wave.shape == (1600,) and wave.dtype == np.float32
    assert np.allclose(wave[200:-200], 0.2, atol=1e-3)


@pytest.mark.parametrize(
    "content, message",
    [(None, "no such audio file"), (b"not audio at all", "cannot decode"), (np.zeros(0), "empty")],
)
def test_load_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        sf.write(path, content, 16000)
    with pytest.raises(audio_io.AudioError, match=message) as info:
        audio_io.load_audio(path)
    assert "bad.wav" in str(info.value)


def test_nan_is_rejected():
    with pytest.raises(audio_io.AudioError, match="NaN"):
        audio_io.validate_waveform(np.array([0.0, np.nan], dtype=np.float32))


def test_encode_clamps_and_quantises_to_16_bit():
    wave = np.array([0.0, 1.5, -2.0, 0.25], dtype=np.float32)
    decoded, rate = audio_io.decode_audio_bytes(audio_io.encode_audio(wave, 24000))
    assert rate == 24000
    assert np.allclose(decoded, [0.0, 0.99, -0.99, 0.25], atol=1 / 32768)


def test_peak_normalize_and_silence():
    assert np.isclose(np.abs(audio_io.peak_normalize(np.array([0.1, -0.5]), 0.95)).max(), 0.95)
    assert not audio_io.peak_normalize(np.zeros(4)).any()


def test_the_names_the_card_templates_cite_exist():
    """Every ``codecfake_hf.…`` name in the card templates (a built dataset's card cites the resampler as
    ``codecfake_hf.audio.resample``) is importable, so a card never names a moved module."""
    import importlib
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "model_cards"
    cited = {
        name
        for path in templates.glob("*.md")
        for name in re.findall(r"codecfake_hf(?:\.\w+)+", path.read_text(encoding="utf-8"))
    }
    assert "codecfake_hf.audio.resample" in cited
    for name in sorted(cited):
        module, _, attribute = name.rpartition(".")
        try:
            found = importlib.import_module(name)
        except ModuleNotFoundError:
            found = getattr(importlib.import_module(module), attribute, None)
        assert found is not None, f"model_cards cite {name}, which does not exist"
    assert importlib.import_module("codecfake_hf.audio").resample is audio_io.resample


def test_read_audio_value_decodes_bytes_or_path_and_names_an_empty_value(tmp_path):
    """A datasets ``Audio(decode=False)`` value: its bytes win over its path, a path alone is read, and a
    value holding neither is refused naming it."""
    waveform = (0.1 * np.sin(np.arange(8000) / 7)).astype(np.float32)
    path = tmp_path / "clip.flac"
    sf.write(path, waveform, 16000)
    from_path, rate = audio_io.read_audio_value({"bytes": None, "path": str(path)})
    from_bytes, bytes_rate = audio_io.read_audio_value({"bytes": path.read_bytes(), "path": "elsewhere.flac"})
    assert rate == bytes_rate == 16000 and np.array_equal(from_path, from_bytes)
    assert np.abs(from_path - waveform).max() < 1e-4  # 16-bit FLAC
    with pytest.raises(audio_io.AudioError, match="row 7: the audio value has neither bytes nor a path"):
        audio_io.read_audio_value({"bytes": None, "path": None}, "row 7")
