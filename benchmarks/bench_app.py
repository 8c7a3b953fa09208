"""Latency and memory of ``codecfake app`` on the CPU, next to ``codecfake detect`` on the same files.

Starts the app (``python -m codecfake_cli app --model M --port P``, a subprocess, CPU) and sends it
requests through ``gradio_client`` (the "/detect" API the Detect button calls, ``--mode full``): 20 for a
4 s speech-like clip and 20 for a 60 s one, timing each from the call to the answer (upload, queue,
scoring, page), then more 4 s requests up to 100 in all, and reads the server's peak RSS (``VmHWM``) at
start and after the 100. ``codecfake detect FILE --model M --mode full --json`` runs on the same files in a
fresh process each time (median of 3): its wall time includes the start (imports, model load), which the
app pays once.

The model is AASIST-L with random weights (the official architecture, the same cost), or ``--model``.
From the repository root: ``PYTHONPATH=. python benchmarks/bench_app.py``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.bench_detect_files import random_aasist_l
from benchmarks.bench_detect_memory import speech_like


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (``VmHWM``), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def detect_seconds(model: Path, path: Path, threads: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "codecfake_cli",
        "detect",
        str(path),
        "--model",
        str(model),
        "--mode",
        "full",
    ]
    start = time.perf_counter()
    subprocess.run([*command, "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, default=None, help="a saved detector (default: random AASIST-L)"
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per clip")
    parser.add_argument("--total", type=int, default=100, help="requests before the peak RSS is read")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=7899)
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory(prefix="bench_app_") as scratch:
        root = Path(scratch)
        model = args.model or random_aasist_l(root / "aasist-l")
        clips = {}
        for seconds in (4, 60):
            clips[seconds] = root / f"speech-{seconds}s.wav"
            sf.write(clips[seconds], speech_like(seconds, 16000, seed=seconds), 16000, subtype="PCM_16")
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1"}
        env["GRADIO_ANALYTICS_ENABLED"] = "False"
        command = [
            sys.executable,
            "-m",
            "codecfake_cli",
            "app",
            "--model",
            str(model),
            "--port",
            str(args.port),
        ]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load = [os.getloadavg()[0]]
        try:
            url = f"http://127.0.0.1:{args.port}/"
            for _ in range(600):
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            client = Client(url, verbose=False)
            at_start = peak_rss_mb(server.pid)
            latencies: dict[int, list[float]] = {}
            sent = 0
            for seconds, path in clips.items():
                for _ in range(args.requests):
                    start = time.perf_counter()
                    client.predict(handle_file(str(path)), None, "full", 0.5, api_name="/detect")
                    latencies.setdefault(seconds, []).append(time.perf_counter() - start)
                    sent += 1
            while sent < args.total:
                client.predict(handle_file(str(clips[4])), None, "full", 0.5, api_name="/detect")
                sent += 1
            after = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        detect = {
            seconds: statistics.median(detect_seconds(model, path, args.threads) for _ in range(3))
            for seconds, path in clips.items()
        }
        load.append(os.getloadavg()[0])
    print(f"AASIST-L, CPU, {args.threads} threads, --mode full; 1-minute load average {load[0]:.1f} at the start, "
          f"{load[1]:.1f} at the end\n")  # fmt: skip
    print("| clip | app p50 s | app p95 s | `codecfake detect` s (process, median of 3) |")
    print("|---|---:|---:|---:|")
    for seconds, runs in latencies.items():
        p50, p95 = np.percentile(runs, [50, 95])
        print(f"| {seconds} s | {p50:.2f} | {p95:.2f} | {detect[seconds]:.2f} |")
    print(f"\nApp peak RSS: {at_start:.0f} MB once started, {after:.0f} MB after {sent} requests.")


if __name__ == "__main__":
    main()
