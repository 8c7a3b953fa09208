"""Subset A: SpeechTokenizer (``speechtokenizer_hubert_avg``), implemented natively in PyTorch.

A SEANet encoder (convolutions, then a bidirectional LSTM) maps 16 kHz audio to a 1024-d latent at
50 frames/s (hop 320 samples); an 8-layer residual vector quantizer turns each frame into 8 codes
(layer 0 is the HuBERT-distilled "semantic" layer); a SEANet decoder (unidirectional LSTM, then
transposed convolutions) maps the summed codewords back to audio. Written from the upstream source
(``ZhangXInFD/SpeechTokenizer`` at ``30c96fb``, the code of ``speechtokenizer`` 1.0.1); module and
parameter names follow upstream, so the
official ``SpeechTokenizer.pt`` (a flat state dict) loads strictly.

Code layout: ``[B, n_q, frames]`` int64 (upstream returns ``[n_q, B, frames]``), with
``frames = ceil(T / 320)``. Decoding gives ``320 * frames`` samples (not trimmed, as upstream).

Batching: the encoder is non-causal (reflect padding at each clip's end, a bidirectional LSTM), so
zero-padding a short clip to a batch's length would change its codes well before the padding. The
layers here therefore take optional per-clip valid ``lengths``: convolutions reflect-pad every clip
at its own end and the LSTMs run on packed sequences, so a padded batch gives each clip what
upstream computes for that clip alone (the official data were encoded per clip), up to float
rounding.
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from codecfake_hf.codecs.base import CodecModel
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.codecs.weight_norm_conv import WeightNormConv1d
from codecfake_hf.hub import CheckpointUnavailableError


@dataclass(frozen=True)
class SpeechTokenizerConfig:
    """Every hyper-parameter the model reads (upstream ``config.json`` keys; defaults = official).

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
        sample_rate: audio rate in Hz (nothing resamples inside the model).
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
    sample_rate: int = 16000

    @classmethod
    def from_upstream(cls, config: dict) -> SpeechTokenizerConfig:
        """Read an upstream ``config.json`` dict. Every model key must be present (upstream turns
        a missing key into None, which silently changes the model); training keys are ignored."""
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in config]
        if missing:
            raise ValueError(f"SpeechTokenizer config is missing the key(s) {', '.join(missing)}")
        values = {name: config[name] for name in names}
        values["strides"] = tuple(int(s) for s in values["strides"])
        if values["activation"] != "ELU":
            raise ValueError(
                f"SpeechTokenizer activation {values['activation']!r} is not supported (only 'ELU', "
                "the speechtokenizer_hubert_avg checkpoint)"
            )
        return cls(**values)

    @property
    def hop_length(self) -> int:
        """Samples per code frame (product of the strides)."""
        return math.prod(self.strides)


def _reflect_pad(x: torch.Tensor, lengths: torch.Tensor, left: int, right: torch.Tensor) -> torch.Tensor:
    """Reflect-pad each clip at its own valid length, as upstream pads a lone clip.

    Args:
        x: ``[B, C, T]``; row ``b`` is valid on its first ``lengths[b]`` samples.
        lengths: ``[B]`` int64 valid lengths.
        left: samples added on the left of every clip.
        right: ``[B]`` int64 samples added on the right of each clip.

    Returns:
        ``[B, C, max(lengths + left + right)]``; clip ``b`` fills its first
        ``lengths[b] + left + right[b]`` samples, the rest is zero. A clip no longer than its
        largest pad is first zero-extended to ``max(left, right) + 1`` samples (upstream's rule
        for short inputs), so any length >= 1 works.
    """
    total = lengths + left + right
    position = torch.arange(int(total.max()), device=x.device)
    source = (position[None, :] - left).abs()  # reflect on the left
    extended = torch.maximum(lengths, torch.clamp(right, min=left) + 1)[:, None]
    source = torch.where(source >= extended, 2 * (extended - 1) - source, source)  # reflect on the right
    valid = (source < lengths[:, None]) & (position[None, :] < total[:, None])
    index = torch.where(valid, source, 0)[:, None, :].expand(-1, x.shape[1], -1)
    return torch.where(valid[:, None, :], x.gather(2, index), 0.0)


