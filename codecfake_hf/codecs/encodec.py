"""Subset E: EnCodec 24 kHz on ``transformers.EncodecModel`` (``facebook/encodec_24khz``).

The official CodecFake data used the model's default (smallest) bandwidth, 1.5 kbps = 2 codebooks,
no chunking and no normalisation (the CodecFake generation code, ``roger-tseng/AudioDecBenchmark``
branch ``vctk`` at ``5bb2b98``, calls ``encode`` without a bandwidth).

The 24 kHz model is causal, so a zero-padded batch gives each row the same output as the row alone:
batches run in one call.
"""

from __future__ import annotations

import torch
from transformers import EncodecConfig, EncodecModel

from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec, load_pretrained


class EncodecCodec(TransformersCodec):
    """EnCodec at a fixed bandwidth (kbps). Codes: ``[B, n_q, frames]``."""

    def __init__(self, model: EncodecModel, bandwidth: float = 1.5) -> None:
        if bandwidth not in model.config.target_bandwidths:
            raise ValueError(f"bandwidth {bandwidth} kbps is not one of {model.config.target_bandwidths}")
        super().__init__(model, model.config.sampling_rate, model.config.hop_length)
        self.bandwidth = float(bandwidth)

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        # One chunk (no chunk_length_s): audio_codes is [1, B, n_q, frames].
        return self.model.encode(waveforms, bandwidth=self.bandwidth).audio_codes[0]

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes[None], [None]).audio_values


def tiny_codec(spec: CodecSpec, seed: int = 0) -> EncodecCodec:
    """A tiny random-init EnCodec at the spec's rate and bandwidth (tests, offline demo): narrow
    layers, but the official strides, bandwidths and 1024-entry codebooks, so a bandwidth selects
    the same number of codebooks as in the real model."""
    torch.manual_seed(seed)
    config = EncodecConfig(
        sampling_rate=spec.sampling_rate,
        num_filters=4,
        hidden_size=16,
        codebook_dim=16,
        num_lstm_layers=1,
    )
    return EncodecCodec(EncodecModel(config), spec.options["bandwidth"])


def random_codec(spec: CodecSpec, seed: int = 0) -> EncodecCodec:
    """The official 24 kHz architecture with random weights (benchmarks)."""
    torch.manual_seed(seed)
    return EncodecCodec(EncodecModel(EncodecConfig()), spec.options["bandwidth"])


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> EncodecCodec:
    """The official weights from ``spec.repo_id`` (Hub cache or ``local_dir``), loaded strictly."""
    return EncodecCodec(load_pretrained(EncodecModel, spec, local_dir), spec.options["bandwidth"])
