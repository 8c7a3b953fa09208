"""Beyond-the-paper benchmark (CPU): codec resynthesis speed of the modern codecs and the cost of the
compression-robustness conditions.

1. Codecs: each modern codec at its full official architecture with random weights (``random_codec``:
   the compute of the official checkpoint, which is not downloadable here) resynthesizes
   ``--utterances`` clips of ``--seconds`` s (16 kHz input) through the batched engine.
   Real-time factor = audio seconds / wall seconds (higher is faster).
2. Conditions: :func:`codecfake_hf.robustness.apply_condition` on one clip of ``--seconds`` s,
   wall time per audio second (MP3/Opus run the ffmpeg binary twice per clip).

Prints markdown tables. ``python benchmarks/bench_modern.py [--codecs mimi,xcodec] [--seconds 4]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from codecfake_hf.codecs.base import Resynthesizer
from codecfake_hf.codecs.registry import MODERN_SUBSETS, family_module, get_spec
from codecfake_hf.robustness import CONDITIONS, apply_condition

RATE = 16000


def _clips(count: int, seconds: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    return [
        (0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
        for i in range(count)
    ]


def bench_codecs(codec_ids: list[str], utterances: int, seconds: float) -> None:
    print("| codec | params (M) | clips x s | wall (s) | real-time factor |")
    print("|---|---|---|---|---|")
    clips = _clips(utterances, seconds)
    for codec_id in codec_ids:
        spec = get_spec(codec_id)
        model = family_module(spec).random_codec(spec)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        engine = Resynthesizer(model, input_peak=spec.input_peak)
        engine.resynthesize(clips[:1], RATE)  # warm-up
        start = time.perf_counter()
        engine.resynthesize(clips, RATE, batch_size=utterances)
        wall = time.perf_counter() - start
        print(
            f"| {codec_id} | {params:.1f} | {utterances} x {seconds:g} | {wall:.2f} | {utterances * seconds / wall:.2f} |"
        )
        del engine, model


def bench_conditions(seconds: float) -> None:
    print("\n| condition | wall per audio second (ms) |")
    print("|---|---|")
    clip = _clips(1, seconds)[0]
    for name in CONDITIONS:
        start = time.perf_counter()
        for _ in range(3):
            apply_condition(clip, RATE, name)
        wall = (time.perf_counter() - start) / 3
        print(f"| {name} | {1000 * wall / seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codecs", default=",".join(MODERN_SUBSETS))
    parser.add_argument("--utterances", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.1f}\n")
    bench_codecs([c for c in args.codecs.split(",") if c], args.utterances, args.seconds)
    bench_conditions(args.seconds)


if __name__ == "__main__":
    main()
