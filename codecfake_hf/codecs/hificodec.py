"""Subsets B1-B3: AcademiCodec HiFi-Codec (group-residual VQ), native PyTorch.

Written from the upstream source (Yang et al., arXiv 2305.02765; ``yangdongchao/AcademiCodec`` at
``b6ac134``, whose README states "MIT license" although the repository has no
LICENSE file). The network is an encoder that downsamples by 320 with HiFi-GAN residual blocks and
GroupNorm, a group-residual quantizer (2 channel groups x 2 residual layers = 4 codebooks) and a
HiFi-GAN generator.

Checkpoints (``Dongchao/AcademiCodec``, files without extension) are ``torch.save`` dicts with the
top-level keys ``generator``, ``encoder`` and ``quantizer``; :mod:`codecfake_hf.codecs.convert_hificodec`
maps them and the upstream JSON configs onto this model, holds the official configs and loads the
official weights. B1 and B2 share one config but not their
weights: the two files have different sha256 digests on the Hub (6026d532... and 6496a7b7...).

Codes layout: ``int64 [B, 4, frames]``, codebooks in the order
``[layer 1 group 0, layer 1 group 1, layer 2 group 0, layer 2 group 1]`` (upstream returns the
transpose, ``[B, frames, 4]``). ``frames = floor(T / 320)``: the strided encoder drops a trailing
partial frame, so the decoder returns ``320 * frames`` samples.

Batching: the encoder's GroupNorm takes statistics over time, so zero padding would change every
frame of the shorter clips. :meth:`HiFiCodec.encode_decode` therefore masks every layer to each
clip's valid length (:mod:`codecfake_hf.codecs.layers.masking`: padding positions are held at zero,
exactly what a single-clip convolution sees, and GroupNorm statistics are taken over valid frames
only), which makes a padded batch equal to running the clips one by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.layers.conv import WeightNormConv1d, WeightNormConvTranspose1d, conv_output_lengths
from codecfake_hf.codecs.layers.masking import Lengths, masked_group_norm, row_lengths, zero_padding_
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.spec import CodecSpec

#: Slope of every LeakyReLU except the encoder's last one (which uses torch's default, 0.01).
LRELU_SLOPE = 0.1
#: Residual quantizer layers (hard-coded upstream: ``quantizer_modules`` and ``quantizer_modules2``).
N_RESIDUAL_LAYERS = 2
#: Padded input samples per forward on CPU (:meth:`HiFiCodec.encode_decode`). Throughput per CPU-second
#: was flat from 16k to 128k samples per forward and 24% lower at 512k (activations leave the caches).
CPU_GROUP_SAMPLES = 4 * 16000
#: Reduced widths of :func:`tiny_codec` (the same as the golden file's reduced config).
TINY_WIDTHS = {
    "upsample_initial_channel": 32,
    "n_codes": 64,
    "encoder_base_channels": 2,
    "latent_channels": 32,
    "groupnorm_channels_per_group": 2,
}


@dataclass(frozen=True)
class HiFiCodecConfig:
    """Hyper-parameters of HiFi-Codec; the defaults are the official 16 kHz, 320x model.

    Args:
        sampling_rate: audio rate in Hz.
        resblock: residual block type; only ``"1"`` (ResBlock1, used by every release) is supported.
        upsample_rates: generator upsampling factors; the encoder downsamples by the same factors in
            reverse order. Their product is the hop length (samples per code frame).
        upsample_kernel_sizes: kernel of each (transposed) resampling convolution.
        upsample_initial_channel: generator width after ``conv_pre``; halved at every upsampling.
        resblock_kernel_sizes: kernels of the parallel residual blocks (reversed in the encoder).
        resblock_dilation_sizes: dilations of each residual block's three layers.
        n_code_groups: channel groups of the quantizer (codebooks per residual layer).
        n_codes: codewords per codebook.
        encoder_base_channels: encoder width after ``conv_pre``; doubled at every downsampling
            (hard-coded 32 upstream).
        latent_channels: latent width = quantizer input = generator input (hard-coded 512 upstream;
            must equal ``encoder_base_channels * 2 ** len(upsample_rates)``).
        groupnorm_channels_per_group: encoder GroupNorm uses ``channels // this`` groups
            (hard-coded 16 upstream).
    """

    sampling_rate: int = 16000
    resblock: str = "1"
    upsample_rates: tuple[int, ...] = (8, 5, 4, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 11, 8, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    n_code_groups: int = 2
    n_codes: int = 1024
    encoder_base_channels: int = 32
    latent_channels: int = 512
    groupnorm_channels_per_group: int = 16

    def __post_init__(self) -> None:
        if self.resblock != "1":
            raise ValueError(f"HiFi-Codec resblock {self.resblock!r} is not supported (only '1')")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ValueError("upsample_rates and upsample_kernel_sizes must have the same length")
        if self.latent_channels != self.encoder_base_channels * 2 ** len(self.upsample_rates):
            raise ValueError("latent_channels must equal encoder_base_channels * 2 ** len(upsample_rates)")
        if self.latent_channels % self.n_code_groups:
            raise ValueError("latent_channels must be divisible by n_code_groups")

    @property
    def hop_length(self) -> int:
        """Input samples per code frame."""
        return math.prod(self.upsample_rates)

    @property
    def n_codebooks(self) -> int:
        """Codebooks in total (columns of the codes)."""
        return N_RESIDUAL_LAYERS * self.n_code_groups


# --------------------------------------------------------------------------------------------------
# Building blocks.


def _same(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of a stride-1 dilated convolution."""
    return (kernel_size * dilation - dilation) // 2


