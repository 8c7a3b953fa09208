"""Mimi (Kyutai, 2024) on ``transformers.MimiModel`` (``kyutai/mimi``): the speech codec of Moshi.

A causal SEANet encoder and decoder with a Transformer on each side, 24 kHz, 12.5 code frames per
second (hop 1920 samples), split residual VQ with 2048-entry codebooks whose first codebook is
distilled from WavLM (semantic) and whose others are acoustic. The checkpoint holds 32 codebooks;
this subset decodes the first 8, as Moshi does (8 x 12.5 Hz x 11 bit = 1.1 kbps).

Every convolution and attention is causal, so a zero-padded batch gives each row the same output
as the row alone: batches run in one call.
"""

from __future__ import annotations

import torch
from transformers import MimiConfig, MimiModel

from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec, load_pretrained


class MimiCodec(TransformersCodec):
    """Mimi with a fixed number of codebooks. Codes: ``[B, n_q, frames]``."""

    def __init__(self, model: MimiModel, num_quantizers: int) -> None:
        config = model.config
        if not config.num_semantic_quantizers < num_quantizers <= config.num_quantizers:
            raise ValueError(
                f"Mimi decodes {config.num_semantic_quantizers + 1}..{config.num_quantizers} codebooks, "
                f"not {num_quantizers}"
            )
        super().__init__(model, config.sampling_rate, config.frame_size)
        self.num_quantizers = int(num_quantizers)

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        return self.model.encode(waveforms, num_quantizers=self.num_quantizers).audio_codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes).audio_values


def tiny_codec(spec: CodecSpec, seed: int = 0) -> MimiCodec:
    """The real classes at a tiny config with random weights (tests, offline demo): hop 192
    samples, ``spec.n_quantizers`` codebooks of 64 entries, one Transformer layer per side."""
    torch.manual_seed(seed)
    config = MimiConfig(
        sampling_rate=spec.sampling_rate,
        hidden_size=32,
        num_filters=4,
        upsampling_ratios=[4, 4, 3, 2],
        codebook_size=64,
        codebook_dim=16,
        num_quantizers=spec.n_quantizers,
        vector_quantization_hidden_dimension=16,
        upsample_groups=32,
        num_hidden_layers=1,
        intermediate_size=32,
        num_attention_heads=2,
        num_key_value_heads=2,
        sliding_window=50,
    )
    return MimiCodec(MimiModel(config).eval(), spec.n_quantizers)


def random_codec(spec: CodecSpec, seed: int = 0) -> MimiCodec:
    """The official architecture (``MimiConfig()`` defaults = ``kyutai/mimi``) with random weights."""
    torch.manual_seed(seed)
    return MimiCodec(MimiModel(MimiConfig()).eval(), spec.n_quantizers)


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> MimiCodec:
    """The official weights of ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    return MimiCodec(load_pretrained(MimiModel, spec, local_dir), spec.n_quantizers)
