"""SnapshotAverage: the equal-weight mean of snapshots, a BatchNorm pass that recomputes the
statistics (fused and eager AASIST alike), and a safetensors round trip."""

from __future__ import annotations

import copy

import pytest
import torch

from codecfake_hf.files.strict_loading import CheckpointMismatchError
from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification
from codecfake_hf.training.averaging import SnapshotAverage

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(implementation: str = "fused") -> AasistForAudioClassification:
    """A tiny random AASIST without dropout (so a forward pass depends only on its input)."""
    torch.manual_seed(0)
    model = AasistForAudioClassification(AasistConfig.from_preset("tiny", implementation=implementation))
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def _batch_norms(model: torch.nn.Module) -> dict[str, torch.nn.BatchNorm2d]:
    """The BatchNorm layers the forward pass uses (``input_norm`` is upstream's bypassed ``bn1``)."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and "input_norm" not in name
    }


def test_the_average_is_the_mean_of_the_snapshots_parameters():
    model = _tiny()
    average = SnapshotAverage(model)
    snapshots = []
    for shift in (0.0, 1.0, 5.0):
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(shift)
        average.add(model)
        snapshots.append({name: p.detach().clone() for name, p in model.named_parameters()})
    assert average.snapshots == 3
    for name, parameter in average.model.named_parameters():
        expected = torch.stack([snapshot[name] for snapshot in snapshots]).mean(0)
        torch.testing.assert_close(parameter, expected)


@pytest.mark.parametrize("implementation", ["fused", "eager"])
def test_the_batch_norm_pass_recomputes_the_statistics_as_an_equal_weight_mean(implementation):
    model = _tiny(implementation)
    average = SnapshotAverage(model)
    average.add(model)
    for norm in _batch_norms(average.model).values():  # statistics of no use to the average
        norm.running_mean.fill_(7.0)
        norm.running_var.fill_(9.0)
    generator = torch.Generator().manual_seed(1)
    batches = [torch.randn(2, model.config.num_samples, generator=generator) * scale for scale in (0.05, 0.3)]
    average.update_batch_norm(batches)
    forward = {
        name: (n.running_mean.clone(), n.running_var.clone())
        for name, n in _batch_norms(average.model).items()
    }
    assert all(int(n.num_batches_tracked) == 2 for n in _batch_norms(average.model).values())
    assert all(n.momentum == 0.1 for n in _batch_norms(average.model).values())  # momentum restored
    stem_mean, stem_var = forward["stem_norm"]
    assert not torch.allclose(stem_mean, torch.full_like(stem_mean, 7.0))
    assert not torch.allclose(stem_var, torch.full_like(stem_var, 9.0))
    # an equal-weight mean over batches does not depend on their order (a momentum average would)
    average.update_batch_norm(batches[::-1])
    for name, norm in _batch_norms(average.model).items():
        torch.testing.assert_close(norm.running_mean, forward[name][0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(norm.running_var, forward[name][1], rtol=1e-4, atol=1e-5)


def test_fused_and_eager_models_get_the_same_statistics():
    statistics = {}
    for implementation in ("fused", "eager"):
        model = _tiny(implementation)
        average = SnapshotAverage(model)
        average.add(model)
        batches = [
            torch.randn(2, model.config.num_samples, generator=torch.Generator().manual_seed(i))
            for i in range(2)
        ]
        average.update_batch_norm(batches)
        statistics[implementation] = {
            name: n.running_mean.clone() for name, n in _batch_norms(average.model).items()
        }
    for name, fused in statistics["fused"].items():
        torch.testing.assert_close(fused, statistics["eager"][name], rtol=1e-3, atol=1e-4)


def test_the_average_and_its_count_survive_a_safetensors_round_trip(tmp_path):
    model = _tiny()
    average = SnapshotAverage(model)
    average.add(model)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    average.add(model)
    path = average.save(tmp_path)
    assert path.name == "averaged_model.safetensors"
    restored = SnapshotAverage(copy.deepcopy(model))
    restored.load(tmp_path, "fix")
    assert restored.snapshots == 2
    for (name, ours), theirs in zip(
        restored.averaged.state_dict().items(), average.averaged.state_dict().values()
    ):
        assert torch.equal(ours, theirs), name
    other = SnapshotAverage(AasistForAudioClassification(AasistConfig.from_preset("AASIST-L")))
    with pytest.raises(CheckpointMismatchError, match="averaged_model.safetensors"):
        other.load(tmp_path, "fix")
