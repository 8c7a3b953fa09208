"""AASIST / AASIST-L model configuration.

Hyper-parameters follow the official configuration files of the AASIST paper (Jung et al., ICASSP 2022)
(``config/AASIST.conf`` and ``config/AASIST-L.conf`` of ``clovaai/aasist`` at ``a04c986``). The upstream
names are given in brackets.
"""

from __future__ import annotations

from transformers import PretrainedConfig

#: Class names by class id (0 spoof, 1 bona fide). The same as ``codecfake_hf.data.labels.ID2LABEL``,
#: written out because this file is saved with the model and imports nothing of the package.
AASIST_ID2LABEL = {0: "spoof", 1: "bonafide"}
#: Presets of the two released variants (and a tiny test model); keys are :class:`AasistConfig` arguments.
AASIST_PRESETS: dict[str, dict] = {
    "AASIST": {
        "encoder_channels": [32, 32, 64, 64, 64, 64],
        "gat_hidden_size": 64,
        "pool_ratio_spectral": 0.5,
        "pool_ratio_temporal": 0.7,
        "pool_ratio_hsgal": 0.5,
    },
    "AASIST-L": {
        "encoder_channels": [32, 32, 24, 24, 24, 24],
        "gat_hidden_size": 24,
        "pool_ratio_spectral": 0.4,
        "pool_ratio_temporal": 0.5,
        "pool_ratio_hsgal": 0.7,
    },
    # A few-hundred-parameter model with every part (8,000-sample windows): tests and the offline
    # demo, never results.
    "tiny": {
        "num_samples": 8000,
        "num_sinc_filters": 12,
        "encoder_channels": [4, 4, 6, 6, 6, 6],
        "gat_hidden_size": 8,
        "hsgal_hidden_size": 8,
    },
}


#: How the sinc front end and the residual blocks can be computed (:attr:`AasistConfig.implementation`
#: takes one of these, or ``"auto"``).
AASIST_IMPLEMENTATIONS: tuple[str, ...] = ("fused", "eager")


