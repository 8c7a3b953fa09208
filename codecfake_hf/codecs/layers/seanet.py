"""SEANet encoder and decoder of the EnCodec lineage (SpeechTokenizer, FunCodec), length-aware.

Written from the upstream sources (``ZhangXInFD/SpeechTokenizer`` at ``30c96fb``, ``speechtokenizer``
1.0.1; ``alibaba-damo-academy/FunCodec`` at ``3435d87``, ``funcodec`` 0.2.0), which share EnCodec's
SEANet: module and attribute names follow their state-dict layout (``model.3.conv.conv.weight``,
``….convtr.norm.bias``, ``….lstm.weight_ih_l0``, ``….block.1.…``, ``….shortcut.…``), so their
checkpoints map onto these modules key for key. 1-D convolutions over time (``[B, C, T]``), or 2-D
over (frequency, time) for FunCodec's FreqCodec (``[B, C, F, T]``).

Every block's ``forward(x, lengths)`` takes time on the last axis and ``lengths``
(:mod:`~codecfake_hf.codecs.layers.masking`): ``None`` (every row fully valid: the upstream
computation) or the valid frames per row of a zero-padded batch, which is then computed as if each
row were alone: reflect padding at the row's own end, the "last window full" padding from the row's
own length, ``GroupNorm`` statistics over the row's valid frames, a bidirectional LSTM over packed
sequences. Frames past a row's length hold unspecified values; no block reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from codecfake_hf.codecs.layers.conv import conv1d_class
from codecfake_hf.codecs.layers.masking import (
    Lengths,
    masked_group_norm,
    reflect_pad,
    reflect_pad_rows,
    valid_mask,
)

NORMS = ("weight_norm", "time_group_norm", "none")
SEQUENCE_MODELS = ("lstm", "transformer", "none")


@dataclass(frozen=True)
class SEANetConfig:
    """One SEANet encoder or decoder. Field names are the upstream ``encoder_conf`` /
    ``decoder_conf`` keys where there is one; the defaults are EnCodec's.

    Attributes:
        channels: audio channels (encoder input, decoder output); FreqCodec: 3 spectral planes.
        dimension: latent dimension (encoder output, decoder input).
        n_filters: width of the outermost convolutions.
        ratios: resampling factors in decoder order (the encoder uses them reversed); their
            product is the hop length. 2-D: ``(frequency, time)`` pairs.
        kernel_size: kernel of the first convolution (encoder) / the first one after the latent
            (decoder).
        last_kernel_size: kernel of the convolution next to the latent (encoder) / the audio (decoder).
        residual_kernel_size: kernel of the first convolution of each residual block.
        n_residual_layers: residual blocks per resolution; block ``j`` has dilation
            ``dilation_base ** j``.
        dilation_base: see ``n_residual_layers``.
        compress: a residual block's hidden width is ``channels // compress``.
        true_skip: identity shortcut in the residual blocks instead of a 1-wide convolution.
        activation: a ``torch.nn`` activation by name (``"ELU"``, ...), with ``activation_params``.
        activation_params: keyword arguments of ``activation``.
        norm: ``"weight_norm"`` (weight-normalised 1-D convolutions, no norm layer),
            ``"time_group_norm"`` (``GroupNorm`` after each convolution) or ``"none"``.
        norm_params: ``GroupNorm`` arguments; ``num_groups`` defaults to 1.
        seq_model: sequence model between the convolutions and the latent: ``"lstm"``,
            ``"transformer"`` (4 heads, 2048 hidden units) or ``"none"``.
        seq_layer_num: its layers.
        res_seq: add its input to its output.
        bidirectional: a bidirectional LSTM (SpeechTokenizer's encoder); its output, twice as wide,
            goes to the last convolution.
        grow_filters: the width doubles at each down-sampling (encoder) and halves at each
            up-sampling (decoder); upstream ``double_filters`` / ``half_filters``.
        two_d: 2-D convolutions over (frequency, time) (FreqCodec); the frequency axis must reach 1
            before the sequence model.
        conv_group_ratio: 2-D: convolutions of ``C`` channels use ``C // 2 // ratio`` groups
            (-1: ungrouped).
        tr_conv_group_ratio: the same for the decoder's transposed convolutions.
        last_out_padding: 2-D: ``((freq_left, freq_right), (time_left, time_right))`` frames the
            decoder's last transposed convolution keeps instead of trimming.
        final_activation: activation after the decoder's last convolution (None: none), with
            ``final_activation_params``.
        final_activation_params: keyword arguments of ``final_activation``.
    """

    channels: int = 1
    dimension: int = 128
    n_filters: int = 32
    ratios: tuple = (8, 5, 4, 2)
    kernel_size: int = 7
    last_kernel_size: int = 7
    residual_kernel_size: int = 3
    n_residual_layers: int = 1
    dilation_base: int = 2
    compress: int = 2
    true_skip: bool = False
    activation: str = "ELU"
    activation_params: dict | None = None
    norm: str = "weight_norm"
    norm_params: dict | None = None
    seq_model: str = "lstm"
    seq_layer_num: int = 2
    res_seq: bool = True
    bidirectional: bool = False
    grow_filters: bool = True
    two_d: bool = False
    conv_group_ratio: int = -1
    tr_conv_group_ratio: int = -1
    last_out_padding: tuple = ((0, 1), (0, 0))
    final_activation: str | None = None
    final_activation_params: dict | None = None

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"SEANet norm {self.norm!r} is not one of {', '.join(NORMS)}")
        if self.norm == "weight_norm" and self.two_d:
            raise ValueError("SEANet norm 'weight_norm' is implemented for 1-D convolutions only")
        for name in (self.activation, self.final_activation):
            if name is not None and (name.lower() == "snake" or not hasattr(nn, name)):
                raise ValueError(f"SEANet activation {name!r} is not supported (use a torch.nn activation)")
        if self.seq_model not in SEQUENCE_MODELS:
            raise ValueError(
                f"SEANet seq_model {self.seq_model!r} is not one of {', '.join(SEQUENCE_MODELS)}"
            )

    @property
    def hop_length(self) -> int:
        """Input frames (time axis) per latent frame."""
        return math.prod(ratio[1] if self.two_d else ratio for ratio in self.ratios)


class Activation(nn.Module):
    """A parameter-free ``torch.nn`` activation by name, with the ``(x, lengths)`` interface."""

    def __init__(self, name: str, params: dict | None = None) -> None:
        super().__init__()
        self.fn = getattr(nn, name)(**(params or {}))

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        return self.fn(x), lengths


class NormConv(nn.Module):
    """A convolution followed by its norm (``GroupNorm`` or identity). The convolution is registered
    as ``name`` (upstream: ``conv``, or ``convtr`` for transposed ones) so that the keys match."""

    def __init__(self, layer: nn.Module, norm: nn.Module, name: str = "conv") -> None:
        super().__init__()
        self.add_module(name, layer)
        self.norm = norm
        self.layer_name = name

    def forward(self, x: torch.Tensor, lengths: Lengths) -> torch.Tensor:
        y = getattr(self, self.layer_name)(x)
        return masked_group_norm(y, self.norm, lengths) if isinstance(self.norm, nn.GroupNorm) else y


def _norm(config: SEANetConfig, channels: int) -> nn.Module:
    """The norm after each convolution: ``GroupNorm(num_groups, C)`` for ``time_group_norm``
    (``num_groups`` from ``norm_params``, default 1; the other params go to ``nn.GroupNorm``), else
    identity."""
    if config.norm != "time_group_norm":
        return nn.Identity()
    params = dict(config.norm_params or {})
    return nn.GroupNorm(params.pop("num_groups", 1), channels, **params)


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _last_window_padding(length: int, kernel_size: int, stride: int, padding_total: int) -> int:
    """Extra right padding (frames) so that the last strided window is full (upstream formula)."""
    n_frames = (length - kernel_size + padding_total) / stride + 1
    ideal_length = (math.ceil(n_frames) - 1) * stride + (kernel_size - padding_total)
    return ideal_length - length


class SConv(nn.Module):
    """Non-causal "same" convolution, 1-D ``[B, C, T]`` or 2-D ``[B, C, F, T]``, then the norm.

    Per axis, total padding ``(k-1)*d - (s-1)``, reflected. 1-D: the larger half on the left, and
    the extra "last window full" padding on the right, so ``T`` frames give ``ceil(T / stride)``.
    2-D: the frequency axis gets no extra padding; on the time axis the extra padding is added on
    the *left*.
    """

    def __init__(
        self,
        config: SEANetConfig,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        dilation=1,
        groups: int = 1,
        two_d: bool = False,
    ) -> None:
        super().__init__()
        if two_d:
            kernel_size, stride, dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
            conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, dilation=dilation, groups=groups)
        else:
            conv = conv1d_class(config.norm == "weight_norm")(
                in_channels, out_channels, kernel_size, stride, dilation=dilation, groups=groups
            )
        self.conv = NormConv(conv, _norm(config, out_channels))
        self.two_d = two_d

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        conv = self.conv.conv
        kernel, stride, dilation = conv.kernel_size[-1], conv.stride[-1], conv.dilation[-1]
        total = (kernel - 1) * dilation - (stride - 1)
        after = total // 2
        if self.two_d:
            f_total = (conv.kernel_size[0] - 1) * conv.dilation[0] - (conv.stride[0] - 1)
            x = reflect_pad(x, f_total - f_total // 2, f_total // 2, dim=-2)

        def pads(length: int) -> tuple[int, int]:
            extra = _last_window_padding(length, kernel, stride, total)
            return (total - after + extra, after) if self.two_d else (total - after, after + extra)

        if lengths is None:
            left, right = pads(x.shape[-1])
            return self.conv(reflect_pad(x, left, right), None), None
        padding = [pads(n) for n in lengths]
        padded = reflect_pad_rows(x, lengths, [p[0] for p in padding], [p[1] for p in padding])
        effective = (kernel - 1) * dilation + 1
        out_lengths = [
            (n + left + right - effective) // stride + 1 for n, (left, right) in zip(lengths, padding)
        ]
        return self.conv(padded, out_lengths), out_lengths


class SConvTranspose(nn.Module):
    """Non-causal transposed convolution, 1-D or 2-D, then the norm (over the untrimmed output), then
    per axis a trim of ``k - s`` frames (the floor half on the right), less ``out_padding`` frames
    kept on each side (``((freq_left, freq_right), (time_left, time_right))``). Output:
    ``stride * T`` frames. Frames past a row's end are zeroed first, as if the row ended there."""

    def __init__(
        self,
        config: SEANetConfig,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride,
        groups: int = 1,
        two_d: bool = False,
        out_padding=((0, 0), (0, 0)),
    ) -> None:
        super().__init__()
        if two_d:
            kernel_size, stride = _pair(kernel_size), _pair(stride)
            convtr = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, groups=groups)
        else:
            convtr = conv1d_class(config.norm == "weight_norm", transposed=True)(
                in_channels, out_channels, kernel_size, stride, groups=groups
            )
        self.convtr = NormConv(convtr, _norm(config, out_channels), name="convtr")
        self.two_d = two_d
        self.out_padding = tuple(tuple(int(v) for v in axis) for axis in out_padding)

    def _geometry(self, axis: int) -> tuple[int, int]:
        convtr = self.convtr.convtr
        return convtr.kernel_size[axis], convtr.stride[axis]

    def _trims(self, axis: int) -> tuple[int, int]:
        kernel, stride = self._geometry(axis)
        right = (kernel - stride) // 2
        keep_left, keep_right = self.out_padding[axis if self.two_d else 1]
        return max(kernel - stride - right - keep_left, 0), max(right - keep_right, 0)

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        if lengths is not None:  # frames past a row's end must not leak into its last outputs
            invalid = ~valid_mask(lengths, x.shape[-1], x.device)
            x = x.masked_fill(invalid.view(x.shape[0], *(1,) * (x.dim() - 2), -1), 0.0)
        kernel, stride = self._geometry(-1)
        full_lengths = None if lengths is None else [(n - 1) * stride + kernel for n in lengths]
        y = self.convtr(x, full_lengths)  # the norm sees the frames trimmed below, as upstream
        t_left, t_right = self._trims(-1)
        if self.two_d:
            f_left, f_right = self._trims(0)
            y = y[..., f_left : y.shape[-2] - f_right, :]
        y = y[..., t_left : y.shape[-1] - t_right]
        return y, None if lengths is None else [n - t_left - t_right for n in full_lengths]


