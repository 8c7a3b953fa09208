"""The weight-normalised 1-d convolutions the natively implemented codecs share (HiFi-Codec,
SpeechTokenizer, AudioDec), and the output lengths of a convolution.

Their upstream models wrap convolutions in ``torch.nn.utils.weight_norm``, which stores the kernel as a
direction ``weight_v`` and a gain ``weight_g``. Here weight norm is a storage format only: the layers are
plain ``nn.Conv1d`` / ``nn.ConvTranspose1d`` whose kernel is folded, ``g * v / ||v||``, once when the
weights are loaded, so inference runs a plain convolution, while checkpoints keep upstream's names.
"""

from __future__ import annotations

import torch
from torch import nn

#: The state-dict names of a weight-normalised kernel, in upstream's order (after the bias).
WEIGHT_NORM_NAMES = ("weight_g", "weight_v")


class _WeightNormStorage:
    """Stores the ``weight`` of a torch convolution as upstream's weight-norm pair.

    ``state_dict()`` writes ``bias``, ``weight_g`` (``[weight.shape[0], 1, 1]``, the norm over all axes
    but the first: for a transposed convolution the first axis is the *input* channel) and ``weight_v``
    (the kernel itself); loading folds a pair into the kernel with ``torch._weight_norm``, bit-exact
    with ``torch.nn.utils.weight_norm``. The pair written is ``(||w||, w)``, which folds back to ``w``
    exactly, so state dicts round-trip. Loading is strict: a plain ``weight`` is unexpected, and each
    missing or misshaped half of the pair is reported under its own name.
    """

    weight: nn.Parameter
    bias: nn.Parameter | None

    def reset_parameters(self) -> None:
        """torch's default convolution initialisation, then the kernel weight norm gives a fresh
        ``torch.nn.utils.weight_norm`` (``g = ||v||``)."""
        super().reset_parameters()  # type: ignore[misc]
        with torch.no_grad():
            norm = self.weight.norm(dim=tuple(range(1, self.weight.dim())), keepdim=True)
            self.weight.copy_(torch._weight_norm(self.weight, norm, 0))

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        if self.bias is not None:
            destination[prefix + "bias"] = self.bias if keep_vars else self.bias.detach()
        weight = self.weight if keep_vars else self.weight.detach()
        gain_shape = (weight.shape[0],) + (1,) * (weight.dim() - 1)
        # the norm as torch._weight_norm computes it, so that folding the pair gives `weight` exactly
        norm = torch._weight_norm_interface(weight.detach(), weight.new_ones(gain_shape), 0)[1]
        destination[prefix + "weight_g"] = norm.reshape(gain_shape)
        destination[prefix + "weight_v"] = weight

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        if prefix + "weight" in state_dict:
            unexpected_keys.append(prefix + "weight")
        pair = {name: state_dict.pop(prefix + name, None) for name in WEIGHT_NORM_NAMES}
        gain, direction = pair["weight_g"], pair["weight_v"]
        shapes = {"weight_g": (self.weight.shape[0],) + (1,) * (self.weight.dim() - 1)}
        shapes["weight_v"] = tuple(self.weight.shape)
        usable = True
        for name, tensor in pair.items():
            if tensor is None:
                missing_keys.append(prefix + name)
                usable = False
            elif tuple(tensor.shape) != shapes[name]:
                error_msgs.append(
                    f"size mismatch for {prefix}{name}: copying a param with shape {tuple(tensor.shape)} "
                    f"from checkpoint, the shape in current model is {shapes[name]}."
                )
                usable = False
        # the kernel: folded from the pair, or left as it is (the errors above fail the load)
        with torch.no_grad():
            state_dict[prefix + "weight"] = (
                torch._weight_norm(direction, gain, 0) if usable else self.weight.detach()
            )
        super()._load_from_state_dict(  # type: ignore[misc]
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


class WeightNormConv1d(_WeightNormStorage, nn.Conv1d):
    """``nn.Conv1d`` stored as upstream's weight-norm pair (:class:`_WeightNormStorage`).
    Input ``[B, in_channels, L]``, output ``[B, out_channels, L']``."""


class WeightNormConvTranspose1d(_WeightNormStorage, nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` stored as upstream's weight-norm pair (:class:`_WeightNormStorage`).
    Input ``[B, in_channels, L]``, output ``[B, out_channels, L']``."""


def conv1d_class(weight_norm: bool, transposed: bool = False) -> type[nn.Conv1d] | type[nn.ConvTranspose1d]:
    """The 1-d (``transposed``: transposed) convolution class: :class:`WeightNormConv1d` /
    :class:`WeightNormConvTranspose1d` where upstream weight-normalises it, else torch's own."""
    if transposed:
        return WeightNormConvTranspose1d if weight_norm else nn.ConvTranspose1d
    return WeightNormConv1d if weight_norm else nn.Conv1d


def conv_output_lengths(conv: nn.Conv1d | nn.ConvTranspose1d, lengths: list[int] | None) -> list[int] | None:
    """Valid output steps of the 1-d ``conv`` for ``lengths`` valid input steps (each clip's unpadded
    output length); None stays None."""
    if lengths is None:
        return None
    (kernel,), (stride,), (dilation,) = conv.kernel_size, conv.stride, conv.dilation
    (padding,) = conv.padding
    span = dilation * (kernel - 1)
    if isinstance(conv, nn.ConvTranspose1d):
        return [max((n - 1) * stride - 2 * padding + span + 1, 0) for n in lengths]
    return [max((n + 2 * padding - span - 1) // stride + 1, 0) for n in lengths]
