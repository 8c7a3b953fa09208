"""Length-aware SEANet building blocks of FunCodec (1-D for ``Encodec``, 2-D for ``FreqCodec``).

Written from the upstream source (``alibaba-damo-academy/FunCodec`` at ``3435d87``, the code of ``funcodec``
0.2.0). Module and attribute names follow the upstream
state-dict layout (``encoder.model.3.conv.conv.weight``, ``….convtr.norm.bias``, ``….lstm.weight_ih_l0``,
``….block.1.…``, ``….shortcut.…``) so an official ``model.pth`` loads without renaming.

Every block's ``forward(x, lengths)`` takes the time axis last and ``lengths``: ``None`` (every row is
fully valid: the upstream computation, ``F.pad`` and ``nn.GroupNorm``) or a list of valid frames per
row of a zero-padded batch. In the second case each row is computed as if it were alone: reflect
padding happens at the row's own end, the "last window full" padding uses the row's own length, and
``GroupNorm(1, C)`` (which normalises over the *whole clip*) uses only the row's valid frames.
Frames past a row's length hold unspecified values; no block reads them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.errors import CodecFakeError

Lengths = list[int] | None


class FunCodecCheckpointError(CodecFakeError, ValueError):
    """A FunCodec ``config.yaml`` / ``model.pth`` pair that does not describe one supported model."""


def valid_mask(lengths: list[int], width: int, device: torch.device) -> torch.Tensor:
    """Boolean ``[B, width]``: True on each row's first ``lengths[b]`` frames."""
    return torch.arange(width, device=device)[None, :] < torch.tensor(lengths, device=device)[:, None]


def _last_window_padding(length: int, kernel_size: int, stride: int, padding_total: int) -> int:
    """Extra right padding (samples) so that the last strided window is full (upstream formula)."""
    n_frames = (length - kernel_size + padding_total) / stride + 1
    ideal_length = (math.ceil(n_frames) - 1) * stride + (kernel_size - padding_total)
    return ideal_length - length


def reflect_pad(x: torch.Tensor, left: int, right: int, dim: int = -1) -> torch.Tensor:
    """Reflect-pad ``dim`` of a fully valid tensor. Inputs not longer than the largest pad are first
    extended with zeros (removed again afterwards), as upstream does to make reflection possible."""
    x = x.movedim(dim, -1)
    length = x.shape[-1]
    extra = max(left, right) - length + 1 if length <= max(left, right) else 0
    shape = x.shape
    flat = F.pad(x.reshape(-1, 1, length), (0, extra))
    padded = F.pad(flat, (left, right), mode="reflect")
    padded = padded[..., : padded.shape[-1] - extra]
    return padded.reshape(*shape[:-1], padded.shape[-1]).movedim(-1, dim)


def reflect_pad_rows(
    x: torch.Tensor, lengths: list[int], lefts: list[int], rights: list[int]
) -> torch.Tensor:
    """Per-row version of :func:`reflect_pad` on the last axis of a zero-padded batch.

    Row ``b`` starts with ``reflect_pad(x[b, ..., :lengths[b]], lefts[b], rights[b])``; the common
    width is ``max_b(lefts[b] + lengths[b] + rights[b])`` and values past a row's own end are
    unspecified.
    """
    device = x.device

    def column(values) -> torch.Tensor:
        return torch.tensor(list(values), device=device)[:, None]

    ends = [left + n + right for left, n, right in zip(lefts, lengths, rights)]
    extended = [n + max(0, max(left, right) - n + 1) for left, n, right in zip(lefts, lengths, rights)]
    position = torch.arange(max(ends), device=device)[None, :]
    source = position - column(lefts)
    last = column(extended) - 1
    source = torch.where(source < 0, -source, torch.where(source <= last, source, 2 * last - source))
    view = (x.shape[0],) + (1,) * (x.dim() - 2) + (position.shape[-1],)
    gathered = torch.gather(
        x, -1, source.clamp(0, x.shape[-1] - 1).view(view).expand(*x.shape[:-1], view[-1])
    )
    if extended == lengths:  # no zero extension: nothing past a row's end is ever read
        return gathered
    return gathered * (source < column(lengths)).view(view).to(x.dtype)


