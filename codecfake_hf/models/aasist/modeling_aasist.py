"""AASIST / AASIST-L spoofing countermeasure as a transformers model.

AASIST (Jung et al., "AASIST: Audio Anti-Spoofing using Integrated Spectro-Temporal Graph Attention
Networks", ICASSP 2022) reads a 16 kHz waveform and returns two logits, ``[spoof, bonafide]``.
Data flow (shapes for AASIST-L and 64,600 samples, B = batch):

    waveform [B, 64600]
      -> fixed mel-spaced sinc filter bank (70 x 129 taps), |.|, 3x3 max-pool   [B, 23, 21490]
      -> BatchNorm + SELU, six 2-D residual blocks                               [B, 24, 23, 29]
      -> spectral nodes (max over time) + temporal nodes (max over frequency)    [B, 23, 24], [B, 29, 24]
      -> graph attention + top-k graph pooling on each                           [B, 9, 24], [B, 14, 24]
      -> two parallel branches of heterogeneous stacking graph attention (HS-GAL)
         with a learned master node, element-wise max of the branches
      -> readout [B, 160] -> Linear -> logits [B, 2]

The module tree mirrors the official implementation one to one (``convert_aasist_checkpoint.py``
maps every key explicitly), with one deliberate omission: blocks 2-6 own a BatchNorm (``input_norm``,
upstream ``bn1``) whose output upstream computes and then discards. It is kept so that checkpoints
load strictly and the parameter count matches, but it is not computed.

This file is the model as the paper describes it (the ``"eager"`` implementation), in plain PyTorch
operators. ``config.implementation`` picks how the two costly parts, the sinc front end and the
residual blocks, are computed, in the way transformers picks an attention function: each module
looks its function up by name at every call, with the eager function written out here as the
default. ``"fused"`` takes the CPU kernels of ``fused_aasist.py``: the same function with the
arithmetic rearranged (logits equal the eager ones within ~1e-5, see
``tests/models/aasist/test_aasist_implementations.py``); ``"auto"`` (the default) takes them for
inputs on a CPU and the eager functions elsewhere. Choose with ``model.set_implementation("eager")``
or ``from_pretrained(..., implementation="eager")``; the choice is not saved.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_aasist import AasistConfig
from .fused_aasist import fused_residual_block, fused_sinc_front_end

#: The fast paths, by ``config.implementation``: every value of ``AASIST_IMPLEMENTATIONS`` but
#: ``"eager"``, whose functions (``eager_sinc_front_end``, ``eager_residual_block``) are written out
#: below and are the default of each look-up. The modules look their function up at every call.
SINC_FRONT_END_FUNCTIONS: dict[str, Callable[[AasistSincFrontEnd, torch.Tensor], torch.Tensor]] = {
    "fused": fused_sinc_front_end
}
RESIDUAL_BLOCK_FUNCTIONS: dict[str, Callable[[AasistResidualBlock, torch.Tensor], torch.Tensor]] = {
    "fused": fused_residual_block
}


def implementation_for(config: AasistConfig, inputs: torch.Tensor) -> str:
    """The implementation that computes ``inputs``: ``config.implementation``, where ``"auto"`` is
    ``"fused"`` (the CPU kernels) for a tensor on a CPU and ``"eager"`` on any other device."""
    if config.implementation != "auto":
        return config.implementation
    return "fused" if inputs.device.type == "cpu" else "eager"


def mel_sinc_filter_bank(num_filters: int, kernel_size: int, sampling_rate: int) -> torch.Tensor:
    """The fixed band-pass filters of the AASIST front end, ``[num_filters, taps]`` float32 (CPU).

    Band edges are mel-spaced between 0 Hz and Nyquist (on the mel scale of a 257-point FFT grid);
    filter ``i`` is the difference of two ideal low-pass sinc filters at edges ``i + 1`` and ``i``,
    times a symmetric Hamming window. ``taps = kernel_size`` made odd (128 -> 129). The arithmetic
    precision follows the official code exactly (float32 tap index and sinc, float64 band scaling),
    so the bank is bit-identical to the reference run.
    """
    taps = kernel_size + 1 - kernel_size % 2
    half = (taps - 1) // 2
    index = torch.arange(-half, half + 1, dtype=torch.float32, device="cpu")
    grid_hz = (sampling_rate // 2) * np.linspace(0, 1, 257)
    grid_mel = 2595 * np.log10(1 + grid_hz / 700)
    edges_mel = np.linspace(grid_mel.min(), grid_mel.max(), num_filters + 1)
    edges_hz = 700 * (10 ** (edges_mel / 2595) - 1)

    def low_pass(cutoff_hz: float) -> np.ndarray:
        phase = (float(2 * cutoff_hz) * index / sampling_rate).numpy()  # float32, as upstream
        return (2 * cutoff_hz / sampling_rate) * np.sinc(phase)  # float64 scaling

    window = torch.from_numpy(np.hamming(taps)).float()
    bands = [
        torch.from_numpy(low_pass(high) - low_pass(low)).float() for low, high in zip(edges_hz, edges_hz[1:])
    ]
    return torch.stack(bands) * window


def eager_sinc_front_end(front_end: AasistSincFrontEnd, input_values: torch.Tensor) -> torch.Tensor:
    """The front end as the paper and the official code compute it: every sinc filter at every
    sample, ``|.|``, then a 3x3 max-pool over (filter, time).

    ``[B, T]`` -> ``[B, num_filters // 3, (T - taps + 1) // 3]`` (the last ``num_filters % 3``
    filters fall outside the pool).
    """
    filters = front_end.filters.to(input_values).unsqueeze(1)  # [num_filters, 1, taps]
    responses = F.conv1d(input_values.unsqueeze(1), filters)  # [B, num_filters, T - taps + 1]
    return F.max_pool2d(responses.abs().unsqueeze(1), (3, 3)).squeeze(1)


class AasistSincFrontEnd(nn.Module):
    """Fixed sinc filter bank followed by ``|.|`` and a 3x3 max-pool over (filter, time).

    Input ``[B, T]`` samples at 16 kHz; output ``[B, num_sinc_filters // 3, (T - taps + 1) // 3]``.
    The filters are a plain tensor attribute: not a parameter, not a buffer, not in the state dict.
    ``config.implementation`` picks the function: :func:`eager_sinc_front_end` or a fast path of
    :data:`SINC_FRONT_END_FUNCTIONS`.
    """

    def __init__(self, config: AasistConfig):
        super().__init__()
        self.config = config
        self.filters = mel_sinc_filter_bank(
            config.num_sinc_filters, config.sinc_kernel_size, config.sampling_rate
        )

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        front_end = SINC_FRONT_END_FUNCTIONS.get(
            implementation_for(self.config, input_values), eager_sinc_front_end
        )
        return front_end(self, input_values)


def eager_residual_block(block: AasistResidualBlock, x: torch.Tensor) -> torch.Tensor:
    """The residual block as the paper and the official code compute it.

    ``conv1 -> BatchNorm -> SELU -> conv2``, plus the input (through ``skip_conv`` when the channel
    count changes), then a max-pool over time by 3. ``[B, C_in, H, W]`` -> ``[B, C_out, H, W // 3]``
    (``[B, C_out, H, W]`` for a block built with ``pool_time=False``, as SSL-AASIST's).
    Blocks 2-6 own a BatchNorm ``input_norm`` (upstream ``bn1``) whose output the official code
    computes and then discards (conv1 reads the block's input); it is not computed here, its
    parameters stay for strict loading and the parameter count.
    """
    hidden = F.selu(block.norm(block.conv1(x)))
    out = block.conv2(hidden)
    skip = block.skip_conv(x) if hasattr(block, "skip_conv") else x
    if not block.pool_time:
        return out + skip
    return F.max_pool2d(out + skip, (1, 3))


class AasistResidualBlock(nn.Module):
    """RawNet2-style 2-D residual block: ``conv1 -> BN -> SELU -> conv2``, plus a skip (a 1x3
    convolution when the channel count changes), then max-pool over time by 3 (``pool_time=False``: no
    pool, as in SSL-AASIST).

    ``[B, C_in, H, W]`` -> ``[B, C_out, H, W // 3]`` (or ``W``). ``config.implementation`` picks the
    function: :func:`eager_residual_block` or a fast path of :data:`RESIDUAL_BLOCK_FUNCTIONS`.
    """

    def __init__(
        self,
        config: AasistConfig,
        in_channels: int,
        out_channels: int,
        is_first: bool,
        pool_time: bool = True,
    ):
        super().__init__()
        self.config = config
        self.pool_time = pool_time
        eps = config.batch_norm_eps
        if not is_first:  # upstream ``bn1``, never used (see eager_residual_block); kept for loading
            self.input_norm = nn.BatchNorm2d(in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1))
        self.norm = nn.BatchNorm2d(out_channels, eps=eps)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1))
        if in_channels != out_channels:
            self.skip_conv = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = RESIDUAL_BLOCK_FUNCTIONS.get(implementation_for(self.config, x), eager_residual_block)
        return block(self, x)


class AasistGraphAttention(nn.Module):
    """Graph attention layer (GAT-S / GAT-T) on a fully connected graph.

    Edge score ``a_ij = w . tanh(W (x_i * x_j) + b) / temperature``, softmax over ``j``; output
    ``BN(Lin(A X) + Lin'(X))`` then SELU. ``[B, N, in_dim]`` -> ``[B, N, out_dim]``.
    """

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
        pairs = nodes.unsqueeze(2) * nodes.unsqueeze(1)  # [B, N, N, in_dim]
        scores = (torch.tanh(self.attention_proj(pairs)) @ self.attention_weight).squeeze(-1)
        attention = torch.softmax(scores / self.temperature, dim=-1)
        out = self.proj_with_attention(attention @ nodes) + self.proj_without_attention(nodes)
        return F.selu(self.norm(out.flatten(0, 1)).view_as(out))


class AasistHeterogeneousGraphAttention(nn.Module):
    """HS-GAL: attention over the union of temporal and spectral nodes plus a master node.

    Temporal and spectral nodes get their own input projection and are concatenated temporal first.
    Edge scores use ``attention_weight_tt`` (temporal-temporal), ``attention_weight_ss``
    (spectral-spectral) or ``attention_weight_cross`` (both cross directions), softmax over all
    nodes. The master node attends to all nodes with its own weights and has no BN / activation.

    Returns ``(temporal [B, n_T, out_dim], spectral [B, n_S, out_dim], master [B, 1, out_dim])``.
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
        nodes = torch.cat([self.proj_temporal(temporal), self.proj_spectral(spectral)], dim=1)
        nodes = self.input_dropout(nodes)
        num_nodes = nodes.shape[1]

        hidden = torch.tanh(self.attention_proj(nodes.unsqueeze(2) * nodes.unsqueeze(1)))  # [B, N, N, out]
        weights = torch.cat(
            [self.attention_weight_tt, self.attention_weight_ss, self.attention_weight_cross], 1
        )
        is_spectral = torch.arange(num_nodes, device=nodes.device) >= num_temporal
        edge_type = torch.where(is_spectral[:, None] == is_spectral[None, :], is_spectral.long()[:, None], 2)
        scores = (hidden @ weights).gather(-1, edge_type.expand(nodes.shape[0], -1, -1).unsqueeze(-1))
        attention = torch.softmax(scores.squeeze(-1) / self.temperature, dim=-1)

        master_hidden = torch.tanh(self.master_attention_proj(nodes * master))  # [B, N, out]
        master_attention = torch.softmax(
            master_hidden @ self.master_attention_weight / self.temperature, dim=1
        )
        master = self.master_proj_with_attention(
            master_attention.transpose(1, 2) @ nodes
        ) + self.master_proj_without_attention(master)

        out = self.proj_with_attention(attention @ nodes) + self.proj_without_attention(nodes)
        out = F.selu(self.norm(out.flatten(0, 1)).view_as(out))
        return out[:, :num_temporal], out[:, num_temporal:], master


class AasistGraphPool(nn.Module):
    """Top-k graph pooling: score ``s_i = sigmoid(w . x_i + b)``, keep ``max(int(N * ratio), 1)``
    nodes in descending score order, each scaled by its score. ``[B, N, D]`` -> ``[B, k, D]``."""

    def __init__(self, ratio: float, dim: int, dropout: float):
        super().__init__()
        self.ratio = ratio
        self.score_dropout = nn.Dropout(dropout)
        self.score_proj = nn.Linear(dim, 1)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.score_proj(self.score_dropout(nodes)))  # [B, N, 1]
        keep = max(int(nodes.shape[1] * self.ratio), 1)
        index = scores.topk(keep, dim=1).indices  # sorted by descending score: order matters
        return torch.gather(nodes * scores, 1, index.expand(-1, -1, nodes.shape[-1]))


class AasistBranch(nn.Module):
    """One of the two parallel stacks: HS-GAL, graph pooling, a second HS-GAL added residually.

    ``(temporal [B, n_T, D], spectral [B, n_S, D])`` -> ``(temporal, spectral, master [B, 1, D'])``.
    """

    def __init__(self, config: AasistConfig):
        super().__init__()
        gat, hsgal, eps = config.gat_hidden_size, config.hsgal_hidden_size, config.batch_norm_eps
        temperature, dropout = config.temperature_hsgal, config.attention_dropout
        self.master = nn.Parameter(torch.empty(1, 1, gat))
        self.hsgal1 = AasistHeterogeneousGraphAttention(gat, hsgal, temperature, dropout, eps)
        self.pool_spectral = AasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.pool_temporal = AasistGraphPool(config.pool_ratio_hsgal, hsgal, config.graph_pool_dropout)
        self.hsgal2 = AasistHeterogeneousGraphAttention(hsgal, hsgal, temperature, dropout, eps)

    def forward(self, temporal: torch.Tensor, spectral: torch.Tensor):
        temporal, spectral, master = self.hsgal1(temporal, spectral, self.master)
        spectral = self.pool_spectral(spectral)
        temporal = self.pool_temporal(temporal)
        temporal_update, spectral_update, master_update = self.hsgal2(temporal, spectral, master)
        return temporal + temporal_update, spectral + spectral_update, master + master_update


class AasistPreTrainedModel(PreTrainedModel):
    """Base of AASIST and SSL-AASIST: weight init, saving with the pipeline, the implementation switch,
    the graph back end and ``forward``. A model defines ``_graph_nodes`` (its front end and encoder) and
    ``min_input_samples``, and calls :meth:`_build_graph_back_end` in ``__init__``."""

    config_class = AasistConfig
    base_model_prefix = "aasist"
    main_input_name = "input_values"
    #: How errors name the model.
    architecture_name = "AASIST"

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """PyTorch's default init for layers, Xavier-normal attention columns and standard-normal
        positional / master embeddings, as the official code does."""
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            init.kaiming_uniform_(module.weight, a=5**0.5)
            fan_in = module.weight[0].numel()
            init.uniform_(module.bias, -(fan_in**-0.5), fan_in**-0.5)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)
        elif isinstance(module, (AasistGraphAttention, AasistHeterogeneousGraphAttention)):
            for name, parameter in module.named_parameters(recurse=False):
                if "attention_weight" in name:
                    init.xavier_normal_(parameter)
        elif isinstance(module, AasistBranch):
            init.normal_(module.master)
        elif isinstance(module, AasistForAudioClassification):
            init.normal_(module.spectral_position)

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """``PreTrainedModel.save_pretrained``, naming the folder's own audio-classification pipeline
        in ``config.custom_pipelines``. The relative import below makes transformers copy
        ``pipeline_aasist.py`` (and the sibling files it imports) next to this file, so
        ``pipeline("audio-classification", model=folder, trust_remote_code=True)`` reads files with
        soundfile and resamples with the folder's own resampler, without this package installed."""
        from .pipeline_aasist import CUSTOM_PIPELINES

        self.config.custom_pipelines = CUSTOM_PIPELINES
        super().save_pretrained(save_directory, **kwargs)

    def set_implementation(self, implementation: str) -> None:
        """Compute the sinc front end (AASIST's) and the residual blocks with ``implementation`` from now
        on: ``"fused"`` (CPU kernels), ``"eager"`` (plain PyTorch, as the paper describes it) or ``"auto"``
        (fused on CPU, eager elsewhere). The weights stay; the outputs change only by float32 rounding.
        Not saved with the model. Raises ``ValueError`` for another name."""
        self.config.implementation = implementation

    def _build_graph_back_end(self, config: AasistConfig) -> None:
        """Add the graph back end (AASIST's and SSL-AASIST's) to this model, under the top-level names the
        official checkpoints use: ``spectral_position``, graph attention and graph pool for each node
        type, the two HS-GAL branches, the dropouts and ``classifier``. Nodes have
        ``config.encoder_channels[-1]`` features."""
        channels, eps = config.encoder_channels[-1], config.batch_norm_eps
        self.spectral_position = nn.Parameter(torch.empty(1, config.num_spectral_nodes, channels))
        gat = config.gat_hidden_size
        dropout = config.attention_dropout
        self.gat_spectral = AasistGraphAttention(channels, gat, config.temperature_spectral, dropout, eps)
        self.gat_temporal = AasistGraphAttention(channels, gat, config.temperature_temporal, dropout, eps)
        self.pool_spectral = AasistGraphPool(config.pool_ratio_spectral, gat, config.graph_pool_dropout)
        self.pool_temporal = AasistGraphPool(config.pool_ratio_temporal, gat, config.graph_pool_dropout)
        self.branches = nn.ModuleList(AasistBranch(config) for _ in range(2))
        self.branch_dropout = nn.Dropout(config.branch_dropout)
        self.readout_dropout = nn.Dropout(config.readout_dropout)
        self.classifier = nn.Linear(5 * config.hsgal_hidden_size, config.num_labels)

    def forward(
        self,
        input_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        r"""
        The model's ``_graph_nodes`` (front end and encoder), then the graph back end of
        :meth:`_build_graph_back_end`.

        Args:
            input_values: ``[B, T]`` float waveforms at 16 kHz, ``T >= self.min_input_samples`` (2,315 for
                AASIST, 1,040 for SSL-AASIST on XLS-R; 64,600 in the recipes). SSL-AASIST reads them
                not normalised; no attention mask: the windows are full (repeat-padded).
            labels: ``[B]`` class ids (0 spoof, 1 bona fide); gives the cross-entropy loss weighted by
                ``config.class_weights`` (training sets them to its ``--class-weights``).
            output_hidden_states: also return the readout vector ``[B, 5 * hsgal_hidden_size]``.

        Returns:
            :class:`SequenceClassifierOutput` with ``logits [B, 2]`` (and ``loss`` when labels are given).
        """
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        if input_values.ndim != 2 or input_values.shape[-1] < self.min_input_samples:
            raise ValueError(
                f"{self.architecture_name} expects input_values [batch, samples] with at least "
                f"{self.min_input_samples} samples (16 kHz), got shape {tuple(input_values.shape)}; "
                "use AasistFeatureExtractor to window audio"
            )
        spectral, temporal = self._graph_nodes(input_values)
        spectral = self.pool_spectral(self.gat_spectral(spectral + self.spectral_position))
        temporal = self.pool_temporal(self.gat_temporal(temporal))

        outputs = [self.branches[0](temporal, spectral), self.branches[1](temporal, spectral)]
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
        if labels is not None:  # in float32 also under autocast: the loss training steps on
            weight = torch.tensor(self.config.class_weights, dtype=torch.float32, device=logits.device)
            loss = F.cross_entropy(logits.float(), labels.to(logits.device).long(), weight=weight)
        if not return_dict:
            output = (logits, hidden) if output_hidden_states else (logits,)
            return ((loss,) + output) if loss is not None else output
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=(hidden,) if output_hidden_states else None
        )


class AasistForAudioClassification(AasistPreTrainedModel):
    """AASIST with its two-logit head: ``logits[:, 0]`` = spoof, ``logits[:, 1]`` = bona fide.

    The detection score (higher = more bona fide, as used for EER) is ``logits[:, 1]``.
    """

    def __init__(self, config: AasistConfig):
        super().__init__(config)
        channels = config.encoder_channels
        eps = config.batch_norm_eps
        self.front_end = AasistSincFrontEnd(config)
        self.stem_norm = nn.BatchNorm2d(1, eps=eps)
        self.encoder = nn.ModuleList(
            AasistResidualBlock(config, in_ch, out_ch, is_first=index == 0)
            for index, (in_ch, out_ch) in enumerate(zip([1, *channels[:-1]], channels))
        )
        self._build_graph_back_end(config)
        # shortest input with one temporal node: sinc taps - 1, then x3 for the stem and each block pool
        self.min_input_samples = self.front_end.filters.shape[1] - 1 + 3 ** (len(channels) + 1)
        self.post_init()

    def _graph_nodes(self, input_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sinc front end, stem and residual encoder: ``[B, T]`` -> spectral nodes ``[B, 23, C]`` (max of
        ``|x|`` over time) and temporal nodes ``[B, T'', C]`` (max of ``|x|`` over the sinc bands)."""
        stem = self.front_end(input_values).unsqueeze(1)  # [B, 1, 23, T']
        features = F.selu(self.stem_norm(stem))
        for block in self.encoder:
            features = block(features)  # -> [B, C, 23, T'']

        magnitude = features.abs()
        spectral = magnitude.amax(dim=3).transpose(1, 2)  # [B, 23, C]
        temporal = magnitude.amax(dim=2).transpose(1, 2)  # [B, T'', C]
        return spectral, temporal


AasistForAudioClassification.register_for_auto_class(
    "AutoModelForAudioClassification"
)  # class-local: save_pretrained writes auto_map
