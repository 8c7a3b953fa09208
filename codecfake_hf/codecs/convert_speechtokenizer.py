"""SpeechTokenizer checkpoints -> :class:`~codecfake_hf.codecs.speechtokenizer.SpeechTokenizerCodec`:
reading the files, the upstream ``config.json`` and state-dict layout, and the official weights.

The official ``SpeechTokenizer.pt`` is a flat state dict with upstream key names. Every key maps to
the same name here except the codebooks: upstream keeps one ``EuclideanCodebook`` per residual layer,
``quantizer.vq.layers.K._codebook.{inited,cluster_size,embed,embed_avg}``; here the ``embed`` tables
are stacked in ``quantizer.codebooks [n_q, codebook_size, dim]``
(:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`). ``inited``,
``cluster_size`` and ``embed_avg`` are k-means / EMA training state: checked (an uninitialised
codebook means an untrained checkpoint), not kept.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import fields

import torch

from codecfake_hf.codecs.conversion import (
    UpstreamStateDict,
    check_codebooks_initialised,
    map_state_dict,
    take_euclidean_codebook,
)
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.codecs.speechtokenizer import SpeechTokenizerCodec, SpeechTokenizerConfig
from codecfake_hf.files.hub_io import CheckpointUnavailableError

#: Fields of :class:`SpeechTokenizerConfig` that the upstream ``config.json`` spells differently.
_UPSTREAM_KEYS = {"sampling_rate": "sample_rate"}


def config_from_upstream(config: dict) -> SpeechTokenizerConfig:
    """Read an upstream ``config.json`` dict. Every model key must be present (upstream turns a
    missing key into None, which silently changes the model); training keys are ignored.

    Raises:
        ValueError: names the missing keys.
    """
    keys = {f.name: _UPSTREAM_KEYS.get(f.name, f.name) for f in fields(SpeechTokenizerConfig)}
    missing = [key for key in keys.values() if key not in config]
    if missing:
        raise ValueError(f"SpeechTokenizer config is missing the key(s) {', '.join(missing)}")
    values = {name: config[key] for name, key in keys.items()}
    return SpeechTokenizerConfig(**{**values, "strides": tuple(int(s) for s in values["strides"])})


def state_dict_from_upstream(
    state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Map an upstream state dict onto the model whose own state dict is ``expected``.

    Raises:
        ValueError: a key of the upstream layout is missing, unexpected or of another shape (named
            in upstream terms), or a codebook was never initialised (``inited`` = 0): an untrained
            checkpoint.
    """
    ours = map_state_dict(
        state_dict,
        expected,
        "quantizer.codebooks",
        _take_codebooks,
        ValueError,
        "SpeechTokenizer checkpoint does not match its config.json",
    )
    check_codebooks_initialised(state_dict, ValueError)
    return ours


def _take_codebooks(upstream: UpstreamStateDict, codebooks: torch.Tensor) -> list[torch.Tensor | None]:
    """One ``EuclideanCodebook`` per residual layer."""
    return [
        take_euclidean_codebook(upstream, f"quantizer.vq.layers.{layer}._codebook.", embed.shape)
        for layer, embed in enumerate(codebooks)
    ]


def from_upstream(config: dict, state_dict: dict[str, torch.Tensor]) -> SpeechTokenizerCodec:
    """Build the model from an upstream ``config.json`` dict and flat state dict (upstream keys,
    e.g. the official ``SpeechTokenizer.pt``); strict load, eval mode."""
    model = SpeechTokenizerCodec(config_from_upstream(config))
    model.load_state_dict(state_dict_from_upstream(state_dict, model.state_dict()))
    return model.eval()


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> SpeechTokenizerCodec:
    """The official ``speechtokenizer_hubert_avg`` weights (``spec.files`` of ``spec.repo_id``, from
    the Hub cache or ``local_dir``).

    Raises:
        CheckpointUnavailableError: the files cannot be read as a matching config and checkpoint.
    """
    config_file, weights_file = spec.files
    paths = fetch_checkpoint(spec, local_dir=local_dir)
    try:
        config = json.loads(paths[config_file].read_text())
        state_dict = torch.load(paths[weights_file], map_location="cpu", weights_only=True)
        return from_upstream(config, state_dict)
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as error:
        reason = str(error).splitlines()[0]
        raise CheckpointUnavailableError(
            f"{paths[weights_file]}: not a loadable speechtokenizer_hubert_avg checkpoint with "
            f"{paths[config_file].name} ({reason}); download both files again"
        ) from None
