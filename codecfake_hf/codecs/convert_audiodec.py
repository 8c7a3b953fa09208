"""AudioDec checkpoints: reading the upstream files, and the upstream state-dict layout <->
:class:`~codecfake_hf.codecs.audiodec.AudioDecCodec`'s.

Upstream ships two ``.pkl`` checkpoints (``torch.save`` files; the weights are
``ckpt["model"]["generator"]``) with a ``config.yml`` each (``generator_params``): the symmetric
autoencoder and the HiFiGAN vocoder. Here they are one state dict whose keys are the upstream ones
prefixed ``autoencoder/`` or ``vocoder/`` (the layout of the golden vectors); the model's own keys
are the same with ``autoencoder.`` / ``vocoder.``, except the codebooks: upstream's
``autoencoder/quantizer.codebook.layers.K.embed [code_dim, codebook_size]`` are the rows of
``autoencoder.quantizer.codebooks`` (:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`,
columns layout). Dropped as unused: the autoencoder's symmetric decoder (``decoder.*``), the
codebooks' training-only EMA statistics (``cluster_size``, ``embed_avg``) and every layer's
``pad_buffer`` (the carried streaming state lives in the layers' ``state`` attribute instead,
starting from zeros; upstream's trainer never writes the buffers, so checkpoints hold zeros, and a
warning says otherwise). Every other key must match in name and shape.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
import yaml

from codecfake_hf.checkpoint_files import CheckpointError
from codecfake_hf.codecs.conversion import check_upstream_layout

#: The two upstream checkpoints, as the prefixes of their keys.
PARTS = ("autoencoder", "vocoder")
#: Upstream keys that exist in the checkpoints but are not used by this pairing.
UNUSED_KEY_PREFIXES = ("autoencoder/decoder.",)
UNUSED_KEY_SUFFIXES = (".cluster_size", ".embed_avg", ".pad_buffer")
_CODEBOOK_KEY = re.compile(r"autoencoder/quantizer\.codebook\.layers\.(\d+)\.embed")


def is_unused_upstream_key(key: str) -> bool:
    """Whether an upstream ``autoencoder/`` / ``vocoder/`` key belongs to a part this pairing does
    not use (the symmetric decoder, the codebooks' EMA statistics, the streaming buffers)."""
    return key.startswith(UNUSED_KEY_PREFIXES) or key.endswith(UNUSED_KEY_SUFFIXES)


def state_dict_to_upstream(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The upstream keys (``autoencoder/...``, ``vocoder/...``) of an :class:`AudioDecCodec` state
    dict: the upstream layout less its unused parts (:func:`is_unused_upstream_key`)."""
    upstream: dict[str, torch.Tensor] = {}
    for name, tensor in state_dict.items():
        if name == "autoencoder.quantizer.codebooks":
            for layer, embed in enumerate(tensor):
                upstream[f"autoencoder/quantizer.codebook.layers.{layer}.embed"] = embed
        else:
            part, key = name.split(".", 1)
            upstream[f"{part}/{key}"] = tensor
    return upstream


def state_dict_from_upstream(state_dict: dict, expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map upstream weights (``{"autoencoder/<key>": tensor, "vocoder/<key>": tensor}``, tensors or
    numpy arrays) onto the model whose own state dict is ``expected``.

    Raises:
        CheckpointError: a used key is missing, unexpected or of another shape, named.
    """
    given = {
        key: torch.as_tensor(value) for key, value in state_dict.items() if not is_unused_upstream_key(key)
    }
    if any(torch.as_tensor(v).any() for k, v in state_dict.items() if k.endswith(".pad_buffer")):
        warnings.warn(
            "AudioDec: the checkpoint holds non-zero pad_buffer states; they are ignored", stacklevel=3
        )
    check_upstream_layout(
        state_dict_to_upstream(expected),
        given,
        CheckpointError,
        "AudioDec checkpoint does not match the config",
    )
    ours = {
        key.replace("/", ".", 1): value for key, value in given.items() if not _CODEBOOK_KEY.fullmatch(key)
    }
    layers = len(expected["autoencoder.quantizer.codebooks"])
    ours["autoencoder.quantizer.codebooks"] = torch.stack(
        [given[f"autoencoder/quantizer.codebook.layers.{layer}.embed"] for layer in range(layers)]
    )
    return ours


def _read_generator(path: Path) -> dict[str, torch.Tensor]:
    """``ckpt["model"]["generator"]`` of an upstream ``.pkl`` (a ``torch.save`` file)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        return checkpoint["model"]["generator"]
    except Exception as error:  # a truncated download, an HTML error page, another file
        raise CheckpointError(
            f"{path}: not an AudioDec checkpoint readable with torch.load(weights_only=True) "
            f"({type(error).__name__}: {error}); delete it and download it again"
        ) from None


def _read_generator_params(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text())["generator_params"]
    except Exception as error:
        raise CheckpointError(
            f"{path}: not an AudioDec config.yml with generator_params ({type(error).__name__}: {error}); "
            "delete it and download it again"
        ) from None


def read_checkpoints(paths: dict[str, Path]) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(config, state_dict)`` for :func:`~codecfake_hf.codecs.audiodec.from_upstream` from the
    upstream files, ``{relative name: local path}`` with names ``autoencoder/...`` and
    ``vocoder/...`` (each part one ``.pkl`` and one ``.yml``): ``config = {part: generator_params}``,
    the state dict's keys prefixed ``<part>/``."""
    config: dict = {}
    state_dict: dict[str, torch.Tensor] = {}
    for part in PARTS:
        files = {name: path for name, path in paths.items() if name.startswith(f"{part}/")}
        checkpoint = next(path for name, path in files.items() if name.endswith(".pkl"))
        config_file = next(path for name, path in files.items() if name.endswith(".yml"))
        config[part] = _read_generator_params(config_file)
        state_dict.update({f"{part}/{k}": v for k, v in _read_generator(checkpoint).items()})
    return config, state_dict
