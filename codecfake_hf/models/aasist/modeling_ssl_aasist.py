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

Differences from AASIST (``modeling_aasist.py``): the SSL features replace the sinc filter bank (and no
``|.|`` before the stem pool); the residual blocks do not pool over time; a BatchNorm + SELU follows the
encoder; graph nodes are attention-weighted sums instead of maxima of ``|x|``. The residual blocks and
the whole graph back end (graph attention, graph pools, HS-GAL branches, readout, loss) are AASIST's
modules, imported relatively from ``modeling_aasist.py``: a saved folder gets that file (and the files
it imports) from transformers next to this one, and runs without this package.

The front end runs without dropout, layer-drop or masking (the presets set them off) and gets the
full gradient, as the official fine-tuning does; :meth:`Wav2Vec2AasistForAudioClassification.freeze_front_end`
and :meth:`~Wav2Vec2AasistForAudioClassification.optimizer_parameter_groups` give other choices.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Wav2Vec2Model
from transformers import initialization as init

from .configuration_ssl_aasist import SslAasistConfig
from .modeling_aasist import AasistPreTrainedModel, AasistResidualBlock


class SslAasistPreTrainedModel(AasistPreTrainedModel):
    config_class = SslAasistConfig
    base_model_prefix = "ssl_aasist"
    architecture_name = "SSL-AASIST"
    supports_gradient_checkpointing = True

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """The back end as AASIST initialises it (the official code's init), with the positional
        embedding of this model. The wav2vec 2.0 front end initialises itself (transformers dispatches a
        sub-model to its own ``_init_weights``)."""
        super()._init_weights(module)
        if isinstance(module, Wav2Vec2AasistForAudioClassification):
            init.normal_(module.spectral_position)


class Wav2Vec2AasistForAudioClassification(SslAasistPreTrainedModel):
    """SSL-AASIST with its two-logit head: ``logits[:, 0]`` = spoof, ``logits[:, 1]`` = bona fide
    (the detection score). ``ssl_model`` is a :class:`transformers.Wav2Vec2Model`. ``save_pretrained``
    names AASIST's audio-classification pipeline in the folder, as AASIST's does; save an
    ``AasistFeatureExtractor`` (``num_samples=config.num_samples``) next to the model."""

    def __init__(self, config: SslAasistConfig):
        super().__init__(config)
        channels, eps = config.encoder_channels, config.batch_norm_eps
        self.ssl_model = Wav2Vec2Model(config.ssl_config)
        self.projection = nn.Linear(config.ssl_config.hidden_size, config.projection_size)
        self.stem_norm = nn.BatchNorm2d(1, eps=eps)
        self.encoder = nn.ModuleList(
            AasistResidualBlock(config, in_ch, out_ch, is_first=index == 0, pool_time=False)
            for index, (in_ch, out_ch) in enumerate(zip([1, *channels[:-1]], channels))
        )
        self.encoder_norm = nn.BatchNorm2d(channels[-1], eps=eps)
        self.node_attention = nn.Sequential(
            nn.Conv2d(channels[-1], 128, kernel_size=1),
            nn.SELU(),
            nn.BatchNorm2d(128, eps=eps),
            nn.Conv2d(128, channels[-1], kernel_size=1),
        )
        self._build_graph_back_end(config)
        self.min_input_samples = config.min_input_samples  # 3 front-end frames for the 3x3 max-pool
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

    # --- front end and encoder -------------------------------------------------------------------

    def _graph_nodes(self, input_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """wav2vec 2.0, projection, stem and residual encoder: ``[B, T]`` -> spectral nodes ``[B, S, C]``
        and temporal nodes ``[B, T'', C]``, sums of the encoder output weighted by the attention map's
        softmax over time and over the projection rows respectively."""
        ssl_features = self.ssl_model(input_values).last_hidden_state  # [B, T', H], after the final LayerNorm
        image = self.projection(ssl_features).transpose(1, 2).unsqueeze(1)  # [B, 1, P, T']
        features = F.selu(self.stem_norm(F.max_pool2d(image, (3, 3))))  # [B, 1, P // 3, T' // 3]
        for block in self.encoder:
            features = block(features)
        features = F.selu(self.encoder_norm(features))  # [B, C, S, T]
        weights = self.node_attention(features)
        spectral = (features * torch.softmax(weights, dim=-1)).sum(-1).transpose(1, 2)  # [B, S, C]
        temporal = (features * torch.softmax(weights, dim=-2)).sum(-2).transpose(1, 2)  # [B, T, C]
        return spectral, temporal
