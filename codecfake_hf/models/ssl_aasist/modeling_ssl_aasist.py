"""SSL-AASIST: a wav2vec 2.0 / XLS-R front end with the AASIST graph back end, as a transformers model.

Tak et al., "Automatic speaker verification spoofing and deepfake detection using wav2vec 2.0 and data
augmentation" (Odyssey 2022); written from the model of TakHemlata/SSL_Anti-spoofing at ``4acaa61``
(``model.py``). Data flow for the ``xls-r-300m`` preset and 64,600 samples (B = batch):

    waveform [B, 64600] (16 kHz, not normalised)
      -> Wav2Vec2Model, last_hidden_state (after the final LayerNorm)        [B, 201, 1024]
      -> Linear 1024 -> 128, as an image [B, 1, 128, 201], 3x3 max-pool      [B, 1, 42, 67]
      -> BatchNorm + SELU, six 2-D residual blocks (no pooling), BN + SELU    [B, 64, 42, 67]
      -> 1x1-conv attention map; softmax over time -> spectral nodes,
         softmax over the 42 rows -> temporal nodes                           [B, 42, 64], [B, 67, 64]
      -> graph attention + top-k graph pooling on each                        [B, 21, 64], [B, 33, 64]
      -> two branches of heterogeneous stacking graph attention (HS-GAL) with a learned master node,
         element-wise max of the branches
      -> readout [B, 160] -> Linear -> logits [B, 2]

Differences from AASIST (``models/aasist``): the SSL features replace the sinc filter bank (and no
``|.|`` before the stem pool); the residual blocks do not pool over time; a BatchNorm + SELU follows the
encoder; graph nodes are attention-weighted sums instead of maxima of ``|x|``. The graph layers
(graph attention, HS-GAL, graph pool) compute the same functions as AASIST's. They are written out in
this file because a saved folder must run without this package, and transformers copies into it only
the files a model file imports relatively from its own folder.

The front end runs without dropout, layer-drop or masking (the presets set them off) and gets the
full gradient, as the official fine-tuning does; :meth:`Wav2Vec2AasistForAudioClassification.freeze_front_end`
and :meth:`~Wav2Vec2AasistForAudioClassification.optimizer_parameter_groups` give other choices.
"""

from __future__ import annotations

import importlib
import logging

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel, Wav2Vec2Model
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_ssl_aasist import SslAasistConfig

logger = logging.getLogger(__name__)


class SslAasistResidualBlock(nn.Module):
    """2-D residual block without pooling: ``conv1 (2x3) -> BN -> SELU -> conv2 (2x3)`` plus the input
    (through a 1x3 ``skip_conv`` when the channel count changes). ``[B, C_in, H, W]`` -> ``[B, C_out, H, W]``.

    Blocks 2-6 own a BatchNorm ``input_norm`` (upstream ``bn1``) whose output the official code
    computes and discards; it is kept for strict loading of converted checkpoints and the parameter
    count, and not computed.
    """

    def __init__(self, in_channels: int, out_channels: int, is_first: bool, eps: float):
        super().__init__()
        if not is_first:
            self.input_norm = nn.BatchNorm2d(in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1))
        self.norm = nn.BatchNorm2d(out_channels, eps=eps)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1))
        if in_channels != out_channels:
            self.skip_conv = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.selu(self.norm(self.conv1(features))))
        return out + (self.skip_conv(features) if hasattr(self, "skip_conv") else features)