def group_norm(y: torch.Tensor, norm: nn.GroupNorm, lengths: Lengths) -> torch.Tensor:
    """``nn.GroupNorm`` over (channels-in-group x all non-batch axes), restricted to the valid
    frames of the last axis when ``lengths`` is given (two-pass, biased variance, as upstream).
    Overwrites ``y`` (a fresh conv output) in that case."""
    if lengths is None:
        return norm(y)
    y, shape, groups = y.contiguous(), y.shape, norm.num_groups
    invalid = ~valid_mask(lengths, shape[-1], y.device).view(shape[0], *(1,) * (y.dim() - 2), -1)
    flat = y.masked_fill_(invalid, 0.0).view(shape[0] * groups, -1)
    count = torch.tensor(lengths, device=y.device, dtype=y.dtype).repeat_interleave(groups)
    count = count * (flat.shape[1] // shape[-1])
    mean = flat.sum(1) / count
    centred = (flat - mean[:, None]).view(shape).masked_fill_(invalid, 0.0).view(flat.shape)
    squares = torch.bmm(centred[:, None, :], centred[:, :, None]).view(-1)
    scale = torch.rsqrt(squares / count + norm.eps).view(shape[0], groups, 1)
    out = centred.view(shape[0], groups, -1).mul_(scale).view(shape)
    if norm.affine:
        affine = (shape[1],) + (1,) * (y.dim() - 2)
        out = out.mul_(norm.weight.view(affine)).add_(norm.bias.view(affine))
    return out


def make_norm(norm: str, norm_params: dict, channels: int) -> nn.Module:
    """The normalisation after each conv: ``time_group_norm`` -> ``GroupNorm(num_groups, C)``
    (``num_groups`` from ``norm_params``, default 1; other params go to ``nn.GroupNorm``),
    ``none`` -> identity."""
    if norm == "time_group_norm":
        params = dict(norm_params)
        return nn.GroupNorm(params.pop("num_groups", 1), channels, **params)
    if norm == "none":
        return nn.Identity()
    raise FunCodecCheckpointError(
        f"FunCodec norm {norm!r} is not supported (supported: 'time_group_norm', 'none'; "
        "every released checkpoint uses time_group_norm)"
    )


class Activation(nn.Module):
    """A parameter-free ``torch.nn`` activation by name (``ELU``, ``Tanh``, ...), length-aware."""

    def __init__(self, name: str, params: dict | None = None) -> None:
        super().__init__()
        if name.lower() == "snake" or not hasattr(nn, name):
            raise FunCodecCheckpointError(
                f"FunCodec activation {name!r} is not supported (use a torch.nn activation)"
            )
        self.fn = getattr(nn, name)(**(params or {}))

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        return self.fn(x), lengths


class NormConv(nn.Module):
    """A convolution followed by ``norm``. The convolution is registered as ``name`` (upstream:
    ``conv``, or ``convtr`` for transposed ones) so that the state-dict keys match."""

    def __init__(self, layer: nn.Module, norm: nn.Module, name: str = "conv") -> None:
        super().__init__()
        self.add_module(name, layer)
        self.norm = norm
        self.layer_name = name

    def forward(self, x: torch.Tensor, lengths: Lengths) -> torch.Tensor:
        y = getattr(self, self.layer_name)(x)
        return group_norm(y, self.norm, lengths) if isinstance(self.norm, nn.GroupNorm) else y


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


class SConv(nn.Module):
    """Non-causal "same" convolution, 1-D ``[B, C, T]`` or 2-D ``[B, C, F, T]``, then the norm.

    Per axis, total padding ``(k-1)*d - (s-1)``. 1-D: the larger half on the left, and the extra
    "last window full" padding on the right. 2-D: the frequency axis gets no extra padding; on the
    time axis the extra padding is added on the *left*. Reflect mode. Output frames per row:
    ``ceil(T / stride)`` in 1-D.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        dilation=1,
        groups: int = 1,
        norm: str = "time_group_norm",
        norm_params: dict | None = None,
        two_d: bool = False,
    ) -> None:
        super().__init__()
        conv_class = nn.Conv2d if two_d else nn.Conv1d
        if two_d:
            kernel_size, stride, dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
        conv = conv_class(in_channels, out_channels, kernel_size, stride, dilation=dilation, groups=groups)
        self.conv = NormConv(conv, make_norm(norm, norm_params or {}, out_channels))
        self.two_d = two_d

    def _time_geometry(self) -> tuple[int, int, int]:
        conv = self.conv.conv
        return conv.kernel_size[-1], conv.stride[-1], conv.dilation[-1]

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        kernel, stride, dilation = self._time_geometry()
        total = (kernel - 1) * dilation - (stride - 1)
        after = total // 2
        if self.two_d:
            conv = self.conv.conv
            f_total = (conv.kernel_size[0] - 1) * conv.dilation[0] - (conv.stride[0] - 1)
            x = reflect_pad(x, f_total - f_total // 2, f_total // 2, dim=-2)

        def pads(length: int) -> tuple[int, int]:
            extra = _last_window_padding(length, kernel, stride, total)
            return (total - after + extra, after) if self.two_d else (total - after, after + extra)

        if lengths is None:
            left, right = pads(x.shape[-1])
            y = self.conv(reflect_pad(x, left, right), None)
            return y, None
        padding = [pads(n) for n in lengths]
        padded = reflect_pad_rows(x, lengths, [p[0] for p in padding], [p[1] for p in padding])
        padded_lengths = [n + p[0] + p[1] for n, p in zip(lengths, padding)]
        effective = (kernel - 1) * dilation + 1
        out_lengths = [(n - effective) // stride + 1 for n in padded_lengths]
        return self.conv(padded, out_lengths), out_lengths


class SConvTranspose(nn.Module):
    """Non-causal transposed convolution, 1-D or 2-D, then the norm (over the untrimmed output), then
    per axis a trim of ``k - s`` frames (the floor half on the right), less ``out_padding`` frames
    kept on each side (2-D: ``((freq_left, freq_right), (time_left, time_right))``). Output:
    ``stride * T`` frames."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride,
        groups: int = 1,
        norm: str = "time_group_norm",
        norm_params: dict | None = None,
        two_d: bool = False,
        out_padding=((0, 0), (0, 0)),
    ) -> None:
        super().__init__()
        conv_class = nn.ConvTranspose2d if two_d else nn.ConvTranspose1d
        if two_d:
            kernel_size, stride = _pair(kernel_size), _pair(stride)
        convtr = conv_class(in_channels, out_channels, kernel_size, stride, groups=groups)
        self.convtr = NormConv(convtr, make_norm(norm, norm_params or {}, out_channels), name="convtr")
        self.two_d = two_d
        self.out_padding = tuple(tuple(int(v) for v in axis) for axis in out_padding)

    def _trims(self, axis: int) -> tuple[int, int]:
        total = self.convtr.convtr.kernel_size[axis] - self.convtr.convtr.stride[axis]
        right = total // 2
        keep_left, keep_right = self.out_padding[axis if self.two_d else 1]
        return max(total - right - keep_left, 0), max(right - keep_right, 0)

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        if lengths is not None:  # frames past a row's end must not leak into its last outputs
            x = x * valid_mask(lengths, x.shape[-1], x.device).view(x.shape[0], *(1,) * (x.dim() - 2), -1)
        kernel, stride = self.convtr.convtr.kernel_size[-1], self.convtr.convtr.stride[-1]
        full_lengths = None if lengths is None else [(n - 1) * stride + kernel for n in lengths]
        y = self.convtr(x, full_lengths)  # the norm sees the frames trimmed below, as upstream
        t_left, t_right = self._trims(-1)
        if self.two_d:
            f_left, f_right = self._trims(0)
            y = y[..., f_left : y.shape[-2] - f_right, :]
        y = y[..., t_left : y.shape[-1] - t_right]
        return y, None if lengths is None else [n - t_left - t_right for n in full_lengths]


