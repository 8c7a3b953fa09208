"""Training AASIST / AASIST-L detectors on a CodecFake subset with Accelerate.

``accelerate launch train.py --subset E`` runs :func:`train`: DDP over every process Accelerate
starts (GPUs, nodes, or CPU processes with ``ACCELERATE_USE_CPU=1``), optional bf16/fp16, gradient
accumulation, validation EER each epoch, the best model by validation EER saved with
``save_pretrained``, and full-state checkpoints (model, optimizer, scheduler, RNGs, progress) so
``--resume`` continues exactly where a run stopped.

Checkpoints are read without running anything in them: the model is safetensors, the progress JSON,
and Accelerate's optimizer, scheduler and RNG files load with ``weights_only=True``. Every file a
resume reads is checked first, on every process; a damaged latest checkpoint is named, set aside
(``step_N.damaged``) and the newest intact one is used instead.

Determinism: the train order comes from a seedable sampler (seed + epoch) and each training crop
from ``numpy.random.default_rng([seed, epoch, index])``, so neither depends on worker layout or on
where a run was resumed; dropout draws from torch's RNG, which the checkpoints restore.

With ``--swa`` (the ``release`` recipe) the run also keeps a stochastic weight average of the
epochs whose validation EER is not worse than the best so far
(:class:`~codecfake_hf.weight_averaging.SnapshotAverage`, checkpointed with the rest) and at the end
saves it, its BatchNorm statistics recomputed over the training data, in ``<output_dir>/swa``.

The options of a run and its recipes (``--recipe paper``, ``official`` or ``release``) are
:class:`~codecfake_hf.training_config.TrainingConfig`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import (
    OPTIMIZER_NAME,
    RNG_STATE_NAME,
    SAFE_MODEL_NAME,
    SCALER_NAME,
    SCHEDULER_NAME,
    DataLoaderConfiguration,
    DistributedDataParallelKwargs,
    gather_object,
    set_seed,
)
from accelerate.utils import load as accelerate_load
from tqdm.auto import tqdm
from transformers import get_scheduler

from codecfake_hf.atomic_files import atomic_path, unused_name
from codecfake_hf.augmentation import RawBoostConfig, rawboost
from codecfake_hf.checkpoint_files import CheckpointError, load_safetensors_file, load_torch_file
from codecfake_hf.data import load_labelled_dataset, load_waveform
from codecfake_hf.errors import user_error_message
from codecfake_hf.evaluation import calibrate_after_training
from codecfake_hf.json_files import read_json
from codecfake_hf.metrics import compute_eer
from codecfake_hf.training_config import SSL_AASIST_MODELS, TrainingConfig, TrainingConfigError
from codecfake_hf.weight_averaging import SnapshotAverage


class WaveformDataset(torch.utils.data.Dataset):
    """Labelled audio -> fixed-length windows for AASIST.

    Training windows are random (``mode="random"``) and seeded by ``(seed, epoch, index)``;
    evaluation windows are the deterministic first 64,600 samples (``mode="first"``), or random ones
    seeded the same way (the release's protocol; the epoch stays 0 unless :meth:`set_epoch` is called).
    Audio is resampled to the feature extractor's rate (16 kHz) with ``resampler`` (one of
    :data:`codecfake_hf.audio.RESAMPLERS`; ``"torchaudio"`` is the release's), or with
    ``native_rate=True`` fed at each file's own rate, not resampled (the release's early loader: 24,
    44.1 or 48 kHz audio then reaches filters designed for 16 kHz).
    With ``augmentation`` (RawBoost), the whole utterance is augmented before the window is cut,
    drawing from a generator seeded by ``(seed, epoch, index, augmentation_stream)``; the training
    set uses stream 1, an augmented validation set stream 2, so the two never share draws.
    """

    def __init__(
        self,
        dataset,
        feature_extractor,
        mode: str,
        seed: int = 0,
        native_rate: bool = False,
        augmentation: RawBoostConfig | None = None,
        resampler: str = "soxr",
        augmentation_stream: int = 1,
    ) -> None:
        self.dataset = dataset
        self.feature_extractor = feature_extractor
        self.mode = mode
        self.seed = seed
        self.augmentation = augmentation
        self.augmentation_stream = augmentation_stream
        self.resampler = resampler
        self.epoch = 0
        self.sampling_rate = None if native_rate else feature_extractor.sampling_rate

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        row = self.dataset[index]
        rate = self.sampling_rate
        waveform = load_waveform(row["audio"], rate, row.get("utterance_id"), self.resampler)
        if self.augmentation is not None and self.augmentation.algorithm:
            # its own generator, so the window is the same with or without augmentation
            augmentation_rng = np.random.default_rng([self.seed, self.epoch, index, self.augmentation_stream])
            # at --input-rate native the band edges are placed as if the audio were at the model rate
            waveform = rawboost(
                waveform, augmentation_rng, self.augmentation, rate or self.feature_extractor.sampling_rate
            )
        rng = np.random.default_rng([self.seed, self.epoch, index])
        window = self.feature_extractor(waveform, mode=self.mode, seed=rng, return_tensors="pt")
        return window["input_values"][0], int(row["label"])


def collate(batch: list[tuple[torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    windows, labels = zip(*batch)
    return {"input_values": torch.stack(windows), "labels": torch.tensor(labels, dtype=torch.long)}


def build_model(name_or_path: str):
    """A fresh model from a preset ("AASIST", "AASIST-L", "tiny"; "ssl-aasist" with the pre-trained
    XLS-R 300M front end, "ssl-aasist-tiny" all random) or a pretrained one (folder or Hub id,
    :func:`codecfake_hf.sources.load_audio_classifier`, loaded strictly:
    :class:`~codecfake_hf.checkpoints.CheckpointMismatchError` names any key that does not fit), with
    its feature extractor.

    Raises:
        SourceNotFoundError: ``ssl-aasist`` offline without XLS-R in the cache (names ``hf download``).
    """
    from codecfake_hf.models.aasist import (
        AASIST_PRESETS,
        AasistConfig,
        AasistFeatureExtractor,
        AasistForAudioClassification,
    )
    from codecfake_hf.models.aasist.building_ssl_aasist import build_ssl_aasist
    from codecfake_hf.sources import load_audio_classifier

    if name_or_path in AASIST_PRESETS:
        config = AasistConfig.from_preset(name_or_path)
        return AasistForAudioClassification(config), AasistFeatureExtractor(num_samples=config.num_samples)
    if name_or_path in SSL_AASIST_MODELS:
        preset = SSL_AASIST_MODELS[name_or_path]
        return build_ssl_aasist(preset, pretrained_front_end=preset != "tiny")
    return load_audio_classifier(name_or_path)


def optimizer_parameter_groups(model, config: TrainingConfig) -> list[dict] | list[torch.nn.Parameter]:
    """What the optimizer trains: the model's own parameter groups when it has them (SSL-AASIST:
    back end at ``learning_rate``, front end at ``front_end_learning_rate`` with ``layer_decay``,
    after the ``freeze_*`` options took their parameters out), else all its parameters.

    Raises:
        TrainingConfigError: front-end options for a model without a front end, or more layers to
            freeze than it has.
    """
    if not hasattr(model, "optimizer_parameter_groups"):
        if config.uses_ssl_options():
            raise TrainingConfigError(
                f"--model {config.model}: a {type(model).__name__} has no wav2vec 2.0 front end, so the "
                "SSL-AASIST options (--front-end-learning-rate, --layer-decay, --freeze-*) do not apply; leave them out"
            )
        return list(model.parameters())
    if config.freeze_feature_encoder:
        model.freeze_feature_encoder()
    if config.freeze_front_end_layers is not None:
        layers = len(model.ssl_model.encoder.layers)
        if config.freeze_front_end_layers > layers:
            raise TrainingConfigError(
                f"--freeze-front-end-layers {config.freeze_front_end_layers}: the front end of "
                f"--model {config.model} has {layers} layers; choose 0 to {layers}"
            )
        model.freeze_front_end(config.freeze_front_end_layers)
    return model.optimizer_parameter_groups(
        config.learning_rate, config.front_end_learning_rate, config.layer_decay, config.weight_decay
    )


#: The transformers schedule of each ``--scheduler`` value.
_SCHEDULES = {"cosine": "cosine_with_min_lr", "constant": "constant"}


def schedule_horizon(steps_per_epoch: int, epochs: int, num_processes: int) -> int:
    """How often the learning-rate schedule steps in a whole run: ``steps_per_epoch`` (this
    process's optimizer steps, after Accelerate split the data) times ``epochs`` times
    ``num_processes``, since a scheduler prepared by Accelerate steps once per process for every
    optimizer step. At least 1."""
    return max(1, steps_per_epoch * epochs * num_processes)


def learning_rate_schedule(
    optimizer: torch.optim.Optimizer, config: TrainingConfig, horizon: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """``config.scheduler`` as a transformers schedule: ``cosine`` is ``cosine_with_min_lr`` without
    warmup, from ``config.learning_rate`` at step 0 to ``config.min_learning_rate`` at step ``horizon``
    (:func:`schedule_horizon`); ``constant`` keeps the learning rate."""
    return get_scheduler(
        _SCHEDULES[config.scheduler],
        optimizer,
        num_warmup_steps=0,
        num_training_steps=horizon,
        scheduler_specific_kwargs={"min_lr": config.min_learning_rate},
    )


def _subset(dataset, limit: int | None, seed: int):
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(limit))


class Progress:
    """Run progress stored in every checkpoint as ``progress.json``: epoch, optimizer step inside it,
    the epoch's running training loss (already averaged over processes), best validation EER. The
    file is written last, so a checkpoint without it is one whose saving did not finish."""

    FILE = "progress.json"

    def __init__(self) -> None:
        self.epoch, self.step_in_epoch, self.best_eer = 0, 0, math.inf
        self.loss_sum, self.loss_count = 0.0, 0

    def save(self, folder: Path) -> None:
        """Write ``folder/progress.json`` atomically (JSON; no best EER yet is ``null``)."""
        state = {**vars(self), "best_eer": None if math.isinf(self.best_eer) else self.best_eer}
        with atomic_path(folder / self.FILE) as temporary:
            temporary.write_text(json.dumps(state))

    @classmethod
    def load(cls, folder: Path) -> Progress:
        """Read ``folder/progress.json``.

        Raises:
            CheckpointError: missing, not JSON, or not the fields and types this class writes.
        """
        path = folder / cls.FILE
        progress = cls()
        state = read_json(path, "saving this checkpoint did not finish", CheckpointError)
        counters = ("epoch", "step_in_epoch", "loss_count")
        valid = (
            set(state) == set(vars(progress))
            and all(type(state[key]) is int and state[key] >= 0 for key in counters)
            and type(state["loss_sum"]) in (int, float)
            and (state["best_eer"] is None or type(state["best_eer"]) in (int, float))
        )
        if not valid:
            raise CheckpointError(
                f"{path}: not the progress this trainer writes ({', '.join(sorted(vars(progress)))})"
            )
        vars(progress).update(
            state, best_eer=math.inf if state["best_eer"] is None else float(state["best_eer"])
        )
        progress.loss_sum = float(progress.loss_sum)
        return progress


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
    """Checkpoint folders ``step_N``, oldest first (complete or not: see :class:`Progress`)."""
    found = [p for p in (output_dir / "checkpoints").glob("step_*") if re.fullmatch(r"step_\d+", p.name)]
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def _complete_checkpoints(output_dir: Path) -> list[Path]:
    return [folder for folder in _checkpoints(output_dir) if (folder / Progress.FILE).is_file()]


def _checkpoint_problem(folder: Path, accelerator: Accelerator, averaged: bool = False) -> str | None:
    """What makes ``folder`` unusable for this process's resume (None if every file it will read
    loads): model safetensors, progress JSON, Accelerate's optimizer, scheduler, gradient scaler and
    this process's RNG state through ``weights_only`` loading, and with ``averaged`` the weight
    average's safetensors."""
    fix = "restore it from a copy or remove this checkpoint"
    try:
        pickled_objects = sorted(p.name for p in folder.glob("custom_checkpoint_*"))
        if pickled_objects:
            raise CheckpointError(
                f"{folder / pickled_objects[0]}: unexpected pickled object (this trainer keeps its progress in "
                f"{Progress.FILE} and never unpickles objects); {fix}"
            )
        Progress.load(folder)
        load_safetensors_file(folder / f"{SAFE_MODEL_NAME}.safetensors", fix)
        if averaged:
            load_safetensors_file(folder / SnapshotAverage.FILE, fix)
        names = [
            f"{OPTIMIZER_NAME}.bin",
            f"{SCHEDULER_NAME}.bin",
            f"{RNG_STATE_NAME}_{accelerator.process_index}.pkl",
        ]
        if accelerator.scaler is not None:
            names.append(SCALER_NAME)
        for name in names:
            load_torch_file(folder / name, fix, load=accelerate_load)
    except (CheckpointError, OSError) as error:
        return user_error_message(error) or " ".join(str(error).split())
    return None


