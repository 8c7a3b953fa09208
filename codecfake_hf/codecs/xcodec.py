"""X-codec (Ye et al., 2024) on ``transformers.XcodecModel`` (``hf-audio/xcodec-hubert-librispeech``).

A DAC-style acoustic encoder/decoder whose latents are concatenated with HuBERT features (the mean of
all HuBERT hidden layers, re-encoded by a small semantic encoder) before one residual VQ; training
also reconstructs the HuBERT features from the codes (semantic distillation). 16 kHz, 50 code frames
per second (hop 320), 1024-entry codebooks. The speech checkpoint trained on LibriSpeech is used at
its highest bandwidth, 4 kbps = 8 codebooks (``XcodecModel.encode``'s default).

HuBERT attends over the whole utterance and group-normalises its first convolution over time, so
zero padding would change every output sample: each utterance is coded at its own length, after
zero padding to a multiple of the hop as ``XcodecModel``'s feature extractor does (without it the
output can end up to one hop short of the input).
"""

from __future__ import annotations

import torch
from transformers import XcodecConfig, XcodecModel

from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec, load_pretrained


class XcodecCodec(TransformersCodec):
    """X-codec at a fixed bandwidth (kbps). Codes: ``[B, n_q, frames]``."""

    per_utterance = True
    pad_to_hop = True

    def __init__(self, model: XcodecModel, bandwidth: float) -> None:
        if bandwidth not in model.config.target_bandwidths:
            raise ValueError(
                f"bandwidth {bandwidth} kbps is not one of {list(model.config.target_bandwidths)}"
            )
        # transformers' XcodecConfig spells it sample_rate
        super().__init__(model, model.config.sample_rate, model.config.hop_length)
        self.bandwidth = float(bandwidth)

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        return self.model.encode(waveforms, bandwidth=self.bandwidth, return_dict=True).audio_codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes, return_dict=True).audio_values


def tiny_codec(spec: CodecSpec, seed: int = 0) -> XcodecCodec:
    """The real classes at a tiny config with random weights (tests, offline demo). The hop (320)
    and frame rate are the official ones, because HuBERT's convolution strides (5 x 2^6 = 320) must
    give as many frames as the acoustic encoder; only the widths and depths shrink."""
    torch.manual_seed(seed)
    bandwidth = spec.options["bandwidth"]
    config = XcodecConfig(
        sample_rate=spec.sampling_rate,
        target_bandwidths=[0.5, bandwidth],
        acoustic_model_config={
            "encoder_hidden_size": 4,
            "decoder_hidden_size": 32,
            "hidden_size": 16,
            "codebook_dim": 8,
            "codebook_size": 16,
            "n_codebooks": 2,
        },
        semantic_model_config={
            "model_type": "hubert",
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 16,
            "conv_dim": [4] * 7,
            "num_conv_pos_embeddings": 16,
            "num_conv_pos_embedding_groups": 2,
        },
    )
    return XcodecCodec(XcodecModel(config).eval(), bandwidth)


def random_codec(spec: CodecSpec, seed: int = 0) -> XcodecCodec:
    """The official architecture (``XcodecConfig()`` defaults, HuBERT base) with random weights."""
    torch.manual_seed(seed)
    return XcodecCodec(XcodecModel(XcodecConfig()).eval(), spec.options["bandwidth"])


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> XcodecCodec:
    """The official weights of ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    return XcodecCodec(load_pretrained(XcodecModel, spec, local_dir), spec.options["bandwidth"])
