"""Training's checkpoints: ``<output_dir>/checkpoints/step_N``, saving them, and resuming from them.

A checkpoint holds Accelerate's state (model safetensors, optimizer, scheduler, gradient scaler,
each process's RNG), the weight average (``--swa``) and, written last, the run's :class:`Progress`.
Nothing in one is unpickled: every file a resume reads is checked first, on every process, through
``weights_only`` loading; a damaged latest checkpoint is named, set aside (``step_N.damaged``) and
the newest intact one is used instead.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import (
    OPTIMIZER_NAME,
    RNG_STATE_NAME,
    SAFE_MODEL_NAME,
    SCALER_NAME,
    SCHEDULER_NAME,
    gather_object,
)
from accelerate.utils import load as accelerate_load

from codecfake_hf.errors import user_error_message
from codecfake_hf.files.atomic_files import atomic_path, unused_name
from codecfake_hf.files.checkpoint_files import CheckpointError, load_safetensors_file, load_torch_file
from codecfake_hf.files.json_files import read_json
from codecfake_hf.training.averaging import SnapshotAverage
from codecfake_hf.training.config import TrainingConfigError


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


def checkpoint_folders(output_dir: Path) -> list[Path]:
    """Checkpoint folders ``step_N``, oldest first (complete or not: see :class:`Progress`)."""
    found = [p for p in (output_dir / "checkpoints").glob("step_*") if re.fullmatch(r"step_\d+", p.name)]
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def complete_checkpoints(output_dir: Path) -> list[Path]:
    """The checkpoint folders whose saving finished (they hold ``progress.json``), oldest first."""
    return [folder for folder in checkpoint_folders(output_dir) if (folder / Progress.FILE).is_file()]


def checkpoint_problem(folder: Path, accelerator: Accelerator, averaged: bool = False) -> str | None:
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


def newest_intact_checkpoint(
    output_dir: Path, accelerator: Accelerator, averaged: bool = False
) -> Path | None:
    """The newest checkpoint every process can read in full (None if there is none at all).

    Every process checks the files it will read and all take the same decision. Damaged newer
    checkpoints are named on stderr and renamed ``step_N.damaged`` (kept, never deleted); a folder
    whose save did not finish (no ``progress.json``) is skipped. ``averaged``: the run keeps a weight
    average, whose file must be intact too.

    Raises:
        CheckpointError: checkpoints exist but none is intact; names the newest's damaged file.
    """
    damaged: list[tuple[Path, str]] = []
    for folder in reversed(complete_checkpoints(output_dir)):
        problems = [p for p in gather_object([checkpoint_problem(folder, accelerator, averaged)]) if p]
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


def check_output_dir(output_dir: Path, resume: bool) -> None:
    """Refuse to start a fresh run over an earlier one: its ``best/`` model and checkpoints would be
    replaced. With ``--resume`` the earlier run is continued instead.

    Raises:
        TrainingConfigError: ``output_dir`` holds ``best/`` or checkpoints and ``resume`` is False.
    """
    if resume:
        return
    earlier = ["best/"] if (output_dir / "best").is_dir() else []
    earlier += [f"checkpoints/{folder.name}" for folder in checkpoint_folders(output_dir)[-1:]]
    if earlier:
        raise TrainingConfigError(
            f"{output_dir}: holds an earlier run ({', '.join(earlier)}); nothing was "
            "changed: pass --resume to continue it, or choose another --output-dir for a new run"
        )


def save_checkpoint(
    accelerator: Accelerator, output_dir: Path, step: int, progress: Progress, average: SnapshotAverage | None,
    keep: int,
) -> None:  # fmt: skip
    """Write ``output_dir/checkpoints/step_<step>`` (every process's files, the weight ``average``, then
    ``progress.json``) and delete the complete checkpoints older than the newest ``keep``."""
    target = output_dir / "checkpoints" / f"step_{step}"
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
        for old in complete_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def resume(accelerator: Accelerator, output_dir: Path, average: SnapshotAverage | None) -> Progress:
    """``--resume``: load the newest intact checkpoint of ``output_dir`` (Accelerate's state into
    what it prepared, the weight ``average``) and return its progress; without one, say that the run
    starts fresh.

    Raises:
        CheckpointError: no checkpoint is intact, or the newest intact one belongs to another model
            or optimizer (names the folder and what to do).
    """
    folder = newest_intact_checkpoint(output_dir, accelerator, averaged=average is not None)
    if folder is None:
        accelerator.print(f"--resume: no checkpoint in {output_dir / 'checkpoints'}; starting fresh")
        return Progress()
    try:
        accelerator.load_state(str(folder), load_kwargs={"weights_only": True})
    except (RuntimeError, ValueError, KeyError) as error:  # intact files of another model/optimizer
        reason = " ".join(str(error).split())[:300]
        raise CheckpointError(
            f"{folder}: does not fit this run's model or optimizer ({type(error).__name__}: {reason}); "
            "resume with the options it was saved with, or use another --output-dir"
        ) from error
    if average is not None:
        average.load(folder, "resume with the options it was saved with (--swa), or use another --output-dir")
    progress = Progress.load(folder)
    accelerator.print(f"resumed from {folder} (epoch {progress.epoch}, step {progress.step_in_epoch})")
    return progress
