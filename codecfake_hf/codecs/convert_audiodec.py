"""AudioDec checkpoints -> :class:`~codecfake_hf.codecs.audiodec.AudioDecCodec`: reading the upstream
files, their ``generator_params`` and state-dict layout, and the official weights.

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

import warnings
from dataclasses import fields
from pathlib import Path

import torch
import yaml

from codecfake_hf.codecs.audiodec import (
    AudioDecCodec,
    AudioDecEncoderConfig,
    HiFiGANVocoderConfig,
    build_codec,
)
from codecfake_hf.codecs.conversion import UpstreamStateDict, map_state_dict, tuples
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.files.checkpoint_files import CheckpointError

#: The two upstream checkpoints, as the prefixes of their keys.
PARTS = ("autoencoder", "vocoder")
#: Upstream keys that exist in the checkpoints but are not used by this pairing.
UNUSED_KEY_PREFIXES = ("autoencoder/decoder.",)
UNUSED_KEY_SUFFIXES = (".cluster_size", ".embed_avg", ".pad_buffer")
#: Upstream generator_params that must have these values (other architectures are not implemented).
_FIXED_ENCODER_PARAMS = {
    "mode": "causal",
    "codec": "audiodec",
    "projector": "conv1d",
    "quantier": "residual_vq",
}
_FIXED_VOCODER_PARAMS = {"nonlinear_activation": "LeakyReLU", "use_additional_convs": True}
#: Upstream generator_params that only concern parts not used here.
_IGNORED_PARAMS = {"output_channels", "decode_channels", "dec_ratios", "dec_strides", "stats"}


def _known_params(cls, params: dict, fixed: dict[str, object]) -> dict:
    """The fields of ``cls`` in upstream ``generator_params``; a value other than ``fixed``'s or an
    unknown parameter is an error naming it."""
    names = {f.name for f in fields(cls)}
    for key, expected in fixed.items():
        if key in params and params[key] != expected:
            raise ValueError(f"AudioDec: only {key}={expected!r} is implemented")
    unknown = set(params) - names - set(fixed) - _IGNORED_PARAMS
    if unknown:
        raise ValueError(f"AudioDec: unknown {cls.__name__} parameter(s) {sorted(unknown)}")
    return {k: tuples(v) for k, v in params.items() if k in names}


def encoder_config_from_upstream(params: dict) -> AudioDecEncoderConfig:
    """From the ``generator_params`` of the autoencoder's ``config.yml``."""
    return AudioDecEncoderConfig(**_known_params(AudioDecEncoderConfig, params, _FIXED_ENCODER_PARAMS))


def vocoder_config_from_upstream(params: dict) -> HiFiGANVocoderConfig:
    """From the ``generator_params`` of the vocoder's ``config.yml``."""
    params = dict(params)
    if "nonlinear_activation_params" in params:
        params["negative_slope"] = params.pop("nonlinear_activation_params").get("negative_slope", 0.01)
    return HiFiGANVocoderConfig(**_known_params(HiFiGANVocoderConfig, params, _FIXED_VOCODER_PARAMS))


def is_unused_upstream_key(key: str) -> bool:
    """Whether an upstream ``autoencoder/`` / ``vocoder/`` key belongs to a part this pairing does
    not use (the symmetric decoder, the codebooks' EMA statistics, the streaming buffers)."""
    return key.startswith(UNUSED_KEY_PREFIXES) or key.endswith(UNUSED_KEY_SUFFIXES)


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
    return map_state_dict(
        given,
        expected,
        "autoencoder.quantizer.codebooks",
        _take_codebooks,
        CheckpointError,
        "AudioDec checkpoint does not match the config",
        upstream_key=lambda name: name.replace(".", "/", 1),
    )


def _take_codebooks(upstream: UpstreamStateDict, codebooks: torch.Tensor) -> list[torch.Tensor | None]:
    """One ``[code_dim, codebook_size]`` table per residual codebook."""
    return [
        upstream.take(f"autoencoder/quantizer.codebook.layers.{layer}.embed", table.shape)
        for layer, table in enumerate(codebooks)
    ]


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
    """``(config, state_dict)`` for :func:`from_upstream` from the
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


def from_upstream(config: dict, state_dict: dict, streaming_state: str = "reset") -> AudioDecCodec:
    """Build the codec from upstream configs and weights.

    Args:
        config: ``{"autoencoder": generator_params, "vocoder": generator_params}`` from the two
            upstream ``config.yml`` files.
        state_dict: ``{"autoencoder/<key>": tensor, "vocoder/<key>": tensor}``, each part being
            ``ckpt["model"]["generator"]`` of its checkpoint (tensors or numpy arrays).
        streaming_state: "reset" or "carry" (:mod:`~codecfake_hf.codecs.audiodec`).

    Raises:
        ValueError: unsupported config values.
        CheckpointError: keys or shapes that do not match the model.
    """
    codec = build_codec(
        encoder_config_from_upstream(config["autoencoder"]), vocoder_config_from_upstream(config["vocoder"])
    )
    codec.load_state_dict(state_dict_from_upstream(state_dict, codec.state_dict()))
    codec.set_streaming_state(streaming_state)  # primes "carry" with the loaded weights
    return codec.eval()


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> AudioDecCodec:
    """The official weights (``spec.files`` of ``spec.repo_id``: the autoencoder and vocoder
    ``.pkl`` checkpoints with their ``config.yml``), from the Hub cache or ``local_dir`` (same
    relative paths; the two ``config.yml`` need their sub-folders), with
    ``spec.options["streaming_state"]``."""
    paths = fetch_checkpoint(spec, local_dir=local_dir)
    if len(set(paths.values())) != len(paths):
        raise CheckpointError(
            f"{local_dir}: the autoencoder and vocoder files share names; keep their sub-folders "
            f"({', '.join(spec.files)})"
        )
    return from_upstream(*read_checkpoints(paths), spec.options["streaming_state"])
