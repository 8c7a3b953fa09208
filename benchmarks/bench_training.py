"""Does the training data loader keep up with the model? (CPU)

Builds a small CodecFake folder (synthetic VCTK-shaped corpus, ~3.5 s clips like VCTK; bona fide
48 kHz FLAC + config E at 24 kHz with a tiny codec, so the loader sees the real formats), then
measures:

- loader clips/s: ``training.WaveformDataset`` through a ``DataLoader`` exactly as ``train.py`` uses
  it (parquet row -> FLAC decode -> soxr resample to 16 kHz -> random 64,600-sample crop -> batch 16),
  for several ``num_workers``;
- model clips/s: AASIST-L training steps (batch 16, forward + weighted CE + backward + Adam).

Target: loader >= 3x model clips/s. Prints a markdown table.

    PYTHONPATH=. python benchmarks/bench_training.py [--utterances 64] [--workers 0 1 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


def loader_clips_per_second(dataset_dir: Path, workers: int, batch_size: int, max_batches: int) -> float:
    from codecfake_hf.data.loading import load_labelled_dataset
    from codecfake_hf.models.aasist import AasistFeatureExtractor
    from codecfake_hf.training.data import WaveformDataset, collate

    data = load_labelled_dataset(str(dataset_dir), "E", "train")
    loader = torch.utils.data.DataLoader(
        WaveformDataset(data, AasistFeatureExtractor(), "random", seed=0),
        batch_size=batch_size, shuffle=True, num_workers=workers, collate_fn=collate, drop_last=True,
    )  # fmt: skip
    iterator = iter(loader)
    next(iterator)  # worker start-up is not throughput
    start, clips = time.perf_counter(), 0
    for index, batch in enumerate(iterator):
        clips += batch["input_values"].shape[0]
        if index + 1 >= max_batches:
            break
    return clips / (time.perf_counter() - start)


def model_clips_per_second(batch_size: int, steps: int) -> float:
    from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification

    model = AasistForAudioClassification(AasistConfig.from_preset("AASIST-L")).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    weights = torch.tensor([0.1, 0.9])
    inputs, labels = torch.randn(batch_size, 64600) * 0.1, torch.randint(0, 2, (batch_size,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(input_values=inputs).logits, labels, weight=weights)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=12, help="per speaker (7 speakers)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed AASIST-L training steps")
    args = parser.parse_args()

    from codecfake_hf.markdown import markdown_table
    from dataset_builder.build import BuildOptions, build_codecfake
    from dataset_builder.synthetic import make_synthetic_vctk

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_synthetic_vctk(root / "vctk", utterances_per_speaker=args.utterances, seconds=(2.5, 4.5))
        build_codecfake(root / "vctk", root / "codecfake", ["E"], BuildOptions(tiny=True, batch_size=8))
        rows = [("what", "threads / workers", "clips/s")]
        model = model_clips_per_second(args.batch_size, args.steps)
        rows.append(
            ("AASIST-L training step (batch 16)", f"{torch.get_num_threads()} threads", f"{model:.2f}")
        )
        for workers in args.workers:
            speed = loader_clips_per_second(root / "codecfake", workers, args.batch_size, max_batches=8)
            rows.append((f"loader (decode + resample + crop), x{speed / model:.1f} model", f"{workers} workers",
                         f"{speed:.1f}"))  # fmt: skip
    print(markdown_table(rows[1:], rows[0], align=["left", "left", "right"]))


if __name__ == "__main__":
    main()
