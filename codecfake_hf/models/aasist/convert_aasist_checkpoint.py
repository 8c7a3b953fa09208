"""Convert an official AASIST / AASIST-L checkpoint (a PyTorch state dict, ``.pth``) to a
transformers folder (``config.json``, ``model.safetensors``, ``preprocessor_config.json`` and the
model code for ``trust_remote_code``).

Every official key is renamed explicitly (tables below) and loaded strictly, so a missing or extra
key fails the conversion. Usage::

    codecfake convert-aasist AASIST-L.pth out/aasist-l --variant AASIST-L
    codecfake convert-aasist download out/aasist-l --variant AASIST-L   # fetches the official file
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from codecfake_hf.errors import InputFileError
from codecfake_hf.files.checkpoint_files import CheckpointError, load_torch_file
from codecfake_hf.files.downloads import checked_download
from codecfake_hf.files.hub_io import CheckpointUnavailableError

from .configuration_aasist import AASIST_PRESETS, AasistConfig
from .feature_extraction_aasist import AasistFeatureExtractor
from .modeling_aasist import AasistForAudioClassification

#: Where the official weights live: the upstream repository at a fixed commit (the files were added in
#: f8ad059 and are unchanged at a04c986, the commit this package was checked against), never a branch.
OFFICIAL_CHECKPOINT_URL = "https://github.com/clovaai/aasist/raw/a04c9863f63d44471dde8a6abcb3b082b07cd1d1/models/weights/{variant}.pth"
#: sha256 of the official files (``models/weights/`` of the AASIST release): a download is used
#: only when its digest matches.
OFFICIAL_CHECKPOINT_SHA256 = {
    "AASIST": "51d2d9cf0738172f61e2a384ec50a54a55363240f67c971ed55a92435bc1a1c0",
    "AASIST-L": "814331d088032bb4c3fa61cc014789eadeed464209dd094ab3a2dd6ffbdce27a",
}

#: Top-level official module -> our module path.
_MODULE_NAMES = {
    "pos_S": "spectral_position",
    "master1": "branches.0.master",
    "master2": "branches.1.master",
    "first_bn": "stem_norm",
    "GAT_layer_S": "gat_spectral",
    "GAT_layer_T": "gat_temporal",
    "pool_S": "pool_spectral",
    "pool_T": "pool_temporal",
    "HtrgGAT_layer_ST11": "branches.0.hsgal1",
    "HtrgGAT_layer_ST12": "branches.0.hsgal2",
    "HtrgGAT_layer_ST21": "branches.1.hsgal1",
    "HtrgGAT_layer_ST22": "branches.1.hsgal2",
    "pool_hS1": "branches.0.pool_spectral",
    "pool_hT1": "branches.0.pool_temporal",
    "pool_hS2": "branches.1.pool_spectral",
    "pool_hT2": "branches.1.pool_temporal",
    "out_layer": "classifier",
}

#: Official sub-module / parameter name -> ours, inside residual blocks, graph layers and pools.
_LEAF_NAMES = {
    # residual block
    "bn1": "input_norm",
    "bn2": "norm",
    "conv_downsample": "skip_conv",
    # graph attention (GAT and HS-GAL)
    "att_proj": "attention_proj",
    "att_weight": "attention_weight",
    "proj_with_att": "proj_with_attention",
    "proj_without_att": "proj_without_attention",
    "bn": "norm",
    # HS-GAL only
    "proj_type1": "proj_temporal",
    "proj_type2": "proj_spectral",
    "att_weight11": "attention_weight_tt",
    "att_weight22": "attention_weight_ss",
    "att_weight12": "attention_weight_cross",
    "att_projM": "master_attention_proj",
    "att_weightM": "master_attention_weight",
    "proj_with_attM": "master_proj_with_attention",
    "proj_without_attM": "master_proj_without_attention",
    # graph pool
    "proj": "score_proj",
}


def convert_key(key: str) -> str:
    """Our parameter name for an official state-dict key, e.g. ``encoder.2.0.bn1.weight`` ->
    ``encoder.2.input_norm.weight`` and ``HtrgGAT_layer_ST12.att_weightM`` ->
    ``branches.0.hsgal2.master_attention_weight``."""
    parts = key.split(".")
    if parts[0] == "encoder":  # encoder.<block>.0.<layer>.<tensor>
        module, rest = f"encoder.{parts[1]}", parts[3:]
    elif parts[0] in _MODULE_NAMES:
        module, rest = _MODULE_NAMES[parts[0]], parts[1:]
    else:
        raise KeyError(f"unexpected key {key!r} in the AASIST checkpoint")
    if rest:
        rest[0] = _LEAF_NAMES.get(rest[0], rest[0])
    return ".".join([module, *rest])


def convert_state_dict(official: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename every key of an official state dict (values are shared, not copied)."""
    return {convert_key(key): value for key, value in official.items()}


