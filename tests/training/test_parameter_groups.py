"""What the optimizer trains (``codecfake_hf.training.optimization``): by default the whole SSL-AASIST,
its wav2vec 2.0 front end in one group; frozen parts of the front end get no gradient and no group;
layer-wise decay gives each front-end layer its own rate."""

from __future__ import annotations

import pytest
import torch

from codecfake_hf.models.families import build_ssl_aasist
from codecfake_hf.training.optimization import freeze_front_end, parameter_groups

pytestmark = pytest.mark.usefixtures("one_thread")


def gradients_after_one_step(model) -> dict[str, bool]:
    model.train()
    model.zero_grad()
    model(torch.randn(2, 8000), labels=torch.tensor([0, 1])).loss.backward()
    return {name: p.grad is not None and bool(p.grad.abs().sum() > 0) for name, p in model.named_parameters()}


def test_whole_model_is_trained_by_default():
    torch.manual_seed(2)
    model = build_ssl_aasist("tiny")[0]
    grads = gradients_after_one_step(model)
    assert grads["ssl_model.feature_extractor.conv_layers.0.conv.weight"]
    assert grads["ssl_model.encoder.layers.1.attention.q_proj.weight"] and grads["classifier.weight"]
    groups = parameter_groups(model, model.ssl_model, 1e-4, front_end_learning_rate=1e-6, weight_decay=1e-4)
    assert [(g["name"], g["lr"], g["weight_decay"]) for g in groups] == [
        ("back_end", 1e-4, 1e-4),
        ("front_end", 1e-6, 1e-4),
    ]
    in_groups = [id(p) for g in groups for p in g["params"]]
    assert sorted(in_groups) == sorted(id(p) for p in model.parameters()) and len(set(in_groups)) == len(
        in_groups
    )
    front = {id(p) for p in model.ssl_model.parameters()}
    assert {id(p) for p in groups[1]["params"]} == front


@pytest.mark.parametrize(
    ("freeze", "frozen_prefixes", "trained_prefixes"),
    [
        (
            lambda m: m.ssl_model.freeze_feature_encoder(),
            ["ssl_model.feature_extractor."],
            ["ssl_model.feature_projection."],
        ),
        (
            lambda m: freeze_front_end(m.ssl_model, num_layers=1),
            [
                "ssl_model.feature_extractor.",
                "ssl_model.encoder.pos_conv_embed.",
                "ssl_model.encoder.layers.0.",
            ],
            ["ssl_model.encoder.layers.1.", "ssl_model.encoder.layer_norm."],
        ),
        (
            lambda m: freeze_front_end(m.ssl_model),
            ["ssl_model."],
            ["projection.", "classifier.", "encoder.0."],
        ),
    ],
    ids=["feature-encoder", "first-layer", "whole-front-end"],
)
def test_frozen_parameters_get_no_gradient_and_no_group(freeze, frozen_prefixes, trained_prefixes):
    torch.manual_seed(3)
    model = build_ssl_aasist("tiny")[0]
    freeze(model)
    grads = gradients_after_one_step(model)
    for name, has_gradient in grads.items():
        if any(name.startswith(prefix) for prefix in frozen_prefixes):
            assert not has_gradient, name
    for prefix in trained_prefixes:
        assert any(has for name, has in grads.items() if name.startswith(prefix)), prefix
    grouped = {id(p) for g in parameter_groups(model, model.ssl_model, 1e-3) for p in g["params"]}
    assert grouped == {id(p) for p in model.parameters() if p.requires_grad}
    with pytest.raises(ValueError, match="num_layers"):
        freeze_front_end(model.ssl_model, num_layers=3)


def test_layer_decay_scales_each_layer():
    model = build_ssl_aasist("tiny")[0]
    groups = {g["name"]: g for g in parameter_groups(model, model.ssl_model, 1e-3, 1e-4, layer_decay=0.5)}
    assert list(groups) == [
        "back_end",
        "front_end.top",
        "front_end.layer_1",
        "front_end.layer_0",
        "front_end.bottom",
    ]
    assert [groups[n]["lr"] for n in list(groups)[1:]] == pytest.approx([1e-4, 1e-4, 5e-5, 2.5e-5])
    bottom = {id(p) for p in groups["front_end.bottom"]["params"]}
    assert {id(p) for p in model.ssl_model.feature_extractor.parameters()} <= bottom
    assert {id(p) for p in groups["front_end.layer_0"]["params"]} == {
        id(p) for p in model.ssl_model.encoder.layers[0].parameters()
    }
    assert sum(len(g["params"]) for g in groups.values()) == len(list(model.parameters()))
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="frozen"):
        parameter_groups(model, model.ssl_model, 1e-3)
