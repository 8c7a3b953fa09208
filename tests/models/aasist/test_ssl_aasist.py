"""SSL-AASIST as a transformers model: configuration checks, shapes and loss of the tiny preset, the
published architecture's counts, save / load, the pre-trained
front end (from a local folder; offline a Hub id fails at once), and a saved folder running with plain
transformers where ``codecfake_hf`` cannot be imported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForAudioClassification, Wav2Vec2Model

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.models.aasist import (
    SslAasistConfig,
    Wav2Vec2AasistForAudioClassification,
)
from codecfake_hf.models.families import build_ssl_aasist
from tests.models.aasist.test_remote_code import run_outside_the_checkout

pytestmark = pytest.mark.usefixtures("one_thread")

PROBE = Path(__file__).with_name("ssl_aasist_probe.py")


@pytest.fixture(scope="module")
def tiny() -> Wav2Vec2AasistForAudioClassification:
    torch.manual_seed(0)
    return build_ssl_aasist("tiny")[0].eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny) -> Path:
    folder = tmp_path_factory.mktemp("ssl_aasist")
    model, extractor = build_ssl_aasist(tiny.config)
    model.load_state_dict(tiny.state_dict())
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


def published_back_end_config(**overrides) -> SslAasistConfig:
    """The published back end on the tiny front end (cheap to build)."""
    return SslAasistConfig.from_preset(
        "tiny",
        num_samples=64600,
        projection_size=128,
        encoder_channels=[32, 32, 64, 64, 64, 64],
        gat_hidden_size=64,
        hsgal_hidden_size=32,
        **overrides,
    )


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pool_ratio_temporal": 0.0}, "pool_ratio_temporal"),
        ({"temperature_hsgal": 0}, "temperature_hsgal"),
        ({"readout_dropout": 1.0}, "readout_dropout"),
        ({"class_weights": [1.0]}, "class_weights"),
        ({"encoder_channels": []}, "encoder_channels"),
        ({"projection_size": 2}, "projection_size"),
        ({"num_samples": 500}, "num_samples"),
        ({"ssl_config": 3}, "ssl_config"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        SslAasistConfig.from_preset("tiny", **overrides)


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="xls-r-300m, tiny"):
        SslAasistConfig.from_preset("xlsr")


def test_xls_r_preset_front_end_runs_without_dropout_masking_or_layer_drop():
    config = SslAasistConfig.from_preset("xls-r-300m")
    ssl = config.ssl_config
    assert (ssl.hidden_size, ssl.num_hidden_layers, ssl.num_attention_heads, ssl.intermediate_size) == (
        1024,
        24,
        16,
        4096,
    )
    assert ssl.do_stable_layer_norm and ssl.feat_extract_norm == "layer" and ssl.conv_bias
    assert ssl.conv_kernel == [10, 3, 3, 3, 3, 2, 2] and ssl.conv_stride == [5, 2, 2, 2, 2, 2, 2]
    assert not ssl.apply_spec_augment and ssl.layerdrop == 0
    assert ssl.hidden_dropout == ssl.attention_dropout == ssl.activation_dropout == ssl.feat_proj_dropout == 0
    assert config.min_input_samples == 1040 and config.num_spectral_nodes == 42
    assert (
        config.class_weights == [0.1, 0.9] and config.ssl_model_name_or_path == "facebook/wav2vec2-xls-r-300m"
    )


def test_config_round_trips_through_json(tmp_path):
    config = SslAasistConfig.from_preset("tiny", pool_ratio_temporal=0.7)
    config.save_pretrained(tmp_path)
    stored = json.loads((tmp_path / "config.json").read_text())
    assert stored["ssl_config"]["hidden_size"] == 32 and stored["model_type"] == "ssl_aasist"
    loaded = SslAasistConfig.from_pretrained(tmp_path)
    assert loaded.ssl_config.num_hidden_layers == 2 and loaded.pool_ratio_temporal == 0.7


# --- the model ---------------------------------------------------------------------------------


def test_published_back_end_shapes_and_counts():
    """447,242 back-end parameters (131,200 of them the 1024 -> 128 projection) and 245 state-dict
    entries, as the official model; 42 spectral and 67 temporal nodes for 64,600 samples."""
    model = Wav2Vec2AasistForAudioClassification(published_back_end_config()).eval()
    back_end = {n: p for n, p in model.named_parameters() if not n.startswith("ssl_model.")}
    without_projection = sum(p.numel() for n, p in back_end.items() if not n.startswith("projection."))
    assert without_projection == 447_242 - 131_200
    assert len([k for k in model.state_dict() if not k.startswith("ssl_model.")]) == 245
    assert model.spectral_position.shape == (1, 42, 64)
    seen = {}
    model.gat_temporal.register_forward_hook(lambda m, i, o: seen.update(temporal=o.shape))
    model.gat_spectral.register_forward_hook(lambda m, i, o: seen.update(spectral=o.shape))
    with torch.no_grad():
        logits = model(torch.randn(2, 64600)).logits
    assert logits.shape == (2, 2) and seen == {"temporal": (2, 67, 64), "spectral": (2, 42, 64)}


def test_forward_uses_the_front_end_last_hidden_state(tiny):
    """The back end reads ``last_hidden_state`` (after the final LayerNorm), not an earlier layer."""
    captured = {}
    handle = tiny.projection.register_forward_hook(lambda m, i, o: captured.update(input=i[0]))
    waveform = torch.randn(2, 8000)
    with torch.no_grad():
        tiny(waveform)
        expected = tiny.ssl_model(waveform).last_hidden_state
    handle.remove()
    torch.testing.assert_close(captured["input"], expected)


def test_tiny_forward_shapes_loss_and_determinism(tiny):
    waveform = torch.randn(3, 8000)
    labels = torch.tensor([0, 1, 1])
    with torch.no_grad():
        out = tiny(waveform, labels=labels, output_hidden_states=True)
        again = tiny(waveform).logits
    assert out.logits.shape == (3, 2) and out.hidden_states[0].shape == (3, 40)
    torch.testing.assert_close(out.logits, again, rtol=0, atol=0)
    weights = torch.tensor([0.1, 0.9])
    expected = torch.nn.functional.cross_entropy(out.logits, labels, weight=weights)
    torch.testing.assert_close(out.loss, expected)
    loss, logits = tiny(waveform, labels=labels, return_dict=False)
    torch.testing.assert_close(logits, out.logits)


def test_too_short_input_is_refused_with_the_minimum(tiny):
    with pytest.raises(ValueError, match="at least 1040 samples"):
        tiny(torch.randn(1, 1039))
    with torch.no_grad():
        assert tiny(torch.randn(1, 1040)).logits.shape == (1, 2)


def test_front_end_is_not_masked_in_training_mode():
    """Two training-mode passes of the front end agree: no SpecAugment masking, no dropout."""
    torch.manual_seed(1)
    model = build_ssl_aasist("tiny")[0].train()
    waveform = torch.randn(2, 8000)
    torch.testing.assert_close(
        model.ssl_model(waveform).last_hidden_state, model.ssl_model(waveform).last_hidden_state
    )


# --- building, saving, loading ------------------------------------------------------------------


def test_xls_r_preset_builds_offline_without_downloading(monkeypatch):
    """Random init touches neither the network nor the cache (from_pretrained must not be called)."""
    calls = []
    monkeypatch.setattr(Wav2Vec2Model, "from_pretrained", lambda *a, **k: calls.append(a))
    config = published_back_end_config(ssl_model_name_or_path="facebook/wav2vec2-xls-r-300m")
    model, extractor = build_ssl_aasist(config)
    assert calls == [] and extractor.num_samples == 64600 and extractor.sampling_rate == 16000
    assert isinstance(model.ssl_model, Wav2Vec2Model)


def test_pretrained_front_end_loads_from_a_folder_and_keeps_our_settings(tmp_path):
    config = SslAasistConfig.from_preset("tiny")
    donor_config = config.ssl_config.__class__(
        **{**config.ssl_config.to_dict(), "hidden_dropout": 0.1, "layerdrop": 0.1}
    )
    torch.manual_seed(4)
    Wav2Vec2Model(donor_config).save_pretrained(tmp_path / "donor")
    donor = Wav2Vec2Model.from_pretrained(tmp_path / "donor")
    model, _ = build_ssl_aasist(config, pretrained_front_end=True, front_end_name_or_path=tmp_path / "donor")
    for name, tensor in donor.state_dict().items():
        torch.testing.assert_close(model.ssl_model.state_dict()[name], tensor, rtol=0, atol=0)
    assert model.config.ssl_config.hidden_dropout == 0 and model.config.ssl_config.layerdrop == 0


def test_pretrained_front_end_offline_fails_at_once_naming_the_repo():
    start = time.monotonic()
    with pytest.raises(CodecFakeError, match="facebook/wav2vec2-xls-r-300m"):
        build_ssl_aasist(
            published_back_end_config(ssl_model_name_or_path="facebook/wav2vec2-xls-r-300m"), True
        )
    assert time.monotonic() - start < 30


def test_pretrained_front_end_of_another_shape_is_refused(tmp_path):
    other = SslAasistConfig.from_preset(
        "tiny",
        ssl_config={
            **SslAasistConfig.from_preset("tiny").ssl_config.to_dict(),
            "hidden_size": 16,
            "intermediate_size": 32,
        },
    )
    Wav2Vec2Model(other.ssl_config).save_pretrained(tmp_path / "other")
    with pytest.raises(CodecFakeError, match="other"):
        build_ssl_aasist("tiny", pretrained_front_end=True, front_end_name_or_path=tmp_path / "other")


def test_save_and_load_give_equal_logits(saved, tiny):
    files = {p.name for p in saved.iterdir()}
    assert {
        "configuration_ssl_aasist.py",
        "modeling_ssl_aasist.py",
        "pipeline_aasist.py",
        "feature_extraction_aasist.py",
        "resampling.py",
        "model.safetensors",
    } <= files
    config = json.loads((saved / "config.json").read_text())
    assert config["auto_map"]["AutoModelForAudioClassification"] == (
        "modeling_ssl_aasist.Wav2Vec2AasistForAudioClassification"
    )
    assert (
        config["custom_pipelines"]["audio-classification"]["impl"]
        == "pipeline_aasist.AasistAudioClassificationPipeline"
    )
    loaded = AutoModelForAudioClassification.from_pretrained(saved).eval()
    assert isinstance(loaded, Wav2Vec2AasistForAudioClassification)
    waveform = torch.randn(2, 8000)
    with torch.no_grad():
        torch.testing.assert_close(loaded(waveform).logits, tiny(waveform).logits, rtol=0, atol=1e-6)


def test_saved_folder_runs_without_this_package(saved, tiny, tmp_path):
    clip = np.random.default_rng(5).normal(0, 0.1, 12000).astype(np.float32)
    np.save(tmp_path / "clip.npy", clip)
    out = run_outside_the_checkout(PROBE, [saved, tmp_path / "clip.npy"], tmp_path)
    assert out["blocked"] and all(module.startswith("transformers_modules.") for module in out["classes"])
    with torch.no_grad():
        expected = torch.softmax(tiny(torch.from_numpy(clip[:8000])[None]).logits[0], -1)[1].item()
    assert out["auto"] == pytest.approx(expected, abs=1e-5)
    assert out["pipeline"] == pytest.approx(expected, abs=1e-5)