def pairwise_attention(
    nodes: torch.Tensor, proj: nn.Linear, weight: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Edge scores of a fully connected graph: ``tanh(proj(x_i * x_j)) @ weight / temperature``.

    ``nodes [B, N, D]``, ``weight [D', K]`` -> ``[B, N, N, K]`` (one score per edge and weight column).
    """
    return torch.tanh(proj(nodes.unsqueeze(2) * nodes.unsqueeze(1))) @ weight / temperature


class SslAasistGraphAttention(nn.Module):
    """Graph attention layer (GAT-S / GAT-T): softmax over the edge scores of every node, output
    ``SELU(BN(Lin(A X) + Lin'(X)))``. ``[B, N, in_dim]`` -> ``[B, N, out_dim]``."""

    def __init__(self, in_dim: int, out_dim: int, temperature: float, dropout: float, eps: float):
        super().__init__()
        self.temperature = temperature
        self.input_dropout = nn.Dropout(dropout)
        self.attention_proj = nn.Linear(in_dim, out_dim)
        self.attention_weight = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_attention = nn.Linear(in_dim, out_dim)
        self.proj_without_attention = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim, eps=eps)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        nodes = self.input_dropout(nodes)
        scores = pairwise_attention(nodes, self.attention_proj, self.attention_weight, self.temperature)
        mixed = torch.softmax(scores.squeeze(-1), dim=-1) @ nodes
        out = self.proj_with_attention(mixed) + self.proj_without_attention(nodes)
        return F.selu(self.norm(out.transpose(1, 2)).transpose(1, 2))


class SslAasistHeterogeneousGraphAttention(nn.Module):
    """HS-GAL: one graph over temporal and spectral nodes (each type with its own input projection,
    temporal first) with separate edge weights for temporal-temporal, spectral-spectral and cross
    edges, and a master node that attends to every node (no BN or activation on it).

    ``(temporal [B, n_T, in], spectral [B, n_S, in], master [B or 1, 1, in])`` ->
    ``(temporal [B, n_T, out], spectral [B, n_S, out], master [B, 1, out])``.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float, dropout: float, eps: float):
        super().__init__()
        self.temperature = temperature
        self.proj_temporal = nn.Linear(in_dim, in_dim)
        self.proj_spectral = nn.Linear(in_dim, in_dim)
        self.input_dropout = nn.Dropout(dropout)
        self.attention_proj = nn.Linear(in_dim, out_dim)
        self.attention_weight_tt = nn.Parameter(torch.empty(out_dim, 1))
        self.attention_weight_ss = nn.Parameter(torch.empty(out_dim, 1))
        self.attention_weight_cross = nn.Parameter(torch.empty(out_dim, 1))
        self.proj_with_attention = nn.Linear(in_dim, out_dim)
        self.proj_without_attention = nn.Linear(in_dim, out_dim)
        self.master_attention_proj = nn.Linear(in_dim, out_dim)
        self.master_attention_weight = nn.Parameter(torch.empty(out_dim, 1))
        self.master_proj_with_attention = nn.Linear(in_dim, out_dim)
        self.master_proj_without_attention = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim, eps=eps)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor, master: torch.Tensor):
        num_temporal = temporal.shape[1]
        nodes = self.input_dropout(
            torch.cat([self.proj_temporal(temporal), self.proj_spectral(spectral)], dim=1)
        )
        weights = torch.cat(
            [self.attention_weight_tt, self.attention_weight_ss, self.attention_weight_cross], dim=1
        )
        scores = pairwise_attention(nodes, self.attention_proj, weights, self.temperature)  # [B, N, N, 3]
        is_spectral = torch.arange(nodes.shape[1], device=nodes.device) >= num_temporal
        same_type = is_spectral[:, None] == is_spectral[None, :]
        edge_type = torch.where(same_type, is_spectral.long()[:, None].expand_as(same_type), 2)
        scores = scores.gather(-1, edge_type.expand(nodes.shape[0], -1, -1).unsqueeze(-1)).squeeze(-1)
        out = self.proj_with_attention(torch.softmax(scores, dim=-1) @ nodes) + self.proj_without_attention(
            nodes
        )
        out = F.selu(self.norm(out.transpose(1, 2)).transpose(1, 2))

        master_scores = torch.tanh(self.master_attention_proj(nodes * master)) @ self.master_attention_weight
        master_mix = torch.softmax(master_scores / self.temperature, dim=1).transpose(1, 2) @ nodes
        master = self.master_proj_with_attention(master_mix) + self.master_proj_without_attention(master)
        return out[:, :num_temporal], out[:, num_temporal:], master


class SslAasistGraphPool(nn.Module):
    """Top-k graph pooling: node score ``sigmoid(w . x + b)``; the ``max(int(N * ratio), 1)`` best nodes,
    in descending score order, each scaled by its score. ``[B, N, D]`` -> ``[B, k, D]``."""

    def __init__(self, ratio: float, dim: int, dropout: float):
        super().__init__()
        self.ratio = ratio
        self.score_dropout = nn.Dropout(dropout)
        self.score_proj = nn.Linear(dim, 1)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.score_proj(self.score_dropout(nodes)))  # [B, N, 1]
        best = scores.topk(max(int(nodes.shape[1] * self.ratio), 1), dim=1).indices
        return torch.gather(nodes * scores, 1, best.expand(-1, -1, nodes.shape[-1]))


class SslAasistBranch(nn.Module):
    """One of the two parallel stacks: HS-GAL, graph pooling of both node types, a second HS-GAL
    added residually. ``(temporal, spectral)`` -> ``(temporal, spectral, master [B, 1, D])``."""

    def __init__(self, config: SslAasistConfig):
        super().__init__()
        gat, hsgal, eps = config.gat_hidden_size, config.hsgal_hidden_size, config.batch_norm_eps
        temperature, dropout = config.temperature_hsgal, config.attention_dropout
        self.master = nn.Parameter(torch.empty(1, 1, gat))
        self.hsgal1 = SslAasistHeterogeneousGraphAttention(gat, hsgal, temperature, dropout, eps)
        self.pool_spectral = SslAasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.pool_temporal = SslAasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.hsgal2 = SslAasistHeterogeneousGraphAttention(hsgal, hsgal, temperature, dropout, eps)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor):
        temporal, spectral, master = self.hsgal1(temporal, spectral, self.master)
        spectral, temporal = self.pool_spectral(spectral), self.pool_temporal(temporal)
        temporal_update, spectral_update, master_update = self.hsgal2(temporal, spectral, master)
        return temporal + temporal_update, spectral + spectral_update, master + master_update


class SslAasistPreTrainedModel(PreTrainedModel):
    config_class = SslAasistConfig
    base_model_prefix = "ssl_aasist"
    main_input_name = "input_values"
    supports_gradient_checkpointing = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """The back end as the official code initialises it: PyTorch's layer defaults, Xavier-normal
        attention columns, standard-normal positional and master embeddings. The wav2vec 2.0 front end
        initialises itself (transformers dispatches a sub-model to its own ``_init_weights``)."""
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.reset_parameters()
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.reset_parameters()
        elif isinstance(module, (SslAasistGraphAttention, SslAasistHeterogeneousGraphAttention)):
            for name, parameter in module.named_parameters(recurse=False):
                if "attention_weight" in name:
                    init.xavier_normal_(parameter)
        elif isinstance(module, SslAasistBranch):
            init.normal_(module.master)
        elif isinstance(module, Wav2Vec2AasistForAudioClassification):
            init.normal_(module.spectral_position)


class Wav2Vec2AasistForAudioClassification(SslAasistPreTrainedModel):
    """SSL-AASIST with its two-logit head: ``logits[:, 0]`` = spoof, ``logits[:, 1]`` = bona fide
    (the detection score). ``ssl_model`` is a :class:`transformers.Wav2Vec2Model`."""

    def __init__(self, config: SslAasistConfig):
        super().__init__(config)
        channels, eps = config.encoder_channels, config.batch_norm_eps
        self.ssl_model = Wav2Vec2Model(config.ssl_config)
        self.projection = nn.Linear(config.ssl_config.hidden_size, config.projection_size)
        self.stem_norm = nn.BatchNorm2d(1, eps=eps)
        self.encoder = nn.ModuleList(
            SslAasistResidualBlock(in_ch, out_ch, index == 0, eps)
            for index, (in_ch, out_ch) in enumerate(zip([1, *channels[:-1]], channels))
        )
        self.encoder_norm = nn.BatchNorm2d(channels[-1], eps=eps)
        self.node_attention = nn.Sequential(
            nn.Conv2d(channels[-1], 128, kernel_size=1),
            nn.SELU(),
            nn.BatchNorm2d(128, eps=eps),
            nn.Conv2d(128, channels[-1], kernel_size=1),
        )
        self.spectral_position = nn.Parameter(torch.empty(1, config.num_spectral_nodes, channels[-1]))
        gat, dropout = config.gat_hidden_size, config.attention_dropout
        self.gat_spectral = SslAasistGraphAttention(
            channels[-1], gat, config.temperature_spectral, dropout, eps
        )
        self.gat_temporal = SslAasistGraphAttention(
            channels[-1], gat, config.temperature_temporal, dropout, eps
        )
        self.pool_spectral = SslAasistGraphPool(config.pool_ratio_spectral, gat, config.graph_pool_dropout)
        self.pool_temporal = SslAasistGraphPool(config.pool_ratio_temporal, gat, config.graph_pool_dropout)
        self.branches = nn.ModuleList(SslAasistBranch(config) for _ in range(2))
        self.branch_dropout = nn.Dropout(config.branch_dropout)
        self.readout_dropout = nn.Dropout(config.readout_dropout)
        self.classifier = nn.Linear(5 * config.hsgal_hidden_size, config.num_labels)
        self.post_init()

    # --- training options ---------------------------------------------------------------------

    def freeze_feature_encoder(self) -> None:
        """Stop gradients into the front end's CNN feature encoder (the official recipe trains it)."""
        self.ssl_model.freeze_feature_encoder()
        for parameter in self.ssl_model.feature_extractor.parameters():
            parameter.requires_grad_(False)

    def freeze_front_end(self, num_layers: int | None = None) -> None:
        """Freeze the wav2vec 2.0 front end: all of it (``num_layers=None``), or its CNN, feature
        projection, positional convolution and first ``num_layers`` transformer layers (the layers
        nearest the waveform). Frozen parameters get no gradient and are left out of
        :meth:`optimizer_parameter_groups`. Dropout stays as configured (off in the presets)."""
        layers = self.ssl_model.encoder.layers
        if num_layers is not None and not 0 <= num_layers <= len(layers):
            raise ValueError(
                f"num_layers must be in [0, {len(layers)}] (the front end's layers), got {num_layers}"
            )
        if num_layers is None:
            modules = [self.ssl_model]
        else:
            modules = [
                self.ssl_model.feature_extractor,
                self.ssl_model.feature_projection,
                self.ssl_model.encoder.pos_conv_embed,
                *layers[:num_layers],
            ]
        for module in modules:
            module.requires_grad_(False)

    def optimizer_parameter_groups(
        self,
        learning_rate: float,
        front_end_learning_rate: float | None = None,
        layer_decay: float = 1.0,
        weight_decay: float = 0.0,
    ) -> list[dict]:
        """Parameter groups for a ``torch.optim`` optimizer, trainable parameters only.

        Args:
            learning_rate: step size of the back end (everything but ``ssl_model``), in the
                optimizer's units (e.g. 1e-6 for Adam in the official recipe, where all parts share it).
            front_end_learning_rate: step size of the wav2vec 2.0 front end's top transformer layer
                (and its final LayerNorm); defaults to ``learning_rate``.
            layer_decay: layer-wise decay (dimensionless, in (0, 1]): transformer layer ``i`` of ``L``
                (0 = nearest the waveform) gets ``front_end_learning_rate * layer_decay ** (L - 1 - i)``,
                the CNN, feature projection and positional convolution
                ``front_end_learning_rate * layer_decay ** L``. 1.0 = one rate for the whole front end.
            weight_decay: weight decay of every group (1e-4 in the official recipe).

        Returns:
            ``[{"name", "params", "lr", "weight_decay"}, ...]``: ``"back_end"``, then the front end's
            groups (``"front_end.top"``, ``"front_end.layer_<i>"``, ``"front_end.bottom"``), with
            empty groups (all frozen) left out.
        """
        if not 0 < layer_decay <= 1:
            raise ValueError(f"layer_decay must be in (0, 1], got {layer_decay}")
        front_rate = learning_rate if front_end_learning_rate is None else front_end_learning_rate
        ssl, layers = self.ssl_model, self.ssl_model.encoder.layers
        if layer_decay == 1:
            plan = [("front_end", ssl, front_rate)]
        else:  # top first; "bottom" takes what the layers and the top left (CNN, projection, pos conv)
            plan = [
                ("front_end.top", ssl.encoder.layer_norm, front_rate),
                *(
                    (f"front_end.layer_{i}", layers[i], front_rate * layer_decay ** (len(layers) - 1 - i))
                    for i in reversed(range(len(layers)))
                ),
                ("front_end.bottom", ssl, front_rate * layer_decay ** len(layers)),
            ]
        plan.append(("back_end", self, learning_rate))  # everything not in a front-end group
        groups, seen = [], set()
        for name, module, rate in plan:
            params = [p for p in module.parameters() if p.requires_grad and id(p) not in seen]
            seen.update(id(p) for p in module.parameters())
            if params:
                groups.append({"name": name, "params": params, "lr": rate, "weight_decay": weight_decay})
        if not groups:
            raise ValueError("every parameter is frozen: nothing to train")
        return sorted(groups, key=lambda group: group["name"] != "back_end")  # back end first, stable

    # --- saving -------------------------------------------------------------------------------

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """``PreTrainedModel.save_pretrained``, plus the audio-classification pipeline of AASIST
        detectors (``pipeline_aasist.py`` and the files it imports, which read audio with soundfile
        and resample with the project's resampler) copied into the folder and named in
        ``config.custom_pipelines``, so ``pipeline("audio-classification", model=folder,
        trust_remote_code=True)`` works without this package. Save an ``AasistFeatureExtractor``
        (``num_samples=config.num_samples``) next to it."""
        pipeline_module = _aasist_pipeline_module()
        if pipeline_module is not None:
            self.config.custom_pipelines = pipeline_module.CUSTOM_PIPELINES
        super().save_pretrained(save_directory, **kwargs)
        if pipeline_module is not None:
            from transformers.dynamic_module_utils import custom_object_save

            custom_object_save(pipeline_module.AasistAudioClassificationPipeline, save_directory)

    # --- forward ------------------------------------------------------------------------------

    def forward(
        self,
        input_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        r"""
        Args:
            input_values: ``[B, T]`` float waveforms at 16 kHz, not normalised, ``T >=
                config.min_input_samples`` (1,040 for XLS-R; 64,600 in the recipe). No attention mask:
                the windows are full (repeat-padded).
            labels: ``[B]`` class ids (0 spoof, 1 bona fide); gives the weighted cross-entropy loss.
            output_hidden_states: also return the readout vector ``[B, 5 * hsgal_hidden_size]``.

        Returns:
            :class:`SequenceClassifierOutput` with ``logits [B, 2]`` (and ``loss`` when labels are given).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if input_values.ndim != 2 or input_values.shape[-1] < self.config.min_input_samples:
            raise ValueError(
                f"SSL-AASIST expects input_values [batch, samples] with at least {self.config.min_input_samples} "
                f"samples (16 kHz), got shape {tuple(input_values.shape)}; use AasistFeatureExtractor to window audio"
            )
        ssl_features = self.ssl_model(input_values).last_hidden_state  # [B, T', H], after the final LayerNorm
        image = self.projection(ssl_features).transpose(1, 2).unsqueeze(1)  # [B, 1, P, T']
        features = F.selu(self.stem_norm(F.max_pool2d(image, (3, 3))))  # [B, 1, P // 3, T' // 3]
        for block in self.encoder:
            features = block(features)
        features = F.selu(self.encoder_norm(features))  # [B, C, S, T]
        weights = self.node_attention(features)
        spectral = (features * torch.softmax(weights, dim=-1)).sum(-1).transpose(1, 2)  # [B, S, C]
        temporal = (features * torch.softmax(weights, dim=-2)).sum(-2).transpose(1, 2)  # [B, T, C]
        spectral = self.pool_spectral(self.gat_spectral(spectral + self.spectral_position))
        temporal = self.pool_temporal(self.gat_temporal(temporal))

        outputs = [branch(temporal, spectral) for branch in self.branches]
        temporal, spectral, master = (
            torch.maximum(self.branch_dropout(first), self.branch_dropout(second))
            for first, second in zip(*outputs)
        )
        hidden = torch.cat(
            [
                temporal.abs().amax(1),
                temporal.mean(1),
                spectral.abs().amax(1),
                spectral.mean(1),
                master.squeeze(1),
            ],
            dim=-1,
        )
        logits = self.classifier(self.readout_dropout(hidden))

        loss = None
        if labels is not None:
            weight = logits.new_tensor(self.config.class_weights)  # [spoof, bona fide]
            loss = F.cross_entropy(logits, labels.to(logits.device).long(), weight=weight)
        if not return_dict:
            output = (logits, hidden) if output_hidden_states else (logits,)
            return ((loss,) + output) if loss is not None else output
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=(hidden,) if output_hidden_states else None
        )


def _aasist_pipeline_module():
    """The module of AASIST's audio-classification pipeline: this project's
    (``codecfake_hf.models.aasist.pipeline_aasist``), or a sibling file when this code runs from a
    saved folder that carries it; ``None`` (with a warning) when neither is importable, and the folder
    is then saved without a custom pipeline. Imported by name so that transformers does not take it
    for a file of this folder."""
    for name in (".pipeline_aasist", "..aasist.pipeline_aasist"):
        try:
            return importlib.import_module(name, __package__)
        except (ImportError, ValueError):  # ValueError: relative import above a top-level package
            continue
    logger.warning("pipeline_aasist is not importable: the folder is saved without its custom pipeline")
    return None
