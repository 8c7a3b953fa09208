"""Training AASIST / AASIST-L detectors on a CodecFake config with Accelerate.

``accelerate launch train.py --config E`` runs :func:`train`: DDP over every process Accelerate
starts (GPUs, nodes, or CPU processes with ``ACCELERATE_USE_CPU=1``), optional bf16/fp16, gradient
accumulation, validation EER each epoch, the best model by validation EER saved with
``save_pretrained``, and full-state checkpoints (model, optimizer, scheduler, RNGs, progress) so
``--resume`` continues exactly where a run stopped.

Determinism: the train order comes from a seedable sampler (seed + epoch) and each training crop
from ``numpy.random.default_rng([seed, epoch, index])``, so neither depends on worker layout or on
where a run was resumed; dropout draws from torch's RNG, which the checkpoints restore.

Recipes (``--recipe``):

- ``paper`` (default): the CodecFake paper's search result on top of AASIST's official recipe:
  Adam, lr 1e-3, batch 16, weighted cross-entropy [spoof 0.1, bona fide 0.9], weight decay 1e-4,
  cosine decay per step to 5e-6; the paper does not state the epoch count, so AASIST's 100 is kept.
- ``official``: AASIST's released recipe (``../shared/aasist/FACTS.md`` §7): Adam lr 1e-4, batch 24,
  weight decay 1e-4, per-step cosine to 5e-6, 100 epochs, the same class weights (SWA is not
  reproduced).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, DistributedDataParallelKwargs, set_seed
from tqdm.auto import tqdm

from codecfake_hf.data import load_labelled_dataset, load_waveform
from codecfake_hf.metrics import compute_eer

RECIPES: dict[str, dict] = {
    "paper": {"learning_rate": 1e-3, "batch_size": 16, "weight_decay": 1e-4, "epochs": 100},
    "official": {"learning_rate": 1e-4, "batch_size": 24, "weight_decay": 1e-4, "epochs": 100},
}


@dataclass
class TrainingConfig:
    """Every option of a training run (also loadable from a YAML/JSON file).

    Fields left as None take the recipe's value (see the module docstring).
    """

    config: str = "E"  # CodecFake subset to train on
    dataset: str = "codecfake"  # local dataset folder or Hub id
    output_dir: str | None = None  # default: runs/<model>-<config>
    model: str = "AASIST-L"  # preset ("AASIST", "AASIST-L", "tiny") or a pretrained folder / Hub id
    recipe: str = "paper"
    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None  # per process
    weight_decay: float | None = None
    scheduler: str = "cosine"  # "cosine" (per step, to min_learning_rate) or "constant"
    min_learning_rate: float = 5e-6
    class_weights: tuple[float, float] = (0.1, 0.9)  # (spoof, bona fide)
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "no"  # "no", "bf16", "fp16"
    seed: int = 1234
    num_workers: int = 2
    resume: bool = False
    checkpoint_steps: int | None = None  # also checkpoint every N optimizer steps (mid-epoch)
    keep_checkpoints: int = 2
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    eval_batch_size: int | None = None
    log_with: list[str] = field(
        default_factory=lambda: ["auto"]
    )  # trackers; "auto" = tensorboard if installed

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        for key, value in RECIPES[self.recipe].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.scheduler not in ("cosine", "constant"):
            raise ValueError(f"unknown scheduler {self.scheduler!r}; choose cosine or constant")
        self.class_weights = tuple(float(w) for w in self.class_weights)
        if self.output_dir is None:
            self.output_dir = str(Path("runs") / f"{Path(self.model).name.lower()}-{self.config}")

    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides) -> TrainingConfig:
        """Read options from a YAML or JSON file; ``overrides`` (non-None) win over the file."""
        import yaml

        text = Path(path).read_text()
        values = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values or {}) - known
        if unknown:
            raise ValueError(f"{path}: unknown training options {sorted(unknown)}")
        values = {**(values or {}), **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**values)


class WaveformDataset(torch.utils.data.Dataset):
    """Labelled audio -> fixed-length 16 kHz windows for AASIST.

    Training windows are random (``mode="random"``) and seeded by ``(seed, epoch, index)``;
    evaluation windows are the deterministic first 64,600 samples (``mode="first"``).
    """

    def __init__(self, dataset, feature_extractor, mode: str, seed: int = 0) -> None:
        self.dataset = dataset
        self.feature_extractor = feature_extractor
        self.mode = mode
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        row = self.dataset[index]
        waveform = load_waveform(row["audio"], self.feature_extractor.sampling_rate, row.get("utterance_id"))
        rng = np.random.default_rng([self.seed, self.epoch, index])
        window = self.feature_extractor(waveform, mode=self.mode, seed=rng, return_tensors="pt")
        return window["input_values"][0], int(row["label"])


def collate(batch: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    windows, labels = zip(*batch)
    return {"input_values": torch.stack(windows), "labels": torch.tensor(labels, dtype=torch.long)}


def build_model(name_or_path: str):
    """A fresh model from a preset ("AASIST", "AASIST-L", "tiny") or a pretrained one (folder or
    Hub id), with its feature extractor."""
    from codecfake_hf.models.aasist import (
        AASIST_PRESETS,
        AasistConfig,
        AasistFeatureExtractor,
        AasistForAudioClassification,
    )

    if name_or_path in AASIST_PRESETS:
        config = AasistConfig.from_preset(name_or_path)
        return AasistForAudioClassification(config), AasistFeatureExtractor(num_samples=config.num_samples)
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    model = AutoModelForAudioClassification.from_pretrained(name_or_path)
    return model, AutoFeatureExtractor.from_pretrained(name_or_path)


def _subset(dataset, limit: int | None, seed: int):
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(limit))


class Progress:
    """Run progress stored in every checkpoint: epoch, optimizer step inside it, the epoch's running
    training loss (already averaged over processes), best validation EER."""

    def __init__(self) -> None:
        self.epoch, self.step_in_epoch, self.best_eer = 0, 0, math.inf
        self.loss_sum, self.loss_count = 0.0, 0

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        vars(self).update(state)


def _batch_seed(seed: int, epoch: int, batch_index: int, process_index: int) -> int:
    """A 63-bit torch seed that depends only on the run seed and the batch's position."""
    return int(
        np.random.SeedSequence([seed, epoch, batch_index, process_index]).generate_state(1, np.uint64)[0] >> 1
    )