class AasistConfig(PretrainedConfig):
    r"""Configuration of :class:`AasistForAudioClassification`. The defaults are AASIST-L.

    Args:
        sampling_rate (`int`, defaults to 16000):
            Sample rate (Hz) the sinc front end is designed for; inputs must have this rate.
        num_samples (`int`, defaults to 64600):
            Window length in samples (about 4.04 s) used in training and evaluation [``nb_samp``].
        sinc_kernel_size (`int`, defaults to 128):
            Sinc filter length [``first_conv``]; an even value is made odd (128 -> 129 taps).
        num_sinc_filters (`int`, defaults to 70):
            Number of mel-spaced band-pass sinc filters [``filts[0]``]. The stem max-pools them in
            groups of 3, so the graph has ``num_sinc_filters // 3`` spectral nodes (23).
        encoder_channels (`list[int]`, defaults to `[32, 32, 24, 24, 24, 24]`):
            Output channels of the residual blocks [``filts[1:]``, the last entry repeated three times];
            the first block reads 1 channel.
        gat_hidden_size (`int`, defaults to 24):
            Output size of the spectral and temporal graph attention layers [``gat_dims[0]``].
        hsgal_hidden_size (`int`, defaults to 32):
            Output size of the heterogeneous stacking graph attention layers [``gat_dims[1]``].
        pool_ratio_spectral, pool_ratio_temporal, pool_ratio_hsgal (`float`):
            Share of nodes kept by the spectral, temporal and (all four) HS-GAL graph pools
            [``pool_ratios[0:3]``; ``pool_ratios[3]`` is unused upstream].
        temperature_spectral, temperature_temporal, temperature_hsgal (`float`):
            Attention softmax temperatures [``temperatures[0:3]``; ``temperatures[3]`` is unused upstream].
        attention_dropout (`float`, defaults to 0.2): dropout on the inputs of every graph attention layer.
        graph_pool_dropout (`float`, defaults to 0.3): dropout on the input of the graph pool scores.
        branch_dropout (`float`, defaults to 0.2): dropout on both branch outputs ("drop way").
        readout_dropout (`float`, defaults to 0.5): dropout before the output layer.
        class_weights (`list[float]`, defaults to `[0.1, 0.9]`):
            Cross-entropy weights of [spoof, bona fide] used when labels are given.
        batch_norm_eps (`float`, defaults to 1e-5): epsilon of every BatchNorm.
        implementation (`str`, defaults to `"auto"`):
            How the sinc front end and the residual blocks (nearly all of the arithmetic) are computed;
            the weights and the function are the same, outputs differ by float32 rounding only.
            ``"eager"``: plain PyTorch operators, written as the paper and the official code describe
            the model (``modeling_aasist.py``); the reference to read and to change, and the path for
            other devices or dtypes the fused kernels were not measured on. ``"fused"``: the CPU
            kernels of ``fused_aasist.py`` (one strided convolution for the front end, channels-last
            blocks, BatchNorm folded in eval, autograd functions that allocate no full-size
            temporaries in training): on CPU about 2.5x the official code in inference and 1.7x in
            training, where eager runs at about the official code's speed (``benchmarks/RESULTS.md``).
            ``"auto"``: fused for inputs on a CPU, eager on any other device, decided at each call
            (a model moved to a GPU after loading runs eager there). Like transformers'
            ``attn_implementation`` it is a choice of the machine that loads the model, not part of
            the model: checked whenever it is set (here, ``from_pretrained(..., implementation=...)``,
            ``model.set_implementation(...)``) and never saved. A ``config.json`` that holds it
            (folders saved before it became a load-time choice, which recorded the default of the
            version that saved them) loads as ``"auto"``.

    Labels: ``0 = "spoof"``, ``1 = "bonafide"``; the detection score is ``logits[:, 1]``.
    """

    model_type = "aasist"

    def __init__(
        self,
        sampling_rate: int = 16000,
        num_samples: int = 64600,
        sinc_kernel_size: int = 128,
        num_sinc_filters: int = 70,
        encoder_channels: list[int] | tuple[int, ...] = (32, 32, 24, 24, 24, 24),
        gat_hidden_size: int = 24,
        hsgal_hidden_size: int = 32,
        pool_ratio_spectral: float = 0.4,
        pool_ratio_temporal: float = 0.5,
        pool_ratio_hsgal: float = 0.7,
        temperature_spectral: float = 2.0,
        temperature_temporal: float = 2.0,
        temperature_hsgal: float = 100.0,
        attention_dropout: float = 0.2,
        graph_pool_dropout: float = 0.3,
        branch_dropout: float = 0.2,
        readout_dropout: float = 0.5,
        class_weights: list[float] | tuple[float, float] = (0.1, 0.9),
        batch_norm_eps: float = 1e-5,
        implementation: str = "auto",
        **kwargs,
    ):
        self.sampling_rate = sampling_rate
        self.num_samples = num_samples
        self.sinc_kernel_size = sinc_kernel_size
        self.num_sinc_filters = num_sinc_filters
        self.encoder_channels = list(encoder_channels)
        self.gat_hidden_size = gat_hidden_size
        self.hsgal_hidden_size = hsgal_hidden_size
        self.pool_ratio_spectral = pool_ratio_spectral
        self.pool_ratio_temporal = pool_ratio_temporal
        self.pool_ratio_hsgal = pool_ratio_hsgal
        self.temperature_spectral = temperature_spectral
        self.temperature_temporal = temperature_temporal
        self.temperature_hsgal = temperature_hsgal
        self.attention_dropout = attention_dropout
        self.graph_pool_dropout = graph_pool_dropout
        self.branch_dropout = branch_dropout
        self.readout_dropout = readout_dropout
        self.class_weights = list(class_weights)
        self.batch_norm_eps = batch_norm_eps
        self.implementation = implementation
        kwargs.setdefault("id2label", dict(AASIST_ID2LABEL))
        kwargs.setdefault("label2id", {name: class_id for class_id, name in AASIST_ID2LABEL.items()})
        super().__init__(**kwargs)

    def __setattr__(self, name: str, value) -> None:
        if name == "implementation" and value not in ("auto", *AASIST_IMPLEMENTATIONS):
            raise ValueError(
                f"AasistConfig: unknown implementation {value!r}; use 'fused' (fast CPU kernels), 'eager' "
                "(plain PyTorch operators, as in the paper) or 'auto' (the default: fused on CPU, eager elsewhere)"
            )
        super().__setattr__(name, value)

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs) -> AasistConfig:
        """``PretrainedConfig.from_dict``, reading a saved ``implementation`` key as no choice
        (``"auto"``): it is chosen where the model is loaded (``kwargs``), not by the file."""
        return super().from_dict({k: v for k, v in config_dict.items() if k != "implementation"}, **kwargs)

    def to_dict(self) -> dict:
        """``PretrainedConfig.to_dict`` without ``implementation`` (a load-time choice, never saved)."""
        output = super().to_dict()
        output.pop("implementation", None)
        return output

    @property
    def num_spectral_nodes(self) -> int:
        """Spectral graph nodes after the stem's 3x3 max-pool over the sinc filters (23)."""
        return self.num_sinc_filters // 3

    @classmethod
    def from_preset(cls, name: str, **kwargs) -> AasistConfig:
        """The configuration of a released variant, ``"AASIST"`` or ``"AASIST-L"`` (or ``"tiny"``);
        ``kwargs`` override."""
        if name not in AASIST_PRESETS:
            raise ValueError(f"unknown AASIST variant {name!r}; choose one of {', '.join(AASIST_PRESETS)}")
        return cls(**{**AASIST_PRESETS[name], **kwargs})


AasistConfig.register_for_auto_class()  # class-local: save_pretrained writes auto_map