def download_official_checkpoint(variant: str, directory: str | os.PathLike, timeout_s: float = 20.0) -> Path:
    """Download the official ``{variant}.pth`` into ``directory`` and check its sha256
    (:data:`OFFICIAL_CHECKPOINT_SHA256`) with :func:`codecfake_hf.files.downloads.checked_download`: a file
    already there is checked the same way, not fetched; an interrupted download resumes.

    Raises:
        CheckpointUnavailableError: offline (``HF_HUB_OFFLINE=1``), the download failed, or the file's
            sha256 is not the official one (a bad download is deleted; a file that was already there
            is moved aside to ``{variant}.pth.rejected``, never deleted); the message gives the URL to
            fetch by hand.
    """
    url = OFFICIAL_CHECKPOINT_URL.format(variant=variant)
    fix = f"download {url} on a machine with network access and pass the file path instead"
    return checked_download(
        url,
        Path(directory) / f"{variant}.pth",
        OFFICIAL_CHECKPOINT_SHA256[variant],
        what="checkpoint",
        fix=fix,
        error=CheckpointUnavailableError,
        timeout_s=timeout_s,
    )


def convert_aasist_checkpoint(
    checkpoint_path: str | os.PathLike | None,
    output_dir: str | os.PathLike,
    variant: str = "AASIST-L",
) -> AasistForAudioClassification:
    """Convert the official checkpoint of ``variant`` ("AASIST" or "AASIST-L") into ``output_dir``.

    Args:
        checkpoint_path: the official ``.pth`` state dict; ``None`` downloads it (online only) into
            ``output_dir``'s parent folder ``.../<output_dir>.download``.
        output_dir: new or empty folder written with ``save_pretrained`` (safetensors) plus the feature
            extractor.
        variant: which preset configuration the checkpoint belongs to.

    Returns:
        The converted model in eval mode.

    Raises:
        InputFileError: ``checkpoint_path`` is no file, or ``output_dir`` is a file or a folder that
            is not empty (checked first: nothing the user has is replaced).
        ValueError: unknown variant.
        CheckpointError: the file does not load with ``weights_only=True`` (truncated, corrupt,
            holding code), or does not match the variant (strict loading failed).
        CheckpointUnavailableError: ``checkpoint_path`` is None and the file cannot be downloaded.
    """
    if variant not in AASIST_PRESETS:
        raise ValueError(f"unknown AASIST variant {variant!r}; choose one of {', '.join(AASIST_PRESETS)}")
    output_dir = Path(output_dir)
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        kind = "a folder that is not empty" if output_dir.is_dir() else "a file"
        raise InputFileError(
            f"{output_dir}: is {kind}; nothing was written: pass a new or empty output folder"
        )
    if checkpoint_path is None:
        checkpoint_path = download_official_checkpoint(
            variant, output_dir.with_name(output_dir.name + ".download")
        )
    checkpoint_path = Path(checkpoint_path)
    if not checkpoint_path.is_file():
        problem = (
            "is a folder, not a checkpoint file" if checkpoint_path.is_dir() else "no such checkpoint file"
        )
        raise InputFileError(f"{checkpoint_path}: {problem}; pass the official {variant}.pth")
    official = load_torch_file(
        checkpoint_path, f"pass the official {variant}.pth (`codecfake convert-aasist download` fetches it)"
    )
    if not isinstance(official, dict):
        raise CheckpointError(
            f"{checkpoint_path}: holds a {type(official).__name__}, not an AASIST state dict"
        )

    config = AasistConfig.from_preset(variant)
    model = AasistForAudioClassification(config)
    try:
        model.load_state_dict(convert_state_dict(official), strict=True)
    except (RuntimeError, KeyError) as error:
        # load_state_dict lists one problem a line under a heading: name the first and count the others
        problems = [line.strip() for line in str(error).strip("'\"").splitlines() if line.strip()]
        problems = problems[1:] if len(problems) > 1 else problems
        reason = " ".join(problems[0].split())[:200].rstrip(".") + (
            f"; {len(problems) - 1} more" if len(problems) > 1 else ""
        )
        other = [name for name in ("AASIST", "AASIST-L") if name != variant][0]
        raise CheckpointError(
            f"{checkpoint_path}: not an official {variant} checkpoint ({reason}); if it is {other}, pass "
            f"--variant {other}"
        ) from None
    model.eval()
    model.save_pretrained(output_dir)
    AasistFeatureExtractor(
        sampling_rate=config.sampling_rate, num_samples=config.num_samples
    ).save_pretrained(output_dir)
    return model
