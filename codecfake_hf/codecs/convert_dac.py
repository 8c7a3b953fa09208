"""Descript Audio Codec checkpoints -> :class:`~codecfake_hf.codecs.dac.DacCodec` on a
``transformers.DacModel``: key names, config, weight norm, and the official weights.

The ``descript-audio-codec`` package's ``DAC`` nests its layers as ``encoder.block.N.block.M...`` and
keeps weight-normalised convolutions as ``weight_g`` / ``weight_v`` pairs; ``DacModel`` names the same
layers ``encoder.block.N.res_unitK.conv1...`` and holds plain ``weight``s (transformers-format Hub
repositories may still store weight-norm pairs, as ``parametrizations.weight.original0/1``). The
rules below rename every key (every pair is listed in ``tests/fixtures/codec_facts/dac_key_map.tsv``)
and :func:`fold_weight_norm` folds either kind of pair.
"""

from __future__ import annotations

import re

import torch
from safetensors.torch import load_file
from transformers import DacConfig, DacModel

from codecfake_hf.codecs.dac import DacCodec, codec_options
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.files.strict_loading import check_state_dict


def fold_weight_norm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace weight-norm pairs by plain weights: ``X.weight_g``/``X.weight_v`` and
    ``X.parametrizations.weight.original0``/``original1`` become ``X.weight = g * v / ||v||``, the
    norm over all dims but 0 (also for transposed convs, as torch's weight norm does)."""
    pairs = {
        ".weight_g": ".weight_v",
        ".parametrizations.weight.original0": ".parametrizations.weight.original1",
    }
    folded: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        for g_suffix, v_suffix in pairs.items():
            if key.endswith(v_suffix):
                break
            if key.endswith(g_suffix):
                prefix = key[: -len(g_suffix)]
                weight_v = state_dict[prefix + v_suffix].double()
                norm = weight_v.flatten(1).norm(dim=1).reshape(-1, *[1] * (weight_v.dim() - 1))
                folded[prefix + ".weight"] = (value.double() * weight_v / norm).to(value.dtype)
                break
        else:
            folded[key] = value
    return folded


_UPSTREAM_RULES = (
    # (pattern on the descript-audio-codec key, replacement); {n} = number of strides
    (r"^encoder\.block\.0\.", "encoder.conv1."),
    (r"^encoder\.block\.(\d+)\.block\.([0-2])\.block\.([0-3])\.", "encoder.block.{b}.res_unit{r}.{unit}."),
    (r"^encoder\.block\.(\d+)\.block\.3\.", "encoder.block.{b}.snake1."),
    (r"^encoder\.block\.(\d+)\.block\.4\.", "encoder.block.{b}.conv1."),
    (r"^decoder\.model\.0\.", "decoder.conv1."),
    (r"^decoder\.model\.(\d+)\.block\.0\.", "decoder.block.{b}.snake1."),
    (r"^decoder\.model\.(\d+)\.block\.1\.", "decoder.block.{b}.conv_t1."),
    (r"^decoder\.model\.(\d+)\.block\.([2-4])\.block\.([0-3])\.", "decoder.block.{b}.res_unit{r}.{unit}."),
)
_RES_UNIT = ("snake1", "conv1", "snake2", "conv2")


def upstream_key(key: str, n_strides: int) -> str:
    """The DacModel name of a ``descript-audio-codec`` state-dict key (weight-norm suffixes kept)."""
    tails = {
        f"encoder.block.{n_strides + 1}.": "encoder.snake1.",
        f"encoder.block.{n_strides + 2}.": "encoder.conv2.",
        f"decoder.model.{n_strides + 1}.": "decoder.snake1.",
        f"decoder.model.{n_strides + 2}.": "decoder.conv2.",
    }
    for prefix, replacement in tails.items():
        if key.startswith(prefix):
            return replacement + key[len(prefix) :]
    for pattern, template in _UPSTREAM_RULES:
        match = re.match(pattern, key)
        if match:
            groups = match.groups()
            fields = {}
            if groups:
                fields["b"] = int(groups[0]) - 1
            if len(groups) == 3:
                first_unit = 0 if key.startswith("encoder") else 2
                fields["r"] = int(groups[1]) - first_unit + 1
                fields["unit"] = _RES_UNIT[int(groups[2])]
            return template.format(**fields) + key[match.end() :]
    return key  # quantizer keys are named alike


def upstream_config(config: dict) -> DacConfig:
    """A DacConfig from ``descript-audio-codec`` ``DAC(**kwargs)`` arguments (built in one go, so
    the derived ``hidden_size`` follows ``encoder_dim``)."""
    if list(config["decoder_rates"]) != list(config["encoder_rates"])[::-1]:
        raise ValueError("DacModel needs decoder_rates == reversed(encoder_rates)")
    if config.get("latent_dim") not in (None, config["encoder_dim"] * 2 ** len(config["encoder_rates"])):
        raise ValueError("DacModel needs latent_dim == encoder_dim * 2**len(encoder_rates)")
    return DacConfig(
        encoder_hidden_size=config["encoder_dim"],
        downsampling_ratios=list(config["encoder_rates"]),
        decoder_hidden_size=config["decoder_dim"],
        n_codebooks=config["n_codebooks"],
        codebook_size=config["codebook_size"],
        codebook_dim=config["codebook_dim"],
        sampling_rate=config["sample_rate"],  # the upstream metadata's key
    )


def state_dict_from_upstream(state_dict: dict[str, torch.Tensor], n_strides: int) -> dict[str, torch.Tensor]:
    """``DAC.state_dict()`` (upstream names) under ``DacModel``'s names; weight-norm pairs are kept
    (:func:`load_weights` folds them)."""
    return {upstream_key(key, n_strides): value for key, value in state_dict.items()}


def load_weights(model: DacModel, state_dict: dict[str, torch.Tensor], source: str) -> DacModel:
    """Load a (possibly weight-normed) DacModel state dict strictly; eval mode.

    Raises:
        CheckpointMismatchError: names ``source`` and every missing, unexpected or misshaped key.
    """
    state_dict = fold_weight_norm(state_dict)
    check_state_dict(model, state_dict, source)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def from_upstream(config: dict, state_dict: dict[str, torch.Tensor], **options) -> DacCodec:
    """A :class:`DacCodec` from ``descript-audio-codec`` kwargs and ``DAC.state_dict()`` (upstream
    key names, ``weight_g``/``weight_v`` pairs). ``options`` go to :class:`DacCodec`."""
    renamed = state_dict_from_upstream(state_dict, len(config["encoder_rates"]))
    model = load_weights(DacModel(upstream_config(config)), renamed, "upstream DAC state dict")
    return DacCodec(model, **options)


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> DacCodec:
    """The official weights from ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    paths = fetch_checkpoint(spec, local_dir=local_dir)
    config = DacConfig.from_pretrained(str(paths["config.json"].parent))
    weights = str(paths["model.safetensors"])
    model = load_weights(DacModel(config), load_file(weights), weights)
    return DacCodec(model, **codec_options(spec))
