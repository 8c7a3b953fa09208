"""SSL-AASIST speed and memory on CPU (or a GPU): the ``tiny`` and the full ``xls-r-300m`` presets.

Random initialisation (same architecture and arithmetic as the pre-trained model). Inputs are random
4.04 s clips (64,600 samples at 16 kHz). Measured per preset: inference clips/s (eval, no_grad) and
training clips/s (train mode, forward + weighted cross-entropy + backward + Adam step over the whole
model, as the official recipe fine-tunes it), each the best of ``--repeats`` timed runs after one
warm-up; and the peak memory of the process (CPU: peak RSS, which only grows, so presets run
smallest first; GPU: ``torch.cuda.max_memory_allocated`` per phase).

    PYTHONPATH=. python benchmarks/bench_ssl_aasist.py --threads 2 --repeats 2
    PYTHONPATH=. python benchmarks/bench_ssl_aasist.py --device cuda --batch 8 --train-batch 8

Prints a markdown table (copy it to benchmarks/RESULTS.md, with the machine and its load).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import torch

from codecfake_hf.models.families import build_ssl_aasist
from codecfake_hf.training.optimization import parameter_groups

NUM_SAMPLES = 64600


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def best_clips_per_second(step, batch: int, repeats: int, device: torch.device) -> float:
    step()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return batch / best


def measure(preset: str, args: argparse.Namespace, device: torch.device) -> dict:
    torch.manual_seed(0)
    model, _ = build_ssl_aasist(preset)
    model.to(device)
    parameters = sum(p.numel() for p in model.parameters())
    inputs = torch.randn(args.batch, NUM_SAMPLES, device=device)
    model.eval()

    def infer():
        with torch.no_grad():
            model(inputs)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    inference = best_clips_per_second(infer, args.batch, args.repeats, device)
    inference_memory = peak_memory_mb(device)

    train_inputs = torch.randn(args.train_batch, NUM_SAMPLES, device=device)
    labels = torch.arange(args.train_batch, device=device) % 2
    optimizer = torch.optim.Adam(parameter_groups(model, model.ssl_model, 1e-6, weight_decay=1e-4))
    model.train()

    def train():
        optimizer.zero_grad(set_to_none=True)
        model(train_inputs, labels=labels).loss.backward()
        optimizer.step()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    training = best_clips_per_second(train, args.train_batch, args.repeats, device)
    return {
        "preset": preset,
        "parameters": parameters,
        "inference": inference,
        "inference_memory": inference_memory,
        "training": training,
        "training_memory": peak_memory_mb(device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "xls-r-300m"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--batch", type=int, default=2, help="inference batch (clips)")
    parser.add_argument("--train-batch", type=int, default=2, help="training batch (clips)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = [measure(preset, args, device) for preset in args.presets]
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU, {torch.get_num_threads()} threads"
    )
    print(f"device: {where}; torch {torch.__version__}; load average {os.getloadavg()[0]:.1f} at the end")
    memory = "peak GPU MiB (allocated)" if device.type == "cuda" else "peak RSS MiB (process, cumulative)"
    print(
        f"batch: inference {args.batch}, training {args.train_batch}; best of {args.repeats}; 64,600-sample clips\n"
    )
    print(
        f"| preset | parameters | inference clips/s | {memory}, inference | training clips/s | {memory}, training |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['preset']} | {row['parameters']:,} | {row['inference']:.2f} | {row['inference_memory']:.0f} "
            f"| {row['training']:.2f} | {row['training_memory']:.0f} |"
        )


if __name__ == "__main__":
    main()
