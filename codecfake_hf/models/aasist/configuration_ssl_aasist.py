"""SSL-AASIST model configuration: a wav2vec 2.0 / XLS-R front end and the SSL-AASIST back end.

The design is Tak et al., "Automatic speaker verification spoofing and deepfake detection using
wav2vec 2.0 and data augmentation" (Odyssey 2022); the back-end hyper-parameters are those hard-coded
in ``model.py`` of TakHemlata/SSL_Anti-spoofing at ``4acaa61`` (upstream names in brackets). The
front end is a :class:`transformers.Wav2Vec2Config`, nested as ``ssl_config`` (the transformers way
for composite models) and saved inside ``config.json``. The back end is AASIST's, so
:class:`SslAasistConfig` is an :class:`~configuration_aasist.AasistConfig` without the sinc front end.
"""

from __future__ import annotations

from transformers import Wav2Vec2Config

from .configuration_aasist import AasistConfig

#: The front end of ``facebook/wav2vec2-xls-r-300m`` (fairseq ``xlsr2_300m.pt``): 7-block CNN with
#: LayerNorm, 24 pre-LN transformer layers of 1024 units. Dropout, layer-drop and SpecAugment-style
#: masking are off, as the official fine-tuning runs it (every fairseq dropout 0.0, ``mask=False``);
#: transformers would otherwise mask time steps in training mode.
XLS_R_300M: dict = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "hidden_act": "gelu",
    "feat_extract_norm": "layer",
    "feat_extract_activation": "gelu",
    "do_stable_layer_norm": True,
    "conv_bias": True,
    "conv_dim": [512] * 7,
    "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
    "conv_stride": [5, 2, 2, 2, 2, 2, 2],
    "num_conv_pos_embeddings": 128,
    "num_conv_pos_embedding_groups": 16,
    "layer_norm_eps": 1e-5,
}

#: Settings of every preset's front end that make fine-tuning match the official recipe.
NO_DROPOUT_OR_MASKING: dict = {
    "hidden_dropout": 0.0,
    "attention_dropout": 0.0,
    "activation_dropout": 0.0,
    "feat_proj_dropout": 0.0,
    "final_dropout": 0.0,
    "layerdrop": 0.0,
    "apply_spec_augment": False,
    "mask_time_prob": 0.0,
    "mask_feature_prob": 0.0,
}

#: Presets; keys are :class:`SslAasistConfig` arguments (``ssl_config`` holds Wav2Vec2Config arguments).
SSL_AASIST_PRESETS: dict[str, dict] = {
    # The published model: XLS-R 300M + the SSL-AASIST back end (447,242 back-end parameters).
    "xls-r-300m": {
        "ssl_config": {**XLS_R_300M, **NO_DROPOUT_OR_MASKING},
        "ssl_model_name_or_path": "facebook/wav2vec2-xls-r-300m",
        # the commit independent public projects pin their downloads of the repo to (3 found)
        "ssl_model_revision": "1a640f32ac3e39899438a2931f9924c02f080a54",
    },
    # A few-layer random front end with every part present (8,000-sample windows): tests, never results.
    "tiny": {
        "num_samples": 8000,
        "ssl_config": {
            **XLS_R_300M,
            **NO_DROPOUT_OR_MASKING,
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "conv_dim": [16] * 7,
            "num_conv_pos_embeddings": 16,
            "num_conv_pos_embedding_groups": 2,
        },
        "projection_size": 24,
        "encoder_channels": [4, 4, 6, 6, 6, 6],
        "gat_hidden_size": 8,
        "hsgal_hidden_size": 8,
    },
}


#: Where the published SSL-AASIST back end differs from :class:`AasistConfig`'s defaults (AASIST-L's):
#: the defaults of :class:`SslAasistConfig`.
SSL_AASIST_BACK_END: dict = {
    "encoder_channels": [32, 32, 64, 64, 64, 64],
    "gat_hidden_size": 64,
    "pool_ratio_spectral": 0.5,
    "pool_ratio_temporal": 0.5,
    "pool_ratio_hsgal": 0.5,
}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"SslAasistConfig: {message}")