class SLSTM(nn.Module):
    """Unidirectional multi-layer LSTM over time on ``[B, C, T]``, plus the input when ``skip``.
    Causal, so padded frames after a row's end never reach its valid frames."""

    def __init__(self, dimension: int, num_layers: int = 2, skip: bool = True) -> None:
        super().__init__()
        self.skip = skip
        self.lstm = nn.LSTM(dimension, dimension, num_layers)

    def forward(self, x: torch.Tensor, lengths: Lengths) -> tuple[torch.Tensor, Lengths]:
        sequence = x.permute(2, 0, 1)
        y, _ = self.lstm(sequence)
        if self.skip:
            y = y + sequence
        return y.permute(1, 2, 0), lengths


class ResnetBlock(nn.Module):
    """SEANet residual block: ``shortcut(x) + block(x)`` with block = act, conv k (dim -> dim/compress),
    act, conv 1 (-> dim); the shortcut is a 1-wide conv (or identity when ``true_skip``).
    2-D: kernels ``(k, k)`` and ``(1, 1)``, groups from ``conv_group_ratio`` (-1: ungrouped)."""

    def __init__(
        self,
        dim: int,
        kernel_size: int,
        dilation: int,
        activation: str,
        activation_params: dict,
        norm: str,
        norm_params: dict,
        compress: int,
        true_skip: bool,
        two_d: bool = False,
        conv_group_ratio: int = -1,
    ) -> None:
        super().__init__()
        hidden = dim // compress

        def groups(channels: int) -> int:
            return channels // 2 // conv_group_ratio if two_d and conv_group_ratio > 0 else 1

        first_kernel, first_dilation = (
            ((kernel_size, kernel_size), (1, dilation)) if two_d else (kernel_size, dilation)
        )
        self.block = nn.ModuleList(
            [
                Activation(activation, activation_params),
                SConv(
                    dim,
                    hidden,
                    first_kernel,
                    1,
                    first_dilation,
                    groups(min(dim, hidden)),
                    norm,
                    norm_params,
                    two_d,
                ),
                Activation(activation, activation_params),
                SConv(hidden, dim, 1, 1, 1, groups(min(dim, hidden)), norm, norm_params, two_d),
            ]
        )
        self.shortcut = None if true_skip else SConv(dim, dim, 1, 1, 1, groups(dim), norm, norm_params, two_d)

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


