"""``AasistConfig.implementation``: every implementation computes the same model.

The eager functions of ``modeling_aasist.py`` (plain PyTorch, as the paper describes the model) and
the fused CPU kernels of ``fused_aasist.py`` must agree, in float32, on the logits (eval mode), on
the training loss, on every parameter gradient and on the BatchNorm running statistics (train mode,
dropout off, a fixed seed), for the tiny model, a random AASIST-L, the official AASIST-L and a tiny
SSL-AASIST (the same residual blocks without the time pool, on wav2vec 2.0 features).

Tolerances, from differences measured on this machine (the fused path reorders sums; both paths are
about 2e-4 from float64 in their gradients):

- logits: at most 9.5e-7 apart (official AASIST-L, |logits| up to 4.6); asserted 1e-5;
- training loss: 1.0e-5 apart on a loss of 13.5; asserted relative 1e-5;
- gradients: all together at most 4.6e-4 apart relative to their norm (official AASIST); each
  parameter's difference at most 2.6e-4 of that norm, and, for the parameters holding more than
  0.1 % of it, at most 1.1e-3 of their own gradient; asserted 2e-3, 1e-3 and 1e-2. (The remaining
  gradients, e.g. of a bias followed by a BatchNorm, are zero up to float32 noise in both paths.)
- running statistics: at most 9.5e-7 apart; asserted 1e-5.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from codecfake_hf.models.aasist import (
    AasistConfig,
    AasistForAudioClassification,
    SslAasistConfig,
    Wav2Vec2AasistForAudioClassification,
    modeling_aasist,
)
from codecfake_hf.models.aasist.configuration_aasist import AASIST_IMPLEMENTATIONS
from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_state_dict

GRADIENT_TOTAL_RTOL = 2e-3
GRADIENT_PARAMETER_OF_TOTAL = 1e-3
GRADIENT_PARAMETER_RTOL = 1e-2
LARGE_GRADIENT_SHARE = 1e-3


def random_model(preset: str) -> AasistForAudioClassification:
    """A random-init model whose BatchNorms hold non-trivial running statistics (so that folding
    them into the convolutions in eval mode is exercised)."""
    torch.manual_seed(0)
    if preset.startswith("SSL-AASIST "):
        model = Wav2Vec2AasistForAudioClassification(SslAasistConfig.from_preset(preset.split()[1]))
    else:
        model = AasistForAudioClassification(AasistConfig.from_preset(preset))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    return model


def official_model(fixtures_dir: Path, variant: str) -> AasistForAudioClassification:
    model = AasistForAudioClassification(AasistConfig.from_preset(variant))
    official = torch.load(fixtures_dir / "aasist" / f"{variant}.pth", map_location="cpu", weights_only=True)
    model.load_state_dict(convert_state_dict(official), strict=True)
    return model


@pytest.fixture(
    scope="module",
    params=[
        "tiny",
        "AASIST-L",
        "SSL-AASIST tiny",
        "official AASIST-L",
        pytest.param("official AASIST", marks=pytest.mark.slow),
    ],
)
def results(request, fixtures_dir) -> dict[str, dict]:
    """Per implementation: eval logits, training loss, gradients and buffers after one training
    forward + backward, on 4 clips 2 samples longer than the model's window (the pools drop a tail)."""
    name = request.param
    model = (
        official_model(fixtures_dir, name.split()[1]) if name.startswith("official") else random_model(name)
    )
    samples = model.config.num_samples + 2
    inputs = torch.from_numpy(np.random.default_rng(1).normal(0, 0.1, (4, samples)).astype(np.float32))
    labels = torch.tensor([0, 1, 0, 1])
    results = {}
    for implementation in AASIST_IMPLEMENTATIONS:
        copied = copy.deepcopy(model)
        copied.set_implementation(implementation)
        with torch.no_grad():
            logits = copied.eval()(inputs).logits
        copied.train()
        for module in copied.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        loss = copied(inputs, labels=labels).loss
        loss.backward()
        results[implementation] = {
            "logits": logits,
            "loss": loss.detach(),
            "gradients": {key: p.grad for key, p in copied.named_parameters() if p.grad is not None},
            "buffers": dict(copied.named_buffers()),
        }
    return results


def pairs(results: dict[str, dict]):
    """(name, reference, other) for every implementation against the eager one."""
    return [(name, results["eager"], other) for name, other in results.items() if name != "eager"]


def test_all_implementations_give_the_same_logits(results):
    for name, eager, other in pairs(results):
        assert other["logits"].shape == (4, 2)
        torch.testing.assert_close(other["logits"], eager["logits"], atol=1e-5, rtol=1e-5, msg=name)


def test_all_implementations_give_the_same_loss_and_gradients(results):
    for name, eager, other in pairs(results):
        torch.testing.assert_close(other["loss"], eager["loss"], atol=1e-6, rtol=1e-5, msg=name)
        reference, gradients = eager["gradients"], other["gradients"]
        assert gradients.keys() == reference.keys(), name  # the same parameters train (not input_norm)
        total = torch.cat([gradient.flatten() for gradient in reference.values()]).norm()
        difference = torch.cat([(gradients[key] - reference[key]).flatten() for key in reference]).norm()
        assert difference <= GRADIENT_TOTAL_RTOL * total, (name, float(difference / total))
        for key, expected in reference.items():
            error = (gradients[key] - expected).norm()
            assert error <= GRADIENT_PARAMETER_OF_TOTAL * total, (name, key, float(error / total))
            if expected.norm() > LARGE_GRADIENT_SHARE * total:
                assert error <= GRADIENT_PARAMETER_RTOL * expected.norm(), (
                    name,
                    key,
                    float(error / expected.norm()),
                )


