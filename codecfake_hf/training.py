"""Training AASIST / AASIST-L detectors on a CodecFake config with Accelerate.

``accelerate launch train.py --config E`` runs :func:`train`: DDP over every process Accelerate
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

Recipes (``--recipe``):

- ``paper`` (default): the CodecFake paper's search result on top of AASIST's official recipe:
  Adam, lr 1e-3, batch 16, weighted cross-entropy [spoof 0.1, bona fide 0.9], weight decay 1e-4,
  cosine decay per step to 5e-6; the paper does not state the epoch count, so AASIST's 100 is kept.
- ``official``: AASIST's released recipe (``config/AASIST*.conf`` of ``clovaai/aasist``): Adam lr 1e-4, batch 24,
  weight decay 1e-4, per-step cosine to 5e-6, 100 epochs, the same class weights (SWA is not
  reproduced).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
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
    PrecisionType,
    gather_object,
    set_seed,
)
from accelerate.utils import load as accelerate_load
from tqdm.auto import tqdm

from codecfake_hf.checkpoint_files import CheckpointError, load_safetensors_file, load_torch_file
from codecfake_hf.data import load_labelled_dataset, load_waveform
from codecfake_hf.errors import CodecFakeError, InputFileError, user_error_message
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
    # "no", "bf16", "fp16"; None: Accelerate decides (`accelerate launch --mixed_precision`, `accelerate
    # config`, ACCELERATE_MIXED_PRECISION)
    mixed_precision: str | None = None
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
            raise TrainingConfigError(
                f"--recipe {self.recipe!r}: unknown; choose one of {', '.join(RECIPES)}"
            )
        for key, value in RECIPES[self.recipe].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        if self.scheduler not in ("cosine", "constant"):
            raise TrainingConfigError(f"--scheduler {self.scheduler!r}: unknown; choose cosine or constant")
        precisions = [precision.value for precision in PrecisionType]
        if self.mixed_precision is not None and self.mixed_precision not in precisions:
            raise TrainingConfigError(
                f"--mixed-precision {self.mixed_precision!r}: unknown; choose one of {', '.join(precisions)}"
            )
        optional = {item.name for item in dataclasses.fields(self) if item.default is None}
        for name, (kind, minimum) in _NUMBER_OPTIONS.items():
            if getattr(self, name) is not None or name not in optional:
                setattr(self, name, _checked_number(name, getattr(self, name), kind, minimum))
        if not self.learning_rate > 0:
            raise TrainingConfigError(f"--learning-rate {self.learning_rate}: must be greater than 0")
        weights = list(self.class_weights) if isinstance(self.class_weights, list | tuple) else []
        self.class_weights = tuple(_checked_number("class_weights", w, float, 0.0) for w in weights)
        if len(self.class_weights) != 2:
            raise TrainingConfigError("--class-weights: give two numbers, the spoof and the bona fide weight")
        if self.output_dir is None:
            self.output_dir = str(Path("runs") / f"{Path(self.model).name.lower()}-{self.config}")

    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides) -> TrainingConfig:
        """Read options from a YAML or JSON file; ``overrides`` (non-None) win over the file.

        Raises:
            InputFileError: the file is missing or not YAML/JSON holding a mapping.
            TrainingConfigError: an unknown option or a bad value.
        """
        import yaml

        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: no such options file (--config-file); check the path")
        text = path.read_text()
        try:
            values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as error:  # json.JSONDecodeError is a ValueError
            reason = " ".join(str(error).split())
            kind = "JSON" if path.suffix == ".json" else "YAML"
            raise InputFileError(f"{path}: not valid {kind} ({reason})") from error
        if values is not None and not isinstance(values, dict):
            raise InputFileError(f"{path}: expected option: value pairs, found a {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values or {}) - known
        if unknown:
            raise TrainingConfigError(
                f"{path}: unknown training options {sorted(unknown)}; the options are the flags of train.py"
            )
        values = {**(values or {}), **{k: v for k, v in overrides.items() if v is not None}}
        return cls(**values)


class TrainingConfigError(CodecFakeError, ValueError):
    """A training option has an unknown or out-of-range value."""


#: Numeric options: their type and smallest allowed value (None stays None where it is the default).
_NUMBER_OPTIONS = {
    "epochs": (int, 1),
    "batch_size": (int, 1),
    "gradient_accumulation_steps": (int, 1),
    "seed": (int, 0),
    "num_workers": (int, 0),
    "checkpoint_steps": (int, 1),
    "keep_checkpoints": (int, 1),
    "max_train_samples": (int, 1),
    "max_eval_samples": (int, 1),
    "eval_batch_size": (int, 1),
    "learning_rate": (float, 0.0),
    "weight_decay": (float, 0.0),
    "min_learning_rate": (float, 0.0),
}


def _checked_number(name: str, value, kind: type, minimum: float):
    """``value`` as ``kind`` (YAML reads 1e-3 as a string), or TrainingConfigError naming the option."""
    flag = "--" + name.replace("_", "-")
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise TrainingConfigError(
            f"{flag} {value!r}: expected {'an integer' if kind is int else 'a number'}"
        ) from None
    if number < minimum:
        raise TrainingConfigError(f"{flag} {value!r}: must be at least {minimum:g}")
    return number


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
    Hub id, :func:`codecfake_hf.sources.load_audio_classifier`, loaded strictly:
    :class:`~codecfake_hf.checkpoints.CheckpointMismatchError` names any key that does not fit), with
    its feature extractor."""
    from codecfake_hf.models.aasist import (
        AASIST_PRESETS,
        AasistConfig,
        AasistFeatureExtractor,
        AasistForAudioClassification,
    )
    from codecfake_hf.sources import load_audio_classifier

    if name_or_path in AASIST_PRESETS:
        config = AasistConfig.from_preset(name_or_path)
        return AasistForAudioClassification(config), AasistFeatureExtractor(num_samples=config.num_samples)
    return load_audio_classifier(name_or_path)


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
        temporary = folder / (self.FILE + ".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, folder / self.FILE)

    @classmethod
    def load(cls, folder: Path) -> Progress:
        """Read ``folder/progress.json``.

        Raises:
            CheckpointError: missing, not JSON, or not the fields and types this class writes.
        """
        path = folder / cls.FILE
        progress = cls()
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"{path}: missing (saving this checkpoint did not finish)") from None
        except ValueError as error:  # not JSON, or not text
            raise CheckpointError(f"{path}: not valid JSON ({type(error).__name__})") from error
        counters = ("epoch", "step_in_epoch", "loss_count")
        valid = (
            isinstance(state, dict)
            and set(state) == set(vars(progress))
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


def _checkpoint_problem(folder: Path, accelerator: Accelerator) -> str | None:
    """What makes ``folder`` unusable for this process's resume (None if every file it will read
    loads): model safetensors, progress JSON, and Accelerate's optimizer, scheduler, gradient
    scaler and this process's RNG state through ``weights_only`` loading."""
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


def _resume_checkpoint(output_dir: Path, accelerator: Accelerator) -> Path | None:
    """The newest checkpoint every process can read in full (None if there is none at all).

    Every process checks the files it will read and all take the same decision. Damaged newer
    checkpoints are named on stderr and renamed ``step_N.damaged`` (kept, never deleted); a folder
    whose save did not finish (no ``progress.json``) is skipped.

    Raises:
        CheckpointError: checkpoints exist but none is intact; names the newest's damaged file.
    """
    damaged: list[tuple[Path, str]] = []
    for folder in reversed(_complete_checkpoints(output_dir)):
        problems = [p for p in gather_object([_checkpoint_problem(folder, accelerator)]) if p]
        if not problems:
            for bad, problem in damaged:
                aside = _unused_name(bad.with_name(bad.name + ".damaged"))
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


def _unused_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``, ... whichever does not exist yet."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


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
    """Run training; returns the folder of the best model (``<output_dir>/best``).

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
        raise TrainingConfigError(
            f"{config.dataset} config {config.config}: {len(train_set)} training examples, fewer than one batch "
            f"({config.batch_size} per process); lower --batch-size"
        )
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
    class_weights = torch.tensor(config.class_weights, device=accelerator.device)

    resume_from = _resume_checkpoint(output_dir, accelerator) if config.resume else None
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
        accelerator.print(
            f"resumed from {resume_from} (epoch {progress.epoch}, step {progress.step_in_epoch})"
        )
    elif config.resume:
        accelerator.print(f"--resume: no checkpoint in {output_dir / 'checkpoints'}; starting fresh")
    accelerator.init_trackers("codecfake", config=_flat(config))

    def save_checkpoint() -> None:
        global_step = progress.epoch * steps_per_epoch + progress.step_in_epoch
        target = output_dir / "checkpoints" / f"step_{global_step}"
        accelerator.save_state(str(target))
        accelerator.wait_for_everyone()  # every process's files are written before progress.json
        if accelerator.is_main_process:
            progress.save(target)
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
        if accelerator.is_main_process:
            with open(output_dir / "log.jsonl", "a") as log:
                log.write(
                    json.dumps({**metrics, "best": improved, "mixed_precision": config.mixed_precision})
                    + "\n"
                )
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
