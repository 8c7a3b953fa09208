"""Training's loop: epochs of optimizer steps, validation, the choice of the best epoch, the weight
average's last pass, and what they write (``best/``, ``swa/``, ``log.jsonl``).

Each epoch trains on the shuffled windows (the loss is the model's own, ``forward(labels=)``),
computes the validation EER over all processes, keeps the best model by validation EER in
``best/`` (ties to the later epoch; with ``--swa`` such an epoch is also a snapshot of the average)
and ends with a checkpoint. Dropout draws from a generator seeded by the batch's position, so a
resumed run repeats the uninterrupted one exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from codecfake_hf.metrics import compute_eer
from codecfake_hf.training.averaging import SnapshotAverage
from codecfake_hf.training.checkpoints import Progress, save_checkpoint
from codecfake_hf.training.config import TrainingConfig
from codecfake_hf.training.data import TrainingData


@dataclass
class TrainingRun:
    """Everything the steps of a run share, prepared by Accelerate (``model`` wrapped for DDP,
    loaders split across processes). ``steps_per_epoch``: this process's optimizer steps per epoch;
    ``average``: the weight average (``--swa``), else None."""

    config: TrainingConfig
    accelerator: Accelerator
    model: torch.nn.Module
    feature_extractor: object
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    data: TrainingData
    steps_per_epoch: int
    average: SnapshotAverage | None
    progress: Progress = field(default_factory=Progress)

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    def save_checkpoint(self) -> None:
        """A checkpoint at this process's optimizer step of the run (:func:`~codecfake_hf.training.checkpoints.save_checkpoint`)."""
        step = self.progress.epoch * self.steps_per_epoch + self.progress.step_in_epoch
        save_checkpoint(
            self.accelerator, self.output_dir, step, self.progress, self.average, self.config.keep_checkpoints
        )


def batch_seed(seed: int, epoch: int, batch_index: int, process_index: int) -> int:
    """A 63-bit torch seed that depends only on the run seed and the batch's position."""
    return int(
        np.random.SeedSequence([seed, epoch, batch_index, process_index]).generate_state(1, np.uint64)[0] >> 1
    )


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


def train_epoch(run: TrainingRun) -> float:
    """The optimizer steps of epoch ``run.progress.epoch`` not yet taken (a resumed epoch skips the
    batches it had done), with a checkpoint every ``--checkpoint-steps``; returns the epoch's mean
    training loss (over processes and batches)."""
    config, accelerator, progress = run.config, run.accelerator, run.progress
    epoch, loader = progress.epoch, run.data.train_loader
    run.data.train_set.set_epoch(epoch)
    loader.set_epoch(epoch)
    skip = progress.step_in_epoch * config.gradient_accumulation_steps
    batches = accelerator.skip_first_batches(loader, skip) if skip else loader
    bar = tqdm(
        total=run.steps_per_epoch,
        initial=progress.step_in_epoch,
        desc=f"epoch {epoch + 1}/{config.epochs}",
        disable=not accelerator.is_local_main_process,
    )
    for batch_index, batch in enumerate(batches, start=skip):
        torch.manual_seed(batch_seed(config.seed, epoch, batch_index, accelerator.process_index))
        with accelerator.accumulate(run.model):
            loss = run.model(**batch).loss
            accelerator.backward(loss)
            run.optimizer.step()
            run.scheduler.step()
            run.optimizer.zero_grad()
        # the mean over processes, so every process holds the same (checkpointed) running loss
        progress.loss_sum += accelerator.reduce(loss.detach(), reduction="mean").item()
        progress.loss_count += 1
        if accelerator.sync_gradients:
            progress.step_in_epoch += 1
            bar.update(1)
            if config.checkpoint_steps and progress.step_in_epoch % config.checkpoint_steps == 0:
                run.save_checkpoint()
    bar.close()
    return progress.loss_sum / max(progress.loss_count, 1)


def select_epoch(run: TrainingRun, train_loss: float, eer: float) -> None:
    """Close epoch ``run.progress.epoch``: log its metrics, and if its validation ``eer`` is not worse
    than the best so far save the model in ``best/`` (and add it to the weight average)."""
    config, accelerator, progress = run.config, run.accelerator, run.progress
    epoch = progress.epoch
    metrics = {
        "epoch": epoch + 1,
        "train_loss": train_loss,
        "validation_eer": eer,
        "learning_rate": run.scheduler.get_last_lr()[0],
    }
    accelerator.log(metrics, step=epoch + 1)
    improved = eer <= progress.best_eer
    progress.epoch, progress.step_in_epoch, progress.loss_sum, progress.loss_count = epoch + 1, 0, 0.0, 0
    if improved:
        progress.best_eer = eer
        if run.average is not None:
            run.average.add(accelerator.unwrap_model(run.model))
            metrics["swa_snapshots"] = run.average.snapshots
    if accelerator.is_main_process:
        _append_log(run.output_dir, {**metrics, "best": improved, "mixed_precision": config.mixed_precision})
        if improved:
            model = accelerator.unwrap_model(run.model)
            _save_detector(run.output_dir / "best", model, run.feature_extractor, config)
    accelerator.print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, validation EER {100 * eer:.2f}%")


def run_epochs(run: TrainingRun) -> None:
    """Train until ``--epochs`` are done, from wherever ``run.progress`` stands; a checkpoint ends
    every epoch."""
    run.model.train()
    while run.progress.epoch < run.config.epochs:
        train_loss = train_epoch(run)
        select_epoch(run, train_loss, validation_eer(run.model, run.data.eval_loader, run.accelerator))
        run.save_checkpoint()


def finish_average(run: TrainingRun) -> Path:
    """Recompute the weight average's BatchNorm statistics over one pass of the training data (windows
    of epoch ``--epochs``, dropout seeded like a training batch), log its validation EER and save it
    (with ``training_config.json``) in ``<output_dir>/swa``; returns that folder."""
    config, accelerator, average = run.config, run.accelerator, run.average
    run.data.train_set.set_epoch(config.epochs)
    run.data.train_loader.set_epoch(config.epochs)
    torch.manual_seed(batch_seed(config.seed, config.epochs, 0, accelerator.process_index))
    with accelerator.autocast():
        average.update_batch_norm((batch["input_values"] for batch in run.data.train_loader), accelerator)
    eer = validation_eer(average.model, run.data.eval_loader, accelerator)
    metrics = {"swa_validation_eer": eer, "swa_snapshots": average.snapshots}
    accelerator.log(metrics, step=config.epochs)
    folder = run.output_dir / "swa"
    if accelerator.is_main_process:
        _append_log(run.output_dir, metrics)
        _save_detector(folder, average.model, run.feature_extractor, config)
    accelerator.print(f"weight average of {average.snapshots} snapshots: validation EER {100 * eer:.2f}%")
    accelerator.wait_for_everyone()
    return folder


def _save_detector(folder: Path, model: torch.nn.Module, feature_extractor, config: TrainingConfig) -> None:
    """Write a detector folder: ``save_pretrained`` of the (unwrapped) model and its feature
    extractor (loadable with or without this package), and the run's ``training_config.json``."""
    model.save_pretrained(folder)
    feature_extractor.save_pretrained(folder)
    config.save(folder)


def _append_log(output_dir: Path, entry: dict) -> None:
    """Add one JSON line to ``output_dir/log.jsonl``."""
    with open(output_dir / "log.jsonl", "a") as log:
        log.write(json.dumps(entry) + "\n")
