"""Padded-batch masking: a zero-padded batch computed as if each row were alone.

A batch of clips of unequal length is zero-padded to the longest one. Wherever a layer looks past a
clip's end (reflect padding at the end, a normalisation over time, a transposed convolution whose
window straddles the end), the padding would change the clip's own output. The helpers here give
each row what a single-clip run computes. A row's valid length is counted along the last axis
(time); ``lengths`` is a list of ints, one per row, or ``None`` when every row fills the batch (then
each helper is the plain single-clip operation).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

#: Valid steps (last axis) per row of a padded batch, or None when no row is padded.
Lengths = list[int] | None


def row_lengths(lengths: torch.Tensor | Sequence[int] | None, width: int) -> Lengths:
    """``lengths`` as a list of ints, or None when no row is shorter than ``width`` (no padding)."""
    if lengths is None:
        return None
    lengths = [int(n) for n in lengths]
    return lengths if min(lengths) < width else None


def valid_mask(lengths: Sequence[int], width: int, device: torch.device) -> torch.Tensor:
    """Boolean ``[B, width]``: True on each row's first ``lengths[b]`` steps."""
    return torch.arange(width, device=device)[None, :] < torch.tensor(lengths, device=device)[:, None]


def zero_padding_(x: torch.Tensor, lengths: Lengths) -> torch.Tensor:
    """Zero, in place, the steps of ``x [B, ..., T]`` at and after ``lengths[b]`` in each row; returns
    ``x``. Only the padded tails are written, which is cheaper than multiplying by a mask."""
    if lengths is not None:
        for row, length in enumerate(lengths):
            if length < x.shape[-1]:
                x[row, ..., length:] = 0
    return x


def reflect_pad(x: torch.Tensor, left: int, right: int, dim: int = -1) -> torch.Tensor:
    """Reflect-pad ``dim`` of a fully valid tensor. An input no longer than its largest pad is first
    zero-extended to ``max(left, right) + 1`` steps (removed again afterwards), as the EnCodec
    lineage of codecs does to make reflection possible."""
    x = x.movedim(dim, -1)
    length = x.shape[-1]
    extra = max(left, right) - length + 1 if length <= max(left, right) else 0
    shape = x.shape
    flat = F.pad(x.reshape(-1, 1, length), (0, extra))
    padded = F.pad(flat, (left, right), mode="reflect")
    padded = padded[..., : padded.shape[-1] - extra]
    return padded.reshape(*shape[:-1], padded.shape[-1]).movedim(-1, dim)


def reflect_pad_rows(
    x: torch.Tensor, lengths: Sequence[int], lefts: Sequence[int], rights: Sequence[int]
) -> torch.Tensor:
    """Per-row :func:`reflect_pad` of the last axis of a zero-padded batch ``x [B, ..., T]``.

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
    if extended == list(lengths):  # no zero extension: nothing past a row's end is ever read
        return gathered
    return gathered * (source < column(lengths)).view(view).to(x.dtype)


def masked_group_norm(x: torch.Tensor, norm: nn.GroupNorm, lengths: Lengths) -> torch.Tensor:
    """``norm(x)`` for ``x [B, C, ..., T]`` with each row's statistics taken over its first
    ``lengths[b]`` steps only (``nn.GroupNorm`` normalises over the whole clip, so padding would
    change them); steps past a row's end are zero in the output. Two passes, biased variance, as
    ``nn.GroupNorm``; a row of length 0 comes out all zero."""
    steps = x.shape[-1]
    if lengths is None or min(lengths) >= steps:
        return F.group_norm(x, norm.num_groups, norm.weight, norm.bias, norm.eps)
    shape, groups = x.shape, norm.num_groups
    invalid = ~valid_mask(lengths, steps, x.device).view(shape[0], *(1,) * (x.dim() - 2), steps)
    flat = x.masked_fill(invalid, 0.0).view(shape[0] * groups, -1)
    count = torch.tensor(lengths, device=x.device, dtype=x.dtype).repeat_interleave(groups)
    count = (count * (flat.shape[1] // steps)).clamp_min(1.0)
    mean = flat.sum(1) / count
    centred = (flat - mean[:, None]).view(shape).masked_fill_(invalid, 0.0).view(flat.shape)
    variance = centred.square().sum(1) / count
    scale = torch.rsqrt(variance + norm.eps).view(shape[0], groups, 1)
    out = centred.view(shape[0], groups, -1).mul_(scale).view(shape)
    if norm.affine:
        affine = (shape[1],) + (1,) * (x.dim() - 2)
        out = out.mul_(norm.weight.view(affine)).add_(norm.bias.view(affine))
    return zero_padding_(out, lengths)
