"""``codecfake compare``: what honest and wrong resyntheses measure (the verdict thresholds), and its speed.

``--part thresholds``: speech-like 48 kHz clips (``bench_resampling.speech_like``) go through the tiny
random-weight codecs (no official weights can be downloaded here) as a build does (soxr VHQ to the
codec rate, codec, 16-bit FLAC) and are measured with :func:`codecfake_hf.evaluation.comparison.compare_waveforms`
against variants:

- "16-bit rounding": the codec's float output against its 16-bit file (the floor of any comparison);
- "Hann-sinc input": the codec input resampled by torchaudio's default resampler (a Hann-windowed sinc
  with 6 zero crossings and roll-off 0.99, ``resampler="torchaudio"``, which the release's generation
  script used) instead of soxr VHQ
  (left out for a tiny codec whose output does not depend on its input: its random quantizer collapsed);
- "other weights": the same architecture with another random initialisation (seed 1);
- bona fide, no codec: 48 -> 16 kHz by torchaudio's default resampler against soxr VHQ (a release that stores bona fide
  at 16 kHz made by another resampler).

Printed: the medians over the clips and the verdict at the default thresholds.

``--part speed``: a tiny build (bona fide + E) of ``--utterances`` clips of 3-4 s compared with a copy of
itself: utterance pairs per second, audio hours per hour and the process's peak RSS.

``PYTHONPATH=. python benchmarks/bench_compare.py [--part thresholds|speed|all] [--clips 8] [--utterances 48]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_resampling import speech_like

from codecfake_hf.audio.audio_io import decode_audio_bytes, encode_audio, resample
from codecfake_hf.codecs.registry import load_codec
from codecfake_hf.evaluation.comparison import (
    ComparisonOptions,
    compare_datasets,
    compare_waveforms,
    subset_verdict,
)

SOURCE_RATE = 48000
MEASURES = ("snr_db", "gain_compensated_snr_db", "low_band_snr_db", "correlation", "lsd_db", "lag_ms")


def sixteen_bit(waveform: np.ndarray, sampling_rate: int) -> np.ndarray:
    """What a build stores: clamped to +-0.99, 16-bit FLAC, decoded again."""
    return decode_audio_bytes(encode_audio(waveform, sampling_rate))[0]


def thresholds(clips: int) -> None:
    sources = [speech_like(seed, seconds=3.0).astype(np.float32) for seed in range(clips)]
    options = ComparisonOptions()
    rows = []
    for codec_id in ("E", "A", "C", "F3"):
        codec, other = load_codec(codec_id, tiny=True, seed=0), load_codec(codec_id, tiny=True, seed=1)
        rate = codec.sampling_rate
        noise = np.random.default_rng(0).standard_normal((2, SOURCE_RATE)).astype(np.float32) / 10
        sensitive = not np.array_equal(*(codec.resynthesize_one(clip, SOURCE_RATE) for clip in noise))
        cases: dict[str, list[dict]] = {"16-bit rounding": [], "Hann-sinc input": [], "other weights": []}
        for source in sources:
            output = codec.resynthesize_one(source, SOURCE_RATE)
            reference = sixteen_bit(output, rate)
            variants = {
                "16-bit rounding": output,
                "Hann-sinc input": sixteen_bit(
                    codec.resynthesize_one(resample(source, SOURCE_RATE, rate, "torchaudio"), rate), rate
                ),
                "other weights": sixteen_bit(other.resynthesize_one(source, SOURCE_RATE), rate),
            }
            for case, built in variants.items():
                cases[case].append(compare_waveforms(built, rate, reference, rate))
        if not sensitive:
            del cases["Hann-sinc input"]
        rows += [(f"{codec_id} (tiny)", rate, case, pairs) for case, pairs in cases.items()]
    bonafide = [
        compare_waveforms(
            sixteen_bit(resample(source, SOURCE_RATE, 16000, "torchaudio"), 16000), 16000,
            sixteen_bit(source, SOURCE_RATE), SOURCE_RATE,
        )
        for source in sources
    ]  # fmt: skip
    rows.append(("bona fide, no codec", 16000, "Hann sinc vs soxr VHQ", bonafide))
    print(f"Medians over {clips} speech-like clips of 3 s; verdict at --min-snr-db {options.min_snr_db:g} "
          f"--max-lsd-db {options.max_lsd_db:g}\n")  # fmt: skip
    print("| codec | rate Hz | build against | SNR dB | lag+gain removed dB | low band dB | correlation | LSD dB | lag ms | "
          "verdict |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for codec, rate, case, pairs in rows:
        medians = {f"median_{name}": float(np.nanmedian([pair[name] for pair in pairs])) for name in MEASURES}
        cells = " | ".join(f"{medians[f'median_{name}']:.2f}" for name in MEASURES)
        print(f"| {codec} | {rate} | {case} | {cells} | {subset_verdict(medians, options, rate)} |")


def speed(utterances: int) -> None:
    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.synthetic import make_synthetic_vctk

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        speakers = tuple(f"p{225 + index}" for index in range(max(1, utterances // 8)))
        corpus = make_synthetic_vctk(
            root / "vctk", speakers=speakers, utterances_per_speaker=8, seconds=(3.0, 4.0)
        )
        build_codecfake(corpus, root / "built", ["E"], BuildOptions(tiny=True, shard_size=16, batch_size=8))
        shutil.copytree(root / "built", root / "imported")
        start = time.perf_counter()
        report = compare_datasets(root / "built", root / "imported", output_dir=root / "compare")
        seconds = time.perf_counter() - start
    pairs = int(report.summary["n_compared"].sum())
    audio_hours = len(speakers) * 8 * 3.5 / 3600 * len(report.summary)  # mean clip 3.5 s, per subset
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| subsets | pairs | audio h | wall s | pairs/s | audio-h/h | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| {', '.join(report.summary.index)} | {pairs} | {audio_hours:.3f} | {seconds:.1f} | "
          f"{pairs / seconds:.2f} | {audio_hours * 3600 / seconds:.0f} | {peak_mb:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("thresholds", "speed", "all"), default="all")
    parser.add_argument("--clips", type=int, default=8, help="speech-like clips of the threshold study")
    parser.add_argument("--utterances", type=int, default=48, help="utterances per config of the speed run")
    args = parser.parse_args()
    if args.part in ("thresholds", "all"):
        thresholds(args.clips)
    if args.part in ("speed", "all"):
        speed(args.utterances)


if __name__ == "__main__":
    main()