def _trackers(requested: list[str]) -> list[str]:
    if requested != ["auto"]:
        return [t for t in requested if t != "none"]
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return []
    return ["tensorboard"]


@torch.no_grad()
def validation_eer(model, loader, accelerator: Accelerator) -> float:
    """EER (fraction) of ``logits[:, 1]`` over the whole validation set, gathered across processes."""
    model.eval()
    scores, labels = [], []
    for batch in tqdm(loader, desc="validation", disable=not accelerator.is_local_main_process, leave=False):
        logits = model(input_values=batch["input_values"]).logits
        batch_scores, batch_labels = accelerator.gather_for_metrics((logits[:, 1].float(), batch["labels"]))
        scores.append(batch_scores.cpu())
        labels.append(batch_labels.cpu())
    model.train()
    return compute_eer(torch.cat(scores).numpy(), torch.cat(labels).numpy())[0]


def _checkpoints(output_dir: Path) -> list[Path]:
    """Saved full-state checkpoints, oldest first."""
    found = [p for p in (output_dir / "checkpoints").glob("step_*") if (p / "progress.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def train(config: TrainingConfig) -> Path:
    """Run training; returns the folder of the best model (``<output_dir>/best``)."""
    output_dir = Path(config.output_dir)
    accelerator = Accelerator(
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=config.mixed_precision,
        log_with=_trackers(config.log_with) or None,
        project_dir=str(output_dir),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=config.seed),
        # AASIST keeps upstream's bypassed ``bn1`` parameters (strict loading), which never get a
        # gradient; DDP must be told that some parameters are unused.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    set_seed(config.seed)
    output_dir.mkdir(parents=True, exist_ok=True)
    model, feature_extractor = build_model(config.model)
    train_data = _subset(
        load_labelled_dataset(config.dataset, config.config, "train"), config.max_train_samples, config.seed
    )
    eval_data = _subset(
        load_labelled_dataset(config.dataset, config.config, "validation"),
        config.max_eval_samples,
        config.seed,
    )
    train_set = WaveformDataset(train_data, feature_extractor, "random", config.seed)
    train_loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    eval_loader = torch.utils.data.DataLoader(
        WaveformDataset(eval_data, feature_extractor, "first"),
        batch_size=config.eval_batch_size or config.batch_size,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    if len(train_loader) == 0:
        raise ValueError(f"{config.dataset}/{config.config}: fewer training examples than one batch")
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    train_loader = accelerator.prepare(train_loader)  # split across processes before the horizon is counted
    steps_per_epoch = math.ceil(len(train_loader) / config.gradient_accumulation_steps)  # per process
    # A prepared scheduler steps once per process for every optimizer step, so its horizon is this
    # process's optimizer steps times the number of processes.
    total_steps = max(1, steps_per_epoch * config.epochs * accelerator.num_processes)

    def lr_factor(step: int) -> float:
        if config.scheduler == "constant":
            return 1.0
        floor = config.min_learning_rate / config.learning_rate
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    model, optimizer, eval_loader, scheduler = accelerator.prepare(model, optimizer, eval_loader, scheduler)
    progress = Progress()
    accelerator.register_for_checkpointing(progress)
    class_weights = torch.tensor(config.class_weights, device=accelerator.device)

    if config.resume and _checkpoints(output_dir):
        latest = _checkpoints(output_dir)[-1]
        accelerator.load_state(str(latest))
        accelerator.print(f"resumed from {latest} (epoch {progress.epoch}, step {progress.step_in_epoch})")
    elif config.resume:
        accelerator.print(f"--resume: no checkpoint in {output_dir / 'checkpoints'}; starting fresh")
    accelerator.init_trackers("codecfake", config=_flat(config))

    def save_checkpoint() -> None:
        global_step = progress.epoch * steps_per_epoch + progress.step_in_epoch
        target = output_dir / "checkpoints" / f"step_{global_step}"
        accelerator.save_state(str(target))
        if accelerator.is_main_process:
            (target / "progress.json").write_text(json.dumps(progress.state_dict()))
            for old in _checkpoints(output_dir)[: -config.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)
        accelerator.wait_for_everyone()

    model.train()
    while progress.epoch < config.epochs:
        epoch = progress.epoch
        train_set.set_epoch(epoch)
        train_loader.set_epoch(epoch)
        batches = train_loader
        skip = progress.step_in_epoch * config.gradient_accumulation_steps
        if skip:
            batches = accelerator.skip_first_batches(train_loader, skip)
        bar = tqdm(
            total=steps_per_epoch,
            initial=progress.step_in_epoch,
            desc=f"epoch {epoch + 1}/{config.epochs}",
            disable=not accelerator.is_local_main_process,
        )
        for batch_index, batch in enumerate(batches, start=skip):
            # Dropout draws from a generator seeded by the batch's position, not from whatever the
            # run consumed before it, so a resumed run repeats the uninterrupted one exactly.
            torch.manual_seed(_batch_seed(config.seed, epoch, batch_index, accelerator.process_index))
            with accelerator.accumulate(model):
                logits = model(input_values=batch["input_values"]).logits
                loss = torch.nn.functional.cross_entropy(
                    logits.float(), batch["labels"], weight=class_weights
                )
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            # the mean over processes, so every process holds the same (checkpointed) running loss
            progress.loss_sum += accelerator.reduce(loss.detach(), reduction="mean").item()
            progress.loss_count += 1
            if accelerator.sync_gradients:
                progress.step_in_epoch += 1
                bar.update(1)
                if config.checkpoint_steps and progress.step_in_epoch % config.checkpoint_steps == 0:
                    save_checkpoint()
        bar.close()
        train_loss = progress.loss_sum / max(progress.loss_count, 1)
        eer = validation_eer(model, eval_loader, accelerator)
        metrics = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "validation_eer": eer,
            "learning_rate": scheduler.get_last_lr()[0],
        }
        accelerator.log(metrics, step=epoch + 1)
        improved = eer <= progress.best_eer
        progress.epoch, progress.step_in_epoch, progress.loss_sum, progress.loss_count = epoch + 1, 0, 0.0, 0
        if improved:
            progress.best_eer = eer
        if accelerator.is_main_process:
            with open(output_dir / "log.jsonl", "a") as log:
                log.write(json.dumps({**metrics, "best": improved}) + "\n")
            if improved:
                unwrapped = accelerator.unwrap_model(model)
                unwrapped.save_pretrained(output_dir / "best")
                feature_extractor.save_pretrained(output_dir / "best")
                (output_dir / "best" / "training_config.json").write_text(json.dumps(_flat(config), indent=2))
        accelerator.print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, validation EER {100 * eer:.2f}%")
        save_checkpoint()
    accelerator.end_training()
    return output_dir / "best"


def _flat(config: TrainingConfig) -> dict:
    """The config as JSON-able scalars (trackers reject lists)."""
    return {
        k: (",".join(map(str, v)) if isinstance(v, list | tuple) else v)
        for k, v in dataclasses.asdict(config).items()
    }
