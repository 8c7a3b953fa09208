"""HiFi-Codec checkpoints -> :class:`~codecfake_hf.codecs.hificodec.HiFiCodec`: the official configs,
the upstream JSON config and state-dict layout, reading a checkpoint file, and the official weights.

Checkpoints (``Dongchao/AcademiCodec``, files without extension) are ``torch.save`` dicts with the
top-level keys ``generator``, ``encoder`` and ``quantizer``, each a state dict with upstream key
names; the golden vectors store the same weights flat, as ``"<top-level key>/<key>"``. The encoder
and generator keys are the model's own (``encoder.<key>``, ``generator.<key>``). The quantizer keeps
one ``nn.Embedding`` per codebook, ``quantizer_modules.G.embedding.weight`` (first residual layer,
group ``G``) and ``quantizer_modules2.G.embedding.weight`` (second layer); here they are the rows of
``quantizer.codebooks`` in code order
(:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`).
"""

from __future__ import annotations

import pickle
from dataclasses import fields
from pathlib import Path

import torch

from codecfake_hf.codecs.conversion import UpstreamStateDict, map_state_dict, tuples
from codecfake_hf.codecs.hificodec import HiFiCodec, HiFiCodecConfig
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.files.checkpoint_files import CheckpointError

#: Top-level keys of an upstream checkpoint file, in the order of the model's submodules.
CHECKPOINT_KEYS = ("encoder", "quantizer", "generator")
#: The upstream quantizer's residual layers (hard-coded upstream), in order.
QUANTIZER_LAYERS = ("quantizer_modules", "quantizer_modules2")

#: Model hyper-parameters of the official JSON configs (upstream ``egs/HiFi-Codec-*/``). Their other
#: keys (mel-loss ``hop_size``/``win_size``/``n_fft``/..., optimiser, data loading) only configure
#: training and are ignored by :func:`config_from_upstream`.
OFFICIAL_CONFIGS: dict[str, dict] = {
    name: {
        "resblock": "1",
        "upsample_rates": [8, 5, 4, 2],
        "upsample_kernel_sizes": [16, 11, 8, 4],
        "upsample_initial_channel": 512,
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "sampling_rate": rate,
        "n_code_groups": 2,
        "n_codes": 1024,
    }
    for name, rate in (("config_16k_320d.json", 16000), ("config_24k_320d.json", 24000))
}


def config_from_upstream(config: dict) -> HiFiCodecConfig:
    """Build from an upstream JSON config dict (training-only keys ignored; the three width keys of
    :class:`HiFiCodecConfig` that upstream hard-codes may be added)."""
    known = {f.name for f in fields(HiFiCodecConfig)}
    return HiFiCodecConfig(**{key: tuples(value) for key, value in config.items() if key in known})


def _flat(nested: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {f"{top}/{key}": tensor for top, part in nested.items() for key, tensor in part.items()}


def _nest(state_dict: dict) -> dict[str, dict]:
    """``{"encoder": {...}, ...}`` from either the nested or the flat ``top/key`` layout."""
    if all(key in state_dict and isinstance(state_dict[key], dict) for key in CHECKPOINT_KEYS):
        return {key: state_dict[key] for key in CHECKPOINT_KEYS}
    nested: dict[str, dict] = {key: {} for key in CHECKPOINT_KEYS}
    for name, tensor in state_dict.items():
        top, _, key = name.partition("/")
        if top not in nested or not key:
            raise ValueError(
                f"unexpected HiFi-Codec weight name {name!r}: expected the nested checkpoint dict "
                f"with keys {CHECKPOINT_KEYS} or flat names '<{'|'.join(CHECKPOINT_KEYS)}>/<key>'"
            )
        nested[top][key] = tensor
    return nested


def state_dict_from_upstream(state_dict: dict, expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map upstream weights, nested (the checkpoint file) or flat (``"generator/conv_pre.bias"``, ...),
    onto the model whose own state dict is ``expected``.

    Raises:
        CheckpointError: a weight is missing, unexpected or of another shape (wrong config or
            checkpoint); the message names the first of each, in the flat upstream names.
        ValueError: a flat name that is not ``"<top-level key>/<key>"``.
    """
    return map_state_dict(
        _flat(_nest(state_dict)),
        expected,
        "quantizer.codebooks",
        _take_codebooks,
        CheckpointError,
        "the HiFi-Codec weights do not fit the config (wrong config or checkpoint?)",
        upstream_key=lambda name: name.replace(".", "/", 1),
    )


def _take_codebooks(upstream: UpstreamStateDict, codebooks: torch.Tensor) -> list[torch.Tensor | None]:
    """One ``nn.Embedding`` per codebook, residual layer by layer, group by group."""
    groups = len(codebooks) // len(QUANTIZER_LAYERS)
    return [
        upstream.take(
            f"quantizer/{QUANTIZER_LAYERS[index // groups]}.{index % groups}.embedding.weight", table.shape
        )
        for index, table in enumerate(codebooks)
    ]


def load_checkpoint(path: str | Path) -> dict[str, dict[str, torch.Tensor]]:
    """Read an upstream checkpoint file (``torch.load`` with ``weights_only=True``)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise CheckpointError(
            f"{path}: not a readable HiFi-Codec checkpoint ({type(error).__name__}); "
            f"delete it and download it again"
        ) from None
    if not isinstance(checkpoint, dict) or not all(key in checkpoint for key in CHECKPOINT_KEYS):
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"{path}: expected a HiFi-Codec checkpoint with keys {CHECKPOINT_KEYS}, got {found}"
        )
    return {key: checkpoint[key] for key in CHECKPOINT_KEYS}


def from_upstream(config: dict, state_dict: dict) -> HiFiCodec:
    """Build from an upstream JSON config dict (:func:`config_from_upstream`) and upstream weights,
    nested (``{"generator": sd, "encoder": sd, "quantizer": sd}``, the checkpoint file) or flat
    (``"generator/conv_pre.bias"``, ...), loaded strictly. Returns the model in eval mode."""
    model = HiFiCodec(config_from_upstream(config))
    model.load_state_dict(state_dict_from_upstream(state_dict, model.state_dict()))
    return model.eval()


def _official_config(spec: CodecSpec) -> dict:
    """The official JSON config named by ``spec.options["config"]`` (:data:`OFFICIAL_CONFIGS`).

    Raises:
        ValueError: that config is not at the rate of ``spec``.
    """
    config = OFFICIAL_CONFIGS[spec.options["config"]]
    if config["sampling_rate"] != spec.sampling_rate:
        raise ValueError(f"{spec.id}: config {spec.options['config']} is not at {spec.sampling_rate} Hz")
    return config


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> HiFiCodec:
    """The official weights ``spec.options["checkpoint"]`` of ``spec.repo_id`` (Hub cache or
    ``local_dir``) with the official config ``spec.options["config"]``."""
    file = spec.options["checkpoint"]
    path = fetch_checkpoint(spec, (file,), local_dir=local_dir)[file]
    return from_upstream(_official_config(spec), load_checkpoint(path))
