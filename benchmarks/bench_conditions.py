"""Cost of the compression-robustness conditions (CPU): :func:`codecfake_hf.evaluation.robustness.apply_condition`
on one clip of ``--seconds`` s, wall time per audio second (MP3/Opus run the ffmpeg binary twice per
clip). Codec speed, the modern codecs included, is ``bench_resynthesis.py``'s job.

Prints a markdown table. ``python benchmarks/bench_conditions.py [--seconds 4]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from codecfake_hf.evaluation.robustness import CONDITIONS, apply_condition

RATE = 16000


def _clips(count: int, seconds: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    return [
        (0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
        for i in range(count)
    ]


def bench_conditions(seconds: float) -> None:
    print("| condition | wall per audio second (ms) |")
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
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.1f}\n")
    bench_conditions(args.seconds)


if __name__ == "__main__":
    main()