def _resume_checkpoint(output_dir: Path, accelerator: Accelerator, averaged: bool = False) -> Path | None:
    """The newest checkpoint every process can read in full (None if there is none at all).

    Every process checks the files it will read and all take the same decision. Damaged newer
    checkpoints are named on stderr and renamed ``step_N.damaged`` (kept, never deleted); a folder
    whose save did not finish (no ``progress.json``) is skipped. ``averaged``: the run keeps a weight
    average, whose file must be intact too.

    Raises:
        CheckpointError: checkpoints exist but none is intact; names the newest's damaged file.
    """
    damaged: list[tuple[Path, str]] = []
    for folder in reversed(_complete_checkpoints(output_dir)):
        problems = [p for p in gather_object([_checkpoint_problem(folder, accelerator, averaged)]) if p]
        if not problems:
            for bad, problem in damaged:
                aside = unused_name(bad.with_name(bad.name + ".damaged"))
                _warn(accelerator, f"checkpoint {bad} is damaged ({problem}); set aside as {aside.name}")
                if accelerator.is_main_process:
                    bad.rename(aside)
            accelerator.wait_for_everyone()
            return folder
        damaged.append((folder, problems[0]))
    if damaged:
        raise CheckpointError(
            f"no intact checkpoint to resume from in {output_dir / 'checkpoints'}: {damaged[0][1]}"
        )
    return None


