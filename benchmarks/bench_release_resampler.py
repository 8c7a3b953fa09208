"""Speed of the two training resamplers: soxr VHQ (``--resampler soxr``, the project's) and torchaudio's
default windowed sinc as written here (``--resampler torchaudio``, ``--recipe release``).

For each input rate of CodecFake's files (24, 44.1, 48 kHz) the same clips (white noise, ``--seconds``
long, float32) are resampled to 16 kHz ``--repeats`` times by each; printed: milliseconds per clip
(median) and times faster than real time, as a markdown table. One torch thread (a DataLoader worker's
share of a small machine).

``PYTHONPATH=. python benchmarks/bench_release_resampler.py [--seconds 4.5] [--repeats 20]``
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np
import torch

from codecfake_hf.audio.audio_io import resample

RATES = (24000, 44100, 48000)
TARGET = 16000


def median_seconds(function, repeats: int) -> float:
    """Median wall time of ``function()`` over ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4.5, help="clip length (s)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per rate and resampler")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| input rate (Hz) | resampler | ms per clip | x real time |")
    print("|---:|---|---:|---:|")
    for rate in RATES:
        clip = np.random.default_rng(rate).standard_normal(int(args.seconds * rate)).astype(np.float32) * 0.1
        for resampler in ("soxr", "torchaudio"):
            seconds = median_seconds(functools.partial(resample, clip, rate, TARGET, resampler), args.repeats)
            print(f"| {rate} | {resampler} | {1000 * seconds:.2f} | {args.seconds / seconds:.0f} |")


if __name__ == "__main__":
    main()
