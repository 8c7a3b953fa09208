"""Stochastic weight averaging over validation snapshots (``train.py --swa``, the ``release`` recipe).

The CodecFake release's trainer (``roger-tseng/CodecDetect``, ``main.py``) adds the model's weights to
a stochastic weight average after every epoch whose validation EER is not worse than the best so far,
and at the end swaps the average in and recomputes the BatchNorm statistics over the training data.
:class:`SnapshotAverage` does the same with ``torch.optim.swa_utils``: ``AveragedModel``'s default
update is the equal-weight running mean of the snapshots' parameters (what torchcontrib's
``update_swa`` computes); buffers (BatchNorm statistics) are not averaged but recomputed by
:meth:`SnapshotAverage.update_batch_norm`.

Under Accelerate every process keeps its own average of the unwrapped model: DDP keeps the weights
equal on every process and the snapshot decision rests on the gathered validation EER, so the
averages agree. The BatchNorm pass runs on each process's share of the training batches and the
statistics are then averaged over processes (with ``momentum=None`` each statistic is an equal-weight
mean over batches, and every process sees as many batches), so they agree too.

The average travels in each checkpoint as ``averaged_model.safetensors``: the averaged weights and the
snapshot count (``n_averaged``), read back without unpickling anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, update_bn

from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.files.checkpoint_files import load_safetensors_file
from codecfake_hf.files.strict_loading import check_state_dict


class SnapshotAverage:
    """The equal-weight average of the snapshots of a model.

    Args:
        model: the (unwrapped) model being trained; the average starts as a copy of it, on its device.
    """

    #: The checkpoint file holding the average.
    FILE = "averaged_model.safetensors"

    def __init__(self, model: torch.nn.Module) -> None:
        self.averaged = AveragedModel(model, use_buffers=False)

    @property
    def model(self) -> torch.nn.Module:
        """The averaged model (same class as the trained one; ``save_pretrained`` saves it)."""
        return self.averaged.module

    @property
    def snapshots(self) -> int:
        """How many snapshots the average holds."""
        return int(self.averaged.n_averaged.item())

    def add(self, model: torch.nn.Module) -> None:
        """Add ``model``'s current parameters as one more snapshot (equal weight with the others)."""
        self.averaged.update_parameters(model)

    @torch.no_grad()
    def update_batch_norm(self, inputs: Iterable[torch.Tensor], accelerator=None) -> None:
        """Recompute the averaged model's BatchNorm statistics from scratch over ``inputs`` (batches of
        ``input_values [B, T]``, e.g. the training loader's), as an equal-weight mean over batches
        (``torch.optim.swa_utils.update_bn``); with an ``accelerator``, then averaged over processes."""
        update_bn(inputs, self.model)
        if accelerator is None or accelerator.num_processes == 1:
            return
        for module in self.model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
                module.running_mean.copy_(accelerator.reduce(module.running_mean, reduction="mean"))
                module.running_var.copy_(accelerator.reduce(module.running_var, reduction="mean"))
                module.num_batches_tracked.copy_(
                    accelerator.reduce(module.num_batches_tracked, reduction="sum")
                )

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``folder/averaged_model.safetensors`` atomically; returns its path."""
        from safetensors.torch import save_file

        path = Path(folder) / self.FILE
        state = {
            key: tensor.detach().cpu().contiguous() for key, tensor in self.averaged.state_dict().items()
        }
        with atomic_path(path) as temporary:
            save_file(state, temporary)
        return path

    def load(self, folder: str | os.PathLike, fix: str) -> None:
        """Replace the average with the one saved in ``folder`` (:meth:`save`).

        Raises:
            CheckpointError: the file is missing or not safetensors.
            CheckpointMismatchError: it holds another model's weights.
        """
        path = Path(folder) / self.FILE
        state = load_safetensors_file(path, fix)
        check_state_dict(self.averaged, state, path)
        self.averaged.load_state_dict(state)
