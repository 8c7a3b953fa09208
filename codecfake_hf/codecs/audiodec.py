"""Subset C: AudioDec 24 kHz (``symAD_libritts_24000_hop300`` + ``AudioDec_v1`` HiFiGAN vocoder).

A native PyTorch re-implementation written from the upstream source (``facebookresearch/AudioDec`` at
``e451e62``; Wu et al., ICASSP 2023). It is the Codec-SUPERB ``audiodec_24k_320d``
pairing that produced CodecFake C:

- the **encoder side** of the symmetric AudioDec autoencoder: causal convolutional encoder (ELU,
  strides 3, 4, 5, 5 = hop 300 at 24 kHz, 80 frames/s), a causal projector to 64-d latents and an
  8 x 1024 residual vector quantizer (6.4 kbps);
- the **HiFiGAN vocoder** trained on those codes, which replaces the autoencoder's own decoder:
  the summed codewords are normalised with the vocoder's ``mean`` / ``scale`` buffers (the codes'
  statistics, stored in the vocoder checkpoint), then causal convolutions and 4 causal transposed
  convolutions (x5, x5, x4, x3) with grouped multi-dilation residual blocks give the waveform.

Licence: the code and the pretrained weights are **CC BY-NC 4.0 (non-commercial)**.

Codes: ``encode`` returns ``int64 [B, 8, ceil(T / 300)]``, the raw index of each residual
codebook (no ``k * 1024`` offsets; Codec-SUPERB's flat units are ``codes[:, k] + k * 1024``).

Streaming state (``streaming_state``, the spec option: ``load_codec("C", streaming_state="carry")``).
Every causal layer of upstream keeps a ``pad_buffer`` (the
last inputs it saw) so that audio can be streamed in chunks. Codec-SUPERB resets the encoder's
buffers before each utterance but never the vocoder's: those start from the response to 8192
samples of silence and then carry over from one utterance to the next, so the first ~240 ms of
each output depend on which utterance was processed before. Two behaviours are offered:

- ``"reset"`` (default): a clean state for every utterance, i.e. the causal convolutions are
  left-padded with zeros (upstream's streaming path right after ``reset_buffer()``). Outputs are
  deterministic, independent of order and batch composition, and a zero-padded batch gives the
  same valid samples as one utterance at a time (the convolutions are causal).
- ``"carry"``: the official order-dependent behaviour. The vocoder's state is primed with the
  decoded codes of 8192 zero samples (as upstream's ``load_receiver``) and then carried from one
  ``decode`` call to the next; batches must hold one utterance. Call
  :meth:`AudioDecCodec.reset_streaming_state` to start over from the primed state. With the
  batched :class:`~codecfake_hf.codecs.base.Resynthesizer` use ``batch_size=1``; it processes
  utterances longest first, so that is the carry order.

The same mechanism runs long inputs in time chunks (:func:`run_in_chunks`): the result equals one
pass, activations stay small (about 1.4x faster on CPU for 8 s) and, given the rows' lengths,
finished rows leave a padded batch, so padding costs almost nothing.

Checkpoints: :mod:`codecfake_hf.codecs.convert_audiodec` reads the upstream files, maps their
``config.yml`` ``generator_params`` onto the two configs here and their weights onto this model
(dropping the parts this pairing does not use), and loads the official weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.layers.conv import conv1d_class
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.spec import CodecSpec

STREAMING_STATES = ("reset", "carry")
#: Samples of silence that upstream's ``load_receiver`` decodes to prime the vocoder's buffers.
PRIMING_SAMPLES = 8192


# --------------------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class AudioDecEncoderConfig:
    """Encoder side of the ``symAudioDec`` autoencoder (upstream ``generator_params`` names).

    Attributes:
        input_channels: audio channels (1).
        encode_channels: width of the first convolution; block ``i`` outputs
            ``encode_channels * enc_ratios[i]`` channels.
        enc_ratios: channel multipliers of the 4 encoder blocks.
        enc_strides: down-sampling factor of each block (their product is the hop, in samples).
        code_dim: dimension of the latent vectors and codewords.
        codebook_num: residual codebooks.
        codebook_size: codewords per codebook.
        bias: bias in the strided block convolutions.
    """

    input_channels: int = 1
    encode_channels: int = 32
    enc_ratios: tuple[int, ...] = (2, 4, 8, 16)
    enc_strides: tuple[int, ...] = (3, 4, 5, 5)
    code_dim: int = 64
    codebook_num: int = 8
    codebook_size: int = 1024
    bias: bool = True

    @property
    def hop_length(self) -> int:
        """Samples per code frame."""
        return math.prod(self.enc_strides)


@dataclass(frozen=True)
class HiFiGANVocoderConfig:
    """The ``AudioDec_v1`` HiFiGAN vocoder (upstream ``generator_params`` names).

    Attributes:
        in_channels: code dimension it decodes.
        out_channels: audio channels (1).
        channels: width after the input convolution; halved by every up-sampling layer.
        kernel_size: kernel of the input and output convolutions.
        upsample_scales: up-sampling factor of each transposed convolution (product = hop).
        upsample_kernel_sizes: their kernels (``2 * scale``).
        resblock_kernel_sizes: one kernel size for the grouped residual blocks.
        resblock_dilations: one tuple of dilations for the grouped residual blocks.
        groups: copies of the signal convolved in separate groups in each residual block.
        bias: bias in the convolutions (not in the 1x1 group fusion).
        negative_slope: LeakyReLU slope inside the network (the last one uses 0.01).
        use_weight_norm: weight-normalised convolutions (``weight_g`` / ``weight_v``).
    """

    in_channels: int = 64
    out_channels: int = 1
    channels: int = 512
    kernel_size: int = 7
    upsample_scales: tuple[int, ...] = (5, 5, 4, 3)
    upsample_kernel_sizes: tuple[int, ...] = (10, 10, 8, 6)
    resblock_kernel_sizes: tuple[int, ...] = (11,)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5),)
    groups: int = 3
    bias: bool = True
    negative_slope: float = 0.1
    use_weight_norm: bool = True

    def __post_init__(self) -> None:
        if len(self.resblock_kernel_sizes) != 1 or self.groups < 2:
            raise ValueError(
                "AudioDec: only the grouped residual block (one kernel size, groups > 1) is implemented"
            )


# ---------------------------------------------------------------------------------------- layers


class _StreamingLayer(nn.Module):
    """A causal layer: ``context`` frames of left context are prepended to its input ``[B, C, L]``.
    They are zeros (clean state) unless ``state`` holds the last ``context`` input frames of the
    previous chunk; with ``keep_state`` on, each call stores them there for the next one."""

    def __init__(self, context: int) -> None:
        super().__init__()
        self.context = context
        self.state: torch.Tensor | None = None
        self.keep_state = False

    def with_context(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, C, L]`` -> ``[B, C, context + L]``."""
        left = self.state if self.state is not None else x.new_zeros(*x.shape[:2], self.context)
        x = torch.cat((left, x), dim=-1)
        if self.keep_state:
            self.state = x[..., -self.context :].clone()  # not a view: the chunk can be freed
        return x


