"""The structure of ``codecfake_hf.codecs``: one-way imports, the registry's family table, the shared
layers every native family is built from, and family options read from ``CodecSpec.options``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

import codecfake_hf.codecs
from codecfake_hf.codecs import (
    convert_audiodec,
    convert_funcodec,
    convert_hificodec,
    convert_speechtokenizer,
    registry,
)
from codecfake_hf.codecs.layers.conv import WeightNormConv1d
from codecfake_hf.codecs.layers.quantization import ResidualVectorQuantizer
from codecfake_hf.codecs.layers.seanet import SEANetDecoder, SEANetEncoder
from tests.test_import_direction import imported_modules

CODECS_DIR = Path(codecfake_hf.codecs.__file__).parent


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CODECS_DIR.rglob("*.py") if p.name != "registry.py"),
    ids=lambda p: str(p.relative_to(CODECS_DIR)),
)
def test_nothing_in_the_codecs_package_imports_the_registry(path):
    """Families import the spec and base modules; only the registry imports families (no cycle)."""
    imported = imported_modules(path)
    assert "codecfake_hf.codecs.registry" not in imported
    assert not any(name.startswith("dataset_builder") for name in imported)


def test_the_registry_table_names_every_family_and_its_contract():
    assert {spec.family_module for spec in registry.CODECS.values()} == set(registry.FAMILY_MODULES)
    for spec in registry.CODECS.values():
        assert registry.implemented(spec)
        module = registry.family_module(spec)
        assert module.__name__ == registry.FAMILY_MODULES[spec.family_module]
        for function in ("tiny_codec", "random_codec", "pretrained_codec"):
            assert callable(getattr(module, function)), (spec.id, function)


# -- shared layers: every native family is built from them ---------------------------------------


@pytest.mark.parametrize(
    ("codec_id", "layers"),
    [
        ("A", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder, WeightNormConv1d)),
        ("B1", (ResidualVectorQuantizer, WeightNormConv1d)),
        ("C", (ResidualVectorQuantizer, WeightNormConv1d)),
        ("F1", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder)),
        ("F3", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder)),
    ],
)
def test_native_families_are_built_from_the_shared_layers(codec_id, layers):
    model = registry.load_codec(codec_id, tiny=True).model
    kinds = {type(module) for module in model.modules()}
    for layer in layers:
        assert any(issubclass(kind, layer) for kind in kinds), (codec_id, layer.__name__)
    # nothing of their own that quantizes: one residual VQ, the shared one
    quantizers = [m for m in model.modules() if "quantiz" in type(m).__name__.lower()]
    assert len(quantizers) == 1 and isinstance(quantizers[0], ResidualVectorQuantizer)


# -- family options come from CodecSpec.options, never from the repository name or the rate -------


@pytest.mark.parametrize(
    ("codec_id", "hop", "two_d"), [("F1", 320, True), ("F3", 320, False), ("F4", 640, False)]
)
def test_funcodec_architecture_comes_from_the_options_not_the_repo_name(codec_id, hop, two_d):
    spec = replace(registry.get_spec(codec_id), repo_id="someone/mirror-of-the-weights")
    model = registry.family_module(spec).tiny_codec(spec)
    assert (model.hop_length, model.two_d) == (hop, two_d)


def test_dac_strides_come_from_the_options_not_the_rate():
    spec = registry.get_spec("D3")
    assert spec.options["downsampling_ratios"] == (2, 4, 8, 8)
    other = replace(spec, options={**spec.options, "downsampling_ratios": (2, 4, 5, 8)})
    assert registry.family_module(other).tiny_codec(other).hop_length == 320


def test_audiodec_streaming_state_is_a_load_option():
    assert registry.load_codec("C", tiny=True).model.streaming_state == "reset"
    assert registry.load_codec("C", tiny=True, streaming_state="carry").model.streaming_state == "carry"


# -- conversions: upstream layout <-> model, both ways -------------------------------------------


@pytest.mark.parametrize(
    ("codec_id", "convert"),
    [
        ("A", convert_speechtokenizer),
        ("B1", convert_hificodec),
        ("C", convert_audiodec),
        ("F1", convert_funcodec),
        ("F4", convert_funcodec),
    ],
)
def test_upstream_layout_round_trips(codec_id, convert):
    model = registry.load_codec(codec_id, tiny=True, seed=4).model
    ours = model.state_dict()
    upstream = convert.state_dict_to_upstream(ours)
    assert set(upstream) != set(ours)  # the codebooks are stored another way upstream
    back = convert.state_dict_from_upstream(upstream, ours)
    assert back.keys() == ours.keys()
    for key, tensor in ours.items():
        assert torch.equal(back[key], tensor), key


def test_conversion_names_the_first_bad_upstream_key():
    model = registry.load_codec("A", tiny=True).model
    upstream = convert_speechtokenizer.state_dict_to_upstream(model.state_dict())
    del upstream["quantizer.vq.layers.2._codebook.embed_avg"]
    upstream["decoder.model.0.conv.conv.weight_v"] = torch.zeros(3)
    upstream["quantizer.vq.layers.8._codebook.embed"] = torch.zeros(3)
    with pytest.raises(ValueError) as error:
        convert_speechtokenizer.state_dict_from_upstream(upstream, model.state_dict())
    message = str(error.value)
    assert "1 missing key(s), first 'quantizer.vq.layers.2._codebook.embed_avg'" in message
    assert "1 unexpected key(s), first 'quantizer.vq.layers.8._codebook.embed'" in message
    assert "'decoder.model.0.conv.conv.weight_v' has shape (3,)" in message
