"""FunCodec checkpoints (``config.yaml`` + ``model.pth``): reading them, and the upstream state-dict
layout <-> :class:`~codecfake_hf.codecs.funcodec.FunCodecModel`'s.

``model.pth`` is a plain state dict with upstream key names. Every key maps to the same name here
except the codebooks: upstream keeps them, with their k-means / EMA training state, as
``quantizer.rq.model.{inited [n_q, 1], cluster_size [n_q, K], embed [n_q, K, D], embed_avg [n_q, K, D]}``;
here ``embed`` is ``quantizer.codebooks``
(:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`), and the training state is
checked (an uninitialised codebook means an untrained checkpoint), not kept. ``discriminator.*``
(training only) is ignored; any other missing, unexpected or misshaped key is an error naming it
(upstream silently keeps random weights instead).
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from codecfake_hf.codecs.conversion import (
    check_codebooks_initialised,
    check_upstream_layout,
    euclidean_codebook_state,
)
from codecfake_hf.errors import CodecFakeError

#: Prefix of the upstream keys of the codebooks and their training state.
CODEBOOK_PREFIX = "quantizer.rq.model."
#: Upstream keys that only training uses, ignored when loading.
IGNORED_PREFIXES = ("discriminator.",)


class FunCodecCheckpointError(CodecFakeError, ValueError):
    """A FunCodec ``config.yaml`` / ``model.pth`` pair that does not describe one supported model."""


def state_dict_to_upstream(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The upstream ``model.pth`` layout of a :class:`FunCodecModel` state dict (the codebooks'
    training state: :func:`~codecfake_hf.codecs.conversion.euclidean_codebook_state`)."""
    upstream: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key != "quantizer.codebooks":
            upstream[key] = value
            continue
        upstream.update({CODEBOOK_PREFIX + name: v for name, v in euclidean_codebook_state(value).items()})
    return upstream


def state_dict_from_upstream(
    state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Map an upstream ``model.pth`` state dict onto the model whose own state dict is ``expected``.

    Raises:
        FunCodecCheckpointError: names the first missing, unexpected or misshaped key (upstream
            names), or the codebooks were never initialised (``inited == 0``: upstream would run
            k-means on the first batch).
    """
    given = {k: v for k, v in state_dict.items() if not k.startswith(IGNORED_PREFIXES)}
    check_upstream_layout(
        state_dict_to_upstream(expected),
        given,
        FunCodecCheckpointError,
        "FunCodec checkpoint does not match its config.yaml",
    )
    check_codebooks_initialised(given, FunCodecCheckpointError)
    ours = {key: value for key, value in given.items() if not key.startswith(CODEBOOK_PREFIX)}
    ours["quantizer.codebooks"] = given[CODEBOOK_PREFIX + "embed"]
    return ours


def read_checkpoint(config_path: Path, weights_path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """The parsed ``config.yaml`` and the ``model.pth`` state dict (``weights_only`` load).

    Raises:
        FunCodecCheckpointError: a file that cannot be read as such, named with the fix.
    """
    try:
        config = yaml.safe_load(Path(config_path).read_text())
    except yaml.YAMLError as error:
        raise FunCodecCheckpointError(f"{config_path}: not valid YAML ({error}); re-download it") from None
    try:
        state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated download, wrong file
        raise FunCodecCheckpointError(
            f"{weights_path}: cannot be read as a state dict ({error}); re-download it"
        ) from None
    return config, state_dict
