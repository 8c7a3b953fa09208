"""The one table of detector families (``codecfake_hf.models.families.DETECTOR_FAMILIES``): ``--model``
presets, building and the front end training acts on all come from its rows, so a family added as a
row is built by ``build_model``, checked by ``TrainingConfig`` and given parameter groups by training
without another edit."""

from __future__ import annotations

import dataclasses

import pytest

from codecfake_hf.models import families
from codecfake_hf.models.aasist import (
    AasistConfig,
    AasistFeatureExtractor,
    AasistForAudioClassification,
    Wav2Vec2AasistForAudioClassification,
)
from codecfake_hf.models.families import DETECTOR_FAMILIES, build_model, front_end_of, preset_family
from codecfake_hf.training.config import TrainingConfig, TrainingConfigError
from codecfake_hf.training.optimization import optimizer_parameter_groups


def test_every_preset_belongs_to_one_family_and_builds_its_model_class():
    presets = [name for family in DETECTOR_FAMILIES for name in family.presets]
    assert len(presets) == len(set(presets))
    assert {"AASIST", "AASIST-L", "tiny", "ssl-aasist", "ssl-aasist-tiny"} <= set(presets)
    for name in ("tiny", "ssl-aasist-tiny"):  # the random-init ones (no download)
        model, feature_extractor = build_model(name)
        assert isinstance(model, preset_family(name).model_class)
        assert feature_extractor.sampling_rate == model.config.sampling_rate
    assert preset_family("runs/some-folder") is None


def test_the_front_end_training_acts_on_is_named_by_the_family_row():
    ssl_model, _ = build_model("ssl-aasist-tiny")
    assert isinstance(ssl_model, Wav2Vec2AasistForAudioClassification)
    assert front_end_of(ssl_model) is ssl_model.ssl_model
    assert front_end_of(build_model("tiny")[0]) is None


def test_a_family_added_as_a_row_is_built_checked_and_trained(monkeypatch):
    built = []

    def build(config: AasistConfig):
        built.append(config)
        return AasistForAudioClassification(config), families._feature_extractor(config)

    row = families.DetectorFamily(
        "small AASIST",
        AasistConfig,
        AasistForAudioClassification,
        AasistFeatureExtractor,
        presets={"small-aasist": "tiny"},
        build=build,
    )
    monkeypatch.setattr(families, "DETECTOR_FAMILIES", (row, *DETECTOR_FAMILIES))
    model, _ = build_model("small-aasist")
    assert built and built[0].to_dict() == AasistConfig.from_preset("tiny").to_dict()
    # no wav2vec 2.0 front end in its row: the front-end options are refused by name, before any model
    with pytest.raises(TrainingConfigError, match="--layer-decay: .* --model small-aasist has none"):
        TrainingConfig(model="small-aasist", layer_decay=0.5)
    parameters = optimizer_parameter_groups(model, front_end_of(model), TrainingConfig(model="small-aasist"))
    assert len(parameters) == len(list(model.parameters()))

    # the same model class with a front end named in its row gets the front end's groups
    ssl_row = dataclasses.replace(
        DETECTOR_FAMILIES[1], name="other SSL", presets={"other-ssl": "tiny"}, front_end="ssl_model"
    )
    monkeypatch.setattr(families, "DETECTOR_FAMILIES", (row, ssl_row))
    model, _ = build_model("other-ssl")
    groups = optimizer_parameter_groups(
        model, front_end_of(model), TrainingConfig(model="other-ssl", front_end_learning_rate=1e-5)
    )
    assert [(group["name"], group["lr"]) for group in groups] == [("back_end", 1e-3), ("front_end", 1e-5)]