def _check_supported(conf: dict) -> None:
    """Reject SEANet options this implementation does not cover (no released checkpoint uses them)."""
    if conf["causal"]:
        raise FunCodecCheckpointError(
            "FunCodec causal SEANet is not supported (GroupNorm is not causal upstream)"
        )
    if conf["pad_mode"] != "reflect":
        raise FunCodecCheckpointError(
            f"FunCodec pad_mode {conf['pad_mode']!r} is not supported (only 'reflect')"
        )


def _resnet_blocks(channels: int, conf: dict, two_d: bool) -> list[nn.Module]:
    """The ``n_residual_layers`` residual blocks at one resolution (dilation ``dilation_base ** j``)."""
    return [
        ResnetBlock(
            channels,
            conf["residual_kernel_size"],
            conf["dilation_base"] ** j,
            conf["activation"],
            conf["activation_params"],
            conf["norm"],
            conf["norm_params"],
            conf["compress"],
            conf["true_skip"],
            two_d,
            conf.get("conv_group_ratio", -1),
        )
        for j in range(conf["n_residual_layers"])
    ]


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


def _sequence_model(kind: str, channels: int, num_layers: int, skip: bool) -> list[nn.Module]:
    """The sequence model after the convolutions: ``lstm`` (:class:`SLSTM`), ``transformer``
    (:class:`TransformerSequence`), none for any other name."""
    if kind == "lstm":
        return [SLSTM(channels, num_layers, skip)]
    if kind == "transformer":
        return [TransformerSequence(channels, num_layers, skip)]
    return []


