"""AASIST / AASIST-L: parity with the official checkpoints, the HF round trips, the feature extractor."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification, pipeline

from codecfake_hf.files.hub_io import CheckpointUnavailableError
from codecfake_hf.models.aasist import (
    AasistConfig,
    AasistFeatureExtractor,
    AasistForAudioClassification,
    aggregate_window_logits,
)
from codecfake_hf.models.aasist.configuration_aasist import AASIST_IMPLEMENTATIONS
from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint, convert_key
from codecfake_hf.models.aasist.feature_extraction_aasist import AudioInputError
from codecfake_hf.models.aasist.modeling_aasist import mel_sinc_filter_bank
from codecfake_hf.models.aasist.pipeline_aasist import AasistAudioClassificationPipeline

REPO_ROOT = Path(__file__).resolve().parents[3]
TINY_SAMPLES = 8000


def tiny_config() -> AasistConfig:
    """A few-hundred-parameter AASIST that still has every part (8,000-sample windows, 3 time nodes)."""
    return AasistConfig.from_preset("tiny")


@pytest.fixture(scope="module")
def tiny_folder(tiny_aasist_dir) -> Path:
    return tiny_aasist_dir


@pytest.fixture(scope="module")
def golden(fixtures_dir) -> dict[str, np.ndarray]:
    return dict(np.load(fixtures_dir / "aasist" / "golden_public.npz"))


# --- the official checkpoints ------------------------------------------------------------------


def test_sinc_filter_bank_is_the_reference_one(golden):
    filters = mel_sinc_filter_bank(70, 128, 16000)
    assert filters.shape == (70, 129) and filters.dtype == torch.float32
    np.testing.assert_array_equal(filters.numpy(), golden["sinc_filters"])


@pytest.mark.parametrize(
    ("variant", "golden_key", "num_parameters"),
    [("AASIST-L", "aasist_l_logits", 85_306), ("AASIST", "aasist_logits", 297_866)],
)
def test_converted_checkpoint_matches_official_logits(
    fixtures_dir, golden, tmp_path, variant, golden_key, num_parameters
):
    convert_aasist_checkpoint(fixtures_dir / "aasist" / f"{variant}.pth", tmp_path / variant, variant=variant)
    model = AutoModelForAudioClassification.from_pretrained(tmp_path / variant).eval()
    assert isinstance(model, AasistForAudioClassification)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == num_parameters
    assert not any("front_end" in key for key in model.state_dict())  # filters are rebuilt, not stored
    with torch.no_grad():
        logits = model(torch.from_numpy(golden["inputs"])).logits.numpy()
    difference = np.abs(logits - golden[golden_key]).max()
    assert difference <= 1e-3, f"{variant}: max abs logit difference {difference}"


def test_convert_rejects_the_wrong_variant(fixtures_dir, tmp_path):
    with pytest.raises(ValueError, match="not an official AASIST checkpoint"):
        convert_aasist_checkpoint(
            fixtures_dir / "aasist" / "AASIST-L.pth", tmp_path / "out", variant="AASIST"
        )


def test_convert_fails_fast_offline_and_on_missing_file(tmp_path):
    with pytest.raises(CheckpointUnavailableError, match="AASIST-L.pth"):
        convert_aasist_checkpoint(None, tmp_path / "out")  # conftest sets HF_HUB_OFFLINE=1
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        convert_aasist_checkpoint(tmp_path / "missing.pth", tmp_path / "out")


def test_convert_key_renames_explicitly():
    assert convert_key("encoder.2.0.bn1.weight") == "encoder.2.input_norm.weight"
    assert convert_key("HtrgGAT_layer_ST12.att_weightM") == "branches.0.hsgal2.master_attention_weight"
    assert convert_key("pool_hT2.proj.bias") == "branches.1.pool_temporal.score_proj.bias"
    with pytest.raises(KeyError, match="unexpected key"):
        convert_key("conv_time.band_pass")


# --- model behaviour (tiny random model) -------------------------------------------------------


def test_presets_and_labels():
    large, light = AasistConfig.from_preset("AASIST"), AasistConfig.from_preset("AASIST-L")
    assert large.encoder_channels == [32, 32, 64, 64, 64, 64] and large.gat_hidden_size == 64
    assert light.encoder_channels == [32, 32, 24, 24, 24, 24] and light.pool_ratio_spectral == 0.4
    assert light.id2label == {0: "spoof", 1: "bonafide"} and light.num_spectral_nodes == 23
    with pytest.raises(ValueError, match="unknown AASIST variant"):
        AasistConfig.from_preset("AASIST-XL")


def test_weighted_loss_and_outputs(tiny_folder):
    model = AasistForAudioClassification.from_pretrained(tiny_folder).eval()
    inputs = torch.randn(3, TINY_SAMPLES) * 0.1
    labels = torch.tensor([0, 1, 1])
    out = model(inputs, labels=labels, output_hidden_states=True)
    assert out.logits.shape == (3, 2) and out.hidden_states[0].shape == (3, 40)
    log_probs = torch.log_softmax(out.logits, dim=-1)[torch.arange(3), labels]
    weights = torch.tensor([0.1, 0.9])[labels]
    torch.testing.assert_close(out.loss, -(weights * log_probs).sum() / weights.sum())
    # batch composition does not change a clip's logits in eval mode
    torch.testing.assert_close(model(inputs[1:2]).logits, out.logits[1:2], atol=1e-5, rtol=1e-5)


def test_training_step_updates_weights_and_uses_batch_statistics():
    torch.manual_seed(0)
    model = AasistForAudioClassification(tiny_config()).train()
    before = model.encoder[0].conv1.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.randn(4, TINY_SAMPLES) * 0.1, labels=torch.tensor([0, 1, 0, 1])).loss
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, model.encoder[0].conv1.weight)
    assert int(model.encoder[0].norm.num_batches_tracked) == 1


@pytest.mark.parametrize("implementation", AASIST_IMPLEMENTATIONS)
def test_mixed_precision_training_step_keeps_float32_statistics(implementation):
    """Under bf16 autocast (``--mixed-precision bf16``) the convolutions run in bf16 and the training
    BatchNorm computes its statistics in float32: the loss stays near the float32 one, and the
    running statistics and gradients stay float32; evaluation under autocast runs too."""
    torch.manual_seed(0)
    model = AasistForAudioClassification(
        AasistConfig.from_preset("tiny", implementation=implementation)
    ).train()
    inputs, labels = torch.randn(4, TINY_SAMPLES) * 0.1, torch.tensor([0, 1, 0, 1])
    reference = copy.deepcopy(model)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = model(inputs, labels=labels)
    output.loss.backward()
    expected = reference(inputs, labels=labels).loss
    assert output.logits.dtype == torch.bfloat16
    assert abs(output.loss.item() - expected.item()) < 0.1  # bf16 convolutions and logits
    norm = model.encoder[0].norm
    assert norm.running_mean.dtype == norm.running_var.dtype == norm.weight.grad.dtype == torch.float32
    assert torch.isfinite(norm.weight.grad).all() and int(norm.num_batches_tracked) == 1
    assert torch.allclose(norm.running_mean, reference.encoder[0].norm.running_mean, rtol=0.05, atol=1e-3)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # validation under autocast
        logits = model.eval()(inputs).logits
    assert torch.allclose(logits.float(), reference.eval()(inputs).logits, atol=0.1)


def test_too_short_input_is_a_clear_error():
    model = AasistForAudioClassification(tiny_config()).eval()
    with pytest.raises(ValueError, match="at least 2315 samples"):
        model(torch.zeros(1, 2314))


# --- transformers integration -------------------------------------------------------------------


def test_auto_classes_and_saved_folder(tiny_folder):
    config = json.loads((tiny_folder / "config.json").read_text())
    assert config["model_type"] == "aasist"
    assert (
        config["auto_map"]["AutoModelForAudioClassification"]
        == "modeling_aasist.AasistForAudioClassification"
    )
    assert (tiny_folder / "model.safetensors").is_file() and (tiny_folder / "modeling_aasist.py").is_file()
    assert isinstance(AutoConfig.from_pretrained(tiny_folder), AasistConfig)
    assert isinstance(AutoFeatureExtractor.from_pretrained(tiny_folder), AasistFeatureExtractor)


def test_saved_folder_loads_with_remote_code_in_a_fresh_process(tiny_folder):
    inputs = np.random.default_rng(0).normal(0, 0.1, (2, TINY_SAMPLES)).astype(np.float32)
    with torch.no_grad():
        expected = (
            AutoModelForAudioClassification.from_pretrained(tiny_folder)
            .eval()(torch.from_numpy(inputs))
            .logits
        )
    script = (
        "import sys, numpy as np, torch\n"
        "from transformers import AutoModelForAudioClassification\n"
        f"model = AutoModelForAudioClassification.from_pretrained({str(tiny_folder)!r}, trust_remote_code=True)\n"
        "assert 'codecfake_hf.models.aasist' not in sys.modules, 'the library was imported'\n"
        "print(type(model).__module__)\n"
        "with torch.no_grad():\n"
        "    print(model.eval()(torch.from_numpy(np.load(sys.argv[1]))).logits.numpy().tolist())\n"
    )
    np.save(tiny_folder.parent / "inputs.npy", inputs)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tiny_folder.parent / "modules")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tiny_folder.parent / "inputs.npy")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tiny_folder.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    module_name, logits = result.stdout.strip().splitlines()[-2:]
    assert module_name.startswith("transformers_modules.")
    np.testing.assert_allclose(np.array(eval(logits)), expected.numpy(), atol=1e-6)


def test_pipeline_on_arrays_and_files(tiny_folder, tmp_path):
    classifier = pipeline(
        "audio-classification", model=str(tiny_folder), pipeline_class=AasistAudioClassificationPipeline
    )
    waveform = np.random.default_rng(1).normal(0, 0.1, TINY_SAMPLES + 500).astype(np.float32)
    from_array = classifier(waveform)
    assert {item["label"] for item in from_array} == {"spoof", "bonafide"}
    assert sum(item["score"] for item in from_array) == pytest.approx(1.0, abs=1e-5)
    path = tmp_path / "clip.wav"
    sf.write(path, waveform, 16000, subtype="FLOAT")
    from_file = classifier(str(path))
    by_label = {item["label"]: item["score"] for item in from_array}
    for item in from_file:
        assert item["score"] == pytest.approx(by_label[item["label"]], abs=1e-4)


# --- feature extractor ---------------------------------------------------------------------------

WINDOW = 100


@pytest.fixture()
def extractor() -> AasistFeatureExtractor:
    return AasistFeatureExtractor(num_samples=WINDOW)


def test_first_mode_takes_the_start_and_repeat_pads(extractor):
    long = np.arange(1, 251, dtype=np.float32)
    short = np.arange(1, 31, dtype=np.float32)
    out = extractor([long, short], return_tensors="np")["input_values"]
    assert out.shape == (2, WINDOW)
    np.testing.assert_array_equal(out[0], long[:WINDOW])
    np.testing.assert_array_equal(out[1], np.concatenate([short, short, short, short[:10]]))
    assert (out[1] != 0).all()  # never zero-padded


def test_random_mode_windows(extractor):
    exact = np.arange(1, WINDOW + 1, dtype=np.float32)
    np.testing.assert_array_equal(extractor(exact, mode="random")["input_values"][0], exact)  # no crash
    long = np.arange(0, 130, dtype=np.float32)
    starts = {int(extractor(long, mode="random", seed=seed)["input_values"][0][0]) for seed in range(200)}
    # uniform over 0 .. T - W - 1, as AASIST's and the CodecFake release's np.random.randint(T - W)
    assert starts == set(range(30))
    windows = [extractor(long, mode="random", seed=7)["input_values"][0] for _ in range(2)]
    np.testing.assert_array_equal(*windows)


def test_full_mode_covers_the_whole_recording(extractor):
    long = np.arange(1, 251, dtype=np.float32)
    out = extractor([long, long[:50]], mode="full", return_tensors="pt")
    assert out["num_windows"].tolist() == [3, 1]
    windows = out["input_values"].numpy()
    np.testing.assert_array_equal(windows[0], long[:100])
    np.testing.assert_array_equal(windows[1], long[100:200])
    np.testing.assert_array_equal(windows[2], long[150:])  # last window aligned to the end
    logits = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0], [7.0, 7.0]])
    torch.testing.assert_close(
        aggregate_window_logits(logits, out["num_windows"]), torch.tensor([[3.0, 5.0], [7.0, 7.0]])
    )


def test_resampling_and_downmix(extractor):
    t = np.arange(400) / 8000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    stereo = np.stack([tone, tone], axis=1)  # [T, 2]
    upsampled = extractor([stereo], sampling_rate=8000, return_tensors="np")["input_values"][0]
    expected = np.sin(2 * np.pi * 440 * np.arange(WINDOW) / 16000)
    np.testing.assert_allclose(upsampled[10:90], expected[10:90], atol=2e-2)
    channels_first = extractor([np.stack([tone, -tone])], sampling_rate=16000, return_tensors="np")
    np.testing.assert_allclose(channels_first["input_values"][0], 0.0, atol=1e-7)


@pytest.mark.parametrize(
    ("waveform", "message"),
    [(np.zeros(0, np.float32), "empty"), (np.array([0.1, np.nan] * 60, np.float32), "NaN/inf")],
)
def test_bad_audio_is_a_clear_error(extractor, waveform, message):
    with pytest.raises(AudioInputError, match=f"clip.wav: .*{message}"):
        extractor([waveform], source_names=["clip.wav"])
