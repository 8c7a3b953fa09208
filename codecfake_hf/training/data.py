"""Training's data step: the train and validation splits as fixed-length windows in batches.

:func:`load_training_data` reads the two splits of ``--dataset`` / ``--subset`` (optionally a seeded
sample of each), cuts windows with the model's feature extractor (:class:`WaveformDataset`) and
batches them (:func:`collate`). Windows are a pure function of ``(seed, epoch, index)``, never of the
worker layout or of where a run was resumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from datasets import Dataset

from codecfake_hf.augmentation import RawBoostConfig, rawboost
from codecfake_hf.data.loading import load_labelled_dataset, load_waveform
from codecfake_hf.training.config import TrainingConfig, TrainingConfigError


class WaveformDataset(torch.utils.data.Dataset):
    """Labelled audio -> fixed-length windows for AASIST.

    Training windows are random (``mode="random"``) and seeded by ``(seed, epoch, index)``;
    evaluation windows are the deterministic first 64,600 samples (``mode="first"``), or random ones
    seeded the same way (the release's protocol; the epoch stays 0 unless :meth:`set_epoch` is called).
    Audio is resampled to the feature extractor's rate (16 kHz) with ``resampler`` (one of
    :data:`codecfake_hf.audio.audio_io.RESAMPLERS`; ``"torchaudio"`` is the release's), or with
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
    """``(window, label)`` pairs -> ``{"input_values": [B, T], "labels": [B]}`` (the model's arguments)."""
    windows, labels = zip(*batch)
    return {"input_values": torch.stack(windows), "labels": torch.tensor(labels, dtype=torch.long)}


@dataclass
class TrainingData:
    """The data of a run: the training windows (``train_set``, whose epoch sets the crops) and their
    loader, the validation loader, and the validation rows themselves (calibration scores them)."""

    train_set: WaveformDataset
    train_loader: torch.utils.data.DataLoader
    eval_loader: torch.utils.data.DataLoader
    eval_rows: Dataset


def _sample(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    """``limit`` rows of ``dataset`` drawn with ``seed`` (``--max-*-samples``), or all of them."""
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(limit))


def load_training_data(config: TrainingConfig, feature_extractor) -> TrainingData:
    """The train and validation splits of ``config.dataset`` / ``config.subset`` in windows of
    ``feature_extractor`` (RawBoost on the training windows with ``--rawboost``, on the validation
    ones too with ``--rawboost-validation``), batched per process.

    Raises:
        TrainingConfigError: fewer training examples than one batch.
        DatasetError, SourceNotFoundError: the dataset, subset or split does not load.
    """
    rows = {
        split: _sample(load_labelled_dataset(config.dataset, config.subset, split), limit, config.seed)
        for split, limit in (("train", config.max_train_samples), ("validation", config.max_eval_samples))
    }
    augmentation = (
        RawBoostConfig(algorithm=config.rawboost, fir_alignment=config.rawboost_alignment)
        if config.rawboost
        else None
    )
    windows = {"native_rate": config.input_rate == "native", "resampler": config.resampler}
    train_set = WaveformDataset(
        rows["train"], feature_extractor, "random", config.seed, augmentation=augmentation, **windows
    )
    train_loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    eval_set = WaveformDataset(
        rows["validation"],
        feature_extractor,
        config.eval_window,
        config.seed,
        augmentation=augmentation if config.rawboost_validation else None,
        augmentation_stream=2,
        **windows,
    )
    eval_loader = torch.utils.data.DataLoader(
        eval_set,
        batch_size=config.eval_batch_size or config.batch_size,
        num_workers=config.num_workers,
        collate_fn=collate,
    )
    if len(train_loader) == 0:
        raise TrainingConfigError(
            f"{config.dataset} config {config.subset}: {len(train_set)} training examples, fewer than one batch "
            f"({config.batch_size} per process); lower --batch-size"
        )
    return TrainingData(train_set, train_loader, eval_loader, rows["validation"])
