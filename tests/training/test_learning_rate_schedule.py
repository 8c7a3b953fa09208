"""The learning-rate schedule is transformers' ``cosine_with_min_lr``: per scheduler step it gives the
learning rates of the hand-written cosine-to-a-floor schedule it replaced, over the horizon of one
process or of several (the DDP horizon of issue 12)."""

from __future__ import annotations

import math

import pytest
import torch

from codecfake_hf.training.config import TrainingConfig
from codecfake_hf.training.optimization import learning_rate_schedule, schedule_horizon


def replaced_schedule(step: int, horizon: int, learning_rate: float, min_learning_rate: float) -> float:
    """The learning rate of the schedule train.py computed by hand before (a ``LambdaLR`` factor)."""
    floor = min_learning_rate / learning_rate
    return learning_rate * (
        floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, horizon) / horizon))
    )


def _learning_rates(
    config: TrainingConfig, steps_per_epoch: int, num_processes: int
) -> tuple[int, list[float]]:
    """The horizon and the learning rate at every scheduler step of a run (one process's view: a
    prepared scheduler steps ``num_processes`` times per optimizer step)."""
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=config.learning_rate)
    horizon = schedule_horizon(steps_per_epoch, config.epochs, num_processes)
    scheduler = learning_rate_schedule(optimizer, config, horizon)
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(steps_per_epoch * config.epochs):
        optimizer.step()
        for _ in range(num_processes):
            scheduler.step()
            rates.append(scheduler.get_last_lr()[0])
    return horizon, rates


@pytest.mark.parametrize(
    ("steps_per_epoch", "epochs", "num_processes"),
    [(2, 2, 2),  # the 2-process run of test_training_schedule.py: 2 optimizer steps per process and epoch
     (1, 1, 1), (2, 2, 1), (5, 3, 1), (7, 10, 4), (13, 4, 8), (125, 100, 1)],
)  # fmt: skip
@pytest.mark.parametrize("recipe", ["paper", "official"])
@pytest.mark.parametrize("min_learning_rate", [5e-6, 0.0])
def test_the_schedule_gives_the_learning_rates_of_the_replaced_one(
    steps_per_epoch, epochs, num_processes, recipe, min_learning_rate
):
    config = TrainingConfig(recipe=recipe, epochs=epochs, min_learning_rate=min_learning_rate)
    horizon, rates = _learning_rates(config, steps_per_epoch, num_processes)
    assert horizon == steps_per_epoch * epochs * num_processes == len(rates) - 1
    expected = [
        replaced_schedule(step, horizon, config.learning_rate, min_learning_rate)
        for step in range(len(rates))
    ]
    # the same formula with its operations in another order: equal, or apart by rounding (at most 2
    # ulp of the peak learning rate seen, about 3e-16 of it)
    tolerance = 4 * math.ulp(config.learning_rate)
    assert max(abs(rate - old) for rate, old in zip(rates, expected)) <= tolerance
    assert rates[0] == config.learning_rate and rates[-1] == pytest.approx(min_learning_rate, abs=tolerance)


def test_the_constant_schedule_keeps_the_learning_rate():
    config = TrainingConfig(scheduler="constant", epochs=3)
    _, rates = _learning_rates(config, steps_per_epoch=4, num_processes=2)
    assert set(rates) == {config.learning_rate}
