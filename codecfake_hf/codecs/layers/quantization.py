"""Residual vector quantization at inference: the codebooks of every native codec family.

Each stage replaces the residual left by the earlier stages with its nearest codeword (squared
Euclidean distance, first index on ties) and passes on what remains; the decoder sums the chosen
codewords. A stage may split the channels into ``groups`` (HiFi-Codec's group-residual VQ), each
group with its own codebook.

The families' upstream implementations compute the same distances with different float rounding,
which decides near-ties differently. Three options reproduce each one bit for bit, so that every code
decision falls as upstream's does (the golden vectors in ``tests/fixtures/codec_golden``):

- ``codeword_layout``: ``"rows"`` stores a codebook as ``[codebook_size, dim]`` (the EnCodec
  lineage, HiFi-Codec); ``"columns"`` as ``[dim, codebook_size]`` (AudioDec), which changes the order
  in which the codeword norms are summed;
- ``norms_first``: distances summed as ``|x|^2 + |e|^2 - 2 x.e`` (HiFi-Codec) rather than
  ``|x|^2 - 2 x.e + |e|^2``;
- ``straight_through``: the residual is reduced by the training-time straight-through value
  ``r + (e - r)`` (HiFi-Codec, AudioDec) rather than by ``e``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResidualVectorQuantizer(nn.Module):
    """``num_quantizers`` residual stages of ``groups`` codebooks each.

    Args:
        num_quantizers: residual stages.
        codebook_size: codewords per codebook.
        dim: latent dimension; each of the ``groups`` codebooks covers ``dim // groups`` channels.
        groups: codebooks per stage, each over its own slice of the channels.
        codeword_layout, norms_first, straight_through: upstream rounding (module docstring).

    The buffer ``codebooks`` holds every codebook in code order (stage 0 group 0, stage 0 group 1,
    ..., stage 1 group 0, ...): ``[num_quantizers * groups, codebook_size, dim // groups]`` for
    ``"rows"``, ``[num_quantizers * groups, dim // groups, codebook_size]`` for ``"columns"``; it is
    initialised from a standard normal distribution.
    """

    def __init__(
        self,
        num_quantizers: int,
        codebook_size: int,
        dim: int,
        *,
        groups: int = 1,
        codeword_layout: str = "rows",
        norms_first: bool = False,
        straight_through: bool = False,
    ) -> None:
        super().__init__()
        if dim % groups:
            raise ValueError(f"the latent dimension {dim} is not divisible into {groups} groups")
        if codeword_layout not in ("rows", "columns"):
            raise ValueError(f"codeword_layout must be 'rows' or 'columns', got {codeword_layout!r}")
        self.num_quantizers, self.groups = num_quantizers, groups
        self.codeword_layout, self.norms_first, self.straight_through = (
            codeword_layout,
            norms_first,
            straight_through,
        )
        width = dim // groups
        shape = (codebook_size, width) if codeword_layout == "rows" else (width, codebook_size)
        self.register_buffer("codebooks", torch.randn(num_quantizers * groups, *shape))

    def codewords(self, indices: torch.Tensor, codebook: int) -> torch.Tensor:
        """``indices [...]`` of codebook number ``codebook`` -> codewords ``[..., dim // groups]``."""
        table = self.codebooks[codebook]
        return F.embedding(indices, table if self.codeword_layout == "rows" else table.t())

    def nearest(self, x: torch.Tensor, codebook: int) -> torch.Tensor:
        """Index of the nearest codeword of codebook number ``codebook`` to each row of
        ``x [N, dim // groups]`` -> ``[N]`` int64."""
        table = self.codebooks[codebook]
        if self.codeword_layout == "rows":
            dots, norms = x @ table.t(), table.pow(2).sum(1)
        else:
            dots, norms = x @ table, table.pow(2).sum(0)
        squares = x.pow(2).sum(1, keepdim=True)
        if self.norms_first:
            return (squares + norms - 2 * dots).argmin(dim=1)
        return (squares - 2 * dots + norms).argmin(dim=1)

    def encode(self, latent: torch.Tensor) -> torch.Tensor:
        """``latent [B, dim, frames]`` -> codes ``[B, num_quantizers * groups, frames]`` int64."""
        batch, dim, frames = latent.shape
        residual = latent.transpose(1, 2).reshape(-1, dim)  # row b * frames + t
        codes: list[torch.Tensor] = []
        for stage in range(self.num_quantizers):
            first = stage * self.groups
            chunks = residual.split(dim // self.groups, dim=1)
            indices = [self.nearest(chunk, first + group) for group, chunk in enumerate(chunks)]
            chosen = [self.codewords(index, first + group) for group, index in enumerate(indices)]
            quantized = chosen[0] if self.groups == 1 else torch.cat(chosen, dim=1)
            if self.straight_through:
                residual = residual - (residual + (quantized - residual))
            else:
                residual = residual - quantized
            codes.extend(indices)
        return torch.stack(codes, dim=1).view(batch, frames, -1).transpose(1, 2)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes ``[B, K, frames]`` (the first ``K`` codebooks, whole stages) -> the sum of their
        codewords ``[B, dim, frames]``."""
        used = codes.shape[1]
        if not used or used > len(self.codebooks) or used % self.groups:
            raise ValueError(
                f"got {used} code rows, the quantizer has {self.num_quantizers} layers of "
                f"{self.groups} codebook(s)"
            )
        total = None
        for first in range(0, used, self.groups):
            parts = [self.codewords(codes[:, first + group], first + group) for group in range(self.groups)]
            stage = parts[0] if self.groups == 1 else torch.cat(parts, dim=-1)
            total = stage if total is None else total + stage
        return total.transpose(1, 2)
