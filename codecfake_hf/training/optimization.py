"""Training's optimizer step: what the optimizer trains, Adam, and the learning-rate schedule.

A detector whose family keeps a pre-trained wav2vec 2.0 front end (SSL-AASIST's ``ssl_model``,
:func:`codecfake_hf.models.families.front_end_of`) can have its CNN feature encoder or its
lowest transformer layers frozen, and the front end its own learning rate, decaying layer by layer
away from the top (``--front-end-learning-rate``, ``--layer-decay``, ``--freeze-*``). These are
training's choices: the model file a saved folder carries knows nothing of them. Any other detector
trains all its parameters at one rate. Every recipe uses Adam (betas 0.9 / 0.999, no amsgrad) with
weight decay; ``--scheduler cosine`` is transformers' ``cosine_with_min_lr`` without warmup, stepped
once per optimizer step.

Outside ``train.py`` (official SSL-AASIST recipe: one rate 1e-6 for all, weight decay 1e-4)::

    model, feature_extractor = build_ssl_aasist("xls-r-300m", pretrained_front_end=True)
    freeze_front_end(model.ssl_model, num_layers=8)  # optional: CNN + first 8 transformer layers frozen
    optimizer = torch.optim.Adam(parameter_groups(model, model.ssl_model, 1e-6, weight_decay=1e-4))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from transformers import get_scheduler

from codecfake_hf.training.config import TrainingConfig, TrainingConfigError

if TYPE_CHECKING:
    from transformers import Wav2Vec2Model

#: The transformers schedule of each ``--scheduler`` value.
_SCHEDULES = {"cosine": "cosine_with_min_lr", "constant": "constant"}


def freeze_front_end(front_end: Wav2Vec2Model, num_layers: int | None = None) -> None:
    """Freeze a wav2vec 2.0 front end: all of it (``num_layers=None``), or its CNN, feature
    projection, positional convolution and first ``num_layers`` transformer layers (the layers
    nearest the waveform). Frozen parameters get no gradient and are left out of
    :func:`parameter_groups`. Dropout stays as configured (off in the presets). The CNN alone is
    transformers' ``front_end.freeze_feature_encoder()``.

    Raises:
        ValueError: ``num_layers`` is not in ``[0, number of layers]``.
    """
    layers = front_end.encoder.layers
    if num_layers is not None and not 0 <= num_layers <= len(layers):
        raise ValueError(
            f"num_layers must be in [0, {len(layers)}] (the front end's layers), got {num_layers}"
        )
    if num_layers is None:
        modules = [front_end]
    else:
        modules = [
            front_end.feature_extractor,
            front_end.feature_projection,
            front_end.encoder.pos_conv_embed,
            *layers[:num_layers],
        ]
    for module in modules:
        module.requires_grad_(False)


def parameter_groups(
    model: torch.nn.Module,
    front_end: Wav2Vec2Model,
    learning_rate: float,
    front_end_learning_rate: float | None = None,
    layer_decay: float = 1.0,
    weight_decay: float = 0.0,
) -> list[dict]:
    """Parameter groups of ``model`` and its wav2vec 2.0 ``front_end`` (a sub-module of it) for a
    ``torch.optim`` optimizer, trainable parameters only.

    Args:
        learning_rate: step size of the back end (everything but the front end), in the optimizer's
            units (e.g. 1e-6 for Adam in the official recipe, where all parts share it).
        front_end_learning_rate: step size of the front end's top transformer layer (and its final
            LayerNorm); defaults to ``learning_rate``.
        layer_decay: layer-wise decay (dimensionless, in (0, 1]; ``TrainingConfig`` checks it):
            transformer layer ``i`` of ``L`` (0 = nearest the waveform) gets
            ``front_end_learning_rate * layer_decay ** (L - 1 - i)``, the CNN, feature projection and
            positional convolution ``front_end_learning_rate * layer_decay ** L``. 1.0 = one rate for
            the whole front end.
        weight_decay: weight decay of every group (1e-4 in the official recipe).

    Returns:
        ``[{"name", "params", "lr", "weight_decay"}, ...]``: ``"back_end"``, then the front end's
        groups (``"front_end"``; with decay ``"front_end.top"``, ``"front_end.layer_<i>"``,
        ``"front_end.bottom"``), with empty groups (all frozen) left out.

    Raises:
        ValueError: every parameter is frozen.
    """
    front_rate = learning_rate if front_end_learning_rate is None else front_end_learning_rate
    layers = front_end.encoder.layers
    if layer_decay == 1:
        plan = [("front_end", front_end, front_rate)]
    else:  # top first; "bottom" takes what the layers and the top left (CNN, projection, pos conv)
        plan = [
            ("front_end.top", front_end.encoder.layer_norm, front_rate),
            *(
                (f"front_end.layer_{i}", layers[i], front_rate * layer_decay ** (len(layers) - 1 - i))
                for i in reversed(range(len(layers)))
            ),
            ("front_end.bottom", front_end, front_rate * layer_decay ** len(layers)),
        ]
    plan.append(("back_end", model, learning_rate))  # everything not in a front-end group
    groups, seen = [], set()
    for name, module, rate in plan:
        params = [p for p in module.parameters() if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in module.parameters())
        if params:
            groups.append({"name": name, "params": params, "lr": rate, "weight_decay": weight_decay})
    if not groups:
        raise ValueError("every parameter is frozen: nothing to train")
    return sorted(groups, key=lambda group: group["name"] != "back_end")  # back end first, stable


def optimizer_parameter_groups(
    model: torch.nn.Module, front_end: Wav2Vec2Model | None, config: TrainingConfig
) -> list[dict] | list:
    """What the optimizer trains under ``config``: with a wav2vec 2.0 ``front_end``
    (:func:`codecfake_hf.models.families.front_end_of`), its ``freeze_*`` options applied and
    :func:`parameter_groups` (back end at ``learning_rate``, front end at ``front_end_learning_rate``
    with ``layer_decay``); without one (None), all the model's parameters.

    Raises:
        TrainingConfigError: front-end options for a model without a front end, or more layers to
            freeze than it has.
    """
    if front_end is None:
        if config.uses_ssl_options():
            raise TrainingConfigError(
                f"--model {config.model}: a {type(model).__name__} has no wav2vec 2.0 front end, so the "
                "SSL-AASIST options (--front-end-learning-rate, --layer-decay, --freeze-*) do not apply; leave them out"
            )
        return list(model.parameters())
    if config.freeze_feature_encoder:
        front_end.freeze_feature_encoder()
    if config.freeze_front_end_layers is not None:
        try:
            freeze_front_end(front_end, config.freeze_front_end_layers)
        except ValueError:
            layers = len(front_end.encoder.layers)
            raise TrainingConfigError(
                f"--freeze-front-end-layers {config.freeze_front_end_layers}: the front end of "
                f"--model {config.model} has {layers} layers; choose 0 to {layers}"
            ) from None
    return parameter_groups(
        model,
        front_end,
        config.learning_rate,
        config.front_end_learning_rate,
        config.layer_decay,
        config.weight_decay,
    )


def adam(parameters: list, config: TrainingConfig) -> torch.optim.Adam:
    """Adam over ``parameters`` (:func:`optimizer_parameter_groups`)
    at ``config.learning_rate`` and ``config.weight_decay``, where a group sets no rate of its own."""
    return torch.optim.Adam(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)


def schedule_horizon(steps_per_epoch: int, epochs: int, num_processes: int) -> int:
    """How often the learning-rate schedule steps in a whole run: ``steps_per_epoch`` (this
    process's optimizer steps, after Accelerate split the data) times ``epochs`` times
    ``num_processes``, since a scheduler prepared by Accelerate steps once per process for every
    optimizer step. At least 1."""
    return max(1, steps_per_epoch * epochs * num_processes)


def learning_rate_schedule(
    optimizer: torch.optim.Optimizer, config: TrainingConfig, horizon: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """``config.scheduler`` as a transformers schedule: ``cosine`` is ``cosine_with_min_lr`` without
    warmup, from ``config.learning_rate`` at step 0 to ``config.min_learning_rate`` at step ``horizon``
    (:func:`schedule_horizon`); ``constant`` keeps the learning rate."""
    return get_scheduler(
        _SCHEDULES[config.scheduler],
        optimizer,
        num_warmup_steps=0,
        num_training_steps=horizon,
        scheduler_specific_kwargs={"min_lr": config.min_learning_rate},
    )