def _zero_beyond(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``x [B, C, T]`` with every sample at or after ``lengths[b]`` set to zero."""
    valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
    return torch.where(valid[:, None, :], x, 0.0)


class _KeyScope(nn.Module):
    """Holds one child under ``name``: upstream nests each weight-normed convolution one level
    deeper than its wrapper (``<layer>.conv.conv.weight_v``), and the keys must match."""

    def __init__(self, name: str, child: nn.Module) -> None:
        super().__init__()
        self.add_module(name, child)


class PaddedConv1d(nn.Module):
    """Non-causal "same" convolution (upstream ``SConv1d``): reflect padding, larger half on the left,
    plus extra right padding that completes the last strided window, so a stride-``s`` convolution
    maps ``L`` samples to ``ceil(L / s)`` frames."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1
    ) -> None:
        super().__init__()
        self.conv = _KeyScope(
            "conv", WeightNormConv1d(in_channels, out_channels, kernel_size, stride, dilation)
        )
        self.kernel_size, self.stride = kernel_size, stride
        self.padding = (kernel_size - 1) * dilation - (stride - 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C_in, T]`` valid on ``lengths [B]`` -> ``([B, C_out, T'], output lengths [B])``."""
        k, s, total = self.kernel_size, self.stride, self.padding
        if k == 1 and s == 1:  # pointwise: no padding, samples past a clip's end stay unused
            return self.conv.conv(x), lengths
        frames = torch.div(lengths - k + total + s - 1, s, rounding_mode="floor") + 1  # ceil(...) + 1
        extra = (frames - 1) * s + k - total - lengths
        right = total // 2
        x = _reflect_pad(x, lengths, total - right, right + extra)
        return self.conv.conv(x), frames


class TrimmedConvTranspose1d(nn.Module):
    """Non-causal transposed convolution (upstream ``SConvTranspose1d``): ``L`` frames ->
    ``L * stride`` samples, the ``kernel - stride`` surplus trimmed with the larger half on the left."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.convtr = _KeyScope(
            "convtr", WeightNormConv1d(in_channels, out_channels, kernel_size, stride, transposed=True)
        )
        self.stride = stride
        surplus = kernel_size - stride
        self.trim_right = surplus // 2
        self.trim_left = surplus - self.trim_right

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C_in, L]`` valid on ``lengths [B]`` -> ``([B, C_out, L * stride], lengths * stride)``.
        Frames past a clip's end are zeroed first, as if the clip had ended there."""
        y = self.convtr.convtr(_zero_beyond(x, lengths))
        return y[..., self.trim_left : y.shape[-1] - self.trim_right], lengths * self.stride


class LengthAwareELU(nn.ELU):
    """ELU (alpha 1) with the ``(x, lengths) -> (y, lengths)`` interface of the other layers."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().forward(x), lengths


def _run(layers: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a sequence of length-aware layers in order."""
    for layer in layers:
        x, lengths = layer(x, lengths)
    return x, lengths


class ResidualBlock(nn.Module):
    """SEANet residual block: ``shortcut(x) + conv1x1(ELU(conv_k(ELU(x))))``, channels ``C -> C/2 -> C``,
    with a learned, weight-normed 1x1 ``shortcut`` on the raw input."""

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        hidden = channels // 2
        self.block = nn.Sequential(
            LengthAwareELU(),
            PaddedConv1d(channels, hidden, kernel_size, dilation=dilation),
            LengthAwareELU(),
            PaddedConv1d(hidden, channels, 1),
        )
        self.shortcut = PaddedConv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B, C, T]`` -> ``[B, C, T]``."""
        return self.shortcut(x, lengths)[0] + _run(self.block, x, lengths)[0], lengths


class SkipLSTM(nn.Module):
    """A sequence-first ``nn.LSTM(C, C)`` over ``[B, C, T]`` plus the input (tiled ``[x, x]`` when
    bidirectional), upstream's ``SLSTM``. In a bidirectional LSTM, clips shorter than ``T`` run as
    packed sequences, so the backward direction starts at each clip's own end; a unidirectional
    one is causal, so padding after a clip cannot reach its valid steps."""

    def __init__(self, channels: int, num_layers: int, bidirectional: bool) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, channels, num_layers, bidirectional=bidirectional)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B, C, T]`` -> ``[B, C * directions, T]``."""
        steps = x.permute(2, 0, 1)
        if self.lstm.bidirectional and bool((lengths < steps.shape[0]).any()):
            packed = pack_padded_sequence(steps, lengths.cpu(), enforce_sorted=False)
            y = pad_packed_sequence(self.lstm(packed)[0], total_length=steps.shape[0])[0]
        else:
            y = self.lstm(steps)[0]
        if self.lstm.bidirectional:
            steps = steps.repeat(1, 1, 2)
        return (y + steps).permute(1, 2, 0), lengths


class SEANetEncoder(nn.Module):
    """``[B, 1, T]`` -> latent ``[B, dimension, ceil(T / hop)]``; downsampling by the reversed strides."""

    def __init__(self, config: SpeechTokenizerConfig) -> None:
        super().__init__()
        width = config.n_filters
        layers: list[nn.Module] = [PaddedConv1d(1, width, 7)]
        for stride in reversed(config.strides):
            layers += _residual_stage(config, width)
            layers += [LengthAwareELU(), PaddedConv1d(width, 2 * width, 2 * stride, stride)]
            width *= 2
        directions = 2 if config.bidirectional else 1
        layers += [
            SkipLSTM(width, config.lstm_layers, config.bidirectional),
            LengthAwareELU(),
            PaddedConv1d(directions * width, config.dimension, 7),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, 1, T]`` valid on ``lengths [B]`` samples -> ``(latent, frames [B])``."""
        return _run(self.model, x, lengths)


class SEANetDecoder(nn.Module):
    """Summed codewords ``[B, dimension, L]`` -> audio ``[B, 1, L * hop]`` (no final activation)."""

    def __init__(self, config: SpeechTokenizerConfig) -> None:
        super().__init__()
        width = config.n_filters * 2 ** len(config.strides)
        layers: list[nn.Module] = [
            PaddedConv1d(config.dimension, width, 7),
            SkipLSTM(width, config.lstm_layers, bidirectional=False),
        ]
        for stride in config.strides:
            layers += [LengthAwareELU(), TrimmedConvTranspose1d(width, width // 2, 2 * stride, stride)]
            width //= 2
            layers += _residual_stage(config, width)
        layers += [LengthAwareELU(), PaddedConv1d(width, 1, 7)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, dimension, L]`` valid on ``lengths [B]`` frames -> ``(audio, samples [B])``."""
        return _run(self.model, x, lengths)


def _residual_stage(config: SpeechTokenizerConfig, channels: int) -> list[ResidualBlock]:
    return [
        ResidualBlock(channels, config.residual_kernel_size, config.dilation_base**j)
        for j in range(config.n_residual_layers)
    ]


class Codebook(nn.Module):
    """One RVQ layer's codebook. Only ``embed [codebook_size, dim]`` (one codeword per row) is used
    at inference; ``inited``, ``cluster_size`` and ``embed_avg`` are upstream's k-means / EMA
    training state, kept so checkpoints load strictly."""

    def __init__(self, codebook_size: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("inited", torch.ones(1))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed", torch.randn(codebook_size, dim))
        self.register_buffer("embed_avg", self.embed.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest codeword (Euclidean, first index on ties) of each row of ``x [N, dim]`` -> ``[N]``.
        The score is evaluated as upstream does, so near-ties break the same way."""
        embed_t = self.embed.t()
        score = -(x.pow(2).sum(1, keepdim=True) - 2 * x @ embed_t + embed_t.pow(2).sum(0, keepdim=True))
        return score.argmax(dim=-1)


class _VectorQuantizer(nn.Module):
    """Upstream's per-layer wrapper (``layers.K._codebook``); codebook dim = model dim, no projections."""

    def __init__(self, codebook_size: int, dim: int) -> None:
        super().__init__()
        self._codebook = Codebook(codebook_size, dim)


class ResidualVectorQuantizer(nn.Module):
    """``n_q`` codebooks applied in cascade to the residual (keys ``vq.layers.K._codebook.*``)."""

    def __init__(self, config: SpeechTokenizerConfig) -> None:
        super().__init__()
        layers = nn.ModuleList(
            _VectorQuantizer(config.codebook_size, config.dimension) for _ in range(config.n_q)
        )
        self.vq = _KeyScope("layers", layers)

    @property
    def codebooks(self) -> list[torch.Tensor]:
        """The ``embed`` tables, ``[codebook_size, dim]`` each, in layer order."""
        return [layer._codebook.embed for layer in self.vq.layers]

    def encode(self, latent: torch.Tensor) -> torch.Tensor:
        """``latent [B, dim, L]`` -> codes ``[B, n_q, L]`` (int64). Each layer quantizes what the
        previous layers left and subtracts its exact codeword."""
        batch, dim, frames = latent.shape
        residual = latent.permute(0, 2, 1).reshape(-1, dim)  # row b * L + t
        codes = []
        for layer in self.vq.layers:
            index = layer._codebook.encode(residual)
            residual = residual - layer._codebook.embed[index]
            codes.append(index.view(batch, frames))
        return torch.stack(codes, dim=1)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """``codes [B, K, L]`` -> ``[B, dim, L]``, the sum of the first ``K`` layers' codewords."""
        if codes.shape[1] > len(self.vq.layers):
            raise ValueError(
                f"got {codes.shape[1]} code rows, the quantizer has {len(self.vq.layers)} layers"
            )
        total = 0.0
        for row, embed in zip(codes.unbind(1), self.codebooks):
            total = total + F.embedding(row, embed).permute(0, 2, 1)
        return total


class SpeechTokenizerCodec(CodecModel):
    """SpeechTokenizer as a :class:`CodecModel`: 16 kHz, hop 320, codes ``[B, n_q, frames]``.

    Submodules ``encoder``, ``transform``, ``quantizer``, ``decoder`` carry upstream's state-dict
    keys. ``transform`` (Linear ``dimension -> semantic_dimension``) is the training-time HuBERT
    head, loaded but unused here.
    """

    def __init__(self, config: SpeechTokenizerConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.hop_length = config.hop_length
        self.encoder = SEANetEncoder(config)
        self.transform = (
            nn.Linear(config.dimension, config.semantic_dimension)
            if config.dimension != config.semantic_dimension
            else nn.Identity()
        )
        self.quantizer = ResidualVectorQuantizer(config)
        self.decoder = SEANetDecoder(config)

    @staticmethod
    def _lengths(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if lengths is None:
            return torch.full((x.shape[0],), x.shape[-1], dtype=torch.long, device=x.device)
        return torch.as_tensor(lengths, dtype=torch.long, device=x.device)

    def encode(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``waveforms [B, 1, T]`` float at 16 kHz (no normalisation) -> codes ``[B, n_q, ceil(T/320)]``.

        ``lengths [B]`` (samples) marks each row's valid prefix of a zero-padded batch; each row is
        then encoded as if alone (its codes past ``ceil(lengths[b] / 320)`` are meaningless).
        Without it every row is a full-length clip.
        """
        if waveforms.dim() != 3 or waveforms.shape[1] != 1:
            raise ValueError(f"SpeechTokenizer expects mono audio [B, 1, T], got {tuple(waveforms.shape)}")
        latent, _ = self.encoder(waveforms, self._lengths(waveforms, lengths))
        return self.quantizer.encode(latent)

    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """codes ``[B, K, L]`` (``K <= n_q`` first layers, int32 or int64) -> ``[B, 1, 320 * L]``.

        ``lengths [B]`` (frames) marks each row's valid codes; each row is then decoded as if alone.
        """
        latent = self.quantizer.decode(codes.long())
        return self.decoder(latent, self._lengths(latent, lengths))[0]

    def encode_decode(self, waveforms: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """A zero-padded batch ``[B, 1, T]`` with valid ``lengths [B]`` -> ``[B, 1, 320 * ceil(T/320)]``;
        row ``b`` matches per-clip resynthesis on its first ``lengths[b]`` samples."""
        lengths = self._lengths(waveforms, lengths)
        frames = torch.div(lengths + self.hop_length - 1, self.hop_length, rounding_mode="floor")
        return self.decode(self.encode(waveforms, lengths), frames)


def from_upstream(config: dict, state_dict: dict[str, torch.Tensor]) -> SpeechTokenizerCodec:
    """Build the model from an upstream ``config.json`` dict and flat state dict (upstream keys,
    e.g. the official ``SpeechTokenizer.pt``); strict load, eval mode."""
    model = SpeechTokenizerCodec(SpeechTokenizerConfig.from_upstream(config))
    model.load_state_dict(state_dict, strict=True)
    not_initialised = [k for k, v in state_dict.items() if k.endswith("._codebook.inited") and not v.all()]
    if not_initialised:
        raise ValueError(
            f"the codebooks {', '.join(not_initialised)} were never initialised (inited = 0): "
            "this is an untrained checkpoint"
        )
    return model.eval()


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> SpeechTokenizerCodec:
    """The official ``speechtokenizer_hubert_avg`` weights (``spec.files`` of ``spec.repo_id``, from
    the Hub cache or ``local_dir``)."""
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