def run_in_chunks(
    module: nn.Module,
    fn,
    inputs: torch.Tensor,
    chunk: int,
    clear: bool,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """``fn`` applied to consecutive chunks of ``inputs`` along the last axis, concatenated along
    the last axis, with every causal layer of ``module`` carrying its left context from chunk to
    chunk: the same result as ``fn(inputs)`` (up to float rounding) with bounded activations.

    Args:
        module: the module whose causal layers ``fn`` runs.
        fn: ``[B, ..., L] -> [B, ..., r * L]``; a chunk must be a whole number of ``fn``'s frames.
        inputs: ``[B, ..., L]``.
        chunk: chunk length along the last axis.
        clear: start from (and return to) the clean zero state; else continue from the states
            the previous call left and keep the new ones.
        lengths: valid length of each row (``[B]``, along the last axis). A row leaves the batch
            after its last chunk, so padding costs at most one chunk; its output past that chunk
            is zeros.
    """
    order = None if lengths is None else torch.argsort(lengths, descending=True, stable=True)
    if order is not None:
        inputs, lengths = inputs[order], lengths[order].tolist()
    layers = [m for m in module.modules() if isinstance(m, _StreamingLayer)]
    for layer in layers:
        layer.keep_state = True
        if clear:
            layer.state = None
    outputs = []
    try:
        for start in range(0, inputs.shape[-1], chunk):
            active = len(inputs) if lengths is None else max(1, sum(n > start for n in lengths))
            for layer in layers:  # rows are sorted longest first: the finished ones are at the end
                if layer.state is not None:
                    layer.state = layer.state[:active]
            output = fn(inputs[:active, ..., start : start + chunk])
            outputs.append(F.pad(output, (0, 0) * (output.dim() - 1) + (0, len(inputs) - active)))
    finally:
        for layer in layers:
            layer.keep_state = False
            if clear:
                layer.state = None
    output = torch.cat(outputs, dim=-1)
    return output if order is None else output[torch.argsort(order)]


class CausalConv1d(_StreamingLayer):
    """Causal convolution: ``(kernel_size - 1) * dilation`` samples of left context, so output
    ``t`` sees inputs ``<= t * stride``. ``[B, C_in, L] -> [B, C_out, ceil(L / stride)]`` for
    ``kernel_size = 2 * stride``. ``weight_norm``: stored as upstream's weight-norm pair."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, weight_norm: bool = False, **conv
    ) -> None:
        super().__init__((kernel_size - 1) * conv.get("dilation", 1))
        self.conv = conv1d_class(weight_norm)(in_channels, out_channels, kernel_size, **conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.with_context(x))


class CausalConvTranspose1d(_StreamingLayer):
    """Causal up-sampling by ``stride`` with ``kernel_size = 2 * stride``: one frame of left
    context (zeros, or the previous call's last frame), the transposed convolution, then
    ``stride`` samples dropped at both ends. ``[B, C_in, L] -> [B, C_out, stride * L]``.
    ``weight_norm``: stored as upstream's weight-norm pair."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        weight_norm: bool = False,
        **conv,
    ) -> None:
        super().__init__(math.ceil(kernel_size / stride) - 1)
        self.deconv = conv1d_class(weight_norm, transposed=True)(
            in_channels, out_channels, kernel_size, stride, **conv
        )
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.with_context(x))[..., self.stride : -self.stride]