class SLSTM(nn.Module):
    """A multi-layer LSTM over time on ``[B, C, T]``, plus the input when ``skip`` (tiled ``[x, x]``
    when bidirectional). A unidirectional LSTM is causal, so padding after a row's end never reaches
    its valid frames; a bidirectional one runs rows shorter than ``T`` as packed sequences, so its
    backward direction starts at each row's own end."""

    def __init__(
        self, dimension: int, num_layers: int = 2, skip: bool = True, bidirectional: bool = False
    ) -> None:
        super().__init__()
        self.skip = skip
        self.lstm = nn.LSTM(dimension, dimension, num_layers, bidirectional=bidirectional)

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        """``[B, C, T]`` -> ``[B, C * directions, T]``."""
        steps = x.permute(2, 0, 1)
        if self.lstm.bidirectional and lengths is not None and min(lengths) < steps.shape[0]:
            packed = pack_padded_sequence(steps, torch.tensor(lengths), enforce_sorted=False)
            y = pad_packed_sequence(self.lstm(packed)[0], total_length=steps.shape[0])[0]
        else:
            y = self.lstm(steps)[0]
        if self.skip:
            y = y + (steps.repeat(1, 1, 2) if self.lstm.bidirectional else steps)
        return y.permute(1, 2, 0), lengths


