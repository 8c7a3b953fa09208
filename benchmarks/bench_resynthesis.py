"""Resynthesis throughput on CPU (or a GPU): batched engine vs one utterance at a time.

For every requested registry id whose family is implemented, builds the family's ``random_codec``
(the FULL official architecture, random weights; ``--tiny``: the family's ``tiny_codec``, which
isolates the engine's own per-utterance overhead), runs seeded synthetic speech-like utterances
through :class:`~codecfake_hf.codecs.base.Resynthesizer` once per utterance and once batched, and
prints a markdown table: audio-seconds per wall-second and per process-CPU-second (the latter is
robust to other processes sharing the cores), the speed-ups, the output match of the two
runs (SNR over each utterance, dB) and the peak resident memory of each phase. Optionally one long
input (``--long-seconds``) is timed alone for its peak memory.

    python benchmarks/bench_resynthesis.py --codecs E,D1 --utterances 32 --max-seconds 8
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import psutil
import torch

from codecfake_hf.codecs.base import Resynthesizer
from codecfake_hf.codecs.registry import CODECS, family_module, get_spec, implemented


def speech_like(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Harmonics of a gliding pitch under a syllable envelope, plus noise (float32 ``[T]``)."""
    t = np.arange(int(seconds * rate)) / rate
    pitch = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.sin(np.pi * rng.uniform(2, 4) * t) ** 2
    return (0.15 * voiced * envelope + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


class PeakRss:
    """Samples this process's resident memory every 5 ms; ``peak_mib`` after the ``with`` block."""

    def __enter__(self) -> PeakRss:
        self._process = psutil.Process()
        self.peak_mib = self._process.memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_mib = max(self.peak_mib, self._process.memory_info().rss / 2**20)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self.peak_mib, self._process.memory_info().rss / 2**20)


class PeakGpuMemory:
    """Peak CUDA memory allocated by tensors inside the ``with`` block (MiB); 0 when not on a GPU."""

    def __init__(self, enabled: bool):
        self.enabled, self.peak_mib = enabled, 0.0

    def __enter__(self) -> PeakGpuMemory:
        if self.enabled:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            torch.cuda.synchronize()
            self.peak_mib = torch.cuda.max_memory_allocated() / 2**20


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    noise = float(((reference - test) ** 2).sum())
    return float("inf") if noise == 0 else 10 * np.log10(float((reference**2).sum()) / noise)