# ---------------------------------------------------------------------------------- encoder side


class ResidualUnit(nn.Module):
    """``x + conv2(ELU(conv1(ELU(x))))``: a dilated causal k7 convolution, then a 1x1, no bias."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = CausalConv1d(channels, channels, 7, dilation=dilation, bias=False)
        self.conv2 = nn.Conv1d(channels, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.elu(self.conv1(F.elu(x))))


class EncoderBlock(nn.Module):
    """Three residual units (dilations 1, 3, 9) at the input width, then a strided causal
    convolution (kernel ``2 * stride``). ``[B, C_in, L] -> [B, C_out, ceil(L / stride)]``."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, bias: bool) -> None:
        super().__init__()
        self.res_units = nn.ModuleList(ResidualUnit(in_channels, d) for d in (1, 3, 9))
        self.conv = CausalConv1d(in_channels, out_channels, 2 * stride, stride=stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.res_units:
            x = unit(x)
        return self.conv(x)


class Encoder(nn.Module):
    """Causal convolution k7, then the 4 encoder blocks. ``[B, 1, T] -> [B, C, ceil(T / hop)]``."""

    def __init__(self, config: AudioDecEncoderConfig) -> None:
        super().__init__()
        widths = [config.encode_channels] + [config.encode_channels * r for r in config.enc_ratios]
        self.conv = CausalConv1d(config.input_channels, widths[0], 7, bias=False)
        self.conv_blocks = nn.ModuleList(
            EncoderBlock(widths[i], widths[i + 1], s, config.bias) for i, s in enumerate(config.enc_strides)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        for block in self.conv_blocks:
            x = block(x)
        return x


class Projector(nn.Module):
    """Causal k3 convolution to the code dimension (upstream key ``projector.project``)."""

    def __init__(self, in_channels: int, code_dim: int) -> None:
        super().__init__()
        self.project = CausalConv1d(in_channels, code_dim, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x)


class AudioDecEncoder(nn.Module):
    """Encoder, projector and quantizer of the autoencoder checkpoint. ``[B, 1, T]`` audio ->
    latents ``[B, code_dim, ceil(T / hop)]`` -> codes ``[B, codebook_num, ceil(T / hop)]``, the raw
    index of each residual codebook. Upstream stores each codebook as ``[code_dim, codebook_size]``
    and subtracts the straight-through value; both are kept, so near-ties fall as upstream's."""

    def __init__(self, config: AudioDecEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.projector = Projector(config.encode_channels * config.enc_ratios[-1], config.code_dim)
        self.quantizer = ResidualVectorQuantizer(
            config.codebook_num,
            config.codebook_size,
            config.code_dim,
            codeword_layout="columns",
            straight_through=True,
        )

    def latents(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``[B, 1, T]`` -> ``z [B, code_dim, ceil(T / hop)]``."""
        return self.projector(self.encoder(waveforms))


# ---------------------------------------------------------------------------------- decoder side


class MultiGroupConv1d(nn.Module):
    """The vocoder's residual block: the ``C`` channels are tiled ``groups`` times, each dilation
    adds ``convs2(LReLU(convs1(LReLU(x))))`` (grouped causal convolutions), and a 1x1 convolution
    fuses the ``groups * C`` channels back to ``C``. ``[B, C, L] -> [B, C, L]``."""

    def __init__(self, channels: int, config: HiFiGANVocoderConfig) -> None:
        super().__init__()
        (kernel,), (dilations,) = config.resblock_kernel_sizes, config.resblock_dilations
        width, common = channels * config.groups, {"groups": config.groups, "bias": config.bias}
        common["weight_norm"] = config.use_weight_norm
        self.groups, self.negative_slope = config.groups, config.negative_slope
        self.convs1 = nn.ModuleList(
            CausalConv1d(width, width, kernel, dilation=d, **common) for d in dilations
        )
        self.convs2 = nn.ModuleList(CausalConv1d(width, width, kernel, **common) for _ in dilations)
        self.conv_out = conv1d_class(config.use_weight_norm)(width, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.repeat(1, self.groups, 1)
        for conv1, conv2 in zip(self.convs1, self.convs2):
            x = x + conv2(F.leaky_relu(conv1(F.leaky_relu(x, self.negative_slope)), self.negative_slope))
        return self.conv_out(x)


class HiFiGANVocoder(nn.Module):
    """Summed codewords ``[B, in_channels, F]`` -> waveform ``[B, 1, hop * F]`` in [-1, 1].

    The codes are standardised with the ``mean`` / ``scale`` buffers ``[in_channels]``, then: causal
    input convolution; per stage LeakyReLU, causal transposed convolution, grouped residual block;
    LeakyReLU(0.01), causal output convolution, tanh.
    """

    def __init__(self, config: HiFiGANVocoderConfig) -> None:
        super().__init__()
        self.config = config
        wn = {"weight_norm": config.use_weight_norm, "bias": config.bias}
        widths = [config.channels // 2**i for i in range(len(config.upsample_scales) + 1)]
        self.register_buffer("mean", torch.zeros(config.in_channels))
        self.register_buffer("scale", torch.ones(config.in_channels))
        self.input_conv = CausalConv1d(config.in_channels, widths[0], config.kernel_size, **wn)
        self.upsamples = nn.ModuleList(
            CausalConvTranspose1d(widths[i], widths[i + 1], k, s, **wn)
            for i, (s, k) in enumerate(zip(config.upsample_scales, config.upsample_kernel_sizes))
        )
        self.blocks = nn.ModuleList(MultiGroupConv1d(w, config) for w in widths[1:])
        self.output_conv = CausalConv1d(widths[-1], config.out_channels, config.kernel_size, **wn)

    def forward(self, zq: torch.Tensor) -> torch.Tensor:
        x = self.input_conv((zq - self.mean[:, None]) / self.scale[:, None])
        for upsample, block in zip(self.upsamples, self.blocks):
            x = block(upsample(F.leaky_relu(x, self.config.negative_slope)))
        return torch.tanh(self.output_conv(F.leaky_relu(x, 0.01)))


# ------------------------------------------------------------------------------------------ codec


class AudioDecCodec(CodecModel):
    """AudioDec encoder + quantizer with the HiFiGAN vocoder as decoder.

    Codes: ``int64 [B, codebook_num, ceil(T / 300)]``, raw per-codebook indices. See the module
    docstring for ``streaming_state`` ("reset" or "carry").

    Long inputs run in time chunks of ``chunk_frames // B`` code frames (at least
    ``min_chunk_frames``) with the causal layers' context carried between chunks, which gives the
    same output as one pass while keeping activations small (faster on CPU).
    """

    def __init__(
        self,
        autoencoder: AudioDecEncoder,
        vocoder: HiFiGANVocoder,
        streaming_state: str = "reset",
        chunk_frames: int = 160,
        min_chunk_frames: int = 16,
    ) -> None:
        super().__init__()
        if autoencoder.config.code_dim != vocoder.config.in_channels:
            raise ValueError("AudioDec: the vocoder's in_channels must equal the autoencoder's code_dim")
        self.autoencoder = autoencoder
        self.vocoder = vocoder
        self.sampling_rate = 24000
        self.hop_length = autoencoder.config.hop_length
        self.chunk_frames, self.min_chunk_frames = chunk_frames, min_chunk_frames
        self.set_streaming_state(streaming_state)

    def set_streaming_state(self, streaming_state: str) -> None:
        """Switch between ``"reset"`` (clean state per utterance) and ``"carry"`` (the vocoder's
        state carried across ``decode`` calls, starting from the silence-primed state)."""
        if streaming_state not in STREAMING_STATES:
            raise ValueError(f"streaming_state must be one of {STREAMING_STATES}, got {streaming_state!r}")
        self.streaming_state = streaming_state
        self.reset_streaming_state()

    @torch.no_grad()
    def reset_streaming_state(self) -> None:
        """Clear the vocoder's carried state; with ``"carry"``, then prime it as upstream does by
        decoding the codes of :data:`PRIMING_SAMPLES` zero samples."""
        for layer in self.vocoder.modules():
            if isinstance(layer, _StreamingLayer):
                layer.state = None
        if self.streaming_state == "carry":
            self.decode(self.encode(torch.zeros(1, 1, PRIMING_SAMPLES, device=self.vocoder.mean.device)))

    def _chunk(self, batch_size: int) -> int:
        return max(self.min_chunk_frames, self.chunk_frames // batch_size)

    def encode(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``waveforms [B, 1, T]`` at 24 kHz -> codes ``int64 [B, 8, ceil(T / 300)]``. The encoder
        starts from the clean state (upstream resets it per utterance). ``lengths [B]`` (valid
        samples per row) only saves compute: codes past a row's ``ceil(length / 300)`` frames
        are then arbitrary."""
        if waveforms.dim() != 3 or waveforms.shape[1] != 1:
            raise ValueError(f"AudioDec expects waveforms [B, 1, T], got {tuple(waveforms.shape)}")
        chunk = self._chunk(len(waveforms)) * self.hop_length
        latents = run_in_chunks(self.autoencoder, self.autoencoder.latents, waveforms, chunk, True, lengths)
        return self.autoencoder.quantizer.encode(latents)

    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """codes ``[B, n_q <= 8, F]`` -> waveforms ``[B, 1, 300 * F]`` at 24 kHz. ``lengths [B]``
        (valid frames per row) only saves compute: the output past ``300 * length`` is then
        zeros."""
        carry = self.streaming_state == "carry"
        if carry and len(codes) != 1:
            raise ValueError(
                f"streaming_state='carry' decodes one utterance at a time, got a batch of {len(codes)}"
            )
        quantizer = self.autoencoder.quantizer
        chunk = self._chunk(len(codes))
        return run_in_chunks(
            self.vocoder, lambda c: self.vocoder(quantizer.decode(c)), codes, chunk, not carry, lengths
        )

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Encode and decode a zero-padded batch ``[B, 1, T]`` without computing much past each
        row's ``lengths`` (samples); the valid samples equal those of one utterance at a time."""
        codes = self.encode(waveforms, lengths)
        return self.decode(codes, (lengths + self.hop_length - 1) // self.hop_length)


# ------------------------------------------------------------------------------ family functions


def build_codec(
    encoder_config: AudioDecEncoderConfig,
    vocoder_config: HiFiGANVocoderConfig,
    streaming_state: str = "reset",
) -> AudioDecCodec:
    """The codec at the given configs, random weights."""
    return AudioDecCodec(AudioDecEncoder(encoder_config), HiFiGANVocoder(vocoder_config), streaming_state)


def tiny_codec(spec: CodecSpec, seed: int = 0) -> AudioDecCodec:
    """The real architecture (strides, kernels, 8 codebooks) at tiny widths, random weights."""
    torch.manual_seed(seed)
    encoder = AudioDecEncoderConfig(encode_channels=2, code_dim=8, codebook_size=16)
    vocoder = HiFiGANVocoderConfig(in_channels=8, channels=32)
    return build_codec(encoder, vocoder, spec.options["streaming_state"]).eval()


def random_codec(spec: CodecSpec, seed: int = 0) -> AudioDecCodec:
    """The full official architecture with random weights (benchmarks)."""
    torch.manual_seed(seed)
    return build_codec(
        AudioDecEncoderConfig(), HiFiGANVocoderConfig(), spec.options["streaming_state"]
    ).eval()
