"""Loading weights strictly: a checkpoint that does not fit its model is an error naming the keys.

``transformers``' ``from_pretrained`` only warns about missing or unexpected keys and leaves those
weights at their random initialisation, so a repository in another layout (an original-format
checkpoint where the converted one was meant, a renamed module) would give a codec or detector that
runs and outputs noise. Every ``transformers`` model this package loads goes through
:func:`from_pretrained_strict`; state dicts loaded by hand go through :func:`check_state_dict`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import torch

from codecfake_hf.files.hub_io import CheckpointUnavailableError

#: Keys named per kind in an error message; the rest are counted.
MAX_KEYS_SHOWN = 5


class CheckpointMismatchError(CheckpointUnavailableError):
    """A checkpoint's tensors do not fit the model: keys missing, unexpected, or of another shape."""


def _listed(kind: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS_SHOWN])
    more = f", +{len(keys) - MAX_KEYS_SHOWN} more" if len(keys) > MAX_KEYS_SHOWN else ""
    return f"{kind} ({len(keys)}): {shown}{more}"


def raise_if_mismatched(
    source: str | os.PathLike,
    model_name: str,
    missing: Iterable[str] = (),
    unexpected: Iterable[str] = (),
    mismatched: Iterable[tuple[str, Iterable[int], Iterable[int]]] = (),
) -> None:
    """Raise :class:`CheckpointMismatchError` if any key is missing, unexpected or misshaped.

    Args:
        source: the checkpoint (folder, file or Hub id), named in the message.
        model_name: the class the weights were meant for.
        missing: model keys the checkpoint lacks.
        unexpected: checkpoint keys the model lacks.
        mismatched: ``(key, checkpoint shape, model shape)`` of keys present in both.
    """
    problems = []
    if missing := sorted(missing):
        problems.append(_listed("missing keys", missing))
    if unexpected := sorted(unexpected):
        problems.append(_listed("unexpected keys", unexpected))
    if mismatched := sorted(mismatched, key=lambda item: item[0]):
        described = [f"{key} {list(given)} != {list(expected)}" for key, given, expected in mismatched]
        problems.append(_listed("keys of another shape (checkpoint != model)", described))
    if problems:
        raise CheckpointMismatchError(
            f"{source}: the checkpoint does not fit {model_name} at this configuration; {'; '.join(problems)}. "
            f"Re-download the files, or pass a folder written by {model_name}.save_pretrained"
        )


def from_pretrained_strict(model_class, name_or_path: str | os.PathLike, **kwargs):
    """``model_class.from_pretrained(name_or_path, **kwargs)`` that raises instead of keeping random
    weights: every model key must come from the checkpoint with its shape, and nothing may be left
    over (keys the class itself declares ignorable, ``_keys_to_ignore_on_load_*``, stay ignored).

    Raises:
        CheckpointMismatchError: names the missing, unexpected and misshaped keys.
    """
    model, info = model_class.from_pretrained(
        str(name_or_path), output_loading_info=True, ignore_mismatched_sizes=True, **kwargs
    )
    raise_if_mismatched(
        name_or_path,
        type(model).__name__,
        info["missing_keys"],
        info["unexpected_keys"],
        info["mismatched_keys"],
    )
    return model


def check_state_dict(
    model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], source: str | os.PathLike
) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` has exactly ``model``'s keys and
    shapes (what ``load_state_dict(strict=True)`` needs), before anything is loaded."""
    expected = model.state_dict()
    raise_if_mismatched(
        source,
        type(model).__name__,
        missing=expected.keys() - state_dict.keys(),
        unexpected=state_dict.keys() - expected.keys(),
        mismatched=[
            (key, state_dict[key].shape, tensor.shape)
            for key, tensor in expected.items()
            if key in state_dict and state_dict[key].shape != tensor.shape
        ],
    )