def _warn(accelerator: Accelerator, message: str) -> None:
    if accelerator.is_main_process:
        print(f"warning: {message}", file=sys.stderr)


def _check_output_dir(output_dir: Path, resume: bool) -> None:
    """Refuse to start a fresh run over an earlier one: its ``best/`` model and checkpoints would be
    replaced. With ``--resume`` the earlier run is continued instead.

    Raises:
        TrainingConfigError: ``output_dir`` holds ``best/`` or checkpoints and ``resume`` is False.
    """
    if resume:
        return
    earlier = ["best/"] if (output_dir / "best").is_dir() else []
    earlier += [f"checkpoints/{folder.name}" for folder in _checkpoints(output_dir)[-1:]]
    if earlier:
        raise TrainingConfigError(
            f"{output_dir}: holds an earlier run ({', '.join(earlier)}); nothing was "
            "changed: pass --resume to continue it, or choose another --output-dir for a new run"
        )


def train(config: TrainingConfig) -> Path:
    """Run training; returns the folder of the final model: ``<output_dir>/best`` (the lowest
    validation EER), or with ``config.swa`` ``<output_dir>/swa`` (the weight average).

    Raises:
        TrainingConfigError: a bad option, or ``output_dir`` holds an earlier run and ``resume`` is
            False (checked before anything is written).
    """
    output_dir = Path(config.output_dir)
    _check_output_dir(output_dir, config.resume)
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
    # what Accelerate resolved (train.py flag, else launcher / accelerate config / environment)
    config = dataclasses.replace(config, mixed_precision=accelerator.mixed_precision)
    accelerator.print(f"mixed precision: {config.mixed_precision}")
    set_seed(config.seed)
    model, feature_extractor = build_model(config.model)
    parameters = optimizer_parameter_groups(model, config)
    train_data = _subset(
        load_labelled_dataset(config.dataset, config.subset, "train"), config.max_train_samples, config.seed
    )
    eval_data = _subset(
        load_labelled_dataset(config.dataset, config.subset, "validation"),
        config.max_eval_samples,
        config.seed,
    )
    augmentation = (
        RawBoostConfig(algorithm=config.rawboost, fir_alignment=config.rawboost_alignment)
        if config.rawboost
        else None
    )
    input_options = {"native_rate": config.input_rate == "native", "resampler": config.resampler}
    train_set = WaveformDataset(
        train_data, feature_extractor, "random", config.seed, augmentation=augmentation, **input_options
    )
    train_loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    eval_loader = torch.utils.data.DataLoader(
        WaveformDataset(
            eval_data,
            feature_extractor,
            config.eval_window,
            config.seed,
            augmentation=augmentation if config.rawboost_validation else None,
            augmentation_stream=2,
            **input_options,
        ),
        batch_size=config.eval_batch_size or config.batch_size,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    if len(train_loader) == 0:
        raise TrainingConfigError(
            f"{config.dataset} config {config.subset}: {len(train_set)} training examples, fewer than one batch "
            f"({config.batch_size} per process); lower --batch-size"
        )
    output_dir.mkdir(parents=True, exist_ok=True)  # once model and data load: a failed check leaves none
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    train_loader = accelerator.prepare(train_loader)  # split across processes before the horizon is counted
    steps_per_epoch = math.ceil(len(train_loader) / config.gradient_accumulation_steps)  # per process
    horizon = schedule_horizon(steps_per_epoch, config.epochs, accelerator.num_processes)
    scheduler = learning_rate_schedule(optimizer, config, horizon)
    model, optimizer, eval_loader, scheduler = accelerator.prepare(model, optimizer, eval_loader, scheduler)
    progress = Progress()
    class_weights = torch.tensor(config.class_weights, device=accelerator.device)

    average = SnapshotAverage(accelerator.unwrap_model(model)) if config.swa else None
    resume_from = _resume_checkpoint(output_dir, accelerator, averaged=config.swa) if config.resume else None
    if resume_from is not None:
        try:
            accelerator.load_state(str(resume_from), load_kwargs={"weights_only": True})
        except (RuntimeError, ValueError, KeyError) as error:  # intact files of another model/optimizer
            reason = " ".join(str(error).split())[:300]
            raise CheckpointError(
                f"{resume_from}: does not fit this run's model or optimizer ({type(error).__name__}: {reason}); "
                "resume with the options it was saved with, or use another --output-dir"
            ) from error
        progress = Progress.load(resume_from)
        if average is not None:
            average.load(
                resume_from, "resume with the options it was saved with (--swa), or use another --output-dir"
            )
        accelerator.print(
            f"resumed from {resume_from} (epoch {progress.epoch}, step {progress.step_in_epoch})"
        )
    elif config.resume:
        accelerator.print(f"--resume: no checkpoint in {output_dir / 'checkpoints'}; starting fresh")
    accelerator.init_trackers("codecfake", config=config.to_flat_dict())

    def save_checkpoint() -> None:
        global_step = progress.epoch * steps_per_epoch + progress.step_in_epoch
        target = output_dir / "checkpoints" / f"step_{global_step}"
        accelerator.save_state(str(target))
        if average is not None and accelerator.is_main_process:
            average.save(target)
        accelerator.wait_for_everyone()  # every process's files are written before progress.json
        if accelerator.is_main_process:
            progress.save(target)
            # Rotation by hand, after the new checkpoint is complete. Accelerate's own
            # (ProjectConfiguration(automatic_checkpoint_naming=True, total_limit=N)) deletes the oldest
            # folder before it writes the new one, counts folders set aside as damaged (and deletes
            # them), and does not restore its save counter on load_state.
            for old in _complete_checkpoints(output_dir)[: -config.keep_checkpoints]:
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
            if average is not None:
                average.add(accelerator.unwrap_model(model))
                metrics["swa_snapshots"] = average.snapshots
        if accelerator.is_main_process:
            _append_log(output_dir, {**metrics, "best": improved, "mixed_precision": config.mixed_precision})
            if improved:
                unwrapped = accelerator.unwrap_model(model)
                unwrapped.save_pretrained(output_dir / "best")
                feature_extractor.save_pretrained(output_dir / "best")
                config.save(output_dir / "best")
        accelerator.print(f"epoch {epoch + 1}: train loss {train_loss:.4f}, validation EER {100 * eer:.2f}%")
        save_checkpoint()
    final = output_dir / "best"
    if average is not None:
        final = _finish_average(
            average, feature_extractor, train_set, train_loader, eval_loader, accelerator, config
        )
    for folder in dict.fromkeys([output_dir / "best", final]):  # the SWA average gets its own
        if not (accelerator.is_main_process and folder.is_dir()):
            continue
        calibrate_after_training(
            folder,
            eval_data,
            f"{config.dataset} {config.subset} validation",
            config.calibrate,
            batch_size=config.eval_batch_size or config.batch_size,
            device=str(accelerator.device),
        )
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def seed_replicas(config: TrainingConfig, seeds: list[int]) -> list[TrainingConfig]:
    """One run per seed, each a normal run folder ``<output_dir>/seed-<n>`` (resumable on its own);
    the runs differ only in ``seed`` and ``output_dir``, which is what lets ``codecfake matrix`` average
    them (:func:`codecfake_hf.evaluation.seed_replica_groups`).

    Raises:
        TrainingConfigError: no seed, a seed given twice, or one below 0.
    """
    if not seeds or len(set(seeds)) != len(seeds):
        raise TrainingConfigError(
            f"--seeds {','.join(map(str, seeds))}: give distinct seeds, e.g. --seeds 1,2,3"
        )
    return [
        dataclasses.replace(config, seed=seed, output_dir=str(Path(config.output_dir) / f"seed-{seed}"))
        for seed in seeds
    ]


def train_seeds(config: TrainingConfig, seeds: list[int]) -> list[Path]:
    """:func:`train` once per seed (:func:`seed_replicas`), one after the other; returns their
    ``best/`` folders. Every run folder is checked before the first run starts, so a clash with an
    earlier run stops nothing halfway; with ``resume`` finished runs are passed over quickly and the
    first unfinished one continues."""
    runs = seed_replicas(config, seeds)
    for run in runs:
        _check_output_dir(Path(run.output_dir), run.resume)
    return [train(run) for run in runs]


def _append_log(output_dir: Path, entry: dict) -> None:
    """Add one JSON line to ``output_dir/log.jsonl``."""
    with open(output_dir / "log.jsonl", "a") as log:
        log.write(json.dumps(entry) + "\n")


def _finish_average(
    average: SnapshotAverage,
    feature_extractor,
    train_set: WaveformDataset,
    train_loader,
    eval_loader,
    accelerator: Accelerator,
    config: TrainingConfig,
) -> Path:
    """Recompute the average's BatchNorm statistics over one pass of the training data (windows of
    epoch ``config.epochs``, dropout seeded like a training batch), log its validation EER and save it
    (with ``training_config.json``) in ``<output_dir>/swa``; returns that folder."""
    output_dir = Path(config.output_dir)
    train_set.set_epoch(config.epochs)
    train_loader.set_epoch(config.epochs)
    torch.manual_seed(_batch_seed(config.seed, config.epochs, 0, accelerator.process_index))
    with accelerator.autocast():
        average.update_batch_norm((batch["input_values"] for batch in train_loader), accelerator)
    eer = validation_eer(average.model, eval_loader, accelerator)
    metrics = {"swa_validation_eer": eer, "swa_snapshots": average.snapshots}
    accelerator.log(metrics, step=config.epochs)
    folder = output_dir / "swa"
    if accelerator.is_main_process:
        _append_log(output_dir, metrics)
        average.model.save_pretrained(folder)
        feature_extractor.save_pretrained(folder)
        config.save(folder)
    accelerator.print(f"weight average of {average.snapshots} snapshots: validation EER {100 * eer:.2f}%")
    accelerator.wait_for_everyone()
    return folder