class ResBlock1(nn.Module):
    """HiFi-GAN ResBlock1: three (dilated conv, conv) pairs, each with a residual connection."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size, dilation=d, padding=_same(kernel_size, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size, padding=_same(kernel_size)) for _ in dilations
        )

    def forward(self, x: torch.Tensor, lengths: Lengths = None) -> torch.Tensor:
        """``x [B, C, T]`` -> ``[B, C, T]``; steps after ``lengths[b]`` are zeroed after each conv."""
        for conv1, conv2 in zip(self.convs1, self.convs2):
            residual = zero_padding_(conv1(F.leaky_relu(x, LRELU_SLOPE)), lengths)
            x = x + zero_padding_(conv2(F.leaky_relu(residual, LRELU_SLOPE)), lengths)
        return x


def _stages(
    x: torch.Tensor,
    lengths: Lengths,
    resamplers: nn.ModuleList,
    resblocks: nn.ModuleList,
    norms: nn.ModuleList | None = None,
) -> tuple[torch.Tensor, Lengths]:
    """HiFi-GAN's stages on ``x [B, C, T]`` (``lengths`` valid steps per row, kept up to date):
    LeakyReLU(0.1) and a resampling convolution, then multi-receptive-field fusion, the mean of the
    stage's residual blocks. With ``norms`` (the encoder) the running sum is group-normalised after
    each branch: ``s = GN0(RB0(x)); s = GN1(s + RB1(x)); ...; s / n``. Padded steps stay zero."""
    per_stage = len(resblocks) // len(resamplers)
    for stage, resample in enumerate(resamplers):
        lengths = conv_output_lengths(resample, lengths)
        x = zero_padding_(resample(F.leaky_relu(x, LRELU_SLOPE)), lengths)
        total = None
        for index in range(stage * per_stage, (stage + 1) * per_stage):
            branch = resblocks[index](x, lengths)
            total = branch if total is None else total + branch
            if norms is not None:
                total = masked_group_norm(total, norms[index], lengths)
        x = total / per_stage
    return x, lengths


class HiFiCodecEncoder(nn.Module):
    """Waveform ``[B, 1, T]`` -> latent ``[B, latent_channels, floor(T / hop)]``.

    Stages use the reversed (rate, kernel) list; each is LeakyReLU(0.1), a strided conv that doubles
    the width (named ``ups`` upstream), and the residual blocks (reversed kernels) whose running sum
    is group-normalised after each branch: ``s = GN0(RB0(x)); s = GN1(s + RB1(x)); ...; x = s / n``.
    """

    def __init__(self, config: HiFiCodecConfig) -> None:
        super().__init__()
        base = config.encoder_base_channels
        self.conv_pre = WeightNormConv1d(1, base, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        self.normalize = nn.ModuleList()
        kernels = list(reversed(config.resblock_kernel_sizes))
        dilations = list(reversed(config.resblock_dilation_sizes))
        stages = reversed(list(zip(config.upsample_rates, config.upsample_kernel_sizes)))
        for i, (rate, kernel) in enumerate(stages):
            channels = base * 2 ** (i + 1)
            self.ups.append(
                WeightNormConv1d(channels // 2, channels, kernel, stride=rate, padding=(kernel - rate) // 2)
            )
            for k, d in zip(kernels, dilations):
                self.resblocks.append(ResBlock1(channels, k, d))
                self.normalize.append(
                    nn.GroupNorm(channels // config.groupnorm_channels_per_group, channels, eps=1e-6)
                )
        self.conv_post = nn.Conv1d(config.latent_channels, config.latent_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, lengths: Lengths = None) -> torch.Tensor:
        """``x [B, 1, T]``; ``lengths`` valid samples per row (None: no padding). Padded steps are
        kept at zero after every layer, so each row is encoded as if it were alone."""
        if lengths is not None:
            x = zero_padding_(x.clone(), lengths)
        x = zero_padding_(self.conv_pre(x), lengths)
        x, lengths = _stages(x, lengths, self.ups, self.resblocks, self.normalize)
        return zero_padding_(self.conv_post(F.leaky_relu(x)), lengths)


class HiFiCodecGenerator(nn.Module):
    """Quantised latent ``[B, latent_channels, frames]`` -> waveform ``[B, 1, hop * frames]``:
    HiFi-GAN with transposed-conv upsampling, the mean of the residual blocks, and tanh."""

    def __init__(self, config: HiFiCodecConfig) -> None:
        super().__init__()
        width = config.upsample_initial_channel
        self.conv_pre = WeightNormConv1d(config.latent_channels, width, 7, padding=3)
        self.ups = nn.ModuleList(
            WeightNormConvTranspose1d(width // 2**i, width // 2 ** (i + 1), k, stride=u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes))
        )
        self.resblocks = nn.ModuleList(
            ResBlock1(width // 2 ** (i + 1), k, d)
            for i in range(len(self.ups))
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes)
        )
        self.conv_post = WeightNormConv1d(width // 2 ** len(self.ups), 1, 7, padding=3)

    def forward(self, x: torch.Tensor, lengths: Lengths = None) -> torch.Tensor:
        """``x [B, D, frames]``; ``lengths`` valid frames per row (None: no padding). Padded steps
        are kept at zero after every layer, so each row is decoded as if it were alone."""
        if lengths is not None:
            x = zero_padding_(x.clone(), lengths)
        x, lengths = _stages(zero_padding_(self.conv_pre(x), lengths), lengths, self.ups, self.resblocks)
        return torch.tanh(zero_padding_(self.conv_post(F.leaky_relu(x, LRELU_SLOPE)), lengths))


# --------------------------------------------------------------------------------------------------
# The codec.


class HiFiCodec(CodecModel):
    """HiFi-Codec: encoder + group-residual quantizer + generator.

    ``state_dict()`` keys are ``<checkpoint key>.<upstream key>`` (``encoder.conv_pre.weight_g``, ...),
    except the codebooks, ``quantizer.codebooks`` (:mod:`~codecfake_hf.codecs.convert_hificodec`).
    The quantizer is group-residual: 2 residual layers of ``n_code_groups`` codebooks, each over its
    share of the latent channels (upstream's rounding kept, so near-ties fall as upstream's).
    """

    def __init__(self, config: HiFiCodecConfig) -> None:
        super().__init__()
        self.config = config
        self.sampling_rate = int(config.sampling_rate)
        self.hop_length = config.hop_length
        #: On CPU, :meth:`encode_decode` runs at most this many padded input samples per forward.
        self.cpu_group_samples = CPU_GROUP_SAMPLES
        self.encoder = HiFiCodecEncoder(config)
        self.quantizer = ResidualVectorQuantizer(
            N_RESIDUAL_LAYERS,
            config.n_codes,
            config.latent_channels,
            groups=config.n_code_groups,
            norms_first=True,
            straight_through=True,
        )
        self.generator = HiFiCodecGenerator(config)

    def encode(
        self, waveforms: torch.Tensor, lengths: torch.Tensor | Sequence[int] | None = None
    ) -> torch.Tensor:
        """``waveforms [B, 1, T]`` -> codes ``int64 [B, 4, floor(T / 320)]``.

        ``lengths [B]`` (valid samples per row) makes a zero-padded batch give each row the codes of
        the unpadded clip on its first ``floor(lengths[b] / 320)`` frames (later frames are padding).
        """
        if waveforms.shape[-1] < self.hop_length:
            raise ValueError(
                f"HiFi-Codec encodes whole frames of {self.hop_length} samples; got {waveforms.shape[-1]} samples"
            )
        return self.quantizer.encode(self.encoder(waveforms, row_lengths(lengths, waveforms.shape[-1])))

    def decode(
        self, codes: torch.Tensor, frame_lengths: torch.Tensor | Sequence[int] | None = None
    ) -> torch.Tensor:
        """codes ``[B, 4, frames]`` -> waveforms ``[B, 1, 320 * frames]`` in [-1, 1];
        ``frame_lengths [B]`` (valid frames per row) decodes each row as if unpadded."""
        return self.generator(self.quantizer.decode(codes), row_lengths(frame_lengths, codes.shape[-1]))

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Encode + decode a zero-padded batch ``[B, 1, T]`` clip by clip (masked). The codec drops
        the last ``T mod 320`` samples of each clip; they come back as zeros, so the output is
        ``[B, 1, T]`` and row ``b`` equals the official single-clip output on its first
        ``320 * floor(lengths[b] / 320)`` samples (a clip shorter than one frame gives zeros).

        On CPU the rows run in groups of at most :attr:`cpu_group_samples` padded samples, each
        group cut to its own longest clip: large activations fall out of the CPU caches, which made
        one big batch slower per sample than clip-by-clip processing (see docs/codecs.md).
        """
        output = torch.zeros_like(waveforms)
        limit = self.cpu_group_samples if waveforms.device.type == "cpu" else None
        for rows in _row_groups([int(n) for n in lengths], limit):
            valid = lengths[rows]
            steps = int(valid.max())
            if steps < self.hop_length:
                continue  # no clip of this group holds a whole frame: all dropped
            codes = self.encode(waveforms[rows, :, :steps], valid)
            decoded = self.decode(codes, valid // self.hop_length)
            output[rows, :, : decoded.shape[-1]] = decoded
        return output


def _row_groups(lengths: list[int], limit: int | None) -> list[list[int]]:
    """Consecutive rows grouped so that ``rows * longest <= limit`` (one group when ``limit`` is None;
    a row longer than ``limit`` forms its own group). Rows sorted by length keep padding small."""
    groups: list[list[int]] = []
    longest = 0
    for row, length in enumerate(lengths):
        if groups and (limit is None or (len(groups[-1]) + 1) * max(longest, length) <= limit):
            groups[-1].append(row)
            longest = max(longest, length)
        else:
            groups.append([row])
            longest = length
    return groups


# --------------------------------------------------------------------------------------------------
# Family-module functions (see codecfake_hf.codecs.base).


def _random(config: HiFiCodecConfig, seed: int) -> HiFiCodec:
    torch.manual_seed(seed)
    return HiFiCodec(config).eval()


def tiny_codec(spec: CodecSpec, seed: int = 0) -> HiFiCodec:
    """The real classes at reduced widths (:data:`TINY_WIDTHS`) at the rate of ``spec``, random
    weights (tests, demo)."""
    return _random(HiFiCodecConfig(sampling_rate=spec.sampling_rate, **TINY_WIDTHS), seed)


def random_codec(spec: CodecSpec, seed: int = 0) -> HiFiCodec:
    """The full official architecture at the rate of ``spec`` with random weights (benchmarks)."""
    return _random(HiFiCodecConfig(sampling_rate=spec.sampling_rate), seed)
