"""AASIST / AASIST-L spoofing countermeasure as a transformers model.

AASIST (Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention
Networks", ICASSP 2022) reads a 16 kHz waveform and returns two logits, ``[spoof, bonafide]``.
Data flow (shapes for AASIST-L and 64,600 samples, B = batch):

    waveform [B, 64600]
      -> fixed mel-spaced sinc filter bank (70 x 129 taps), |.|, 3x3 max-pool   [B, 23, 21490]
      -> BatchNorm + SELU, six 2-D residual blocks                               [B, 24, 23, 29]
      -> spectral nodes (max over time) + temporal nodes (max over frequency)    [B, 23, 24], [B, 29, 24]
      -> graph attention + top-k graph pooling on each                           [B, 9, 24], [B, 14, 24]
      -> two parallel branches of heterogeneous stacking graph attention (HS-GAL)
         with a learned master node, element-wise max of the branches
      -> readout [B, 160] -> Linear -> logits [B, 2]

The module tree mirrors the official implementation one to one (``convert_aasist_checkpoint.py``
maps every key explicitly), with one deliberate omission: blocks 2-6 own a BatchNorm (``input_norm``,
upstream ``bn1``) whose output upstream computes and then discards. It is kept so that checkpoints
load strictly and the parameter count matches, but it is not computed.

The arithmetic is rearranged for CPU speed without changing the function (logits agree with the
official code within ~1e-5): the sinc convolution and the stem's 3x3 max-pool are one strided
convolution with the three time phases as extra channels; the residual blocks run in channels-last
memory; the 1-channel convolutions of the first block are matrix products (the skip one added in
place); the time max-pool is an ``amax`` with a cheap mask backward; in eval mode each block's
BatchNorm is folded into the convolution before it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_aasist import AasistConfig


def mel_sinc_filter_bank(num_filters: int, kernel_size: int, sampling_rate: int) -> torch.Tensor:
    """The fixed band-pass filters of the AASIST front end, ``[num_filters, taps]`` float32 (CPU).

    Band edges are mel-spaced between 0 Hz and Nyquist (on the mel scale of a 257-point FFT grid);
    filter ``i`` is the difference of two ideal low-pass sinc filters at edges ``i + 1`` and ``i``,
    times a symmetric Hamming window. ``taps = kernel_size`` made odd (128 -> 129). The arithmetic
    precision follows the official code exactly (float32 tap index and sinc, float64 band scaling),
    so the bank is bit-identical to the reference run.
    """
    taps = kernel_size + 1 - kernel_size % 2
    half = (taps - 1) // 2
    index = torch.arange(-half, half + 1, dtype=torch.float32, device="cpu")
    grid_hz = (sampling_rate // 2) * np.linspace(0, 1, 257)
    grid_mel = 2595 * np.log10(1 + grid_hz / 700)
    edges_mel = np.linspace(grid_mel.min(), grid_mel.max(), num_filters + 1)
    edges_hz = 700 * (10 ** (edges_mel / 2595) - 1)

    def low_pass(cutoff_hz: float) -> np.ndarray:
        phase = (float(2 * cutoff_hz) * index / sampling_rate).numpy()  # float32, as upstream
        return (2 * cutoff_hz / sampling_rate) * np.sinc(phase)  # float64 scaling

    window = torch.from_numpy(np.hamming(taps)).float()
    bands = [
        torch.from_numpy(low_pass(high) - low_pass(low)).float() for low, high in zip(edges_hz, edges_hz[1:])
    ]
    return torch.stack(bands) * window


class AasistSincFrontEnd(nn.Module):
    """Fixed sinc filter bank followed by ``|.|`` and a 3x3 max-pool over (filter, time).

    Input ``[B, T]`` samples at 16 kHz; output ``[B, num_sinc_filters // 3, (T - taps + 1) // 3]``.
    The filters are a plain tensor attribute: not a parameter, not a buffer, not in the state dict.

    Instead of convolving at every sample and max-pooling a ``[B, 70, T]`` tensor, one stride-3
    convolution computes the 3 time phases x 3 filters of every pooling cell as 9 output channels,
    and the pool becomes a max over those channels.
    """

    def __init__(self, config: AasistConfig):
        super().__init__()
        self.filters = mel_sinc_filter_bank(
            config.num_sinc_filters, config.sinc_kernel_size, config.sampling_rate
        )

    def pooled_kernel(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """``[groups * 9, 1, taps + 2]``: channel ``9g + 3k + p`` is filter ``3g + k`` delayed by ``p`` samples."""
        groups = self.filters.shape[0] // 3
        taps = self.filters.shape[1]
        kernel = self.filters.new_zeros(groups, 3, 3, taps + 2)
        used = self.filters[: groups * 3].view(groups, 3, taps)
        for phase in range(3):
            kernel[:, :, phase, phase : phase + taps] = used
        return kernel.view(groups * 9, 1, taps + 2).to(device=device, dtype=dtype)

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        kernel = self.pooled_kernel(input_values.device, input_values.dtype)
        cells = F.conv1d(input_values.unsqueeze(1), kernel, stride=3)  # [B, groups * 9, T']
        return cells.abs_().unflatten(1, (-1, 9)).amax(dim=2)


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_LONG_ROW_BYTES = 2**21  # see _Conv2dChannelsLast
_ROW_BLOCK_BYTES = 2**28  # see _RowBatchNormSelu


def _row_blocks(rows: torch.Tensor, block_rows: int | None) -> list[slice]:
    """Consecutive row ranges of ``rows`` ``[N, C]``; ``block_rows`` rows each, 256 MB by default."""
    if block_rows is None:
        block_rows = max(_ROW_BLOCK_BYTES // (rows.shape[1] * rows.element_size()), 1)
    return [slice(start, start + block_rows) for start in range(0, rows.shape[0], block_rows)]


class _RowBatchNormSelu(torch.autograd.Function):
    """``selu(batch_norm(rows + input_bias))`` in training mode on the rows of ``[N, C]`` (a
    channels-last ``[B, C, H, W]`` tensor viewed without a copy). Returns the output ``[N, C]`` and
    the batch mean and biased variance ``[C]`` (float32) of ``rows + input_bias``.

    ``input_bias`` ``[C]`` is the bias of the convolution before, left out of it: it only shifts the
    batch mean, so the output does not depend on it and its gradient is zero. Leaving it out saves
    a full pass over 1 GB on the first block and is more precise: with AASIST's trained biases the
    mean of ``rows + input_bias`` is large against its spread and ``x - mean`` loses float32 digits
    (model gradients 1.65e-3 off float64 with the bias in, 2.0e-4 without).

    Why it is faster than BatchNorm then SELU on the first block's 1 GB tensors: no full-size
    temporary is allocated (on CPU a fresh 1 GB tensor costs ~0.4 CPU-s of page faults, more than
    the arithmetic): the passes that need a temporary run over blocks of rows (256 MB by default)
    with one reused scratch block; the forward saves only its input and output (the normalised
    tensor and the BatchNorm output are never stored); the SELU derivative comes from the output
    (``scale`` where it is positive, ``out + scale * alpha`` elsewhere); normalisation is one
    multiply-add and SELU runs in place. The blocks are large on purpose: each element-wise op is
    one OpenMP region, and with thousands of cache-sized blocks the threads spin at the barriers
    whenever other processes share the cores (CPU time x1.5 with one busy process beside it).

    Precision: the statistics are two-pass within each block (block mean, then squared deviations
    from it, PyTorch's cascade sums) and the blocks are combined in float64 (Chan et al.); the
    backward's sums use mean-subtracted inputs and float64 across blocks. ``block_rows`` exists for
    the tests.
    """

    @staticmethod
    def forward(
        ctx,
        rows: torch.Tensor,
        input_bias: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        eps: float,
        block_rows: int | None = None,
    ):
        blocks = _row_blocks(rows, block_rows)
        block_means = rows.new_empty(len(blocks), rows.shape[1])
        block_squares = torch.empty_like(block_means)  # sums of squared deviations from the block mean
        scratch = rows.new_empty(blocks[0].stop - blocks[0].start, rows.shape[1])
        for index, block in enumerate(blocks):
            chunk = rows[block]
            deviation = scratch[: chunk.shape[0]]
            torch.mean(chunk, 0, out=block_means[index])
            torch.sub(chunk, block_means[index], out=deviation).square_()
            torch.sum(deviation, 0, out=block_squares[index])
        sizes = torch.tensor([len(range(rows.shape[0])[block]) for block in blocks], dtype=torch.float64)
        block_means64 = block_means.double()
        mean64 = (sizes @ block_means64) / rows.shape[0]
        squares64 = block_squares.double().sum(0) + sizes @ (block_means64 - mean64).square()
        mean, variance = mean64.to(rows.dtype), (squares64 / rows.shape[0]).to(rows.dtype)

        inverse_std = torch.rsqrt(variance + eps)
        scale = weight * inverse_std
        shift = bias - mean * scale
        out = torch.empty_like(rows)
        for block in blocks:
            torch.selu_(torch.addcmul(shift, rows[block], scale, out=out[block]))
        ctx.block_rows = block_rows
        ctx.save_for_backward(rows, out, mean, inverse_std, weight)
        return out, mean + input_bias, variance

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor, _grad_mean, _grad_variance):
        rows, out, mean, inverse_std, weight = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        blocks = _row_blocks(rows, ctx.block_rows)
        grad_in = torch.empty_like(rows)  # first the gradient at the BatchNorm output
        block_grad_sums = rows.new_empty(len(blocks), rows.shape[1])
        block_grad_dots = torch.empty_like(block_grad_sums)  # sums of grad * (rows - mean)
        scratch = rows.new_empty(blocks[0].stop - blocks[0].start, rows.shape[1])
        for index, block in enumerate(blocks):
            grad = grad_in[block]
            torch.ops.aten.elu_backward.grad_input(
                grad_out[block], _SELU_ALPHA, _SELU_SCALE, 1.0, True, out[block], grad_input=grad
            )
            torch.sum(grad, 0, out=block_grad_sums[index])
            centered = scratch[: grad.shape[0]]
            torch.sub(rows[block], mean, out=centered).mul_(grad)
            torch.sum(centered, 0, out=block_grad_dots[index])
        grad_bias = block_grad_sums.double().sum(0)
        grad_dot = block_grad_dots.double().sum(0)
        count = rows.shape[0]
        # grad_in = weight * inverse_std * (grad - grad_bias / N - (rows - mean) * inverse_std**2 * grad_dot / N)
        scale = weight * inverse_std
        offset = (-scale * grad_bias / count).to(rows.dtype)
        centered_coefficient = (-scale * inverse_std.square() * grad_dot / count).to(rows.dtype)
        for block in blocks:
            grad = grad_in[block]
            centered = scratch[: grad.shape[0]]
            torch.sub(rows[block], mean, out=centered)
            torch.addcmul(offset, grad, scale, out=grad).addcmul_(centered, centered_coefficient)
        grad_weight = (grad_dot * inverse_std).to(rows.dtype)
        grad_input_bias = torch.zeros_like(inverse_std) if ctx.needs_input_grad[1] else None
        return grad_in, grad_input_bias, grad_weight, grad_bias.to(rows.dtype), None, None


def _train_batch_norm_selu_channels_last(
    x: torch.Tensor, input_bias: torch.Tensor, norm: nn.BatchNorm2d, block_rows: int | None = None
) -> torch.Tensor:
    """``selu(norm(x + input_bias))`` in training mode for a channels-last ``x`` ``[B, C, H, W]``
    (output channels-last too), updating the running statistics as ``nn.BatchNorm2d`` does
    (momentum, unbiased running variance). See :class:`_RowBatchNormSelu`. Under mixed precision
    (a bf16 or fp16 ``x``) the statistics and the normalisation run in float32 and the output has
    ``x``'s dtype, as with PyTorch's own BatchNorm."""
    batch, channels, height, width = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(-1, channels)  # a view for channels-last memory
    out, mean, variance = _RowBatchNormSelu.apply(
        rows.float(), input_bias, norm.weight, norm.bias, norm.eps, block_rows
    )
    out = out.to(x.dtype)
    with torch.no_grad():
        count = rows.shape[0]
        norm.running_mean.lerp_(mean, norm.momentum)
        norm.running_var.lerp_(variance * count / max(count - 1, 1), norm.momentum)
        norm.num_batches_tracked.add_(1)
    return out.view(batch, height, width, channels).permute(0, 3, 1, 2)


def _fold_batch_norm(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of ``norm(conv(x))`` as one convolution (eval mode: running statistics)."""
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = (conv.bias - norm.running_mean) * scale + norm.bias
    return weight, bias


def _one_channel_taps(
    x: torch.Tensor, kernel_size: tuple[int, int], padding: tuple[int, int]
) -> torch.Tensor:
    """The ``kh * kw`` input taps of every output position of a 2-D convolution of a 1-channel input:
    ``[B, 1, H, W]`` -> ``[B, H', W', kh * kw]``. A convolution with 1 input channel is then one
    matrix product with the ``[O, kh * kw]`` weights (oneDNN is slow for a single input channel)."""
    padded = F.pad(x[:, 0], (padding[1], padding[1], padding[0], padding[0]))
    return padded.unfold(1, kernel_size[0], 1).unfold(2, kernel_size[1], 1).flatten(3)


def _conv2d_weight_grad(
    grad: torch.Tensor, x: torch.Tensor, kernel_size: tuple[int, int], padding: tuple[int, int]
) -> torch.Tensor:
    """The weight gradient ``[O, I, kh, kw]`` of a stride-1 2-D convolution of channels-last tensors,
    from the output gradient ``[B, O, H', W']`` and the input ``[B, I, H, W]``.

    Each kernel tap's gradient is a sum of matrix products ``grad_rows^T @ input_rows`` over the
    output rows it reaches: per batch item one ``bmm`` of ``[H', O, W']`` x ``[H', W', I]`` views
    (shifted by the tap and cut at the zero padding, no copy). On CPU this runs about 1.4x faster
    than oneDNN's weight gradient on the first block's long rows (2.75 MB each, more than the
    2 MB per-core cache of the machine measured), slower on shorter ones.
    """
    grad_rows, x_rows = grad.permute(0, 2, 3, 1), x.permute(0, 2, 3, 1)  # [B, H', W', O], [B, H, W, I]
    (out_height, out_width), (height, width) = grad_rows.shape[1:3], x_rows.shape[1:3]
    weight_grad = grad.new_zeros(*kernel_size, grad.shape[1], x.shape[1])  # [kh, kw, O, I]
    for row in range(kernel_size[0]):
        top, bottom = max(padding[0] - row, 0), min(out_height, height + padding[0] - row)
        for column in range(kernel_size[1]):
            left, right = max(padding[1] - column, 0), min(out_width, width + padding[1] - column)
            shift = (row - padding[0], column - padding[1])
            taps = x_rows[:, top + shift[0] : bottom + shift[0], left + shift[1] : right + shift[1]]
            for item in range(grad.shape[0]):
                products = torch.bmm(grad_rows[item, top:bottom, left:right].transpose(1, 2), taps[item])
                weight_grad[row, column] += products.sum(0)
    return weight_grad.permute(2, 3, 0, 1)


class _Conv2dChannelsLast(torch.autograd.Function):
    """``F.conv2d`` (stride 1, ``padding`` ``(ph, pw)``) of a channels-last ``[B, I, H, W]`` input,
    optionally plus ``skip_taps @ skip_weight`` (``[B * H' * W', k]`` x ``[k, O]``, rows in
    ``(B, H', W')`` order) added in place to the output's rows. Output ``[B, O, H', W']``
    channels-last, ``H' = H + 2 ph - kh + 1``, ``W' = W + 2 pw - kw + 1``.

    Faster on CPU than ``F.conv2d`` under autograd: the bias gradient is one sum over the
    gradient's rows (oneDNN adds ~0.2 s on the first block); when one input row ``W x I`` floats
    is longer than ``_LONG_ROW_BYTES`` (the first block's 21,490 samples x 32 channels = 2.75 MB)
    the weight gradient comes from :func:`_conv2d_weight_grad` (oneDNN's takes ~1.4x longer there;
    on shorter rows oneDNN's is faster); the matrix-product skip (the first block's 1-channel skip
    convolution) is added in place, where autograd would need a new output and a copy.
    """

    @staticmethod
    def forward(
        ctx,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        padding: tuple[int, int],
        skip_taps: torch.Tensor | None = None,
        skip_weight: torch.Tensor | None = None,
    ):
        weight = weight.contiguous(memory_format=torch.channels_last)
        out = F.conv2d(x, weight, bias, padding=padding)
        if skip_taps is not None:
            out.permute(0, 2, 3, 1).view(-1, out.shape[1]).addmm_(skip_taps, skip_weight)
        ctx.padding = padding
        ctx.save_for_backward(x, weight, skip_taps, skip_weight)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight, skip_taps, skip_weight = ctx.saved_tensors
        grad = grad.contiguous(memory_format=torch.channels_last)
        grad_rows = grad.permute(0, 2, 3, 1).view(-1, grad.shape[1])
        needs = (*ctx.needs_input_grad, False, False)  # the skip inputs are optional
        grads = [None] * len(ctx.needs_input_grad)
        weight_by_matmul = needs[1] and x.shape[1] * x.shape[3] * x.element_size() > _LONG_ROW_BYTES
        mask = [needs[0], needs[1] and not weight_by_matmul, False]
        if any(mask):
            grads[0], grads[1], _ = torch.ops.aten.convolution_backward(
                grad, x, weight, None, [1, 1], list(ctx.padding), [1, 1], False, [0, 0], 1, mask
            )
        if weight_by_matmul:
            grads[1] = _conv2d_weight_grad(grad, x, weight.shape[2:], ctx.padding)
        if needs[2]:
            grads[2] = grad_rows.sum(0)
        if needs[4]:
            grads[4] = grad_rows @ skip_weight.t()
        if needs[5]:
            grads[5] = skip_taps.t() @ grad_rows
        return tuple(grads)


def _conv2d_channels_last(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    padding: tuple[int, int],
    skip_taps: torch.Tensor | None = None,
    skip_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """:class:`_Conv2dChannelsLast`, or the same through PyTorch's own operators under autocast
    (mixed-precision training, mostly on GPUs): autocast casts the inputs of its operators, not of
    a custom function, and the custom backward is a CPU float32 optimisation."""
    if not torch.is_autocast_enabled(x.device.type):
        return _Conv2dChannelsLast.apply(x, weight, bias, padding, skip_taps, skip_weight)
    out = F.conv2d(x, weight.contiguous(memory_format=torch.channels_last), bias, padding=padding)
    if skip_taps is None:
        return out
    rows = out.permute(0, 2, 3, 1)  # [B, H', W', O]
    return (
        torch.addmm(rows.reshape(-1, out.shape[1]), skip_taps, skip_weight)
        .view(rows.shape)
        .permute(0, 3, 1, 2)
    )


class _MaxPoolTime(torch.autograd.Function):
    """``MaxPool2d((1, 3))`` over the time axis of a channels-last ``[B, C, H, W]`` tensor.

    Forward is a plain ``amax`` over cells of 3 samples. Backward sends each cell's gradient to its
    first maximum (as ``max_pool2d`` does) with float arithmetic only: slot 0 gets ``grad * [x0 ==
    max]``, slot 1 ``grad * [x1 == max > x0 == max]``, slot 2 the rest, ``grad - slot 0 - slot 1``
    (exact, as at most one of them is non-zero), each written straight into the gradient. On CPU
    this is several times cheaper than ``max_pool2d`` or ``max(dim)`` with indices and their
    scatter, and than boolean masks (``where`` and bool-to-float conversions are slow); the
    gradient is written once, with no zero fill and no temporaries.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        width = x.shape[-1] // 3 * 3
        cells = x.permute(0, 2, 3, 1)[:, :, :width].unflatten(2, (-1, 3))  # [B, H, W/3, 3, C]
        pooled = cells.amax(dim=3)  # [B, H, W/3, C]
        ctx.save_for_backward(x, pooled)
        return pooled.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        x, pooled = ctx.saved_tensors
        width = x.shape[-1] // 3 * 3
        grad_x = torch.empty_like(x)  # channels-last, like x
        grad_x.permute(0, 2, 3, 1)[:, :, width:].zero_()  # samples after the last full cell
        cells = x.permute(0, 2, 3, 1)[:, :, :width].unflatten(2, (-1, 3))  # [B, H, W/3, 3, C]
        grad_cells = grad_x.permute(0, 2, 3, 1)[:, :, :width].unflatten(2, (-1, 3))
        first, second, rest = grad_cells.unbind(3)  # [B, H, W/3, C] each
        grad = grad.permute(0, 2, 3, 1)
        torch.eq(cells[:, :, :, 0], pooled, out=first)
        torch.eq(cells[:, :, :, 1], pooled, out=second)
        torch.gt(second, first, out=second)
        first.mul_(grad)
        second.mul_(grad)
        torch.sub(grad, first, out=rest).sub_(second)
        return grad_x


class AasistResidualBlock(nn.Module):
    """RawNet2-style 2-D residual block: ``conv1 -> BN -> SELU -> conv2``, plus a skip (a 1x3
    convolution when the channel count changes), then max-pool over time by 3.

    ``[B, C_in, H, W]`` -> ``[B, C_out, H, W // 3]``, channels-last memory in and out.
    """

    def __init__(self, in_channels: int, out_channels: int, is_first: bool, eps: float):
        super().__init__()
        if not is_first:
            # Upstream ``bn1``: its output is discarded (conv1 reads the raw input), so it is never
            # computed here; the parameters stay for strict loading and the parameter count.
            self.input_norm = nn.BatchNorm2d(in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1))
        self.norm = nn.BatchNorm2d(out_channels, eps=eps)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1))
        if in_channels != out_channels:
            self.skip_conv = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))

    def _conv1_norm_selu(self, x: torch.Tensor) -> torch.Tensor:
        """``selu(norm(conv1(x)))``; in eval mode the BatchNorm is folded into the convolution.

        In training the BatchNorm and SELU run on the channels-last tensor itself
        (:func:`_train_batch_norm_selu_channels_last`): PyTorch's channels-last BatchNorm kernel on
        CPU accumulates the batch statistics in float32 too coarsely (gradients ~2 % off the
        official model's on the first block's 2M values per channel), and the NCHW kernel needs two
        layout copies of the largest tensors. conv1's bias goes to the BatchNorm (it cancels there).
        """
        if self.training:
            weight, bias = self.conv1.weight, None
        else:
            weight, bias = _fold_batch_norm(self.conv1, self.norm)
        if self.conv1.in_channels == 1:
            taps = _one_channel_taps(x, self.conv1.kernel_size, self.conv1.padding)
            out = F.linear(taps, weight.flatten(1), bias).permute(0, 3, 1, 2)  # channels-last
        else:
            out = _conv2d_channels_last(x, weight, bias, self.conv1.padding)
        if not self.training:
            return F.selu(out, inplace=True)
        return _train_batch_norm_selu_channels_last(
            out.contiguous(memory_format=torch.channels_last), self.conv1.bias, self.norm
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self._conv1_norm_selu(x)
        conv2 = self.conv2
        if not hasattr(self, "skip_conv"):
            out = _conv2d_channels_last(hidden, conv2.weight, conv2.bias, conv2.padding).add_(x)
        elif self.skip_conv.in_channels == 1:  # the 1-channel skip as a matrix product; one bias for both
            skip = self.skip_conv
            taps = _one_channel_taps(x, skip.kernel_size, skip.padding)
            out = _conv2d_channels_last(
                hidden,
                conv2.weight,
                conv2.bias + skip.bias,
                conv2.padding,
                taps.reshape(-1, taps.shape[-1]),
                skip.weight.flatten(1).t(),
            )
        else:
            out = _conv2d_channels_last(hidden, conv2.weight, conv2.bias, conv2.padding)
            skip = self.skip_conv
            out.add_(_conv2d_channels_last(x, skip.weight, skip.bias, skip.padding))
        return _MaxPoolTime.apply(out)


class AasistGraphAttention(nn.Module):
    """Graph attention layer (GAT-S / GAT-T) on a fully connected graph.

    Edge score ``a_ij = w . tanh(W (x_i * x_j) + b) / temperature``, softmax over ``j``; output
    ``BN(Lin(A X) + Lin'(X))`` then SELU. ``[B, N, in_dim]`` -> ``[B, N, out_dim]``.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, dropout: float, eps: float):
        super().__init__()
        self.temperature = temperature
        self.input_dropout = nn.Dropout(dropout)
        self.attention_proj = nn.Linear(in_dim, out_dim)
        self.attention_weight = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_attention = nn.Linear(in_dim, out_dim)
        self.proj_without_attention = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim, eps=eps)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        nodes = self.input_dropout(nodes)
        pairs = nodes.unsqueeze(2) * nodes.unsqueeze(1)  # [B, N, N, in_dim]
        scores = (torch.tanh(self.attention_proj(pairs)) @ self.attention_weight).squeeze(-1)
        attention = torch.softmax(scores / self.temperature, dim=-1)
        out = self.proj_with_attention(attention @ nodes) + self.proj_without_attention(nodes)
        return F.selu(self.norm(out.flatten(0, 1)).view_as(out))


class AasistHeterogeneousGraphAttention(nn.Module):
    """HS-GAL: attention over the union of temporal and spectral nodes plus a master node.

    Temporal and spectral nodes get their own input projection and are concatenated temporal first.
    Edge scores use ``attention_weight_tt`` (temporal-temporal), ``attention_weight_ss``
    (spectral-spectral) or ``attention_weight_cross`` (both cross directions), softmax over all
    nodes. The master node attends to all nodes with its own weights and has no BN / activation.

    Returns ``(temporal [B, n_T, out_dim], spectral [B, n_S, out_dim], master [B, 1, out_dim])``.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, dropout: float, eps: float):
        super().__init__()
        self.temperature = temperature
        self.proj_temporal = nn.Linear(in_dim, in_dim)
        self.proj_spectral = nn.Linear(in_dim, in_dim)
        self.input_dropout = nn.Dropout(dropout)
        self.attention_proj = nn.Linear(in_dim, out_dim)
        self.attention_weight_tt = nn.Parameter(torch.empty(out_dim, 1))
        self.attention_weight_ss = nn.Parameter(torch.empty(out_dim, 1))
        self.attention_weight_cross = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_attention = nn.Linear(in_dim, out_dim)
        self.proj_without_attention = nn.Linear(in_dim, out_dim)
        self.master_attention_proj = nn.Linear(in_dim, out_dim)
        self.master_attention_weight = nn.Parameter(torch.empty(out_dim, 1))
        self.master_proj_with_attention = nn.Linear(in_dim, out_dim)
        self.master_proj_without_attention = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim, eps=eps)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor, master: torch.Tensor):
        num_temporal = temporal.shape[1]
        nodes = torch.cat([self.proj_temporal(temporal), self.proj_spectral(spectral)], dim=1)
        nodes = self.input_dropout(nodes)
        num_nodes = nodes.shape[1]

        hidden = torch.tanh(self.attention_proj(nodes.unsqueeze(2) * nodes.unsqueeze(1)))  # [B, N, N, out]
        weights = torch.cat(
            [self.attention_weight_tt, self.attention_weight_ss, self.attention_weight_cross], 1
        )
        is_spectral = torch.arange(num_nodes, device=nodes.device) >= num_temporal
        edge_type = torch.where(is_spectral[:, None] == is_spectral[None, :], is_spectral.long()[:, None], 2)
        scores = (hidden @ weights).gather(-1, edge_type.expand(nodes.shape[0], -1, -1).unsqueeze(-1))
        attention = torch.softmax(scores.squeeze(-1) / self.temperature, dim=-1)

        master_hidden = torch.tanh(self.master_attention_proj(nodes * master))  # [B, N, out]
        master_attention = torch.softmax(
            master_hidden @ self.master_attention_weight / self.temperature, dim=1
        )
        master = self.master_proj_with_attention(
            master_attention.transpose(1, 2) @ nodes
        ) + self.master_proj_without_attention(master)

        out = self.proj_with_attention(attention @ nodes) + self.proj_without_attention(nodes)
        out = F.selu(self.norm(out.flatten(0, 1)).view_as(out))
        return out[:, :num_temporal], out[:, num_temporal:], master


class AasistGraphPool(nn.Module):
    """Top-k graph pooling: score ``s_i = sigmoid(w . x_i + b)``, keep ``max(int(N * ratio), 1)``
    nodes in descending score order, each scaled by its score. ``[B, N, D]`` -> ``[B, k, D]``."""

    def __init__(self, ratio: float, dim: int, dropout: float):
        super().__init__()
        self.ratio = ratio
        self.score_dropout = nn.Dropout(dropout)
        self.score_proj = nn.Linear(dim, 1)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.score_proj(self.score_dropout(nodes)))  # [B, N, 1]
        keep = max(int(nodes.shape[1] * self.ratio), 1)
        index = scores.topk(keep, dim=1).indices  # sorted by descending score: order matters
        return torch.gather(nodes * scores, 1, index.expand(-1, -1, nodes.shape[-1]))


class AasistBranch(nn.Module):
    """One of the two parallel stacks: HS-GAL, graph pooling, a second HS-GAL added residually.

    ``(temporal [B, n_T, D], spectral [B, n_S, D])`` -> ``(temporal, spectral, master [B, 1, D'])``.
    """

    def __init__(self, config: AasistConfig):
        super().__init__()
        gat, hsgal, eps = config.gat_hidden_size, config.hsgal_hidden_size, config.batch_norm_eps
        temperature, dropout = config.temperature_hsgal, config.attention_dropout
        self.master = nn.Parameter(torch.empty(1, 1, gat))
        self.hsgal1 = AasistHeterogeneousGraphAttention(gat, hsgal, temperature, dropout, eps)
        self.pool_spectral = AasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.pool_temporal = AasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.hsgal2 = AasistHeterogeneousGraphAttention(hsgal, hsgal, temperature, dropout, eps)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor):
        temporal, spectral, master = self.hsgal1(temporal, spectral, self.master)
        spectral = self.pool_spectral(spectral)
        temporal = self.pool_temporal(temporal)
        temporal_update, spectral_update, master_update = self.hsgal2(temporal, spectral, master)
        return temporal + temporal_update, spectral + spectral_update, master + master_update


class AasistPreTrainedModel(PreTrainedModel):
    config_class = AasistConfig
    base_model_prefix = "aasist"
    main_input_name = "input_values"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """PyTorch's default init for layers, Xavier-normal attention columns and standard-normal
        positional / master embeddings, as the official code does."""
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            init.kaiming_uniform_(module.weight, a=5**0.5)
            fan_in = module.weight[0].numel()
            init.uniform_(module.bias, -(fan_in**-0.5), fan_in**-0.5)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)
        elif isinstance(module, (AasistGraphAttention, AasistHeterogeneousGraphAttention)):
            for name, parameter in module.named_parameters(recurse=False):
                if "attention_weight" in name:
                    init.xavier_normal_(parameter)
        elif isinstance(module, AasistBranch):
            init.normal_(module.master)
        elif isinstance(module, AasistForAudioClassification):
            init.normal_(module.spectral_position)


class AasistForAudioClassification(AasistPreTrainedModel):
    """AASIST with its two-logit head: ``logits[:, 0]`` = spoof, ``logits[:, 1]`` = bona fide.

    The detection score (higher = more bona fide, as used for EER) is ``logits[:, 1]``.
    """

    def __init__(self, config: AasistConfig):
        super().__init__(config)
        channels = config.encoder_channels
        eps = config.batch_norm_eps
        self.front_end = AasistSincFrontEnd(config)
        self.stem_norm = nn.BatchNorm2d(1, eps=eps)
        self.encoder = nn.ModuleList(
            AasistResidualBlock(in_ch, out_ch, is_first=index == 0, eps=eps)
            for index, (in_ch, out_ch) in enumerate(zip([1, *channels[:-1]], channels))
        )
        self.spectral_position = nn.Parameter(torch.empty(1, config.num_spectral_nodes, channels[-1]))
        gat = config.gat_hidden_size
        dropout = config.attention_dropout
        self.gat_spectral = AasistGraphAttention(channels[-1], gat, config.temperature_spectral, dropout, eps)
        self.gat_temporal = AasistGraphAttention(channels[-1], gat, config.temperature_temporal, dropout, eps)
        self.pool_spectral = AasistGraphPool(config.pool_ratio_spectral, gat, config.graph_pool_dropout)
        self.pool_temporal = AasistGraphPool(config.pool_ratio_temporal, gat, config.graph_pool_dropout)
        self.branches = nn.ModuleList(AasistBranch(config) for _ in range(2))
        self.branch_dropout = nn.Dropout(config.branch_dropout)
        self.readout_dropout = nn.Dropout(config.readout_dropout)
        self.classifier = nn.Linear(5 * config.hsgal_hidden_size, config.num_labels)
        # shortest input with one temporal node: sinc taps - 1, then x3 for the stem and each block pool
        self.min_input_samples = self.front_end.filters.shape[1] - 1 + 3 ** (len(channels) + 1)
        self.post_init()

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """``PreTrainedModel.save_pretrained``, naming the folder's own audio-classification pipeline
        in ``config.custom_pipelines``. The relative import below makes transformers copy
        ``pipeline_aasist.py`` (and the sibling files it imports) next to this file, so
        ``pipeline("audio-classification", model=folder, trust_remote_code=True)`` reads files with
        soundfile and resamples with the folder's own resampler, without this package installed."""
        from .pipeline_aasist import CUSTOM_PIPELINES

        self.config.custom_pipelines = CUSTOM_PIPELINES
        super().save_pretrained(save_directory, **kwargs)

    def forward(
        self,
        input_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        r"""
        Args:
            input_values: ``[B, T]`` float waveforms at 16 kHz, ``T >= 2315`` (64,600 in the recipe).
            labels: ``[B]`` class ids (0 spoof, 1 bona fide); gives the weighted cross-entropy loss.
            output_hidden_states: also return the readout vector ``[B, 5 * hsgal_hidden_size]``.

        Returns:
            :class:`SequenceClassifierOutput` with ``logits [B, 2]`` (and ``loss`` when labels are given).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if input_values.ndim != 2 or input_values.shape[-1] < self.min_input_samples:
            raise ValueError(
                f"AASIST expects input_values [batch, samples] with at least {self.min_input_samples} samples "
                f"(16 kHz), got shape {tuple(input_values.shape)}; use AasistFeatureExtractor to window audio"
            )
        stem = self.front_end(input_values).unsqueeze(1)  # [B, 1, 23, T']
        features = F.selu(self.stem_norm(stem))
        for block in self.encoder:
            features = block(features)  # -> [B, C, 23, T'']

        magnitude = features.abs()
        spectral = magnitude.amax(dim=3).transpose(1, 2) + self.spectral_position  # [B, 23, C]
        temporal = magnitude.amax(dim=2).transpose(1, 2)  # [B, T'', C]
        spectral = self.pool_spectral(self.gat_spectral(spectral))
        temporal = self.pool_temporal(self.gat_temporal(temporal))

        outputs = [self.branches[0](temporal, spectral), self.branches[1](temporal, spectral)]
        temporal, spectral, master = (
            torch.maximum(self.branch_dropout(first), self.branch_dropout(second))
            for first, second in zip(*outputs)
        )
        hidden = torch.cat(
            [
                temporal.abs().amax(1),
                temporal.mean(1),
                spectral.abs().amax(1),
                spectral.mean(1),
                master.squeeze(1),
            ],
            dim=-1,
        )
        logits = self.classifier(self.readout_dropout(hidden))

        loss = None
        if labels is not None:
            weight = logits.new_tensor(self.config.class_weights)  # [spoof, bona fide]
            loss = F.cross_entropy(logits, labels.to(logits.device).long(), weight=weight)
        if not return_dict:
            output = (logits, hidden) if output_hidden_states else (logits,)
            return ((loss,) + output) if loss is not None else output
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=(hidden,) if output_hidden_states else None
        )
