"""AASIST(-L) speed on CPU or a GPU: this project's model against the official implementation, side by side.

Both models get the same official weights and the same inputs (random 4.04 s clips, 64,600
samples). Measured: inference clips/s at batch 1 and 32 (eval, no_grad) and training clips/s at
batch 16 (train mode, forward + weighted cross-entropy + backward + Adam step). Outputs are compared
(eval logits; and, with dropout off, the training loss and every gradient). Each figure is the best
of ``--repeats`` runs, ours and upstream interleaved, so that load from other processes hits both.
``--implementation fused eager`` measures ours with each ``AasistConfig.implementation`` (default:
the config's default), all in the same interleaved runs.

The official code is not part of this repository: fetch it into a scratch folder and pass it::

    python benchmarks/bench_aasist.py --upstream-dir /tmp/scratch_aasist   # official AASIST-L from tests/fixtures
    python benchmarks/bench_aasist.py --upstream-dir ... --device cuda   # on a GPU (waits for it)
    python benchmarks/bench_aasist.py --upstream-dir ... --implementation fused eager   # both paths

Prints a markdown table (copy it to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification
from codecfake_hf.models.aasist.configuration_aasist import AASIST_IMPLEMENTATIONS
from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_key, convert_state_dict

#: The official AASIST-L checkpoint committed with the tests (provenance: tests/fixtures/README.md).
OFFICIAL_CHECKPOINT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "aasist" / "AASIST-L.pth"
NUM_SAMPLES = 64600
GFLOP_PER_CLIP = {"AASIST-L": 13.2, "AASIST": 19.0}  # forward, multiply-add = 2 FLOP


def load_upstream(upstream_dir: Path, variant: str, state_dict: dict) -> torch.nn.Module:
    """The official ``Model`` from ``<upstream_dir>/models/AASIST.py`` with its ``config/<variant>.conf``."""
    spec = importlib.util.spec_from_file_location("upstream_aasist", upstream_dir / "models" / "AASIST.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model_config = json.loads((upstream_dir / "config" / f"{variant}.conf").read_text())["model_config"]
    model = module.Model(model_config)
    model.load_state_dict(state_dict, strict=True)
    return model


def logits_of(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    output = model(inputs)
    return output.logits if hasattr(output, "logits") else output[1]


def synchronize() -> None:
    """Wait for queued GPU work, so that wall-clock times cover it (no-op without CUDA)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(function) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call; CPU time is less sensitive to other load."""
    synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def best_rates(models: dict, step, batch: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Per model, (clips per wall second, clips per CPU second), each the best of ``repeats`` runs of
    ``step(name, model)``; the models alternate so that background load hits both."""
    best = {name: (float("inf"), float("inf")) for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            wall, cpu = timed(lambda n=name, m=model: step(n, m))
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return {name: (batch / wall, batch / cpu) for name, (wall, cpu) in best.items()}


def random_clips(seed: int, batch: int, device: torch.device) -> torch.Tensor:
    """``[batch, 64600]`` float32 noise clips (std 0.1), the same for a seed on every device."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.normal(0, 0.1, (batch, NUM_SAMPLES)).astype(np.float32)).to(device)


def inference_rates(models: dict, batch: int, repeats: int, device: torch.device) -> tuple[dict, dict]:
    """Rates per model at ``batch`` (see :func:`best_rates`) and, per model, the max |logit
    difference| to upstream."""
    inputs = random_clips(batch, batch, device)
    with torch.no_grad():
        outputs = {name: logits_of(model.eval(), inputs) for name, model in models.items()}  # warm-up
        rates = best_rates(models, lambda name, model: logits_of(model, inputs), batch, repeats)
    return rates, {
        name: float((logits - outputs["upstream"]).abs().max()) for name, logits in outputs.items()
    }


def training_step(model: torch.nn.Module, optimizer, inputs, labels, weights) -> torch.Tensor:
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(logits_of(model, inputs), labels, weight=weights)
    loss.backward()
    optimizer.step()
    return loss


def training_rates(models: dict, batch: int, repeats: int, device: torch.device) -> dict:
    """Rates of a training step (forward, weighted CE, backward, Adam) at ``batch``."""
    inputs = random_clips(16, batch, device)
    labels = torch.from_numpy(np.random.default_rng(16).integers(0, 2, batch)).to(device)
    weights = torch.tensor([0.1, 0.9], device=device)
    optimizers = {
        name: torch.optim.Adam(m.parameters(), lr=1e-4, weight_decay=1e-4) for name, m in models.items()
    }
    for name, model in models.items():
        training_step(model.train(), optimizers[name], inputs, labels, weights)  # warm-up
    return best_rates(
        models,
        lambda name, model: training_step(model, optimizers[name], inputs, labels, weights),
        batch,
        repeats,
    )


def training_gradient_difference(ours, upstream, device: torch.device, batch: int = 4) -> tuple[float, float]:
    """One training batch with every dropout off, on copies of the models: the |loss difference| and
    the relative difference of all gradients, ``||g_ours - g_upstream|| / ||g_upstream||``."""
    inputs = random_clips(4, batch, device)
    labels = torch.tensor([0, 1] * (batch // 2), device=device)
    losses, grads = {}, {}
    for name, model in (("ours", copy.deepcopy(ours)), ("upstream", copy.deepcopy(upstream))):
        model.train()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        loss = F.cross_entropy(
            logits_of(model, inputs), labels, weight=torch.tensor([0.1, 0.9], device=device)
        )
        loss.backward()
        losses[name] = float(loss.detach())
        grads[name] = {key: p.grad for key, p in model.named_parameters() if p.grad is not None}
    mapped = {convert_key(key): grad for key, grad in grads["upstream"].items()}
    assert mapped.keys() == grads["ours"].keys(), "the two models train different parameters"
    reference = torch.cat([mapped[key].flatten() for key in sorted(mapped)])
    difference = torch.cat([(grads["ours"][key] - mapped[key]).flatten() for key in sorted(mapped)])
    return abs(losses["ours"] - losses["upstream"]), float(difference.norm() / reference.norm())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--upstream-dir", type=Path, required=True, help="a checkout of the official AASIST code"
    )
    parser.add_argument(
        "--checkpoint", type=Path, default=OFFICIAL_CHECKPOINT, help="an official AASIST(-L) .pth file"
    )
    parser.add_argument("--variant", choices=["AASIST", "AASIST-L"], default="AASIST-L")
    parser.add_argument(
        "--implementation",
        nargs="+",
        choices=AASIST_IMPLEMENTATIONS,
        default=[AasistConfig().implementation],
        help="AasistConfig.implementation(s) of ours to measure (default: the config's default)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sgemm-gflops", type=float, default=125.0, help="the machine's sgemm GFLOP/s")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--tf32", action="store_true", help="let CUDA use TF32 (default: true float32)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.tf32
    device = torch.device(args.device)

    official = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    models = {"upstream": load_upstream(args.upstream_dir, args.variant, official)}
    for implementation in args.implementation:
        config = AasistConfig.from_preset(args.variant, implementation=implementation)
        models[implementation] = AasistForAudioClassification(config)
        models[implementation].load_state_dict(convert_state_dict(official), strict=True)
    models = {name: model.to(device) for name, model in models.items()}
    load_before = os.getloadavg()[0]

    rows = []
    differences = []
    for batch in (1, 32):
        rates, difference = inference_rates(models, batch, args.repeats, device)
        rows.append((f"inference, batch {batch}", rates))
        differences.append(difference)
    if not args.skip_training:
        training_differences = {
            name: training_gradient_difference(models[name], models["upstream"], device)
            for name in args.implementation
        }
        rows.append(
            ("training step, batch 16 (fwd + bwd + Adam)", training_rates(models, 16, args.repeats, device))
        )

    bound = args.sgemm_gflops / GFLOP_PER_CLIP[args.variant]
    where = f"{args.threads} threads"
    if device.type == "cuda":
        where = f"{torch.cuda.get_device_name(device)}, TF32 {'on' if args.tf32 else 'off'}"
    print(f"{args.variant}, {where}, torch {torch.__version__}, best of {args.repeats}")
    print(f"load average (1 min) at start / end: {load_before:.1f} / {os.getloadavg()[0]:.1f}\n")
    print(
        "| measurement | ours | upstream clips/s | ours clips/s | speed-up "
        "| upstream clips/CPU-s | ours clips/CPU-s | speed-up |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, rates in rows:
        up_wall, up_cpu = rates["upstream"]
        for name in args.implementation:
            our_wall, our_cpu = rates[name]
            print(
                f"| {label} | {name} | {up_wall:.2f} | {our_wall:.2f} | {our_wall / up_wall:.2f}x "
                f"| {up_cpu:.2f} | {our_cpu:.2f} | {our_cpu / up_cpu:.2f}x |"
            )
    print()
    for name in args.implementation:
        print(
            f"{name}: max |logit difference| to upstream: batch 1 {differences[0][name]:.2e}, "
            f"batch 32 {differences[1][name]:.2e}",
            end="",
        )
        if not args.skip_training:
            loss_difference, gradient_difference = training_differences[name]
            print(
                f"; training (dropout off, batch 4): |loss difference| {loss_difference:.2e}, "
                f"relative gradient difference {gradient_difference:.2e}",
                end="",
            )
        print()
    if device.type != "cpu":
        return
    for name in args.implementation:
        rate = rows[1][1][name][0]
        print(
            f"compute bound: {GFLOP_PER_CLIP[args.variant]} GFLOP/clip at {args.sgemm_gflops:.0f} GFLOP/s = "
            f"{bound:.2f} clips/s; {name} at batch 32 reaches {rate / bound:.0%} of it"
        )


if __name__ == "__main__":
    main()
