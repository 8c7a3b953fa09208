"""The shared weight-normalised convolution of the native codecs, created under ``torch.inference_mode()``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codecfake_hf.codecs.layers.conv import WeightNormConv1d
from codecfake_hf.codecs.registry import load_codec

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("transposed", [False, True])
def test_created_in_inference_mode_runs_later(transposed):
    torch.manual_seed(0)
    reference = WeightNormConv1d(4, 6, 3, stride=2, padding=1, transposed=transposed)
    with torch.inference_mode():
        created = WeightNormConv1d(4, 6, 3, stride=2, padding=1, transposed=transposed)
        created.load_state_dict(reference.state_dict())
    inputs = torch.randn(2, 4, 17)
    with torch.no_grad():
        expected = reference(inputs)
        assert torch.equal(created(inputs), expected)
    with torch.inference_mode():
        assert torch.equal(created(inputs), expected)
        created.weight_g.mul_(2)  # an in-place change is seen: the kernel is not cached
        assert not torch.equal(created(inputs), expected)


@pytest.mark.parametrize("codec_id", ["A", "B1", "C"])
def test_codec_loaded_in_inference_mode_resynthesizes(codec_id):
    clip = np.sin(np.linspace(0, 200, 8000)).astype(np.float32) * 0.3
    torch.manual_seed(0)
    reference = load_codec(codec_id, tiny=True)
    torch.manual_seed(0)
    with torch.inference_mode():
        created = load_codec(codec_id, tiny=True)
    expected = reference.resynthesize([clip], 16000, 1)[0]
    assert np.array_equal(created.resynthesize([clip], 16000, 1)[0], expected)
