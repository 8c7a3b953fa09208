"""Reading checkpoint files a user received without running anything in them.

PyTorch files are read with ``torch.load(..., weights_only=True)`` (tensors and plain containers
only; a pickled function call is refused, never executed), safetensors files with ``safetensors``.
A file that is missing, truncated, corrupt or refused raises :class:`CheckpointError`, one line
naming the file and the fix.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from codecfake_hf.errors import CodecFakeError


class CheckpointError(CodecFakeError, ValueError):
    """A checkpoint file is missing, truncated, corrupt, or holds Python objects other than tensors."""


def _reason(error: Exception) -> str:
    """The informative part of a loader's (often multi-paragraph) message, on one line."""
    text = str(error)
    if text.startswith("Weights only load failed"):  # torch's advice paragraphs, then the cause
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text)[1:]]
        cause = [p for p in paragraphs if p and not p.startswith(("Check the documentation", "Please file"))]
        text = "refused by weights_only loading: " + " ".join(cause)
    first_sentence = re.split(r"(?<=\.)\s", " ".join(text.split()))[0]
    return f"{type(error).__name__}: {first_sentence[:200]}"


def load_torch_file(path: str | os.PathLike, fix: str, load: Callable = torch.load) -> object:
    """``load(path, map_location="cpu", weights_only=True)``.

    Args:
        path: the file.
        fix: what the user should do if it cannot be read ("re-download ...").
        load: ``torch.load``, or a wrapper that honours ``weights_only`` (``accelerate.utils.load``
            also allows the numpy arrays of Accelerate's RNG states).

    Raises:
        CheckpointError: missing, truncated, corrupt, or holding anything but tensors and plain data.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; {fix}")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the error says it all
            warnings.simplefilter("ignore")
            return load(path, map_location="cpu", weights_only=True)
    except (PermissionError, IsADirectoryError):  # reported as such (codecfake_hf.errors)
        raise
    except Exception as error:  # UnpicklingError, RuntimeError (zip), EOFError, ...: all one cause
        raise CheckpointError(
            f"{path}: cannot be loaded safely ({_reason(error)}); the file is truncated, corrupt or holds "
            f"Python objects other than tensors (nothing in it was run); {fix}"
        ) from error


def load_safetensors_file(path: str | os.PathLike, fix: str) -> dict[str, torch.Tensor]:
    """Every tensor of a ``.safetensors`` file (on the CPU).

    Raises:
        CheckpointError: missing, truncated or not a safetensors file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; {fix}")
    try:
        return load_file(path)
    except SafetensorError as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({_reason(error)}); {fix}") from error
