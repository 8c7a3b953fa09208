"""The fused CPU kernels of AASIST (``fused_aasist.py``, ``implementation="fused"``), each against
PyTorch's own operators: finite differences in float64 and float32 outputs and gradients."""

from __future__ import annotations

import copy

import pytest
import torch

from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification, fused_aasist
from codecfake_hf.models.aasist.fused_aasist import (
    _Conv2dChannelsLast,
    _MaxPoolTime,
    _RowBatchNormSelu,
    _train_batch_norm_selu_channels_last,
    fused_residual_block,
)


def tiny_config() -> AasistConfig:
    return AasistConfig.from_preset("tiny")


def test_time_max_pool_matches_max_pool2d_with_ties():
    x = torch.randn(2, 5, 3, 20, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    x[0, 0, 0, :6] = 1.0  # tied maxima: the gradient goes to the first one, as in max_pool2d
    x[1, 2, 1, 6:9] = torch.tensor([0.0, 2.0, 2.0])  # tie between the second and third samples
    ours, reference = x.clone().requires_grad_(), x.clone().requires_grad_()
    pooled, expected = _MaxPoolTime.apply(ours), torch.nn.functional.max_pool2d(reference, (1, 3))
    grad = torch.randn_like(expected)
    (pooled * grad).sum().backward()
    (expected * grad).sum().backward()
    torch.testing.assert_close(pooled, expected, rtol=0, atol=0)
    torch.testing.assert_close(ours.grad, reference.grad, rtol=0, atol=0)


def test_eval_mode_folded_batch_norm_matches_unfolded():
    """Eval folds each block's BatchNorm into conv1; the result equals the plain computation."""
    torch.manual_seed(0)
    model = AasistForAudioClassification(tiny_config())
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    model.eval()
    block = model.encoder[1]
    x = torch.randn(2, 4, 4, 60).contiguous(memory_format=torch.channels_last)
    hidden = torch.nn.functional.selu(block.norm(block.conv1(x)))
    expected = torch.nn.functional.max_pool2d(block.conv2(hidden) + x, (1, 3))
    torch.testing.assert_close(fused_residual_block(block, x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("block_rows", [None, 1024])
def test_training_batch_norm_selu_on_channels_last_rows_matches_float64(block_rows):
    """The training BatchNorm + SELU (channels-last rows, blocked passes, closed-form backward)
    against nn.BatchNorm2d then F.selu in float64: outputs, gradients and running statistics."""
    torch.manual_seed(0)
    x = (torch.randn(4, 8, 5, 300) * 3 + 5).contiguous(memory_format=torch.channels_last).requires_grad_()
    norm = torch.nn.BatchNorm2d(8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.normal_()
    reference = copy.deepcopy(norm).double()
    x64 = x.detach().double().requires_grad_()
    upstream_grad = torch.randn_like(x64)
    input_bias = torch.randn(8, requires_grad=True)
    out = _train_batch_norm_selu_channels_last(x, input_bias, norm, block_rows)
    (out.double() * upstream_grad).sum().backward()
    expected = torch.nn.functional.selu(reference(x64 + input_bias.detach().double().view(-1, 1, 1)))
    (expected * upstream_grad).sum().backward()

    def relative(ours, theirs):
        return ((ours.double() - theirs).norm() / theirs.norm()).item()

    assert out.is_contiguous(memory_format=torch.channels_last)
    assert relative(out, expected.detach()) < 1e-6
    assert relative(x.grad, x64.grad) < 1e-6
    assert relative(norm.weight.grad, reference.weight.grad) < 1e-6
    assert relative(norm.bias.grad, reference.bias.grad) < 1e-6
    assert relative(norm.running_mean, reference.running_mean) < 1e-6
    assert relative(norm.running_var, reference.running_var) < 1e-6
    assert int(norm.num_batches_tracked) == 1
    assert torch.equal(input_bias.grad, torch.zeros(8))  # it cancels in the normalisation


def test_training_batch_norm_selu_gradcheck():
    """Finite differences in float64 on rows split into uneven blocks (7 rows: 4 full, 1 partial)."""
    torch.manual_seed(0)
    rows = (torch.randn(30, 3, dtype=torch.float64) * 2 + 1).requires_grad_()
    weight = torch.rand(3, dtype=torch.float64).add_(0.5).requires_grad_()
    bias = torch.randn(3, dtype=torch.float64).requires_grad_()

    input_bias = torch.randn(3, dtype=torch.float64).requires_grad_()

    def function(rows, input_bias, weight, bias):
        return _RowBatchNormSelu.apply(rows, input_bias, weight, bias, 1e-5, 7)[0]

    assert torch.autograd.gradcheck(function, (rows, input_bias, weight, bias))


@pytest.mark.parametrize(
    ("kernel_size", "padding", "with_skip"),
    [((2, 3), (1, 1), False), ((2, 3), (0, 1), False), ((1, 3), (0, 1), False), ((2, 3), (0, 1), True)],
)
@pytest.mark.parametrize("weight_by_matmul", [True, False])
def test_channels_last_conv_gradients(kernel_size, padding, with_skip, weight_by_matmul, monkeypatch):
    """The residual blocks' convolution (weight gradient from oneDNN or as matrix products over
    shifted views, an optional matrix-product skip added in place): finite differences in float64,
    and float32 outputs and gradients equal to F.conv2d's (plus the skip's matrix product)."""
    monkeypatch.setattr(fused_aasist, "_LONG_ROW_BYTES", 0 if weight_by_matmul else 2**40)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 7, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    weight = torch.randn(5, 3, *kernel_size, dtype=torch.float64)
    bias = torch.randn(5, dtype=torch.float64)
    out_rows = 2 * (4 + 2 * padding[0] - kernel_size[0] + 1) * (7 + 2 * padding[1] - kernel_size[1] + 1)
    skip = (torch.randn(out_rows, 3, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64))
    inputs = (x, weight, bias, *(skip if with_skip else ()))
    inputs = tuple(tensor.requires_grad_() for tensor in inputs)

    def ours(x, weight, bias, *skip):
        return _Conv2dChannelsLast.apply(x, weight, bias, padding, *skip)

    def reference(x, weight, bias, *skip):
        out = torch.nn.functional.conv2d(x, weight, bias, padding=padding)
        if skip:
            out = out + (skip[0] @ skip[1]).view(out.permute(0, 2, 3, 1).shape).permute(0, 3, 1, 2)
        return out

    assert torch.autograd.gradcheck(ours, inputs)

    float32 = [tensor.detach().float() for tensor in inputs]
    float32[0] = (float32[0] * 3 + 1).contiguous(memory_format=torch.channels_last)
    mine = [tensor.clone().requires_grad_() for tensor in float32]
    theirs = [tensor.clone().requires_grad_() for tensor in float32]
    out, expected = ours(*mine), reference(*theirs)
    grad = torch.randn_like(expected)
    (out * grad).sum().backward()
    (expected * grad).sum().backward()
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected)
    for tensor, reference_tensor in zip(mine, theirs):
        torch.testing.assert_close(tensor.grad, reference_tensor.grad, rtol=1e-5, atol=1e-5)
