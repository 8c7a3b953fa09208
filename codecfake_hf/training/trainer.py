"""Training AASIST / AASIST-L / SSL-AASIST detectors on a CodecFake subset with Accelerate.

``accelerate launch train.py --subset E`` runs :func:`train`: DDP over every process Accelerate
starts (GPUs, nodes, or CPU processes with ``ACCELERATE_USE_CPU=1``), optional bf16/fp16, gradient
accumulation, validation EER each epoch, the best model by validation EER saved with
``save_pretrained``, and full-state checkpoints so ``--resume`` continues exactly where a run stopped.
The run is a sequence of named steps, each in its own module of this package:

1. the detector (:func:`codecfake_hf.models.families.build_model`), its loss weighted by ``--class-weights``;
2. what its optimizer trains, Adam and the schedule (:mod:`~codecfake_hf.training.optimization`);
3. the data (:mod:`~codecfake_hf.training.data`), then everything prepared by Accelerate;
4. a resume from the newest intact checkpoint (:mod:`~codecfake_hf.training.checkpoints`);
5. the epochs, validation and the choice of ``best/`` (:mod:`~codecfake_hf.training.loop`), and with
   ``--swa`` the weight average (:mod:`~codecfake_hf.training.averaging`) saved in ``swa/``;
6. the calibration of the saved models (:mod:`~codecfake_hf.training.calibration`).

Determinism: the train order comes from a seedable sampler (seed + epoch) and each training crop
from ``numpy.random.default_rng([seed, epoch, index])``, so neither depends on worker layout or on
where a run was resumed; dropout draws from torch's RNG, seeded per batch.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, DistributedDataParallelKwargs, set_seed

from codecfake_hf.models.families import build_model, front_end_of
from codecfake_hf.training.averaging import SnapshotAverage
from codecfake_hf.training.calibration import calibrate_saved_models
from codecfake_hf.training.checkpoints import check_output_dir, resume
from codecfake_hf.training.config import TrainingConfig, TrainingConfigError
from codecfake_hf.training.data import TrainingData, load_training_data
from codecfake_hf.training.loop import TrainingRun, finish_average, run_epochs
from codecfake_hf.training.optimization import (
    adam,
    learning_rate_schedule,
    optimizer_parameter_groups,
    schedule_horizon,
)


def train(config: TrainingConfig) -> Path:
    """Run training; returns the folder of the final model: ``<output_dir>/best`` (the lowest
    validation EER), or with ``config.swa`` ``<output_dir>/swa`` (the weight average).

    Raises:
        TrainingConfigError: a bad option, or ``output_dir`` holds an earlier run and ``resume`` is
            False (checked before anything is written).
    """
    check_output_dir(Path(config.output_dir), config.resume)
    accelerator = _accelerator(config)
    # what Accelerate resolved (train.py flag, else launcher / accelerate config / environment)
    config = dataclasses.replace(config, mixed_precision=accelerator.mixed_precision)
    accelerator.print(f"mixed precision: {config.mixed_precision}")
    set_seed(config.seed)
    model, feature_extractor = build_model(config.model)
    model.config.class_weights = list(config.class_weights)  # the loss of forward(labels=)
    parameters = optimizer_parameter_groups(model, front_end_of(model), config)
    data = load_training_data(config, feature_extractor)
    Path(config.output_dir).mkdir(
        parents=True, exist_ok=True
    )  # once model and data load: a failed check leaves none
    run = _prepare(config, accelerator, model, feature_extractor, parameters, data)
    if config.resume:
        run.progress = resume(accelerator, run.output_dir, run.average)
    accelerator.init_trackers("codecfake", config=config.to_flat_dict())
    run_epochs(run)
    final = finish_average(run) if run.average is not None else run.output_dir / "best"
    if accelerator.is_main_process:  # the SWA average gets its own
        calibrate_saved_models(
            dict.fromkeys([run.output_dir / "best", final]), data.eval_rows, config, accelerator
        )
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _accelerator(config: TrainingConfig) -> Accelerator:
    """The run's Accelerator: ``config``'s precision (None: Accelerate decides), gradient
    accumulation, trackers, and a sampler seeded by ``config.seed``."""
    return Accelerator(
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=config.mixed_precision,
        log_with=_trackers(config.log_with) or None,
        project_dir=str(Path(config.output_dir)),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=config.seed),
        # AASIST keeps upstream's bypassed ``bn1`` parameters (strict loading), which never get a
        # gradient; DDP must be told that some parameters are unused.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


def _trackers(requested: list[str]) -> list[str]:
    """``--log-with`` as Accelerate's trackers: ``auto`` is TensorBoard where it is installed."""
    if requested != ["auto"]:
        return [t for t in requested if t != "none"]
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return []
    return ["tensorboard"]


def _prepare(
    config: TrainingConfig, accelerator: Accelerator, model, feature_extractor, parameters, data: TrainingData
) -> TrainingRun:
    """The optimizer and its schedule, everything prepared by Accelerate, and the weight average."""
    optimizer = adam(parameters, config)
    train_loader = accelerator.prepare(
        data.train_loader
    )  # split across processes before the horizon is counted
    steps_per_epoch = math.ceil(len(train_loader) / config.gradient_accumulation_steps)  # per process
    horizon = schedule_horizon(steps_per_epoch, config.epochs, accelerator.num_processes)
    scheduler = learning_rate_schedule(optimizer, config, horizon)
    model, optimizer, eval_loader, scheduler = accelerator.prepare(
        model, optimizer, data.eval_loader, scheduler
    )
    data = dataclasses.replace(data, train_loader=train_loader, eval_loader=eval_loader)
    average = SnapshotAverage(accelerator.unwrap_model(model)) if config.swa else None
    return TrainingRun(
        config, accelerator, model, feature_extractor, optimizer, scheduler, data, steps_per_epoch, average
    )


def seed_replicas(config: TrainingConfig, seeds: list[int]) -> list[TrainingConfig]:
    """One run per seed, each a normal run folder ``<output_dir>/seed-<n>`` (resumable on its own);
    the runs differ only in ``seed`` and ``output_dir``, which is what lets ``codecfake matrix`` average
    them (:func:`codecfake_hf.training.replicas.seed_replica_rows`).

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
        check_output_dir(Path(run.output_dir), run.resume)
    return [train(run) for run in runs]
