"""The structure of ``codecfake_hf.codecs``: one-way imports (registry -> converters -> families), the
registry's family table, the shared layers every native family is built from, and family options read
from ``CodecSpec.options``."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import PreTrainedModel

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
from codecfake_hf.codecs.transformers_codec import TransformersCodec
from tests.codecs import upstream_checkpoints
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
        modules = registry.FAMILY_MODULES[spec.family_module]
        model, checkpoint = registry.family_module(spec), registry.checkpoint_module(spec)
        assert (model.__name__, checkpoint.__name__) == modules
        for function in ("tiny_codec", "random_codec"):
            assert callable(getattr(model, function)), (spec.id, function)
        assert callable(checkpoint.pretrained_codec), spec.id


def _module_path(name: str) -> Path:
    return CODECS_DIR.parent.parent / (name.replace(".", "/") + ".py")


@pytest.mark.parametrize("family", sorted(registry.FAMILY_MODULES))
def test_converters_import_their_family_never_the_reverse(family):
    """Like transformers' ``convert_*`` scripts: the upstream side (files, config and key mapping,
    the official weights) imports the architecture; the architecture knows no upstream format."""
    modules = registry.FAMILY_MODULES[family]
    converters = {f"codecfake_hf.codecs.{path.stem}" for path in CODECS_DIR.glob("convert_*.py")}
    assert not imported_modules(_module_path(modules.model)) & converters, modules.model
    if modules.checkpoint != modules.model:  # official weights in an upstream format
        assert modules.checkpoint == f"codecfake_hf.codecs.convert_{family}"
        assert modules.model in imported_modules(_module_path(modules.checkpoint))
        assert not hasattr(importlib.import_module(modules.model), "pretrained_codec")


def test_every_converter_loads_a_family_of_the_registry():
    converters = {f"codecfake_hf.codecs.{path.stem}" for path in CODECS_DIR.glob("convert_*.py")}
    assert converters == {modules.checkpoint for modules in registry.FAMILY_MODULES.values()} & converters
    assert len(converters) == 5  # the native families and DAC


@pytest.mark.parametrize("family", sorted(registry.FAMILY_MODULES))
def test_every_transformers_backed_codec_is_on_the_one_base(family):
    spec = registry.get_spec(_a_subset(family))
    codec = registry.family_module(spec).tiny_codec(spec)
    on_transformers = any(isinstance(module, PreTrainedModel) for module in codec.modules())
    assert isinstance(codec, TransformersCodec) == on_transformers, family
    if on_transformers:
        assert isinstance(codec.model, PreTrainedModel)


def _a_subset(family: str) -> str:
    return next(spec.id for spec in registry.CODECS.values() if spec.family_module == family)


# -- shared layers: every native family is built from them ---------------------------------------


@pytest.mark.parametrize(
    ("subset", "layers"),
    [
        ("A", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder, WeightNormConv1d)),
        ("B1", (ResidualVectorQuantizer, WeightNormConv1d)),
        ("C", (ResidualVectorQuantizer, WeightNormConv1d)),
        ("F1", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder)),
        ("F3", (ResidualVectorQuantizer, SEANetEncoder, SEANetDecoder)),
    ],
)
def test_native_families_are_built_from_the_shared_layers(subset, layers):
    model = registry.load_codec(subset, tiny=True).model
    kinds = {type(module) for module in model.modules()}
    for layer in layers:
        assert any(issubclass(kind, layer) for kind in kinds), (subset, layer.__name__)
    # nothing of their own that quantizes: one residual VQ, the shared one
    quantizers = [m for m in model.modules() if "quantiz" in type(m).__name__.lower()]
    assert len(quantizers) == 1 and isinstance(quantizers[0], ResidualVectorQuantizer)


# -- family options come from CodecSpec.options, never from the repository name or the rate -------


@pytest.mark.parametrize(
    ("subset", "hop", "two_d"), [("F1", 320, True), ("F3", 320, False), ("F4", 640, False)]
)
def test_funcodec_architecture_comes_from_the_options_not_the_repo_name(subset, hop, two_d):
    spec = replace(registry.get_spec(subset), repo_id="someone/mirror-of-the-weights")
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
    ("subset", "convert", "to_upstream"),
    [
        ("A", convert_speechtokenizer, upstream_checkpoints.speechtokenizer),
        ("B1", convert_hificodec, upstream_checkpoints.hificodec),
        ("C", convert_audiodec, upstream_checkpoints.audiodec),
        ("F1", convert_funcodec, upstream_checkpoints.funcodec),
        ("F4", convert_funcodec, upstream_checkpoints.funcodec),
    ],
)
def test_upstream_layout_round_trips(subset, convert, to_upstream):
    model = registry.load_codec(subset, tiny=True, seed=4).model
    ours = model.state_dict()
    upstream = to_upstream(ours)
    assert set(upstream) != set(ours)  # the codebooks are stored another way upstream
    back = convert.state_dict_from_upstream(upstream, ours)
    assert back.keys() == ours.keys()
    for key, tensor in ours.items():
        assert torch.equal(back[key], tensor), key


def test_conversion_names_the_first_bad_upstream_key():
    model = registry.load_codec("A", tiny=True).model
    upstream = upstream_checkpoints.speechtokenizer(model.state_dict())
    del upstream["quantizer.vq.layers.2._codebook.embed_avg"]
    upstream["decoder.model.0.conv.conv.weight_v"] = torch.zeros(3)
    upstream["quantizer.vq.layers.8._codebook.embed"] = torch.zeros(3)
    with pytest.raises(ValueError) as error:
        convert_speechtokenizer.state_dict_from_upstream(upstream, model.state_dict())
    message = str(error.value)
    assert "1 missing key(s), first 'quantizer.vq.layers.2._codebook.embed_avg'" in message
    assert "1 unexpected key(s), first 'quantizer.vq.layers.8._codebook.embed'" in message
    assert "'decoder.model.0.conv.conv.weight_v' has shape (3,)" in message