class SelfAttention(nn.Module):
    """Multi-head self-attention (``linear_q/k/v/out``); keys past a row's length are masked."""

    def __init__(self, heads: int, size: int) -> None:
        super().__init__()
        self.heads = heads
        self.linear_q, self.linear_k, self.linear_v, self.linear_out = (
            nn.Linear(size, size) for _ in range(4)
        )

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        batch, frames, size = x.shape

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(batch, frames, self.heads, size // self.heads).transpose(1, 2)

        q, k, v = split(self.linear_q(x)), split(self.linear_k(x)), split(self.linear_v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(size // self.heads)
        if key_mask is not None:
            scores = scores.masked_fill(~key_mask[:, None, None, :], torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        return self.linear_out((weights @ v).transpose(1, 2).reshape(batch, frames, size))


class FeedForward(nn.Module):
    """Position-wise ``w_2(relu(w_1(x)))``."""

    def __init__(self, size: int, hidden: int) -> None:
        super().__init__()
        self.w_1 = nn.Linear(size, hidden)
        self.w_2 = nn.Linear(hidden, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(torch.relu(self.w_1(x)))


class TransformerLayer(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + ff(norm2(x))`` (LayerNorm eps 1e-12)."""

    def __init__(self, size: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.self_attn = SelfAttention(heads, size)
        self.feed_forward = FeedForward(size, hidden)
        self.norm1 = nn.LayerNorm(size, eps=1e-12)
        self.norm2 = nn.LayerNorm(size, eps=1e-12)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.self_attn(self.norm1(x), key_mask)
        return x + self.feed_forward(self.norm2(x))


class TransformerSequence(nn.Module):
    """The ``seq_model: transformer`` of SEANet: ``num_layers`` non-causal pre-norm blocks (4 heads,
    2048 hidden units, no positional encoding), a final LayerNorm, plus the input when ``skip``.
    ``[B, C, T]`` -> ``[B, C, T]``; each row attends only to its own valid frames."""

    def __init__(
        self, dimension: int, num_layers: int, skip: bool, heads: int = 4, hidden: int = 2048
    ) -> None:
        super().__init__()
        self.encoders = nn.ModuleList(TransformerLayer(dimension, heads, hidden) for _ in range(num_layers))
        self.after_norm = nn.LayerNorm(dimension, eps=1e-12)
        self.skip = skip

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        sequence = x.transpose(1, 2)
        key_mask = None if lengths is None else valid_mask(lengths, sequence.shape[1], x.device)
        y = sequence
        for layer in self.encoders:
            y = layer(y, key_mask)
        y = self.after_norm(y)
        if self.skip:
            y = y + sequence
        return y.transpose(1, 2), lengths


class ResnetBlock(nn.Module):
    """SEANet residual block: ``shortcut(x) + block(x)`` with block = act, conv k (dim -> dim/compress),
    act, conv 1 (-> dim); the shortcut is a 1-wide conv (or identity when ``true_skip``).
    2-D: kernels ``(k, k)`` and ``(1, 1)``, groups from ``conv_group_ratio`` (-1: ungrouped)."""

    def __init__(self, config: SEANetConfig, dim: int, dilation: int) -> None:
        super().__init__()
        hidden, two_d = dim // config.compress, config.two_d

        def groups(channels: int) -> int:
            return channels // 2 // config.conv_group_ratio if two_d and config.conv_group_ratio > 0 else 1

        kernel = config.residual_kernel_size
        first_kernel, first_dilation = ((kernel, kernel), (1, dilation)) if two_d else (kernel, dilation)
        inner = groups(min(dim, hidden))
        self.block = nn.ModuleList(
            [
                Activation(config.activation, config.activation_params),
                SConv(config, dim, hidden, first_kernel, 1, first_dilation, inner, two_d),
                Activation(config.activation, config.activation_params),
                SConv(config, hidden, dim, 1, 1, 1, inner, two_d),
            ]
        )
        self.shortcut = None if config.true_skip else SConv(config, dim, dim, 1, 1, 1, groups(dim), two_d)

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        y = x
        for layer in self.block:
            y, _ = layer(y, lengths)
        skip = x if self.shortcut is None else self.shortcut(x, lengths)[0]
        return skip + y, lengths


class FrequencyAxis(nn.Module):
    """Drops (``squeeze``) or adds (``unsqueeze``) the size-1 frequency axis between the 2-D
    convolutions and the 1-D sequence model."""

    def __init__(self, squeeze: bool) -> None:
        super().__init__()
        self.squeeze = squeeze

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        return (x.squeeze(2) if self.squeeze else x.unsqueeze(2)), lengths


class LengthSequential(nn.ModuleList):
    """``nn.Sequential`` (same ``model.N`` state-dict indices) threading ``(x, lengths)``."""

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        for layer in self:
            x, lengths = layer(x, lengths)
        return x, lengths


def _residual_blocks(config: SEANetConfig, channels: int) -> list[nn.Module]:
    """The ``n_residual_layers`` residual blocks at one resolution (dilation ``dilation_base ** j``)."""
    return [ResnetBlock(config, channels, config.dilation_base**j) for j in range(config.n_residual_layers)]


def _sequence_model(config: SEANetConfig, channels: int, bidirectional: bool) -> list[nn.Module]:
    if config.seq_model == "lstm":
        return [SLSTM(channels, config.seq_layer_num, config.res_seq, bidirectional)]
    if config.seq_model == "transformer":
        return [TransformerSequence(channels, config.seq_layer_num, config.res_seq)]
    return []


def _kernel(ratio, two_d: bool):
    """The resampling convolution's kernel: twice its stride."""
    return (2 * ratio[0], 2 * ratio[1]) if two_d else 2 * ratio


class SEANetEncoder(nn.Module):
    """Audio ``[B, channels, T]`` (2-D: ``[B, channels, F, T]``) -> latent ``[B, dimension, T']`` with
    ``T' = ceil(T / hop_length)`` per row; the down-sampling uses ``ratios`` reversed."""

    def __init__(self, config: SEANetConfig) -> None:
        super().__init__()
        two_d, n_filters = config.two_d, config.n_filters
        grow = 2 if config.grow_filters else 1
        mult = 1
        layers: list[nn.Module] = [SConv(config, config.channels, n_filters, config.kernel_size, two_d=two_d)]
        for ratio in reversed(config.ratios):
            channels = mult * n_filters
            layers += _residual_blocks(config, channels)
            groups = channels // 2 // config.conv_group_ratio if two_d and config.conv_group_ratio > 0 else 1
            layers.append(Activation(config.activation, config.activation_params))
            layers.append(
                SConv(config, channels, channels * grow, _kernel(ratio, two_d), ratio, 1, groups, two_d)
            )
            mult *= grow
        if two_d:
            layers.append(FrequencyAxis(squeeze=True))
        layers += _sequence_model(config, mult * n_filters, config.bidirectional)
        directions = 2 if config.bidirectional and config.seq_model == "lstm" else 1
        layers.append(Activation(config.activation, config.activation_params))
        layers.append(SConv(config, directions * mult * n_filters, config.dimension, config.last_kernel_size))
        self.model = LengthSequential(layers)

    def forward(self, x: torch.Tensor, lengths: Lengths = None) -> tuple[torch.Tensor, Lengths]:
        """``x`` with ``lengths`` valid frames per row -> ``(latent, latent frames per row)``."""
        return self.model(x, lengths)


class SEANetDecoder(nn.Module):
    """Latent ``[B, dimension, T']`` -> audio ``[B, channels, T' * hop_length]`` (2-D:
    ``[B, channels, F, T' * hop_length]``; the last transposed convolution keeps
    ``last_out_padding`` extra frames)."""

    def __init__(self, config: SEANetConfig) -> None:
        super().__init__()
        two_d, n_filters = config.two_d, config.n_filters
        half = config.grow_filters
        mult = 2 ** len(config.ratios) if half else 1
        layers: list[nn.Module] = [SConv(config, config.dimension, mult * n_filters, config.kernel_size)]
        layers += _sequence_model(config, mult * n_filters, bidirectional=False)
        if two_d:
            layers.append(FrequencyAxis(squeeze=False))
        for i, ratio in enumerate(config.ratios):
            channels = mult * n_filters
            out_channels = channels // 2 if half else channels
            last = i == len(config.ratios) - 1
            out_padding = config.last_out_padding if two_d and last else ((0, 0), (0, 0))
            ratio_groups = config.tr_conv_group_ratio
            groups = channels // 2 // ratio_groups if two_d and ratio_groups > 0 else 1
            layers.append(Activation(config.activation, config.activation_params))
            layers.append(
                SConvTranspose(
                    config, channels, out_channels, _kernel(ratio, two_d), ratio, groups, two_d, out_padding
                )
            )
            layers += _residual_blocks(config, out_channels)
            if half:
                mult //= 2
        layers.append(Activation(config.activation, config.activation_params))
        layers.append(SConv(config, n_filters, config.channels, config.last_kernel_size, two_d=two_d))
        if config.final_activation is not None:
            layers.append(Activation(config.final_activation, config.final_activation_params))
        self.model = LengthSequential(layers)

    def forward(self, latent: torch.Tensor, lengths: Lengths = None) -> tuple[torch.Tensor, Lengths]:
        """``latent`` with ``lengths`` valid frames per row -> ``(audio, audio frames per row)``."""
        return self.model(latent, lengths)
