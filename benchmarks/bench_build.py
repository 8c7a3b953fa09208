"""Dataset build benchmark (CPU): throughput of one config and peak memory as the corpus doubles.

1. Throughput: a synthetic VCTK-shaped corpus with VCTK-like clip lengths (3.0-4.2 s, mean 3.6 s)
   is checked, then the ``bonafide`` config (decode + 16-bit FLAC encode: the CPU-side work every
   config repeats), config ``--codec`` with the tiny codec (the CPU-side work of a codec config:
   decode, resample, FLAC encode) and with the full official architecture with random weights
   (``random_codec``: the compute of the official checkpoint, which is not downloadable here),
   swapped in for the official loader by this script only.
2. Memory: the same build with the tiny codec on corpora of N, 2N, 4N utterances, each in a fresh
   process; peak RSS must stay flat (shards are written incrementally, ``map`` writes its cache
   every ``writer_batch_size`` rows).

Prints markdown tables. From the repository root:
``PYTHONPATH=. python benchmarks/bench_build.py [--utterances 32] [--sizes 100,200,400]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from codecfake_hf.codecs.base import Resynthesizer
from codecfake_hf.codecs.registry import family_module, get_spec
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from dataset_builder import build as build_module
from dataset_builder.build import BuildOptions, build_codecfake, build_shards, plan_shards
from dataset_builder.corpora.vctk import prepare_vctk
from dataset_builder.source_check import run_source_check
from dataset_builder.synthetic import make_synthetic_vctk

SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p230", "p231", "p232")


def _corpus(root: Path, utterances: int, seconds: tuple[float, float]) -> Path:
    per_speaker = -(-utterances // len(SPEAKERS))
    return make_synthetic_vctk(root, speakers=SPEAKERS, utterances_per_speaker=per_speaker, seconds=seconds)


@functools.lru_cache(maxsize=2)
def _bench_codec(codec_id: str, tiny: bool, device: str) -> Resynthesizer:
    """The tiny codec, or the full-size architecture with random weights (instead of the official
    checkpoint, which this machine cannot download)."""
    spec = get_spec(codec_id)
    module = family_module(spec)
    model = module.tiny_codec(spec) if tiny else module.random_codec(spec)
    return Resynthesizer(model, input_peak=spec.input_peak, device=device)


def throughput(codec_id: str, utterances: int, batch_size: int) -> list[tuple]:
    """Rows (stage, utterances, audio hours, seconds, utt/s, audio-h/h) of one build."""
    build_module._codec = _bench_codec  # benchmark only: see _bench_codec
    options = BuildOptions(batch_size=batch_size, shard_size=1000)
    tiny = BuildOptions(tiny=True, batch_size=batch_size, shard_size=1000)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        corpus = _corpus(Path(scratch) / "vctk", utterances, (3.0, 4.2))
        out = Path(scratch) / "codecfake"
        start = time.perf_counter()
        check = run_source_check(prepare_vctk(corpus).utterances, out / ".build", options)
        stages = [("source check (decode)", time.perf_counter() - start)]
        shards = plan_shards(check.rows, options.shard_size)
        hours = sum(r["seconds"] for r in check.rows) / 3600
        stages_to_run = (
            ("config bonafide (decode + FLAC encode)", BONAFIDE_CONFIG, options),
            (f"config {codec_id}, tiny codec (CPU-side work: decode, resample, encode)", codec_id, tiny),
            (f"config {codec_id}, full-size codec", codec_id, options),
        )
        for stage, config, stage_options in stages_to_run:
            if config != BONAFIDE_CONFIG:
                _bench_codec(config, stage_options.tiny, "cpu")  # load before timing
            start = time.perf_counter()
            build_shards(config, shards, out, out / ".build", stage_options)
            stages.append((stage, time.perf_counter() - start))
        for stage, seconds in stages:
            rows.append(
                (stage, len(check.rows), hours, seconds, len(check.rows) / seconds, hours * 3600 / seconds)
            )
    return rows


def peak_rss_worker(utterances: int, seconds: float) -> None:
    """Build bona fide + tiny E on a corpus of ``utterances`` clips; print JSON with peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as scratch:
        corpus = _corpus(Path(scratch) / "vctk", utterances, (seconds * 0.9, seconds * 1.1))
        out = Path(scratch) / "codecfake"
        report = build_codecfake(corpus, out, ["E"], BuildOptions(tiny=True, shard_size=50, batch_size=8))
        parquet = sum(p.stat().st_size for p in out.glob("data/*/*.parquet"))
        hours = sum(s["hours"] for s in report["splits"].values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"utterances": utterances, "hours": hours, "parquet_mb": parquet / 2**20, "peak_rss_mb": peak}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codec", default="E")
    parser.add_argument("--utterances", type=int, default=32, help="throughput corpus size")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sizes", default="100,200,400", help="memory corpus sizes (utterances)")
    parser.add_argument("--seconds", type=float, default=2.0, help="clip length of the memory corpora")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: no oversubscription)")
    parser.add_argument("--part", choices=("all", "throughput", "memory"), default="all")
    parser.add_argument("--rss-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.rss_worker:
        peak_rss_worker(args.rss_worker, args.seconds)
        return
    if args.part in ("all", "throughput"):
        print_throughput(args)
    if args.part in ("all", "memory"):
        print_memory(args)


def print_throughput(args: argparse.Namespace) -> None:
    print(f"Throughput, config {args.codec}, batch {args.batch_size}, {args.threads} torch thread(s)\n")
    print("| stage | utterances | audio h | wall s | utt/s | audio-h/h |")
    print("|---|---:|---:|---:|---:|---:|")
    for stage, n, hours, seconds, rate, speed in throughput(args.codec, args.utterances, args.batch_size):
        print(f"| {stage} | {n} | {hours:.3f} | {seconds:.1f} | {rate:.2f} | {speed:.1f} |")


def print_memory(args: argparse.Namespace) -> None:
    print("\nPeak RSS as the corpus doubles (bona fide + tiny E, shards of 50, fresh process each)\n")
    print("| utterances | audio h | parquet MB | peak RSS MB |")
    print("|---:|---:|---:|---:|")
    for size in [int(s) for s in args.sizes.split(",")]:
        command = [sys.executable, __file__, "--rss-worker", str(size), "--seconds", str(args.seconds)]
        command += ["--threads", str(args.threads)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"| {row['utterances']} | {row['hours']:.3f} | {row['parquet_mb']:.1f} | {row['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
