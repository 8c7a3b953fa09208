"""The weight-normalised convolutions of the native codecs: plain torch convolutions whose kernel is
folded from upstream's ``weight_g`` / ``weight_v`` once, when the weights are loaded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.codecs.layers.conv import WeightNormConv1d, WeightNormConvTranspose1d, conv_output_lengths
from codecfake_hf.codecs.registry import load_codec

pytestmark = pytest.mark.usefixtures("one_thread")

LAYERS = {False: WeightNormConv1d, True: WeightNormConvTranspose1d}


def _upstream_layer(transposed: bool) -> nn.Module:
    """The layer as upstream builds it: a torch convolution under ``torch.nn.utils.weight_norm``."""
    torch.manual_seed(1)
    conv = (nn.ConvTranspose1d if transposed else nn.Conv1d)(4, 6, 3, stride=2, padding=1)
    with pytest.warns(FutureWarning):  # deprecated, but what upstream's checkpoints were saved with
        conv = torch.nn.utils.weight_norm(conv)
    with torch.no_grad():
        conv.weight_g.mul_(torch.rand_like(conv.weight_g) + 0.5)  # a trained gain: not ||v||
    return conv


@pytest.mark.parametrize("transposed", [False, True])
def test_loads_upstream_weight_norm_and_runs_a_plain_convolution(transposed):
    upstream = _upstream_layer(transposed)
    layer = LAYERS[transposed](4, 6, 3, stride=2, padding=1)
    layer.load_state_dict(upstream.state_dict())
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert torch.equal(layer.weight, torch._weight_norm(upstream.weight_v, upstream.weight_g, 0))
    inputs = torch.randn(2, 4, 17)
    with torch.no_grad():
        expected = upstream(inputs)
        plain = (F.conv_transpose1d if transposed else F.conv1d)(inputs, layer.weight, layer.bias, 2, 1)
        assert torch.equal(layer(inputs), plain)
        assert torch.equal(layer(inputs), expected)


@pytest.mark.parametrize("transposed", [False, True])
def test_state_dict_is_upstreams_layout_and_round_trips_exactly(transposed):
    upstream = _upstream_layer(transposed)
    layer = LAYERS[transposed](4, 6, 3, stride=2, padding=1)
    layer.load_state_dict(upstream.state_dict())
    saved = layer.state_dict()
    assert list(saved) == ["bias", "weight_g", "weight_v"] == list(upstream.state_dict())
    assert {key: tuple(value.shape) for key, value in saved.items()} == {
        key: tuple(value.shape) for key, value in upstream.state_dict().items()
    }
    again = LAYERS[transposed](4, 6, 3, stride=2, padding=1)
    again.load_state_dict(saved)
    assert torch.equal(again.weight, layer.weight)


def test_loading_is_strict_and_names_the_halves_of_the_pair():
    upstream = _upstream_layer(False).state_dict()
    layer = WeightNormConv1d(4, 6, 3, stride=2, padding=1)
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: \"weight_v\""):
        layer.load_state_dict({k: v for k, v in upstream.items() if k != "weight_v"})
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\) in state_dict: \"weight\""):
        layer.load_state_dict({**upstream, "weight": torch.zeros(6, 4, 3)})
    with pytest.raises(RuntimeError, match=r"size mismatch for weight_g"):
        layer.load_state_dict({**upstream, "weight_g": torch.ones(6)})
    before = layer.weight.clone()
    with pytest.raises(RuntimeError):  # a plain checkpoint is not this layer's format
        layer.load_state_dict({"weight": torch.zeros(6, 4, 3), "bias": upstream["bias"]})
    assert torch.equal(layer.weight, before)


@pytest.mark.parametrize("transposed", [False, True])
def test_random_initialisation_is_a_fresh_weight_norm(transposed):
    """``g = ||v||`` as ``torch.nn.utils.weight_norm`` initialises it: the folded kernel is torch's
    default initialisation passed through the weight norm once."""
    torch.manual_seed(3)
    layer = LAYERS[transposed](4, 6, 3, stride=2)
    torch.manual_seed(3)
    plain = (nn.ConvTranspose1d if transposed else nn.Conv1d)(4, 6, 3, stride=2)
    norm = plain.weight.detach().norm(dim=(1, 2), keepdim=True)
    assert torch.equal(layer.weight, torch._weight_norm(plain.weight.detach(), norm, 0))
    assert torch.equal(layer.bias, plain.bias)


@pytest.mark.parametrize(("conv", "lengths"), [
    (nn.Conv1d(2, 2, 7, stride=3, padding=2, dilation=2), [50, 9, 20]),
    (nn.ConvTranspose1d(2, 2, 8, stride=4, padding=2), [12, 3, 1]),
])  # fmt: skip
def test_conv_output_lengths_are_the_unpadded_outputs(conv, lengths):
    expected = [conv(torch.zeros(1, 2, n)).shape[-1] for n in lengths]
    assert conv_output_lengths(conv, lengths) == expected
    assert conv_output_lengths(conv, None) is None


@pytest.mark.parametrize("subset", ["A", "B1", "C"])
def test_codec_loaded_in_inference_mode_resynthesizes(subset):
    clip = np.sin(np.linspace(0, 200, 8000)).astype(np.float32) * 0.3
    torch.manual_seed(0)
    reference = load_codec(subset, tiny=True)
    torch.manual_seed(0)
    with torch.inference_mode():
        created = load_codec(subset, tiny=True)
    expected = reference.resynthesize([clip], 16000, 1)[0]
    assert np.array_equal(created.resynthesize([clip], 16000, 1)[0], expected)
