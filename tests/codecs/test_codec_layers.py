"""The shared codec layers (``codecfake_hf.codecs.layers``) against plain references."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codecfake_hf.codecs.layers.masking import (
    masked_group_norm,
    reflect_pad,
    reflect_pad_rows,
    row_lengths,
    zero_padding_,
)
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.layers.seanet import SEANetConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _padded(rows: list[torch.Tensor]) -> torch.Tensor:
    """Rows ``[..., T_b]`` zero-padded to one batch ``[B, ..., max T_b]``."""
    width = max(row.shape[-1] for row in rows)
    return torch.stack([F.pad(row, (0, width - row.shape[-1])) for row in rows])


def test_row_lengths_and_zero_padding():
    assert row_lengths(torch.tensor([5, 5]), 5) is None
    assert row_lengths([5, 3], 5) == [5, 3]
    assert row_lengths(None, 5) is None
    x = torch.ones(2, 3, 5)
    assert zero_padding_(x, [5, 2]) is x
    assert x[0].all() and x[1, :, :2].all() and not x[1, :, 2:].any()


@pytest.mark.parametrize("groups", [1, 2, 8])
@pytest.mark.parametrize("extra_axis", [False, True])
def test_masked_group_norm_equals_group_norm_of_each_row_alone(groups, extra_axis):
    torch.manual_seed(0)
    norm = nn.GroupNorm(groups, 8, eps=1e-6)
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    lengths = [50, 31, 2]
    shape = (8, 3) if extra_axis else (8,)
    rows = [torch.randn(*shape, n) for n in lengths]
    out = masked_group_norm(_padded(rows), norm, lengths)
    for row, (alone, n) in enumerate(zip(rows, lengths)):
        torch.testing.assert_close(out[row, ..., :n], norm(alone[None])[0], rtol=0, atol=1e-5)
        assert not out[row, ..., n:].any()
    full = torch.randn(2, *shape, 40)
    assert torch.equal(masked_group_norm(full, norm, [40, 40]), norm(full))


@pytest.mark.parametrize(("left", "right"), [(3, 3), (6, 0), (2, 9)])
def test_reflect_pad_rows_equals_reflect_pad_of_each_row(left, right):
    torch.manual_seed(1)
    lengths = [20, 7, 2]  # the last two are no longer than a pad: zero-extended first
    rows = [torch.randn(4, n) for n in lengths]
    out = reflect_pad_rows(_padded(rows), lengths, [left] * 3, [right] * 3)
    for row, (alone, n) in enumerate(zip(rows, lengths)):
        assert torch.equal(out[row, :, : left + n + right], reflect_pad(alone, left, right))


def _brute_force_codes(x: torch.Tensor, tables: list[torch.Tensor], groups: int) -> torch.Tensor:
    """Residual VQ by explicit distances: ``x [N, D]``, tables ``[K, D / groups]`` in code order."""
    residual, codes = x.double(), []
    for first in range(0, len(tables), groups):
        chosen = []
        for group, chunk in enumerate(residual.chunk(groups, dim=1)):
            table = tables[first + group].double()
            index = torch.cdist(chunk, table).argmin(dim=1)
            codes.append(index)
            chosen.append(table[index])
        residual = residual - torch.cat(chosen, dim=1)
    return torch.stack(codes, dim=1)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"norms_first": True, "straight_through": True, "groups": 2},
        {"codeword_layout": "columns", "straight_through": True},
    ],
    ids=["encodec", "hificodec", "audiodec"],
)
def test_residual_vq_is_nearest_codeword_in_cascade(options):
    torch.manual_seed(2)
    quantizer = ResidualVectorQuantizer(3, 32, 8, **options)
    latent = torch.randn(2, 8, 10)
    codes = quantizer.encode(latent)
    groups = options.get("groups", 1)
    assert codes.shape == (2, 3 * groups, 10) and codes.dtype == torch.int64
    tables = [t if quantizer.codeword_layout == "rows" else t.t() for t in quantizer.codebooks]
    vectors = latent.transpose(1, 2).reshape(-1, 8)
    expected = _brute_force_codes(vectors, tables, groups).view(2, 10, -1).transpose(1, 2)
    assert torch.equal(codes, expected)
    chosen = [
        torch.cat([tables[s * groups + g][codes[:, s * groups + g]] for g in range(groups)], -1)
        for s in range(3)
    ]
    torch.testing.assert_close(quantizer.decode(codes), sum(chosen).transpose(1, 2))
    torch.testing.assert_close(quantizer.decode(codes[:, :groups]), chosen[0].transpose(1, 2))
    too_many = torch.cat([codes, codes[:, :1]], dim=1)  # more rows than codebooks
    partial = codes[:, : groups + 1]  # a stage cut short (groups > 1)
    for bad in (too_many, partial) if groups > 1 else (too_many,):
        with pytest.raises(ValueError, match="code rows"):
            quantizer.decode(bad)


def test_codeword_layouts_store_the_same_codebooks():
    torch.manual_seed(3)
    rows = ResidualVectorQuantizer(4, 16, 6)
    columns = ResidualVectorQuantizer(4, 16, 6, codeword_layout="columns")
    columns.codebooks.copy_(rows.codebooks.transpose(1, 2))
    latent = torch.randn(3, 6, 7)
    assert torch.equal(rows.encode(latent), columns.encode(latent))
    assert torch.equal(rows.decode(rows.encode(latent)), columns.decode(rows.encode(latent)))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"norm": "batch_norm"}, "norm 'batch_norm'"),
        ({"norm": "weight_norm", "two_d": True}, "1-D convolutions only"),
        ({"activation": "Snake"}, "activation 'Snake'"),
        ({"seq_model": "gru"}, "seq_model 'gru'"),
    ],
)
def test_seanet_config_rejects_what_is_not_implemented(fields, message):
    with pytest.raises(ValueError, match=message):
        SEANetConfig(**fields)