class SslAasistConfig(AasistConfig):
    r"""Configuration of :class:`Wav2Vec2AasistForAudioClassification`. The defaults are the published
    SSL-AASIST back end; the front end default is a plain ``Wav2Vec2Config()`` unless ``ssl_config`` is
    given, so build real models with :meth:`from_preset` (``"xls-r-300m"`` or ``"tiny"``).

    Args:
        ssl_config (`dict` or `Wav2Vec2Config`):
            The wav2vec 2.0 front end. Its ``last_hidden_state`` (after XLS-R's final LayerNorm) feeds
            the back end. Keep dropout, layer-drop and masking off to fine-tune as the paper did.
        ssl_model_name_or_path (`str`, *optional*):
            Where the pre-trained front-end weights come from (a Hub id or folder), e.g.
            ``"facebook/wav2vec2-xls-r-300m"``; used only when they are asked for
            (``codecfake_hf.models.families.build_ssl_aasist(..., pretrained_front_end=True)``).
        ssl_model_revision (`str`, *optional*):
            The Hub branch, tag or commit of ``ssl_model_name_or_path`` to download, as
            ``from_pretrained``'s ``revision``; the ``"xls-r-300m"`` preset pins a commit. None: ``main``.
        projection_size (`int`, defaults to 128):
            Output size of the linear layer on the SSL features [``LL``]; the 3x3 max-pool that
            follows makes ``projection_size // 3`` spectral graph nodes (42).
        encoder_channels (`list[int]`, defaults to `[32, 32, 64, 64, 64, 64]`):
            Output channels of the six 2-D residual blocks [``filts[1:]``]; the first reads 1 channel.
        gat_hidden_size (`int`, defaults to 64): output size of the spectral / temporal graph
            attention layers [``gat_dims[0]``].
        pool_ratio_spectral, pool_ratio_temporal, pool_ratio_hsgal (`float`, defaults to 0.5):
            Share of nodes kept by the graph pools [``pool_ratios[0:3]``], in (0, 1].
        kwargs: the other :class:`AasistConfig` arguments, with the defaults of
            :data:`SSL_AASIST_BACK_END` for the five above, else :class:`AasistConfig`'s (which are the
            published SSL-AASIST ones): ``sampling_rate``, ``num_samples``, ``hsgal_hidden_size`` (32), the
            temperatures (2, 2, 100, > 0), the dropouts (in [0, 1)), ``class_weights`` (two numbers
            >= 0, not both 0), ``batch_norm_eps`` and ``implementation`` (the residual blocks:
            ``"auto"``, ``"fused"`` or ``"eager"``). There is no sinc front end: ``sinc_kernel_size``
            and ``num_sinc_filters`` are ``None``.

    Labels: ``0 = "spoof"``, ``1 = "bonafide"``; the detection score is ``logits[:, 1]``.
    """

    model_type = "ssl_aasist"
    sub_configs = {"ssl_config": Wav2Vec2Config}

    def __init__(
        self,
        ssl_config: dict | Wav2Vec2Config | None = None,
        ssl_model_name_or_path: str | None = None,
        projection_size: int = 128,
        ssl_model_revision: str | None = None,
        **kwargs,
    ):
        if ssl_config is None:
            ssl_config = Wav2Vec2Config(**NO_DROPOUT_OR_MASKING)
        elif isinstance(ssl_config, dict):
            ssl_config = Wav2Vec2Config(**ssl_config)
        _check(
            isinstance(ssl_config, Wav2Vec2Config),
            f"ssl_config must be a Wav2Vec2Config or a dict of its arguments, got {type(ssl_config).__name__}",
        )
        for name in ("sinc_kernel_size", "num_sinc_filters"):  # a saved config.json holds them as null
            _check(kwargs.pop(name, None) is None, f"{name} does not apply: SSL-AASIST has no sinc front end")
        self.ssl_config = ssl_config
        self.ssl_model_name_or_path = ssl_model_name_or_path
        self.ssl_model_revision = ssl_model_revision
        self.projection_size = projection_size
        super().__init__(sinc_kernel_size=None, num_sinc_filters=None, **{**SSL_AASIST_BACK_END, **kwargs})
        self._validate()

    def _validate(self) -> None:
        _check(self.sampling_rate > 0, f"sampling_rate must be > 0 Hz, got {self.sampling_rate}")
        _check(
            self.projection_size >= 3,
            f"projection_size must be >= 3 (one spectral node per 3), got {self.projection_size}",
        )
        _check(
            len(self.encoder_channels) >= 1 and all(int(c) == c and c > 0 for c in self.encoder_channels),
            f"encoder_channels must be a non-empty list of positive integers, got {self.encoder_channels}",
        )
        for name in ("pool_ratio_spectral", "pool_ratio_temporal", "pool_ratio_hsgal"):
            _check(0 < getattr(self, name) <= 1, f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("temperature_spectral", "temperature_temporal", "temperature_hsgal"):
            _check(getattr(self, name) > 0, f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("attention_dropout", "graph_pool_dropout", "branch_dropout", "readout_dropout"):
            _check(0 <= getattr(self, name) < 1, f"{name} must be in [0, 1), got {getattr(self, name)}")
        _check(
            len(self.class_weights) == 2 and min(self.class_weights) >= 0 and max(self.class_weights) > 0,
            f"class_weights must be two numbers >= 0, not both 0 [spoof, bonafide], got {self.class_weights}",
        )
        _check(
            self.num_samples >= self.min_input_samples,
            f"num_samples={self.num_samples} is shorter than the {self.min_input_samples} samples the front "
            "end needs for 3 frames (the back end's 3x3 max-pool); use longer windows",
        )

    @property
    def min_input_samples(self) -> int:
        """Shortest input (samples) giving the 3 front-end frames the back end's 3x3 max-pool needs
        (1,040 for XLS-R)."""
        length = 3
        for kernel, stride in reversed(list(zip(self.ssl_config.conv_kernel, self.ssl_config.conv_stride))):
            length = (length - 1) * stride + kernel
        return length

    @property
    def num_spectral_nodes(self) -> int:
        """Spectral graph nodes: the projection dimensions after the 3x3 max-pool (42)."""
        return self.projection_size // 3

    @classmethod
    def from_preset(cls, name: str, **kwargs) -> SslAasistConfig:
        """The configuration of a preset, ``"xls-r-300m"`` or ``"tiny"``; ``kwargs`` override. Builds
        the configuration only: nothing is downloaded."""
        if name not in SSL_AASIST_PRESETS:
            raise ValueError(
                f"unknown SSL-AASIST preset {name!r}; choose one of {', '.join(SSL_AASIST_PRESETS)}"
            )
        return cls(**{**SSL_AASIST_PRESETS[name], **kwargs})


SslAasistConfig.register_for_auto_class()  # class-local: save_pretrained writes auto_map
