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
full gradient, as the official fine-tuning does; freezing parts of it and giving it its own learning
rates are training's choices (``codecfake_hf.training.optimization``), not the model's.
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


Wav2Vec2AasistForAudioClassification.register_for_auto_class(
    "AutoModelForAudioClassification"
)  # class-local: save_pretrained writes auto_map