class SEANetEncoder(nn.Module):
    """SEANet encoder, ``model.N`` as upstream (``encodec_seanet_encoder`` / ``…_2d``).

    1-D: ``[B, input_size, T]`` -> latent ``[B, T / prod(ratios), dimension]``. 2-D (``two_d``):
    ``[B, input_size, F, T]`` (``ratios`` are (freq, time) pairs; the frequency axis must reach 1)
    -> ``[B, T / prod(time ratios), dimension]``. ``ratios`` are given in decoder order and used
    reversed. Keyword arguments are the upstream ``encoder_conf`` keys (see ``ENCODER_DEFAULTS``).
    """

    def __init__(self, input_size: int, two_d: bool, **conf) -> None:
        super().__init__()
        c = conf
        n_filters, norm, norm_params = c["n_filters"], c["norm"], c["norm_params"]
        act, act_params = c["activation"], c["activation_params"]
        _check_supported(c)
        group_ratio = c.get("conv_group_ratio", -1)
        grow = 2 if c.get("double_filters", True) else 1
        mult = 1
        layers: list[nn.Module] = [
            SConv(input_size, n_filters, c["kernel_size"], norm=norm, norm_params=norm_params, two_d=two_d)
        ]
        for ratio in reversed(c["ratios"]):
            channels = mult * n_filters
            layers += _resnet_blocks(channels, c, two_d)
            kernel = (2 * ratio[0], 2 * ratio[1]) if two_d else 2 * ratio
            groups = channels // 2 // group_ratio if two_d and group_ratio > 0 else 1
            layers.append(Activation(act, act_params))
            layers.append(
                SConv(channels, channels * grow, kernel, ratio, 1, groups, norm, norm_params, two_d)
            )
            mult *= grow
        if two_d:
            layers.append(FrequencyAxis(squeeze=True))
        layers += _sequence_model(c["seq_model"], mult * n_filters, c["seq_layer_num"], c["res_seq"])
        layers.append(Activation(act, act_params))
        layers.append(
            SConv(mult * n_filters, c["dimension"], c["last_kernel_size"], norm=norm, norm_params=norm_params)
        )
        self.model = LengthSequential(layers)
        self.two_d = two_d

    def forward(self, x: torch.Tensor, lengths: Lengths = None) -> tuple[torch.Tensor, Lengths]:
        y, lengths = self.model(x, lengths)
        return y.transpose(1, 2), lengths


class SEANetDecoder(nn.Module):
    """SEANet decoder, ``model.N`` as upstream (``encodec_seanet_decoder`` / ``…_2d``).

    Latent ``[B, T', input_size]`` -> 1-D ``[B, channels, T' * prod(ratios)]`` or 2-D
    ``[B, channels, F, T' * prod(time ratios)]``; the last 2-D transposed conv keeps
    ``last_out_padding`` extra frames (upstream default: one more frequency bin on the right).
    Keyword arguments are the upstream ``decoder_conf`` keys (see ``DECODER_DEFAULTS``).
    """

    def __init__(self, input_size: int, two_d: bool, **conf) -> None:
        super().__init__()
        c = conf
        n_filters, norm, norm_params = c["n_filters"], c["norm"], c["norm_params"]
        act, act_params = c["activation"], c["activation_params"]
        _check_supported(c)
        tr_group_ratio = c.get("tr_conv_group_ratio", -1)
        half = two_d or c.get("half_filters", True)
        mult = 2 ** len(c["ratios"]) if half else 1
        layers: list[nn.Module] = [
            SConv(input_size, mult * n_filters, c["kernel_size"], norm=norm, norm_params=norm_params)
        ]
        layers += _sequence_model(c["seq_model"], mult * n_filters, c["seq_layer_num"], c["res_seq"])
        if two_d:
            layers.append(FrequencyAxis(squeeze=False))
        for i, ratio in enumerate(c["ratios"]):
            channels = mult * n_filters
            out_channels = channels // 2 if half else channels
            kernel = (2 * ratio[0], 2 * ratio[1]) if two_d else 2 * ratio
            last = i == len(c["ratios"]) - 1
            out_padding = c.get("last_out_padding", ((0, 1), (0, 0))) if two_d and last else ((0, 0), (0, 0))
            groups = channels // 2 // tr_group_ratio if two_d and tr_group_ratio > 0 else 1
            layers.append(Activation(act, act_params))
            layers.append(
                SConvTranspose(
                    channels, out_channels, kernel, ratio, groups, norm, norm_params, two_d, out_padding
                )
            )
            layers += _resnet_blocks(out_channels, c, two_d)
            if half:
                mult //= 2
        layers.append(Activation(act, act_params))
        layers.append(
            SConv(
                n_filters,
                c["channels"],
                c["last_kernel_size"],
                norm=norm,
                norm_params=norm_params,
                two_d=two_d,
            )
        )
        if c["final_activation"] is not None:
            layers.append(Activation(c["final_activation"], c["final_activation_params"]))
        self.model = LengthSequential(layers)

    def forward(self, latent: torch.Tensor, lengths: Lengths = None) -> tuple[torch.Tensor, Lengths]:
        return self.model(latent.transpose(1, 2), lengths)
