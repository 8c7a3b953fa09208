"""The fused CPU kernels of AASIST: ``config.implementation = "fused"`` (and ``"auto"`` on a CPU, the default).

:mod:`modeling_aasist` holds the model as the paper and the official code describe it (the
``"eager"`` implementation). This module computes the same function faster on a CPU, for the two
parts that hold nearly all of the arithmetic, the sinc front end and the residual blocks:

- :func:`fused_sinc_front_end`: the sinc convolution and the stem's 3x3 max-pool are one stride-3
  convolution with the three time phases as extra channels (no ``[B, 70, T]`` tensor);
- :func:`fused_residual_block`: the blocks run in channels-last memory; the 1-channel convolutions of the
  first block are matrix products (the skip one added in place); in eval mode each block's
  BatchNorm is folded into the convolution before it; in training BatchNorm + SELU
  (:class:`_RowBatchNormSelu`), the convolutions (:class:`_Conv2dChannelsLast`) and the time
  max-pool (:class:`_MaxPoolTime`) are autograd functions that allocate no full-size temporaries.

Both take the module whose parameters they use as their first argument, as the eager functions do,
and return the same shapes. Outputs equal the eager ones up to float32 rounding (sums are
reordered). Under autocast (mixed precision) the convolutions run through PyTorch's own operators.
The block sizes below were measured on one 2-core machine (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pooled_sinc_kernel(filters: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``[groups * 9, 1, taps + 2]`` from the ``[num_filters, taps]`` bank, ``groups = num_filters // 3``:
    channel ``9g + 3k + p`` is filter ``3g + k`` delayed by ``p`` samples."""
    groups = filters.shape[0] // 3
    taps = filters.shape[1]
    kernel = filters.new_zeros(groups, 3, 3, taps + 2)
    used = filters[: groups * 3].view(groups, 3, taps)
    for phase in range(3):
        kernel[:, :, phase, phase : phase + taps] = used
    return kernel.view(groups * 9, 1, taps + 2).to(device=device, dtype=dtype)


def fused_sinc_front_end(front_end: nn.Module, input_values: torch.Tensor) -> torch.Tensor:
    """The sinc filter bank, ``|.|`` and the 3x3 max-pool of ``front_end`` (its ``filters``
    ``[num_filters, taps]``): ``[B, T]`` -> ``[B, num_filters // 3, (T - taps + 1) // 3]``.

    Instead of convolving at every sample and max-pooling a ``[B, num_filters, T]`` tensor, one
    stride-3 convolution computes the 3 time phases x 3 filters of every pooling cell as 9 output
    channels, and the pool becomes a max over those channels.
    """
    kernel = pooled_sinc_kernel(front_end.filters, input_values.device, input_values.dtype)
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
    (momentum, or with ``momentum=None`` the cumulative mean over batches; unbiased running variance). See :class:`_RowBatchNormSelu`. Under mixed precision
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
        norm.num_batches_tracked.add_(1)
        factor = 1.0 / norm.num_batches_tracked.item() if norm.momentum is None else norm.momentum
        norm.running_mean.lerp_(mean, factor)
        norm.running_var.lerp_(variance * count / max(count - 1, 1), factor)
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


def _conv1_norm_selu(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``selu(norm(conv1(x)))`` of a residual block; in eval mode the BatchNorm is folded into the
    convolution.

    In training the BatchNorm and SELU run on the channels-last tensor itself
    (:func:`_train_batch_norm_selu_channels_last`): PyTorch's channels-last BatchNorm kernel on
    CPU accumulates the batch statistics in float32 too coarsely (gradients ~2 % off the
    official model's on the first block's 2M values per channel), and the NCHW kernel needs two
    layout copies of the largest tensors. conv1's bias goes to the BatchNorm (it cancels there).
    """
    conv1 = block.conv1
    if block.training:
        weight, bias = conv1.weight, None
    else:
        weight, bias = _fold_batch_norm(conv1, block.norm)
    if conv1.in_channels == 1:
        taps = _one_channel_taps(x, conv1.kernel_size, conv1.padding)
        out = F.linear(taps, weight.flatten(1), bias).permute(0, 3, 1, 2)  # channels-last
    else:
        out = _conv2d_channels_last(x, weight, bias, conv1.padding)
    if not block.training:
        return F.selu(out, inplace=True)
    return _train_batch_norm_selu_channels_last(
        out.contiguous(memory_format=torch.channels_last), conv1.bias, block.norm
    )


def fused_residual_block(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The residual block ``block`` (``conv1``, ``norm``, ``conv2``, optional ``skip_conv``) on
    ``x`` ``[B, C_in, H, W]`` -> ``[B, C_out, H, W // 3]`` (``[B, C_out, H, W]`` when ``block.pool_time``
    is false), channels-last memory out (and best in)."""
    hidden = _conv1_norm_selu(block, x)
    conv2 = block.conv2
    if not hasattr(block, "skip_conv"):
        out = _conv2d_channels_last(hidden, conv2.weight, conv2.bias, conv2.padding).add_(x)
    elif block.skip_conv.in_channels == 1:  # the 1-channel skip as a matrix product; one bias for both
        skip = block.skip_conv
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
        skip = block.skip_conv
        out.add_(_conv2d_channels_last(x, skip.weight, skip.bias, skip.padding))
    if not block.pool_time:
        return out
    return _MaxPoolTime.apply(out)
