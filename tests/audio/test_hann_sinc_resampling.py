"""torchaudio's default resampler, written here (``codecfake_hf.audio.hann_sinc_resampling``), against golden
vectors made by torchaudio 2.9.1 (``tests/fixtures/README.md``, ``resampling/``): the same lengths, the
same values as torchaudio's float64 evaluation to float32 rounding, and within one 16-bit step of the
float32 calls the CodecFake release's loader made."""

from __future__ import annotations

import json

import numpy as np
import pytest

from codecfake_hf.audio.audio_io import AudioError, resample
from codecfake_hf.audio.hann_sinc_resampling import hann_sinc_output_length, hann_sinc_resample

TARGET = 16000


@pytest.fixture(scope="module")
def golden(fixtures_dir) -> dict[str, np.ndarray]:
    with np.load(fixtures_dir / "resampling" / "torchaudio_hann_sinc.npz") as archive:
        return {key: archive[key] for key in archive.files}


def _cases(golden: dict[str, np.ndarray]) -> list[tuple[str, int]]:
    rates = json.loads(str(golden["meta_json"]))["rates"]
    names = [key.split("/")[1] for key in golden if key.startswith("input/")]
    return [(name, rate) for name in names for rate in rates]


def test_the_golden_file_covers_the_release_rates_and_odd_lengths(golden):
    cases = _cases(golden)
    assert {rate for _, rate in cases} == {24000, 44100, 48000, 22050, 8000, 16000}
    assert {golden[f"input/{name}"].shape[0] for name, _ in cases} == {1201, 1999, 257, 5}


def test_matches_torchaudio_in_float64_to_float32_rounding(golden):
    """Weights and convolution evaluated in float64 by torchaudio: the algorithm itself."""
    worst = 0.0
    for name, rate in _cases(golden):
        ours = hann_sinc_resample(golden[f"input/{name}"], rate, TARGET)
        reference = golden[f"float64/{name}/{rate}"]
        assert ours.dtype == np.float32 and ours.shape == reference.shape, (name, rate)
        worst = max(worst, float(np.abs(ours - reference).max()))
    assert worst <= 5e-7  # 1.8e-7 measured: float32 rounding of signals up to about 1


def test_is_within_one_16_bit_step_of_the_release_s_float32_calls(golden):
    """``transforms.Resample`` (24, 44.1 kHz) and ``functional.resample`` (others) on float32 input, as
    the release's loader called them: torchaudio then rounds the kernel's time grid to float32, which
    moves its output by up to 2.3e-5 at 22.05 kHz (measured; 0 at 24 kHz, 2.4e-7 at 48 and 8 kHz)."""
    for name, rate in _cases(golden):
        ours = hann_sinc_resample(golden[f"input/{name}"], rate, TARGET)
        np.testing.assert_allclose(
            ours, golden[f"output/{name}/{rate}"], rtol=0, atol=3e-5, err_msg=f"{name} {rate}"
        )
        if rate in (48000, 8000):
            np.testing.assert_allclose(ours, golden[f"output/{name}/{rate}"], rtol=0, atol=5e-7)


@pytest.mark.parametrize(("length", "rate", "expected"), [(5, 44100, 2), (1201, 24000, 801), (1, 8000, 2)])
def test_output_length_is_rounded_up(length, rate, expected):
    assert hann_sinc_output_length(length, rate, TARGET) == expected
    assert hann_sinc_resample(np.ones(length, np.float32), rate, TARGET).shape == (expected,)


def test_channels_are_resampled_independently_and_equal_rates_copy():
    rng = np.random.default_rng(0)
    stereo = rng.standard_normal((3001, 2)).astype(np.float32)
    both = hann_sinc_resample(stereo, 44100, TARGET)
    assert both.shape == (hann_sinc_output_length(3001, 44100, TARGET), 2)
    for channel in range(2):
        mono = hann_sinc_resample(stereo[:, channel], 44100, TARGET)
        np.testing.assert_allclose(both[:, channel], mono, rtol=0, atol=1e-6)  # summation order only
    same = hann_sinc_resample(stereo[:, 0], TARGET, TARGET)
    assert np.array_equal(same, stereo[:, 0]) and same is not stereo[:, 0]


def test_the_project_resampler_dispatches_and_refuses_unknown_names(golden):
    clip = golden["input/chirp"]
    np.testing.assert_array_equal(
        resample(clip, 44100, TARGET, "torchaudio"), hann_sinc_resample(clip, 44100, TARGET)
    )
    assert not np.array_equal(resample(clip, 44100, TARGET), resample(clip, 44100, TARGET, "torchaudio"))
    with pytest.raises(ValueError, match="unknown resampler 'sox'; choose one of soxr, torchaudio"):
        resample(clip, 44100, TARGET, "sox")
    with pytest.raises(AudioError, match="invalid sample rates"):
        resample(clip, 0, TARGET, "torchaudio")


@pytest.mark.parametrize(
    ("rates", "options"), [((44100.5, TARGET), {}), ((44100, TARGET), {"rolloff": 0.0}), ((44100, -1), {})]
)
def test_bad_rates_and_parameters_are_refused(rates, options):
    with pytest.raises(ValueError):
        hann_sinc_resample(np.ones(10, np.float32), *rates, **options)
