"""Peak memory of ``codecfake detect --mode full`` as the recording grows (CPU, AASIST-L).

Writes speech-like synthetic recordings (harmonic syllables with a moving pitch, pauses, a little
noise; 16-bit mono WAV) of 1, 2 and 10 minutes at 16 kHz and at 48 kHz, and scores each in a fresh
process, measuring that process's peak RSS:

- ``streamed``: the command itself, ``codecfake detect FILE --mode full`` (blocks read, resampled and
  windowed as they arrive, ``--batch-size`` windows per forward pass, default 4 on CPU);
- ``whole file``: what ``detect`` did before streaming, kept as ``Detector.logits``: the whole file
  decoded and resampled, every window stacked, 32 windows per forward pass.

A second table gives the streamed peak and time for the longest file at several ``--batch-size``.

The model is AASIST-L (85,306 parameters). By default it has random weights (the same architecture, so
the same activations and memory as the official one); ``--model`` takes a converted folder and
``--checkpoint`` an official ``AASIST-L.pth`` (converted into a scratch folder). From the repository
root: ``PYTHONPATH=. python benchmarks/bench_detect_memory.py [--minutes 1,2,10] [--rates 16000,48000]``.
Prints markdown tables (copy them to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

WHOLE_FILE = """
import sys
from codecfake_hf.audio.audio_io import load_audio
from codecfake_hf.detection.detector import Detector

detector = Detector.from_pretrained(sys.argv[1], mode="full", batch_size=32, device="cpu")
waveform, rate = load_audio(sys.argv[2])
logits, windows = detector.logits([waveform], rate)
print(float(logits[0, detector.bonafide_index]), windows[0])
"""


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Mono float32 ``[seconds * rate]``: syllables of 120-350 ms (5 harmonics of a 90-250 Hz pitch that
    glides within the syllable, a raised-cosine envelope) separated by 30-400 ms pauses, plus noise."""
    rng = np.random.default_rng(seed)
    total = int(seconds * rate)
    waveform = (0.003 * rng.standard_normal(total)).astype(np.float32)
    position = 0
    while position < total:
        length = min(int(rng.uniform(0.12, 0.35) * rate), total - position)
        pitch = rng.uniform(90, 250) * np.linspace(1.0, rng.uniform(0.8, 1.2), length)
        phase = 2 * np.pi * np.cumsum(pitch) / rate
        voiced = sum(np.sin(k * phase) * rng.uniform(0.2, 1.0) / k for k in range(1, 6))
        envelope = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / max(length - 1, 1))
        waveform[position : position + length] += (0.25 * voiced * envelope).astype(np.float32)
        position += length + int(rng.uniform(0.03, 0.4) * rate)
    return np.clip(waveform, -0.99, 0.99)


def peak_rss(command: list[str]) -> tuple[float, float]:
    """Run ``command`` (with this repository on ``PYTHONPATH``); its peak RSS (MB, the kernel's
    accounting of that one child) and wall seconds."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed: {errors.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds


def model_folder(args: argparse.Namespace, scratch: Path) -> Path:
    """The AASIST-L folder to score with: ``--model``, ``--checkpoint`` converted, or random weights."""
    if args.model:
        return Path(args.model)
    folder = scratch / "aasist-l"
    if args.checkpoint:
        from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint

        convert_aasist_checkpoint(args.checkpoint, folder, variant="AASIST-L")
        return folder
    from codecfake_hf.models.aasist import AasistConfig, AasistFeatureExtractor, AasistForAudioClassification

    config = AasistConfig.from_preset("AASIST-L")
    AasistForAudioClassification(config).eval().save_pretrained(folder)
    AasistFeatureExtractor(num_samples=config.num_samples).save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a converted AASIST-L folder (default: random weights)")
    parser.add_argument("--checkpoint", help="the official AASIST-L.pth, converted into a scratch folder")
    parser.add_argument("--minutes", default="1,2,10", help="recording lengths, minutes")
    parser.add_argument("--rates", default="16000,48000", help="recording sample rates, Hz")
    parser.add_argument(
        "--batch-sizes", default="1,2,4,8,16", help="--batch-size values for the second table"
    )
    args = parser.parse_args()
    minutes = [float(m) for m in args.minutes.split(",")]
    rates = [int(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = str(model_folder(args, scratch))
        detect = [sys.executable, "-m", "codecfake_cli", "detect", "--model", model, "--mode", "full"]
        print(
            "| minutes | rate (Hz) | windows | whole file: peak RSS MB | streamed: peak RSS MB | streamed s |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for rate in rates:
            for length in minutes:
                path = scratch / f"speech_{length:g}min_{rate}.wav"
                sf.write(path, speech_like(60 * length, rate), rate, subtype="PCM_16")
                whole, _ = peak_rss([sys.executable, "-c", WHOLE_FILE, model, str(path)])
                streamed, seconds = peak_rss([*detect, str(path)])
                windows = -(-int(60 * length * 16000) // 64600)
                print(f"| {length:g} | {rate} | {windows} | {whole:.0f} | {streamed:.0f} | {seconds:.0f} |")
                if (length, rate) != (max(minutes), rates[0]):
                    path.unlink()
        longest = scratch / f"speech_{max(minutes):g}min_{rates[0]}.wav"
        print(f"\n`--batch-size` on the {max(minutes):g}-minute {rates[0]} Hz file:\n")
        print("| --batch-size | peak RSS MB | wall s |")
        print("|---:|---:|---:|")
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            peak, seconds = peak_rss([*detect, str(longest), "--batch-size", str(batch_size)])
            print(f"| {batch_size} | {peak:.0f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
