"""Files per second of ``codecfake detect`` on many short clips (one window each), and the model's own
batched rate, the ceiling.

Writes N speech-like clips (3-4 s, 16 kHz, 16-bit WAV: one 4.04 s window each in the default
``--mode first``) and times the whole command, ``python -m codecfake_cli detect *.wav --model M
--json`` in a fresh process, for each checkout given (``NAME=PATH`` puts ``PATH`` first on
``PYTHONPATH``: e.g. the commit before windows of several files shared a forward pass, extracted with
``git archive``), and for each ``--batch-size``. Repeats alternate between the checkouts; the table gives
the median. "files/s (start-up left out)" leaves out the process's start (imports, model load), measured
once per checkout as the time of the same command on one file; "files/CPU-s" divides by the process's
CPU time (all threads), which other jobs on a shared machine move much less than the wall time.

The ceiling is the model alone: AASIST-L forward passes on ``[32, 64600]`` random clips (eval,
inference mode), as the "inference, batch 32" row of ``bench_aasist.py``.

The model is AASIST-L with random weights (the architecture of the official one, so the same cost), or
``--model``. From the repository root:
``PYTHONPATH=. python benchmarks/bench_detect_files.py --files 240 --checkouts before=/tmp/before after=.``
Prints a markdown table (copy it to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

from benchmarks.bench_detect_memory import speech_like


def random_aasist_l(folder: Path) -> Path:
    from codecfake_hf.models.aasist import AasistConfig, AasistFeatureExtractor, AasistForAudioClassification

    torch.manual_seed(0)
    config = AasistConfig.from_preset("AASIST-L")
    AasistForAudioClassification(config).eval().save_pretrained(folder)
    AasistFeatureExtractor(num_samples=config.num_samples).save_pretrained(folder)
    return folder


def model_rate(model: Path, threads: int, repeats: int = 3) -> tuple[float, float]:
    """Clips/s and clips per CPU-second of the model alone at batch 32 (best of ``repeats``)."""
    from transformers import AutoModelForAudioClassification

    from codecfake_hf.models.families import register_auto_classes

    register_auto_classes()  # the Auto classes load AASIST by its model type

    torch.set_num_threads(threads)
    network = AutoModelForAudioClassification.from_pretrained(model).eval()
    clips = torch.randn(32, 64600) * 0.1
    best, best_cpu = float("inf"), float("inf")
    with torch.inference_mode():
        network(input_values=clips[:2])
        for _ in range(repeats):
            start, cpu = time.perf_counter(), time.process_time()
            network(input_values=clips)
            best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
    return 32 / best, 32 / best_cpu


def run_detect(
    checkout: Path, model: Path, files: list[Path], batch_size: int | None, threads: int
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one ``codecfake detect`` process."""
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve()), "OMP_NUM_THREADS": str(threads)}
    env.update(HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    batch = ["--batch-size", str(batch_size)] if batch_size else []
    command = [
        sys.executable,
        "-m",
        "codecfake_cli",
        "detect",
        *map(str, files),
        "--model",
        str(model),
        "--json",
    ]
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command + batch, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - start, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument(
        "--checkouts", nargs="+", default=["current=."], help="NAME=PATH of each checkout to time"
    )
    parser.add_argument("--batch-sizes", default="4,32", help="--batch-size values (the default first)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--model", type=Path, default=None, help="a saved detector (default: random AASIST-L)"
    )
    args = parser.parse_args()
    checkouts = {item.split("=", 1)[0]: Path(item.split("=", 1)[1]) for item in args.checkouts}
    with tempfile.TemporaryDirectory(prefix="bench_detect_files_") as scratch:
        root = Path(scratch)
        model = args.model or random_aasist_l(root / "aasist-l")
        files = []
        for index in range(args.files):
            seconds = 3.0 + (index % 11) / 10
            files.append(root / f"clip-{index:04d}.wav")
            sf.write(files[-1], speech_like(seconds, 16000, seed=index), 16000, subtype="PCM_16")
        load = [os.getloadavg()[0]]
        startup = {
            name: run_detect(path, model, files[:1], None, args.threads) for name, path in checkouts.items()
        }
        times: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for _ in range(args.repeats):
            for size in map(int, args.batch_sizes.split(",")):
                for name, path in checkouts.items():
                    times.setdefault((name, size), []).append(
                        run_detect(path, model, files, size, args.threads)
                    )
        ceiling = model_rate(model, args.threads)
        load.append(os.getloadavg()[0])
    print(f"{args.files} clips of 3-4 s (one window each), AASIST-L, {args.threads} threads; "
          f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end\n")  # fmt: skip
    print(
        "| checkout | --batch-size | wall s (median) | files/s | files/s (start-up left out) | files/CPU-s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for (name, size), runs in times.items():
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        scoring = args.files / max(wall - startup[name][0], 1e-9)
        print(
            f"| {name} | {size} | {wall:.1f} | {args.files / wall:.2f} | {scoring:.2f} | {args.files / cpu:.2f} |"
        )
    print(
        f"| model alone, batch 32 (ceiling) | 32 | | {ceiling[0]:.2f} | {ceiling[0]:.2f} | {ceiling[1]:.2f} |"
    )


if __name__ == "__main__":
    main()
