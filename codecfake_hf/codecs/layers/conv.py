"""The 1-d convolution the natively implemented codecs share (HiFi-Codec, SpeechTokenizer, AudioDec).

Their upstream models wrap convolutions in ``torch.nn.utils.weight_norm``, which stores the kernel as
a direction ``weight_v`` and a gain ``weight_g``; :class:`WeightNormConv1d` keeps those state-dict
names so the official checkpoints load strictly, without the deprecated hook.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class WeightNormConv1d(nn.Module):
    """A 1-d convolution or transposed convolution, weight-normalised as upstream stores it.

    With ``weight_norm`` (default) the parameters are ``weight_v`` (direction), ``weight_g`` (gain,
    ``[weight_v.shape[0], 1, 1]``) and ``bias``; the kernel is ``g * v / ||v||``, the norm over all
    axes but the first (``torch._weight_norm``, bit-exact with ``torch.nn.utils.weight_norm``). For a
    transposed convolution the first axis is the *input* channel. Without it the kernel is a plain
    ``weight``. Without autograd (inference) the kernel is computed once and reused until a
    parameter changes (in place or replaced); parameters created under ``torch.inference_mode()``
    have no version counter to tell, so their kernel is computed on every call.

    Input ``[B, in_channels, L]``; output ``[B, out_channels, L']`` with ``F.conv1d`` /
    ``F.conv_transpose1d``'s lengths for ``stride``, ``dilation`` and symmetric ``padding``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        *,
        padding: int = 0,
        groups: int = 1,
        bias: bool = True,
        transposed: bool = False,
        weight_norm: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding, self.groups, self.transposed = padding, groups, transposed
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        # state-dict order as upstream's: weight, bias for a plain convolution; bias, weight_g,
        # weight_v once weight_norm has replaced the weight
        if not weight_norm:
            self.weight = nn.Parameter(torch.empty(*shape, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        if weight_norm:
            self.weight_g = nn.Parameter(torch.empty(shape[0], 1, 1))
            self.weight_v = nn.Parameter(torch.empty(*shape, kernel_size))
        self._cached: tuple[tuple, torch.Tensor] | None = None  # (parameter state, kernel)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default convolution initialisation for the kernel (``v``) and ``bias``; ``g = ||v||``
        (``weight_norm``'s own initialisation)."""
        direction = self.weight_v if hasattr(self, "weight_v") else self.weight
        nn.init.kaiming_uniform_(direction, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(direction.shape[1] * self.kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)
        if hasattr(self, "weight_g"):
            with torch.no_grad():
                self.weight_g.copy_(self.weight_v.norm(dim=(1, 2), keepdim=True))

    def kernel(self) -> torch.Tensor:
        """The convolution kernel (weight norm applied)."""
        if not hasattr(self, "weight_v"):
            return self.weight
        if torch.is_grad_enabled() or self.weight_v.is_inference() or self.weight_g.is_inference():
            return torch._weight_norm(self.weight_v, self.weight_g, 0)
        state = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in (self.weight_v, self.weight_g))
        if self._cached is None or self._cached[0] != state:
            self._cached = (state, torch._weight_norm(self.weight_v, self.weight_g, 0))
        return self._cached[1]

    def output_lengths(self, lengths: list[int] | None) -> list[int] | None:
        """Valid output steps for ``lengths`` valid input steps (each clip's unpadded output length)."""
        if lengths is None:
            return None
        span = self.dilation * (self.kernel_size - 1)
        if self.transposed:
            return [max((n - 1) * self.stride - 2 * self.padding + span + 1, 0) for n in lengths]
        return [max((n + 2 * self.padding - span - 1) // self.stride + 1, 0) for n in lengths]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transposed:
            return F.conv_transpose1d(
                x, self.kernel(), self.bias, self.stride, self.padding, 0, self.groups, self.dilation
            )
        return F.conv1d(x, self.kernel(), self.bias, self.stride, self.padding, self.dilation, self.groups)
