"""RawBoost: each algorithm changes the signal as the paper describes, keeps its length and is
reproducible from a generator; the combinations run their stages in the published order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import signal

from codecfake_hf.augmentation import RAWBOOST_ALGORITHMS, RawBoostConfig, rawboost, rawboost_transform
from codecfake_hf.augmentation.rawboost import (
    convolutive_noise,
    impulsive_noise,
    random_notch_filter,
    stationary_noise,
)

RATE = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """2 s of a harmonic tone with a noise floor, peak 0.5 (float32)."""
    rng = np.random.default_rng(0)
    t = np.arange(2 * RATE) / RATE
    tone = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) + 0.05 * rng.standard_normal(t.size)
    return (0.5 * tone / np.abs(tone).max()).astype(np.float32)


@pytest.mark.parametrize("algorithm", sorted(RAWBOOST_ALGORITHMS))
def test_every_mode_keeps_length_and_is_reproducible(speech, algorithm):
    config = RawBoostConfig(algorithm=algorithm)
    first = rawboost(speech, np.random.default_rng(7), config, RATE)
    again = rawboost(speech, np.random.default_rng(7), config, RATE)
    other = rawboost(speech, np.random.default_rng(8), config, RATE)
    assert first.shape == speech.shape and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    if algorithm == 0:
        np.testing.assert_array_equal(first, speech)
    else:
        assert not np.allclose(first, speech, atol=1e-3)
        assert not np.array_equal(first, other)


def test_notch_filter_stops_its_band_and_has_the_drawn_peak_gain():
    config = RawBoostConfig(
        num_bands=1,
        min_center_hz=3000,
        max_center_hz=3000,
        min_bandwidth_hz=800,
        max_bandwidth_hz=800,
        min_taps=61,
        max_taps=61,
    )
    taps = random_notch_filter(np.random.default_rng(0), config, (-6.0, -6.0), RATE)
    assert taps.shape[0] == 61 and np.allclose(taps, taps[::-1])  # odd, linear phase
    freqs, response = signal.freqz(taps, worN=512, fs=RATE)
    magnitude = np.abs(response)
    assert magnitude.max() == pytest.approx(10 ** (-6 / 20), rel=1e-9)
    assert magnitude[np.argmin(np.abs(freqs - 3000))] < 0.05 * magnitude.max()
    assert magnitude[0] > 0.9 * magnitude.max()


def test_cascade_lengths_follow_the_published_ranges():
    rng = np.random.default_rng(1)
    lengths = [random_notch_filter(rng, RawBoostConfig(), (0, 0), RATE).shape[0] for _ in range(50)]
    assert all(length % 2 == 1 and 51 <= length <= 491 for length in lengths)


def test_convolutive_noise_is_zero_mean_within_full_scale_and_nonlinear(speech):
    out = convolutive_noise(speech, np.random.default_rng(2), RawBoostConfig(), RATE)
    assert abs(out.mean()) < 1e-6 and np.abs(out).max() <= 1 + 1e-6
    linear_only = convolutive_noise(speech, np.random.default_rng(2), RawBoostConfig(max_power=1), RATE)
    assert not np.allclose(out, linear_only, atol=1e-4)  # the powers 2..5 add something


def test_impulsive_noise_touches_at_most_p_percent_within_the_gain(speech):
    config = RawBoostConfig()
    speech = 0.6 * speech  # peak 0.3: even a factor 1 + g_sd = 3 stays below 1, so nothing is rescaled
    for seed in range(20):
        out = impulsive_noise(speech, np.random.default_rng(seed), config)
        changed = out != speech
        assert changed.mean() <= config.max_impulse_percent / 100
        ratio = out[changed] / speech[changed]
        assert np.all(ratio >= 1 - config.impulse_gain - 1e-5) and np.all(
            ratio <= 1 + config.impulse_gain + 1e-5
        )
    assert changed.any()


def test_impulsive_noise_brings_the_peak_back_to_one():
    loud = np.full(1000, 0.9, np.float32)
    out = impulsive_noise(loud, np.random.default_rng(3), RawBoostConfig(max_impulse_percent=100))
    assert np.abs(out).max() == pytest.approx(1.0)


def test_stationary_noise_snr_lies_in_the_configured_range(speech):
    config = RawBoostConfig(min_snr_db=15, max_snr_db=25)
    snrs = []
    for seed in range(30):
        out = stationary_noise(speech, np.random.default_rng(seed), config, RATE)
        noise = out.astype(np.float64) - speech
        snrs.append(20 * np.log10(np.linalg.norm(speech) / np.linalg.norm(noise)))
    assert min(snrs) >= 15 - 1e-3 and max(snrs) <= 25 + 1e-3
    assert max(snrs) - min(snrs) > 3  # drawn, not fixed


def test_series_mode_runs_stages_in_order(speech):
    """Mode 5 equals LnL then ISD drawn from the same generator; mode 8 sums both of the original."""
    config = RawBoostConfig(algorithm=5)
    rng = np.random.default_rng(4)
    expected = impulsive_noise(convolutive_noise(speech, rng, config, RATE), rng, config)
    np.testing.assert_array_equal(rawboost(speech, np.random.default_rng(4), config, RATE), expected)
    rng = np.random.default_rng(5)
    summed = convolutive_noise(speech, rng, config, RATE) + impulsive_noise(speech, rng, config)
    summed = summed / max(1.0, np.abs(summed).max())
    np.testing.assert_allclose(
        rawboost(speech, np.random.default_rng(5), RawBoostConfig(algorithm=8), RATE), summed, atol=1e-6
    )


@pytest.mark.parametrize(
    "overrides", [{"algorithm": 9}, {"min_taps": 0}, {"max_impulse_percent": 150}, {"min_snr_db": 50}]
)
def test_config_rejects_bad_values(overrides):
    with pytest.raises(ValueError, match="RawBoostConfig"):
        RawBoostConfig(**overrides)


def test_published_defaults():
    config = RawBoostConfig()
    assert (config.num_bands, config.min_center_hz, config.max_center_hz) == (5, 20, 8000)
    assert (config.min_bandwidth_hz, config.max_bandwidth_hz, config.min_taps, config.max_taps) == (
        100,
        1000,
        10,
        100,
    )
    assert (config.min_gain_db, config.max_gain_db) == (0, 0)
    assert (config.min_nonlinear_offset_db, config.max_nonlinear_offset_db, config.max_power) == (5, 20, 5)
    assert (config.max_impulse_percent, config.impulse_gain, config.min_snr_db, config.max_snr_db) == (
        10,
        2,
        10,
        40,
    )


class _Clips(torch.utils.data.Dataset):
    def __init__(self, clip: np.ndarray, transform) -> None:
        self.clip, self.transform = clip, transform

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> np.ndarray:
        return self.transform({"input_values": [self.clip]})["input_values"][0]


def test_transform_gives_each_worker_its_own_draws(speech):
    """Forked DataLoader workers must not repeat each other's draws (the official code's did)."""
    transform = rawboost_transform(RawBoostConfig(algorithm=2), seed=0)
    loader = torch.utils.data.DataLoader(
        _Clips(speech[:4000], transform), batch_size=None, num_workers=2, multiprocessing_context="fork"
    )
    outputs = [np.asarray(item) for item in loader]  # items 0, 2 from worker 0; 1, 3 from worker 1
    assert not np.array_equal(outputs[0], outputs[1]) and not np.array_equal(outputs[2], outputs[3])
    batch = transform({"input_values": [speech, speech], "label": [0, 1]})
    assert batch["label"] == [0, 1] and not np.array_equal(batch["input_values"][0], batch["input_values"][1])
