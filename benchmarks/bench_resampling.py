"""The resampler a saved detector falls back to without soxr, against soxr VHQ (the project's one).

For every input rate (8, 22.05, 44.1, 48 kHz) and every test signal, the audio is resampled to
16 kHz by soxr VHQ and by :func:`codecfake_hf.models.aasist.resampling.sinc_resample`, and scored
by a detector (first 4.04 s, as ``codecfake detect``). Printed: the fallback's SNR against soxr
(dB, lowest over the signals), its largest sample difference, and the largest change of the bona
fide probability and logit; the same for plain linear interpolation (``numpy.interp``) as a
yardstick of how much a poor resampler moves the scores.

Test signals: ``--signals`` synthetic speech-like clips made here at 48 kHz (voiced segments: a
glottal pulse train with a moving pitch through four formant resonators; unvoiced segments: noise
bursts up to 20 kHz; pauses), plus any ``--audio`` files (e.g. real speech). Every clip is brought
to each input rate with soxr VHQ first.

``python benchmarks/bench_resampling.py --model models/aasist-l [--audio a.wav ...] [--signals 8]``
(``--model``: a folder written by ``codecfake convert-aasist``).
"""

from __future__ import annotations

import argparse

import numpy as np
import soxr
import torch
from scipy.signal import lfilter

from codecfake_hf.audio.audio_io import load_audio
from codecfake_hf.detection.detector import Detector
from codecfake_hf.models.aasist.resampling import sinc_resample

SYNTH_RATE = 48000
RATES = (8000, 22050, 44100, 48000)
MODEL_RATE = 16000


def speech_like(seed: int, seconds: float = 4.5) -> np.ndarray:
    """A 48 kHz clip of alternating voiced (pulse train through formants), unvoiced (noise) and silent parts."""
    rng = np.random.default_rng(seed)
    clip = np.zeros(int(seconds * SYNTH_RATE))
    position = 0
    while position < clip.size:
        length = int(rng.uniform(0.08, 0.35) * SYNTH_RATE)
        kind = rng.choice(["voiced", "voiced", "unvoiced", "pause"])
        if kind == "voiced":
            pitch = rng.uniform(90, 240) * (1 + 0.2 * np.linspace(-1, 1, length) * rng.uniform(-1, 1))
            phase = np.cumsum(pitch / SYNTH_RATE)
            segment = np.diff(np.floor(phase), prepend=0.0)  # one impulse per pitch period
            for formant in rng.uniform([300, 900, 2200, 3300], [900, 2400, 3200, 4500]):
                radius = np.exp(-np.pi * rng.uniform(60, 200) / SYNTH_RATE)
                angle = 2 * np.pi * formant / SYNTH_RATE
                segment = lfilter([1 - radius], [1, -2 * radius * np.cos(angle), radius**2], segment)
            segment *= np.hanning(length)
        elif kind == "unvoiced":
            # differenced noise: tilted towards high frequencies, like a fricative
            segment = np.diff(rng.standard_normal(length + 1)) * np.hanning(length)
        else:
            segment = np.zeros(length)
        end = min(clip.size, position + length)
        clip[position:end] = segment[: end - position]
        position = end
    clip += 1e-4 * rng.standard_normal(clip.size)
    return (0.5 * clip / np.abs(clip).max()).astype(np.float32)


def linear(waveform: np.ndarray, orig: int, target: int) -> np.ndarray:
    count = (waveform.size * target + orig // 2) // orig
    return np.interp(np.arange(count) * orig / target, np.arange(waveform.size), waveform).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="detector folder (codecfake convert-aasist)")
    parser.add_argument("--audio", nargs="*", default=[], help="extra test recordings (any rate)")
    parser.add_argument("--signals", type=int, default=8, help="synthetic speech-like clips")
    args = parser.parse_args()
    torch.set_num_threads(2)
    detector = Detector.from_pretrained(args.model, device="cpu")
    sources = [(speech_like(seed), SYNTH_RATE) for seed in range(args.signals)]
    sources += [load_audio(path) for path in args.audio]

    def scores(waveform: np.ndarray) -> tuple[float, float]:
        logits = detector.logits([waveform], MODEL_RATE)[0][0]
        index = detector.bonafide_index
        return float(torch.softmax(logits, -1)[index]), float(logits[index])

    print(f"{args.signals} synthetic speech-like clips + {len(args.audio)} recordings; model {args.model}\n")
    print("| input rate | fallback SNR vs soxr (dB, min) | max abs diff | max abs Δ p_bonafide | max abs Δ bona fide "
          "logit | linear interp: max abs Δ p_bonafide | mean p_bonafide (soxr) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for rate in RATES:
        snrs, diffs, dp, dlogit, dp_linear, p_ref = [], [], [], [], [], []
        for waveform, source_rate in sources:
            native = soxr.resample(waveform, source_rate, rate, "VHQ") if rate != source_rate else waveform
            reference = soxr.resample(native, rate, MODEL_RATE, "VHQ")
            fallback = sinc_resample(native, rate, MODEL_RATE)
            error = fallback - reference
            snrs.append(10 * np.log10((reference**2).sum() / max((error**2).sum(), 1e-30)))
            diffs.append(np.abs(error).max())
            (p_soxr, l_soxr), (p_sinc, l_sinc) = scores(reference), scores(fallback)
            dp.append(abs(p_sinc - p_soxr))
            dlogit.append(abs(l_sinc - l_soxr))
            dp_linear.append(abs(scores(linear(native, rate, MODEL_RATE))[0] - p_soxr))
            p_ref.append(p_soxr)
        print(f"| {rate} | {min(snrs):.1f} | {max(diffs):.1e} | {max(dp):.1e} | {max(dlogit):.1e} | "
              f"{max(dp_linear):.3f} | {np.mean(p_ref):.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
