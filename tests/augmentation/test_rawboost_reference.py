"""RawBoost against a reference written here from the official algorithm's description (TakHemlata/
SSL_Anti-spoofing ``RawBoost.py`` at ``4acaa61``), with the same random draws: band-stop FIRs in
closed form (Hamming-windowed ideal band-stop, unit DC gain), the cascade's peak gain on the 512-point
grid of ``scipy.signal.freqz``, and the official ``filterFIR``: ``len(b) + 1`` zeros appended, causal
filtering (``lfilter``), the samples from ``(len(b) + 1) // 2`` kept, one sample ahead of the
filter's delay. Then the property that lead gives the parallel mode 8 on white noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from codecfake_hf.augmentation import FIR_ALIGNMENTS, RawBoostConfig, rawboost
from codecfake_hf.augmentation.rawboost import convolutive_noise, fir_filter, stationary_noise

RATE = 16000


def _band_stop(num_taps: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Hamming-windowed ideal band-stop (passes DC and Nyquist), normalised to unit gain at DC."""
    m = np.arange(num_taps) - (num_taps - 1) / 2
    a, b = low_hz / (RATE / 2), high_hz / (RATE / 2)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(num_taps) / (num_taps - 1))
    taps = window * (a * np.sinc(a * m) + np.sinc(m) - b * np.sinc(b * m))
    return taps / taps.sum()


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw as NumPy's legacy ``uniform`` makes it (``low + (high - low) * U[0, 1)``), which the
    official code relies on for the reversed non-linear gain bounds (-5, -20) dB."""
    return low + (high - low) * rng.random()


def _notch_cascade(
    rng: np.random.Generator, config: RawBoostConfig, gains: tuple[float, float]
) -> np.ndarray:
    cascade = np.ones(1)
    for _ in range(config.num_bands):
        center = _uniform(rng, config.min_center_hz, config.max_center_hz)
        width = _uniform(rng, config.min_bandwidth_hz, config.max_bandwidth_hz)
        num_taps = int(_uniform(rng, config.min_taps, config.max_taps))
        num_taps += num_taps % 2 == 0
        low, high = center - width / 2, center + width / 2
        low = 1e-3 if low <= 0 else low
        high = RATE / 2 - 1e-3 if high >= RATE / 2 else high
        cascade = np.convolve(cascade, _band_stop(num_taps, low, high))
    gain_db = _uniform(rng, *gains)
    grid = np.exp(-1j * np.pi * np.outer(np.arange(512) / 512, np.arange(cascade.shape[0])))  # k fs / 1024
    return cascade * 10 ** (gain_db / 20) / np.abs(grid @ cascade).max()


def _official_filter(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    extra = taps.shape[0] + 1
    filtered = signal.lfilter(taps, 1, np.concatenate([x, np.zeros(extra)]))
    return filtered[extra // 2 : extra // 2 + x.shape[0]]


def _normalise(x: np.ndarray, always: bool = False) -> np.ndarray:
    peak = np.abs(x).max()
    return x / peak if always or peak > 1 else x


def _lnl(x: np.ndarray, rng: np.random.Generator, config: RawBoostConfig) -> np.ndarray:
    out = np.zeros(x.shape[0])
    gains = (config.min_gain_db, config.max_gain_db)
    for power in range(1, config.max_power + 1):
        if power == 2:
            gains = (gains[0] - config.min_nonlinear_offset_db, gains[1] - config.max_nonlinear_offset_db)
        out += _official_filter(x.astype(np.float64) ** power, _notch_cascade(rng, config, gains))
    return _normalise(out - out.mean())


def _isd(x: np.ndarray, rng: np.random.Generator, config: RawBoostConfig) -> np.ndarray:
    share = _uniform(rng, 0, config.max_impulse_percent)
    positions = rng.permutation(x.shape[0])[: int(x.shape[0] * share / 100)]
    factors = (2 * rng.random(positions.shape[0]) - 1) * (2 * rng.random(positions.shape[0]) - 1)
    out = x.astype(np.float64)
    out[positions] += config.impulse_gain * out[positions] * factors
    return _normalise(out)


def _ssi(x: np.ndarray, rng: np.random.Generator, config: RawBoostConfig) -> np.ndarray:
    noise = rng.normal(0, 1, x.shape[0])
    noise = _normalise(
        _official_filter(noise, _notch_cascade(rng, config, (config.min_gain_db, config.max_gain_db))), True
    )
    snr_db = _uniform(rng, config.min_snr_db, config.max_snr_db)
    noise = noise / np.linalg.norm(noise) * np.linalg.norm(x) / 10 ** (snr_db / 20)
    return x + noise


_REFERENCE = {
    1: lambda x, rng, config: _lnl(x, rng, config),
    3: lambda x, rng, config: _ssi(x, rng, config),
    5: lambda x, rng, config: _isd(_lnl(x, rng, config), rng, config),
    8: lambda x, rng, config: _normalise(_lnl(x, rng, config) + _isd(x, rng, config)),
}


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """1.5 s of a harmonic tone with a noise floor, peak 0.8 (float32): loud enough that the
    normalisations act."""
    rng = np.random.default_rng(0)
    t = np.arange(24000) / RATE
    tone = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 8)) + 0.1 * rng.standard_normal(t.size)
    return (0.8 * tone / np.abs(tone).max()).astype(np.float32)


@pytest.mark.parametrize("algorithm", sorted(_REFERENCE))
def test_default_alignment_equals_the_official_algorithm_on_equal_draws(speech, algorithm):
    config = RawBoostConfig(algorithm=algorithm)
    assert config.fir_alignment == "upstream"
    for seed in range(3):
        ours = rawboost(speech, np.random.default_rng(seed), config, RATE)
        reference = _REFERENCE[algorithm](speech, np.random.default_rng(seed), config)
        np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def test_centred_alignment_is_the_official_output_one_sample_later(speech):
    upstream = convolutive_noise(speech, np.random.default_rng(4), RawBoostConfig(max_power=1), RATE)
    centred = convolutive_noise(
        speech, np.random.default_rng(4), RawBoostConfig(max_power=1, fir_alignment="centred"), RATE
    )
    # the same samples one step later; only the removed mean differs (one other sample at each end)
    np.testing.assert_allclose(centred[1:], upstream[:-1], rtol=0, atol=1e-5)
    assert not np.allclose(centred, upstream, atol=1e-2)
    noise_upstream = stationary_noise(speech, np.random.default_rng(5), RawBoostConfig(), RATE)
    noise_centred = stationary_noise(
        speech, np.random.default_rng(5), RawBoostConfig(fir_alignment="centred"), RATE
    )
    assert not np.allclose(noise_upstream, noise_centred, atol=1e-4)


@pytest.mark.parametrize("num_taps", [1, 3, 51])
def test_fir_filter_alignments_on_an_impulse(num_taps):
    impulse = np.zeros(4000)
    impulse[2000] = 1.0
    taps = signal.firwin(num_taps, 0.5) if num_taps > 1 else np.ones(1)
    upstream, centred = fir_filter(impulse, taps), fir_filter(impulse, taps, "centred")
    assert upstream.shape == centred.shape == impulse.shape
    assert int(np.argmax(upstream)) == 1999 and int(np.argmax(centred)) == 2000  # one sample ahead
    np.testing.assert_allclose(upstream, _official_filter(impulse, taps), rtol=0, atol=1e-12)
    edge = fir_filter(np.ones(10), taps)
    np.testing.assert_allclose(edge, _official_filter(np.ones(10), taps), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="unknown FIR alignment 'late'"):
        fir_filter(impulse, taps, "late")


def test_an_unknown_alignment_is_refused():
    assert FIR_ALIGNMENTS == ("upstream", "centred")
    with pytest.raises(ValueError, match="fir_alignment must be one of upstream, centred, got 'centered'"):
        RawBoostConfig(fir_alignment="centered")


def _high_band_share(waveform: np.ndarray) -> float:
    """The share of ``waveform``'s energy between 6 and 8 kHz."""
    power = np.abs(np.fft.rfft(waveform)) ** 2
    return float(power[np.fft.rfftfreq(waveform.shape[0], 1 / RATE) >= 6000].sum() / power.sum())


def _median_share(algorithm: int, alignment: str) -> float:
    """Median over 16 draws of the 6-8 kHz share of RawBoost's output on 2 s of white noise."""
    config = RawBoostConfig(algorithm=algorithm, fir_alignment=alignment)
    shares = []
    for seed in range(16):
        noise = (0.1 * np.random.default_rng(1000 + seed).standard_normal(2 * RATE)).astype(np.float32)
        shares.append(_high_band_share(rawboost(noise, np.random.default_rng(seed), config, RATE)))
    return float(np.median(shares))


def test_mode_8_with_the_official_lead_low_passes_white_noise():
    """LnL one sample ahead of ISD: the sum acts as (1 + z), so little energy is left at 6-8 kHz (about
    4.5 % for a typical draw; median over 60 draws 5.9 %, quartiles 4.0-8.0 %), against the 25 % of a flat
    spectrum with centred filters. Mode 5 (series) is a shift either way: 25 % both."""
    assert 0.03 <= _median_share(8, "upstream") <= 0.09
    assert 0.21 <= _median_share(8, "centred") <= 0.29
    assert 0.21 <= _median_share(5, "upstream") <= 0.29
    assert _median_share(5, "upstream") == pytest.approx(_median_share(5, "centred"), abs=0.005)