def test_all_implementations_update_the_running_statistics_alike(results):
    for name, eager, other in pairs(results):
        assert other["buffers"].keys() == eager["buffers"].keys()
        for key, expected in eager["buffers"].items():
            torch.testing.assert_close(other["buffers"][key], expected, atol=1e-5, rtol=1e-5, msg=(name, key))


def test_eager_gives_the_official_logits(fixtures_dir, tmp_path):
    """The readable path alone reproduces the reference logits of the official code (the fused one is
    checked by tests/models/aasist/test_aasist.py)."""
    golden = dict(np.load(fixtures_dir / "aasist" / "golden_public.npz"))
    model = official_model(fixtures_dir, "AASIST-L").eval()
    model.set_implementation("eager")
    with torch.no_grad():
        logits = model(torch.from_numpy(golden["inputs"])).logits.numpy()
    assert np.abs(logits - golden["aasist_l_logits"]).max() <= 1e-5


# --- choosing and switching ----------------------------------------------------------------------


def test_every_implementation_has_its_functions():
    assert AasistConfig().implementation == "auto"  # fused on CPU (today's speed there), eager elsewhere
    for functions in (modeling_aasist.SINC_FRONT_END_FUNCTIONS, modeling_aasist.RESIDUAL_BLOCK_FUNCTIONS):
        assert {"eager", *functions} == set(AASIST_IMPLEMENTATIONS)


@pytest.fixture()
def calls(monkeypatch) -> dict[str, int]:
    """Counts the calls of each implementation's front-end and residual-block functions."""
    counts = {name: 0 for name in AASIST_IMPLEMENTATIONS}

    def counting(name, function):
        def wrapper(*args):
            counts[name] += 1
            return function(*args)

        return wrapper

    for functions, eager_name in (
        (modeling_aasist.SINC_FRONT_END_FUNCTIONS, "eager_sinc_front_end"),
        (modeling_aasist.RESIDUAL_BLOCK_FUNCTIONS, "eager_residual_block"),
    ):
        monkeypatch.setattr(
            modeling_aasist, eager_name, counting("eager", getattr(modeling_aasist, eager_name))
        )
        for name, function in list(functions.items()):
            monkeypatch.setitem(functions, name, counting(name, function))
    return counts


def test_implementation_chosen_at_load_and_switched_after(tiny_aasist_dir, calls):
    inputs = torch.randn(2, 8000) * 0.1
    model = AasistForAudioClassification.from_pretrained(tiny_aasist_dir, implementation="eager").eval()
    assert model.config.implementation == "eager"
    with torch.no_grad():
        eager = model(inputs).logits
    assert calls == {"eager": 7, "fused": 0}  # the front end and 6 residual blocks
    model.set_implementation("fused")
    with torch.no_grad():
        fused = model(inputs).logits
    assert calls == {"eager": 7, "fused": 7}
    torch.testing.assert_close(fused, eager, atol=1e-5, rtol=1e-5)


def test_unknown_implementation_is_a_clear_error(tiny_aasist_dir):
    message = "unknown implementation 'compiled'; use 'fused'"
    with pytest.raises(ValueError, match=message):
        AasistConfig(implementation="compiled")
    with pytest.raises(ValueError, match=message):
        AasistForAudioClassification.from_pretrained(tiny_aasist_dir, implementation="compiled")
    model = AasistForAudioClassification.from_pretrained(tiny_aasist_dir)
    with pytest.raises(ValueError, match=message):
        model.set_implementation("compiled")
    with pytest.raises(ValueError, match=message):
        model.config.implementation = "compiled"
    assert model.config.implementation == "auto"  # unchanged


def test_auto_is_fused_on_a_cpu_and_eager_elsewhere(tiny_aasist_dir, calls):
    model = AasistForAudioClassification.from_pretrained(tiny_aasist_dir).eval()
    assert model.config.implementation == "auto"
    with torch.no_grad():
        model(torch.randn(2, 8000) * 0.1)
    assert calls == {"eager": 0, "fused": 7}
    assert modeling_aasist.implementation_for(model.config, torch.empty(1, device="meta")) == "eager"
    model.set_implementation("fused")  # an explicit choice holds on any device
    assert modeling_aasist.implementation_for(model.config, torch.empty(1, device="meta")) == "fused"


def test_implementation_is_a_load_time_choice_never_saved(tiny_aasist_dir, tmp_path):
    model = AasistForAudioClassification.from_pretrained(tiny_aasist_dir)
    model.set_implementation("eager")
    model.save_pretrained(tmp_path / "saved")
    assert "implementation" not in json.loads((tmp_path / "saved" / "config.json").read_text())
    assert AasistForAudioClassification.from_pretrained(tmp_path / "saved").config.implementation == "auto"
    loaded = AasistForAudioClassification.from_pretrained(tmp_path / "saved", implementation="eager")
    assert loaded.config.implementation == "eager"
    # a folder saved before the choice moved to load time records the default of its day: read as no choice
    earlier = Path(shutil.copytree(tmp_path / "saved", tmp_path / "earlier"))
    config = json.loads((earlier / "config.json").read_text())
    (earlier / "config.json").write_text(json.dumps({**config, "implementation": "fused"}))
    assert AasistConfig.from_pretrained(earlier).implementation == "auto"
    assert (
        AasistForAudioClassification.from_pretrained(earlier, implementation="fused").config.implementation
        == "fused"
    )
