"""Subset A: SpeechTokenizer (``speechtokenizer_hubert_avg``), implemented natively in PyTorch.

A SEANet encoder (convolutions, then a bidirectional LSTM) maps 16 kHz audio to a 1024-d latent at
50 frames/s (hop 320 samples); an 8-layer residual vector quantizer turns each frame into 8 codes
(layer 0 is the HuBERT-distilled "semantic" layer); a SEANet decoder (unidirectional LSTM, then
transposed convolutions) maps the summed codewords back to audio. Written from the upstream source
(``ZhangXInFD/SpeechTokenizer`` at ``30c96fb``, the code of ``speechtokenizer`` 1.0.1); the
official ``SpeechTokenizer.pt`` (a flat state dict) loads strictly.

Code layout: ``[B, n_q, frames]`` int64 (upstream returns ``[n_q, B, frames]``), with
``frames = ceil(T / 320)``. Decoding gives ``320 * frames`` samples (not trimmed, as upstream).

The network is the shared SEANet of :mod:`codecfake_hf.codecs.layers.seanet` (weight-normalised
convolutions, ELU, LSTMs) around a
:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`; the upstream
``config.json`` and the checkpoint's key names map onto it in
:mod:`codecfake_hf.codecs.convert_speechtokenizer`, which also loads the official weights.

Batching: the encoder is non-causal (reflect padding at each clip's end, a bidirectional LSTM), so
zero-padding a short clip to a batch's length would change its codes well before the padding. The
layers therefore take optional per-clip valid ``lengths``: convolutions reflect-pad every clip at its
own end and the LSTMs run on packed sequences, so a padded batch gives each clip what upstream
computes for that clip alone (the official data were encoded per clip), up to float rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.layers.masking import row_lengths
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.layers.seanet import SEANetConfig, SEANetDecoder, SEANetEncoder
from codecfake_hf.codecs.spec import CodecSpec


@dataclass(frozen=True)
class SpeechTokenizerConfig:
    """Every hyper-parameter the model reads (upstream ``config.json`` keys but ``sampling_rate``;
    defaults = official).

    Attributes:
        n_filters: channels after the first encoder convolution; doubles at each downsampling.
        strides: decoder upsampling factors, in order; the encoder uses them reversed. Their
            product is the hop length in samples.
        dimension: latent and codeword dimension.
        semantic_dimension: output width of ``transform`` (the HuBERT-distillation head; unused
            for resynthesis, kept so the checkpoint loads).
        bidirectional: whether the encoder LSTM is bidirectional (the decoder's never is).
        lstm_layers: layers of both LSTMs.
        dilation_base: residual layer ``j`` of a stage uses dilation ``dilation_base ** j``.
        residual_kernel_size: kernel of the first convolution of each residual block.
        n_residual_layers: residual blocks per stage.
        activation: only "ELU" (alpha 1) is supported; the Snake variant is another checkpoint.
        codebook_size: codewords per RVQ layer.
        n_q: RVQ layers.
        sampling_rate: audio rate in Hz (nothing resamples inside the model; upstream key
            ``sample_rate``).
    """

    n_filters: int = 64
    strides: tuple[int, ...] = (8, 5, 4, 2)
    dimension: int = 1024
    semantic_dimension: int = 768
    bidirectional: bool = True
    lstm_layers: int = 2
    dilation_base: int = 2
    residual_kernel_size: int = 3
    n_residual_layers: int = 1
    activation: str = "ELU"
    codebook_size: int = 1024
    n_q: int = 8
    sampling_rate: int = 16000

    def __post_init__(self) -> None:
        if self.activation != "ELU":
            raise ValueError(
                f"SpeechTokenizer activation {self.activation!r} is not supported (only 'ELU', "
                "the speechtokenizer_hubert_avg checkpoint)"
            )

    @property
    def hop_length(self) -> int:
        """Samples per code frame (product of the strides)."""
        return math.prod(self.strides)

    def seanet(self, bidirectional: bool) -> SEANetConfig:
        """The SEANet encoder (``bidirectional``: its LSTM's direction) or decoder of this model."""
        return SEANetConfig(
            channels=1,
            dimension=self.dimension,
            n_filters=self.n_filters,
            ratios=self.strides,
            residual_kernel_size=self.residual_kernel_size,
            n_residual_layers=self.n_residual_layers,
            dilation_base=self.dilation_base,
            activation=self.activation,
            norm="weight_norm",
            seq_layer_num=self.lstm_layers,
            bidirectional=bidirectional,
        )


class SpeechTokenizerCodec(CodecModel):
    """SpeechTokenizer as a :class:`CodecModel`: 16 kHz, hop 320, codes ``[B, n_q, frames]``.

    Submodules ``encoder``, ``transform``, ``quantizer``, ``decoder`` carry upstream's state-dict
    keys, except the codebooks (:mod:`~codecfake_hf.codecs.convert_speechtokenizer`). ``transform`` (Linear ``dimension -> semantic_dimension``) is the training-time HuBERT
    head, loaded but unused here.
    """

    def __init__(self, config: SpeechTokenizerConfig) -> None:
        super().__init__()
        self.config = config
        self.sampling_rate = config.sampling_rate
        self.hop_length = config.hop_length
        self.encoder = SEANetEncoder(config.seanet(bidirectional=config.bidirectional))
        self.transform = (
            nn.Linear(config.dimension, config.semantic_dimension)
            if config.dimension != config.semantic_dimension
            else nn.Identity()
        )
        self.quantizer = ResidualVectorQuantizer(config.n_q, config.codebook_size, config.dimension)
        self.decoder = SEANetDecoder(config.seanet(bidirectional=False))

    def encode(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``waveforms [B, 1, T]`` float at 16 kHz (no normalisation) -> codes ``[B, n_q, ceil(T/320)]``.

        ``lengths [B]`` (samples) marks each row's valid prefix of a zero-padded batch; each row is
        then encoded as if alone (its codes past ``ceil(lengths[b] / 320)`` are meaningless).
        Without it every row is a full-length clip.
        """
        if waveforms.dim() != 3 or waveforms.shape[1] != 1:
            raise ValueError(f"SpeechTokenizer expects mono audio [B, 1, T], got {tuple(waveforms.shape)}")
        latent, _ = self.encoder(waveforms, row_lengths(lengths, waveforms.shape[-1]))
        return self.quantizer.encode(latent)

    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """codes ``[B, K, L]`` (``K <= n_q`` first layers, int32 or int64) -> ``[B, 1, 320 * L]``.

        ``lengths [B]`` (frames) marks each row's valid codes; each row is then decoded as if alone.
        """
        latent = self.quantizer.decode(codes.long())
        return self.decoder(latent, row_lengths(lengths, latent.shape[-1]))[0]

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """A zero-padded batch ``[B, 1, T]`` with valid ``lengths [B]`` -> ``[B, 1, 320 * L]`` with
        ``L = ceil(max(lengths) / 320)``; row ``b`` matches per-clip resynthesis on its first
        ``lengths[b]`` samples."""
        frames = torch.div(lengths + self.hop_length - 1, self.hop_length, rounding_mode="floor")
        return self.decode(self.encode(waveforms, lengths), frames)


def _random(config: SpeechTokenizerConfig, seed: int) -> SpeechTokenizerCodec:
    torch.manual_seed(seed)
    return SpeechTokenizerCodec(config).eval()


def tiny_codec(spec: CodecSpec, seed: int = 0) -> SpeechTokenizerCodec:
    """The real classes at a tiny width (4 base filters, 32-d latent, 64 codewords), random weights.
    The rate and strides stay official."""
    return _random(
        SpeechTokenizerConfig(n_filters=4, dimension=32, semantic_dimension=24, codebook_size=64), seed
    )


def random_codec(spec: CodecSpec, seed: int = 0) -> SpeechTokenizerCodec:
    """The official architecture (``speechtokenizer_hubert_avg`` config) with random weights."""
    return _random(SpeechTokenizerConfig(), seed)