def bench_codec(codec_id: str, args: argparse.Namespace) -> dict:
    spec = get_spec(codec_id)
    module = family_module(spec)
    build = module.tiny_codec if args.tiny else module.random_codec
    engine = Resynthesizer(
        build(spec, seed=0),
        input_peak=spec.input_peak,
        device=args.device,
        max_batch_samples=args.max_batch_samples,
        dtype=getattr(torch, args.dtype),
        allow_tf32=args.tf32,
    )
    rate = engine.sampling_rate
    rng = np.random.default_rng(args.seed)
    seconds = rng.uniform(args.min_seconds, args.max_seconds, args.utterances)
    inputs = [speech_like(s, rate, rng) for s in seconds]
    audio_s = float(seconds.sum())
    engine.resynthesize_one(inputs[0][: rate // 2], rate)  # warm-up: one utterance and one batch
    engine.resynthesize([w[: rate // 2] for w in inputs[:2]], rate)

    on_gpu = engine.device.type == "cuda"
    with PeakRss() as single_rss, PeakGpuMemory(on_gpu) as single_gpu:
        start, cpu_start = time.perf_counter(), time.process_time()
        singles = [engine.resynthesize_one(w, rate) for w in inputs]
        single_s, single_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    with PeakRss() as batched_rss, PeakGpuMemory(on_gpu) as batched_gpu:
        start, cpu_start = time.perf_counter(), time.process_time()
        batched = engine.resynthesize(inputs, rate, batch_size=args.batch_size)
        batched_s, batched_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    snrs = [snr_db(a, b) for a, b in zip(singles, batched)]
    row = {
        "id": codec_id,
        "audio_s": audio_s,
        "single": audio_s / single_s,
        "batched": audio_s / batched_s,
        "single_cpu": audio_s / single_cpu,
        "batched_cpu": audio_s / batched_cpu,
        "snr_min": min(snrs),
        "snr_median": float(np.median(snrs)),
        "rss_single": single_rss.peak_mib,
        "rss_batched": batched_rss.peak_mib,
        "gpu_single": single_gpu.peak_mib,
        "gpu_batched": batched_gpu.peak_mib,
    }
    if args.long_seconds > 0:
        long_input = speech_like(args.long_seconds, rate, rng)
        with PeakRss() as long_rss:
            start = time.perf_counter()
            engine.resynthesize_one(long_input, rate)
            row["long_rtf"] = args.long_seconds / (time.perf_counter() - start)
        row["rss_long"] = long_rss.peak_mib
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codecs", default="E,D1,D2,D3", help="comma-separated registry ids")
    parser.add_argument("--utterances", type=int, default=32)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=8.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-batch-samples", type=int, default=None, help="engine cap (default: its own)")
    parser.add_argument("--long-seconds", type=float, default=0.0, help="also time one input this long")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--tf32", action="store_true", help="let CUDA use TF32 (engine default: off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tiny", action="store_true", help="tiny widths (the engine's own overhead; the network is small)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    ids = [i.strip() for i in args.codecs.split(",") if i.strip()]
    skipped = [i for i in ids if not implemented(get_spec(i))]
    rows, failed = [], []
    for codec_id in ids:
        if codec_id in skipped:
            continue
        try:
            rows.append(bench_codec(codec_id, args))
        except Exception as error:  # one broken codec must not cost the others' numbers
            failed.append(f"{codec_id} ({type(error).__name__}: {error})")
            print(f"failed {codec_id}: {failed[-1]}", flush=True)
            continue
        print(f"done {codec_id}: {rows[-1]}", flush=True)

    print(
        f"\n{args.utterances} utterances of {args.min_seconds:g}-{args.max_seconds:g} s, batch size "
        f"{args.batch_size}, device {args.device}, {args.dtype}{' (TF32 on)' if args.tf32 else ''}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"random {'tiny' if args.tiny else 'full-size'} weights\n"
    )
    header = (
        "| id | audio s | per-utt (audio s / wall s) | batched (audio s / wall s) | speed-up (wall) "
        "| per-utt / batched (audio s / CPU s) | speed-up (CPU) | SNR min / median (dB) "
        "| peak RSS per-utt / batched (MiB) |"
    )
    on_gpu = args.device.startswith("cuda")
    if on_gpu:
        header += " peak GPU memory per-utt / batched (MiB) |"
    if args.long_seconds > 0:
        header += f" {args.long_seconds:g} s input: audio s / s, peak RSS (MiB) |"
    print(header)
    print("|" + "---|" * header.count(" |"))
    for r in rows:
        line = (
            f"| {r['id']} | {r['audio_s']:.1f} | {r['single']:.2f} | {r['batched']:.2f} | "
            f"{r['batched'] / r['single']:.2f}x | {r['single_cpu']:.2f} / {r['batched_cpu']:.2f} | "
            f"{r['batched_cpu'] / r['single_cpu']:.2f}x | {r['snr_min']:.1f} / {r['snr_median']:.1f} | "
            f"{r['rss_single']:.0f} / {r['rss_batched']:.0f} |"
        )
        if on_gpu:
            line += f" {r['gpu_single']:.0f} / {r['gpu_batched']:.0f} |"
        if args.long_seconds > 0:
            line += f" {r['long_rtf']:.2f}, {r['rss_long']:.0f} |"
        print(line)
    if skipped:
        print(f"\nnot implemented yet (skipped): {', '.join(skipped)}")
    if failed:
        print(f"\nFAILED: {'; '.join(failed)}")
        raise SystemExit(1)
    unknown = sorted(set(CODECS) - set(ids))
    if unknown:
        print(f"not requested: {', '.join(unknown)}")


if __name__ == "__main__":
    main()
