"""SSL-AASIST and RawBoost in training: ``train.py --model ssl-aasist-tiny`` with layer-wise learning
rates and frozen layers, ``--rawboost`` on training clips only, the options' checks, the offline
error of ``--model ssl-aasist``, and (launched with ``accelerate launch``) a saved run that loads with
plain transformers outside this checkout."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from accelerate.utils import set_seed
from safetensors.torch import load_file

from codecfake_hf.augmentation import RawBoostConfig
from codecfake_hf.data.loading import load_labelled_dataset
from codecfake_hf.detection.detector import Detector
from codecfake_hf.models.aasist import AasistFeatureExtractor, Wav2Vec2AasistForAudioClassification
from codecfake_hf.models.families import build_model, front_end_of, load_audio_classifier
from codecfake_hf.training.config import TrainingConfig, TrainingConfigError
from codecfake_hf.training.data import WaveformDataset
from codecfake_hf.training.optimization import optimizer_parameter_groups
from tests.models.aasist.test_remote_code import run_outside_the_checkout
from tests.models.aasist.test_ssl_aasist import PROBE
from tests.training.test_training import _finish


@pytest.fixture(scope="module")
def data(tmp_path_factory, write_labelled_folder):
    return write_labelled_folder(tmp_path_factory.mktemp("ssl") / "data", per_class=4, samples=9000)


def _options(data, output_dir, *extra: str) -> list[str]:
    return ["--dataset", str(data), "--model", "ssl-aasist-tiny", "--epochs", "1", "--batch-size", "2",
            "--num-workers", "0", "--log-with", "none", "--output-dir", str(output_dir), *extra]  # fmt: skip


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model": "AASIST-L", "layer_decay": 0.5}, "--layer-decay: options of SSL-AASIST"),
        ({"model": "tiny", "freeze_front_end_layers": 1}, "--freeze-front-end-layers"),
        ({"model": "ssl-aasist-tiny", "layer_decay": 0.0}, "--layer-decay 0.0: must be in (0, 1]"),
        ({"model": "ssl-aasist-tiny", "layer_decay": 1.5}, "--layer-decay 1.5: must be in (0, 1]"),
        ({"model": "ssl-aasist-tiny", "front_end_learning_rate": 0}, "--front-end-learning-rate 0.0"),
        ({"model": "tiny", "rawboost": 9}, "--rawboost 9: choose 0 (off) or a RawBoost algorithm 1-8"),
        ({"model": "ssl-aasist-tiny", "freeze_front_end_layers": -1}, "--freeze-front-end-layers -1"),
        ({"rawboost": 5, "rawboost_alignment": "centered"}, "--rawboost-alignment 'centered': unknown; choose "
         "upstream or centred"),
        ({"rawboost_validation": True}, "--rawboost-validation: augments validation clips with --rawboost, which "
         "is 0 (off)"),
        ({"rawboost": 3, "rawboost_validation": "yes"}, "--rawboost-validation 'yes': expected true or false"),
    ],
)  # fmt: skip
def test_bad_front_end_and_rawboost_options_are_named(options, message):
    with pytest.raises(TrainingConfigError) as error:
        TrainingConfig(**options)
    assert message in str(error.value)


def test_new_options_are_saved_and_read_back(tmp_path):
    config = TrainingConfig(model="ssl-aasist-tiny", layer_decay=0.8, front_end_learning_rate=1e-6,
                            freeze_feature_encoder=True, freeze_front_end_layers=1, rawboost=5,
                            rawboost_alignment="centred", rawboost_validation=True)  # fmt: skip
    config.save(tmp_path)
    assert TrainingConfig.load(tmp_path) == config
    assert TrainingConfig(model="tiny", rawboost=3).rawboost == 3  # RawBoost applies to any model


def test_front_end_options_need_a_front_end(tmp_path):
    model, _ = build_model("tiny")  # a saved AASIST folder passes the name check; its model has no front end
    with pytest.raises(TrainingConfigError, match="has no wav2vec 2.0 front end"):
        optimizer_parameter_groups(
            model, front_end_of(model), TrainingConfig(model=str(tmp_path), layer_decay=0.5)
        )
    model, _ = build_model("ssl-aasist-tiny")
    with pytest.raises(TrainingConfigError, match="--freeze-front-end-layers 3: .* has 2 layers"):
        optimizer_parameter_groups(
            model, front_end_of(model), TrainingConfig(model="ssl-aasist-tiny", freeze_front_end_layers=3)
        )


def test_ssl_aasist_offline_fails_fast_naming_the_download(train_script, data, tmp_path, capsys):
    assert train_script.main(_options(data, tmp_path / "run", "--model", "ssl-aasist")) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert (
        len(error) == 1
        and "`hf download facebook/wav2vec2-xls-r-300m --revision 1a640f32ac3e39899438a2931f9924c02f080a54`"
        in error[0]
    )
    assert not (tmp_path / "run" / "best").exists()


def test_layer_decay_and_frozen_layers_reach_the_optimizer(train_script, data, tmp_path):
    options = ["--learning-rate", "1e-3", "--front-end-learning-rate", "4e-3", "--layer-decay", "0.5",
               "--freeze-front-end-layers", "1", "--scheduler", "constant"]  # fmt: skip
    assert train_script.main(_options(data, tmp_path / "run", *options)) == 0
    checkpoint = max((tmp_path / "run" / "checkpoints").glob("step_*"))
    groups = torch.load(checkpoint / "optimizer.bin", weights_only=True)["param_groups"]
    rates = {group["name"]: group["lr"] for group in groups}
    # 2 layers: the top one (and the final LayerNorm) at 4e-3, layer 0 and everything below it frozen
    assert rates == {"back_end": 1e-3, "front_end.top": 4e-3, "front_end.layer_1": 4e-3}
    set_seed(1234)  # the run's initialisation
    initial = build_model("ssl-aasist-tiny")[0].state_dict()
    trained = load_file(checkpoint / "model.safetensors")
    frozen = [
        k for k in trained if k.startswith(("ssl_model.feature_extractor.", "ssl_model.encoder.layers.0."))
    ]
    moved = [k for k in trained if k.startswith(("ssl_model.encoder.layers.1.", "projection."))]
    assert frozen and all(torch.equal(trained[k], initial[k]) for k in frozen)
    assert moved and all(not torch.equal(trained[k], initial[k]) for k in moved)


def test_rawboost_augments_training_clips_reproducibly(data):
    rows = load_labelled_dataset(data)
    extractor = AasistFeatureExtractor(num_samples=8000)
    plain = WaveformDataset(rows, extractor, "random", seed=7)
    boosted = WaveformDataset(rows, extractor, "random", seed=7, augmentation=RawBoostConfig(algorithm=5))
    again = WaveformDataset(rows, extractor, "random", seed=7, augmentation=RawBoostConfig(algorithm=5))
    assert not torch.equal(boosted[0][0], plain[0][0])
    assert torch.equal(boosted[0][0], again[0][0])  # (seed, epoch, index) decide, not what ran before
    assert not torch.equal(boosted[0][0], boosted[1][0])
    again.set_epoch(1)
    assert not torch.equal(boosted[0][0], again[0][0])  # a new draw each epoch


def test_rawboost_option_reaches_training_only(monkeypatch, train_script, data, tmp_path):
    made = []
    original = WaveformDataset.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append((self.mode, self.augmentation))

    monkeypatch.setattr(WaveformDataset, "__init__", recording)
    assert train_script.main(_options(data, tmp_path / "run", "--model", "tiny", "--rawboost", "3")) == 0
    assert made == [("random", RawBoostConfig(algorithm=3)), ("first", None)]
    assert RawBoostConfig(algorithm=3).fir_alignment == "upstream"  # the official filterFIR's lead


def test_rawboost_validation_and_alignment_options_reach_both_sets(monkeypatch, train_script, data, tmp_path):
    made = []
    original = WaveformDataset.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append((self.mode, self.augmentation, self.augmentation_stream))

    monkeypatch.setattr(WaveformDataset, "__init__", recording)
    options = [
        "--model",
        "tiny",
        "--rawboost",
        "8",
        "--rawboost-alignment",
        "centred",
        "--rawboost-validation",
    ]
    assert train_script.main(_options(data, tmp_path / "run", *options)) == 0
    boost = RawBoostConfig(algorithm=8, fir_alignment="centred")
    assert made == [("random", boost, 1), ("first", boost, 2)]


def test_augmented_validation_clips_are_drawn_apart_from_training_and_the_same_each_time(data):
    rows = load_labelled_dataset(data)
    extractor = AasistFeatureExtractor(num_samples=8000)
    boost = RawBoostConfig(algorithm=5)

    def validation_set() -> WaveformDataset:
        return WaveformDataset(rows, extractor, "first", seed=7, augmentation=boost, augmentation_stream=2)

    training_set = WaveformDataset(rows, extractor, "first", seed=7, augmentation=boost)
    plain = WaveformDataset(rows, extractor, "first", seed=7)
    first, again = validation_set(), validation_set()  # a resumed run builds it anew
    assert not torch.equal(first[0][0], plain[0][0])
    assert not torch.equal(first[0][0], training_set[0][0])  # its own draws, not the training clip's
    assert all(torch.equal(first[index][0], again[index][0]) for index in range(len(rows)))


@pytest.fixture(scope="module")
def launched(tmp_path_factory, data, accelerate_launch):
    """A tiny SSL-AASIST trained with ``accelerate launch train.py`` (one CPU process) with RawBoost
    and front-end options."""
    output_dir = tmp_path_factory.mktemp("launched") / "run"
    options = _options(data, output_dir, "--epochs", "2", "--rawboost", "5", "--layer-decay", "0.8",
                       "--freeze-feature-encoder")  # fmt: skip
    command, environment = accelerate_launch(["--num_processes", "1"], options)
    _finish(
        subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    )
    return output_dir / "best"


def test_launched_ssl_aasist_loads_with_plain_transformers(launched, tmp_path):
    assert TrainingConfig.load(launched).rawboost == 5
    model, _ = load_audio_classifier(launched)  # what codecfake detect / evaluate load
    assert isinstance(model, Wav2Vec2AasistForAudioClassification)
    clip = np.random.default_rng(5).normal(0, 0.1, 12000).astype(np.float32)
    np.save(tmp_path / "clip.npy", clip)
    detector = Detector.from_pretrained(launched, device="cpu")
    logits, _ = detector.logits([clip[:8000]], 16000)
    expected = torch.softmax(logits[0], -1)[detector.bonafide_index].item()
    out = run_outside_the_checkout(PROBE, [launched, tmp_path / "clip.npy"], tmp_path)
    assert out["blocked"] and all(module.startswith("transformers_modules.") for module in out["classes"])
    assert out["pipeline"] == pytest.approx(expected, abs=1e-5)
    assert out["auto"] == pytest.approx(expected, abs=1e-5)
