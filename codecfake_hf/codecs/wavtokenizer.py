"""WavTokenizer (Ji et al., ICLR 2025) on ``transformers.WavTokenizerModel``
(``swiss-ai/wavtokenizer-large-unify-40token``, converted from the original release).

An EnCodec-style SEANet encoder, ONE 4096-entry VQ codebook and a Vocos decoder (ConvNeXt blocks
with an attention block, predicting an STFT that an inverse STFT turns into audio). 24 kHz, 40 code
frames per second (hop 600): 40 x 12 bit = 0.48 kbps.

The decoder's attention and GroupNorm span the whole utterance, so zero padding would change every
output sample: each utterance is coded at its own length.
"""

from __future__ import annotations

import torch
from transformers import WavTokenizerConfig, WavTokenizerModel

from codecfake_hf.codecs.spec import CodecSpec
from codecfake_hf.codecs.transformers_codec import TransformersCodec, load_pretrained


class WavTokenizerCodec(TransformersCodec):
    """WavTokenizer. Codes: ``[B, 1, frames]`` (one codebook)."""

    per_utterance = True

    def __init__(self, model: WavTokenizerModel) -> None:
        super().__init__(model, model.config.sampling_rate, model.config.hop_length)

    def encode(self, waveforms: torch.Tensor) -> torch.Tensor:
        return self.model.encode(waveforms, return_dict=True).audio_codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.decode(codes, return_dict=True).audio_values


def tiny_codec(spec: CodecSpec, seed: int = 0) -> WavTokenizerCodec:
    """The real classes at a tiny config with random weights (tests, offline demo): official hop
    (600), 64-entry codebook of dimension 16, one ConvNeXt block."""
    torch.manual_seed(seed)
    config = WavTokenizerConfig(
        sampling_rate=spec.sampling_rate,
        num_filters=4,
        hidden_size=16,
        codebook_dim=16,
        codebook_size=64,
        num_lstm_layers=1,
        decoder_hidden_size=16,
        decoder_intermediate_size=32,
        decoder_num_layers=1,
        decoder_attention_num_groups=4,
    )
    return WavTokenizerCodec(WavTokenizerModel(config).eval())


def random_codec(spec: CodecSpec, seed: int = 0) -> WavTokenizerCodec:
    """The official architecture (``WavTokenizerConfig()`` defaults) with random weights."""
    torch.manual_seed(seed)
    return WavTokenizerCodec(WavTokenizerModel(WavTokenizerConfig()).eval())


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> WavTokenizerCodec:
    """The official weights of ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    return WavTokenizerCodec(load_pretrained(WavTokenizerModel, spec, local_dir))
