"""FunCodec checkpoints (``config.yaml`` + ``model.pth``) -> :class:`~codecfake_hf.codecs.funcodec.FunCodecModel`:
reading them, the upstream config (its defaults, the options implemented) and state-dict layout, and
the official weights.

Config options that no released checkpoint uses and that are not implemented (causal or weight-normed
SEANet, snake activations, codec domains other than ``time`` / ``mag_phase``, ``use_ddp: false``,
``q0_ds_ratio``, ``bypass_quantizer``) raise :class:`FunCodecCheckpointError` naming the option.

``model.pth`` is a plain state dict with upstream key names. Every key maps to the same name here
except the codebooks: upstream keeps them, with their k-means / EMA training state, as
``quantizer.rq.model.{inited [n_q, 1], cluster_size [n_q, K], embed [n_q, K, D], embed_avg [n_q, K, D]}``;
here ``embed`` is ``quantizer.codebooks``
(:class:`~codecfake_hf.codecs.layers.quantization.ResidualVectorQuantizer`), and the training state is
checked (an uninitialised codebook means an untrained checkpoint), not kept. ``discriminator.*``
(training only) is ignored; any other missing, unexpected or misshaped key is an error naming it
(upstream silently keeps random weights instead).
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from codecfake_hf.codecs.conversion import (
    UpstreamStateDict,
    check_codebooks_initialised,
    map_state_dict,
    take_euclidean_codebook,
    tuples,
)
from codecfake_hf.codecs.funcodec import FunCodecConfig, FunCodecModel
from codecfake_hf.codecs.layers.seanet import SEANetConfig
from codecfake_hf.codecs.spec import CodecSpec, fetch_checkpoint
from codecfake_hf.errors import CodecFakeError

#: Prefix of the upstream keys of the codebooks and their training state.
CODEBOOK_PREFIX = "quantizer.rq.model."
#: Upstream keys that only training uses, ignored when loading.
IGNORED_PREFIXES = ("discriminator.",)


class FunCodecCheckpointError(CodecFakeError, ValueError):
    """A FunCodec ``config.yaml`` / ``model.pth`` pair that does not describe one supported model."""


_SEANET_COMMON = {
    "n_filters": 32,
    "n_residual_layers": 1,
    "activation": "ELU",
    "activation_params": {"alpha": 1.0},
    "norm": "weight_norm",
    "norm_params": {},
    "kernel_size": 7,
    "last_kernel_size": 7,
    "residual_kernel_size": 3,
    "dilation_base": 2,
    "causal": False,
    "pad_mode": "reflect",
    "true_skip": False,
    "compress": 2,
    "seq_model": "lstm",
    "seq_layer_num": 2,
    "res_seq": True,
}
_RATIOS_1D = [8, 5, 4, 2]
_RATIOS_2D = [[4, 1], [4, 1], [4, 2], [4, 1]]
_DECODER_ONLY = {
    "channels": 1,
    "final_activation": None,
    "final_activation_params": None,
    "trim_right_ratio": 1.0,
}

#: Upstream constructor defaults of each encoder / decoder (``encoder:`` / ``decoder:`` names).
ENCODER_DEFAULTS = {
    "encodec_seanet_encoder": {
        **_SEANET_COMMON,
        "dimension": 128,
        "ratios": _RATIOS_1D,
        "double_filters": True,
        "add_snake_activation": False,
    },
    "encodec_seanet_encoder_2d": {
        **_SEANET_COMMON,
        "dimension": 128,
        "ratios": _RATIOS_2D,
        "conv_group_ratio": -1,
    },
}
DECODER_DEFAULTS = {
    "encodec_seanet_decoder": {
        **_SEANET_COMMON,
        **_DECODER_ONLY,
        "ratios": _RATIOS_1D,
        "half_filters": True,
        "add_snake_activation": False,
    },
    "encodec_seanet_decoder_2d": {
        **_SEANET_COMMON,
        **_DECODER_ONLY,
        "ratios": _RATIOS_2D,
        "last_out_padding": [[0, 1], [0, 0]],
        "tr_conv_group_ratio": -1,
        "conv_group_ratio": -1,
    },
}
QUANTIZER_DEFAULTS = {
    "codebook_size": 1024,
    "num_quantizers": 8,
    "ema_decay": 0.95,
    "kmeans_init": False,
    "sampling_rate": 24000,
    "quantize_dropout": False,
    "rand_num_quant": None,
    "encoder_hop_length": 320,
    "use_ddp": True,
    "q0_ds_ratio": 1,
    "codec_dim": None,
    "codec_range": None,
}
#: Inference-relevant ``model_conf`` keys and their upstream defaults, per ``model:``.
MODEL_DEFAULTS = {
    "encodec": {
        "target_sample_hz": 24000,
        "multi_spectral_window_powers_of_two": list(range(5, 11)),
        "multi_spectral_n_mels": 64,
        "audio_normalize": True,
        "segment_dur": 1.0,
        "overlap_ratio": 0.01,
        "bypass_quantizer": False,
        "codec_domain": "time",
        "domain_conf": {},
    },
    "freq_codec": {
        "target_sample_hz": 24000,
        "multi_spectral_window_powers_of_two": list(range(5, 11)),
        "multi_spectral_n_mels": 64,
        "audio_normalize": False,
        "segment_dur": 1.0,
        "overlap_ratio": 0.01,
        "bypass_quantizer": False,
        "codec_domain": ["time", "time"],
        "domain_conf": {},
    },
}
#: ``model_conf`` keys that only configure training losses (accepted and ignored).
_TRAINING_ONLY = {
    "odim",
    "recon_loss_weight",
    "multi_spectral_recon_loss_weight",
    "adversarial_loss_weight",
    "feat_match_loss_weight",
    "enc_quant_loss_weight",
    "use_power_spec_loss",
    "context_loss_weight",
    "context_loss_conf",
    "phase_invariant_training",
    "pit_feat_loss_weight",
    "pit_disc_loss_weight",
    "feat_match_layer_start",
}
_NETWORKS = {
    "encodec": ("encodec_seanet_encoder", "encodec_seanet_decoder"),
    "freq_codec": ("encodec_seanet_encoder_2d", "encodec_seanet_decoder_2d"),
}


def _options(conf: dict | None, defaults: dict, where: str, ignored: set[str] = frozenset()) -> dict:
    """``defaults`` updated with ``conf``; an unknown key is an error naming it."""
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(defaults) - set(ignored))
    if unknown:
        raise FunCodecCheckpointError(f"config.yaml {where}: unsupported option(s) {', '.join(unknown)}")
    return {**defaults, **{k: v for k, v in conf.items() if k not in ignored}}


def _seanet(conf: dict, where: str, two_d: bool, **fields) -> SEANetConfig:
    """The :class:`SEANetConfig` of an upstream ``encoder_conf`` / ``decoder_conf`` (defaults applied)."""
    if conf.get("add_snake_activation"):
        raise FunCodecCheckpointError("config.yaml: add_snake_activation true is not supported")
    if conf["causal"]:
        raise FunCodecCheckpointError(
            "FunCodec causal SEANet is not supported (GroupNorm is not causal upstream)"
        )
    if conf["pad_mode"] != "reflect":
        raise FunCodecCheckpointError(
            f"FunCodec pad_mode {conf['pad_mode']!r} is not supported (only 'reflect')"
        )
    if conf["norm"] not in ("time_group_norm", "none"):
        raise FunCodecCheckpointError(
            f"FunCodec norm {conf['norm']!r} is not supported (supported: 'time_group_norm', 'none'; "
            "every released checkpoint uses time_group_norm)"
        )
    shared = {
        name: conf[name]
        for name in (
            "n_filters",
            "kernel_size",
            "last_kernel_size",
            "residual_kernel_size",
            "n_residual_layers",
            "dilation_base",
            "compress",
            "true_skip",
            "activation",
            "activation_params",
            "norm",
            "norm_params",
            "seq_model",
            "seq_layer_num",
            "res_seq",
            "conv_group_ratio",
        )
        if name in conf
    }
    seq_model = shared.get("seq_model")
    if seq_model not in ("lstm", "transformer"):
        shared["seq_model"] = "none"  # upstream: no sequence model for any other name
    try:
        return SEANetConfig(ratios=tuples(conf["ratios"]), two_d=two_d, **shared, **fields)
    except ValueError as error:
        raise FunCodecCheckpointError(f"config.yaml {where}: {error}") from None


def config_from_upstream(config: dict) -> FunCodecConfig:
    """Read a parsed upstream ``config.yaml`` (``model``, ``input_size``, ``encoder``/``encoder_conf``,
    ``quantizer_conf``, ``decoder``/``decoder_conf``, ``model_conf``); missing keys take the
    upstream defaults (``ENCODER_DEFAULTS`` ...), training-only keys are ignored.

    Raises:
        FunCodecCheckpointError: an unknown key, or an option that is not implemented, named.
    """
    kind = config.get("model")
    if kind not in MODEL_DEFAULTS:
        raise FunCodecCheckpointError(f"config.yaml model: {kind!r} is not one of {sorted(MODEL_DEFAULTS)}")
    encoder_name, decoder_name = _NETWORKS[kind]
    for key, expected in (
        ("encoder", encoder_name),
        ("decoder", decoder_name),
        ("quantizer", "costume_quantizer"),
    ):
        if config.get(key) != expected:
            raise FunCodecCheckpointError(
                f"config.yaml {key}: {config.get(key)!r}, expected {expected!r} for {kind}"
            )
    model_conf = _options(config.get("model_conf"), MODEL_DEFAULTS[kind], "model_conf", _TRAINING_ONLY)
    encoder_conf = _options(config.get("encoder_conf"), ENCODER_DEFAULTS[encoder_name], "encoder_conf")
    decoder_conf = _options(config.get("decoder_conf"), DECODER_DEFAULTS[decoder_name], "decoder_conf")
    quantizer_conf = _options(config.get("quantizer_conf"), QUANTIZER_DEFAULTS, "quantizer_conf")
    if not quantizer_conf["use_ddp"]:
        raise FunCodecCheckpointError("config.yaml quantizer_conf: use_ddp false is not supported")
    if quantizer_conf["q0_ds_ratio"] != 1:
        raise FunCodecCheckpointError("config.yaml quantizer_conf: q0_ds_ratio != 1 is not supported")
    if model_conf["bypass_quantizer"]:
        raise FunCodecCheckpointError("config.yaml model_conf: bypass_quantizer true is not supported")
    two_d, domain = kind == "freq_codec", model_conf["codec_domain"]
    if two_d and list(domain) != ["mag_phase", "mag_phase"]:
        raise FunCodecCheckpointError(
            f"config.yaml model_conf: codec_domain {domain!r}, only [mag_phase, mag_phase] is supported"
        )
    if not two_d and domain != "time":
        raise FunCodecCheckpointError(
            f"config.yaml model_conf: codec_domain {domain!r}, only 'time' is supported"
        )
    dimension = encoder_conf["dimension"]
    encoder = _seanet(
        encoder_conf,
        "encoder_conf",
        two_d,
        channels=int(config.get("input_size") or 1),
        dimension=dimension,
        grow_filters=encoder_conf.get("double_filters", True),
    )
    decoder = _seanet(
        decoder_conf,
        "decoder_conf",
        two_d,
        channels=decoder_conf["channels"],
        dimension=dimension,
        grow_filters=two_d or decoder_conf.get("half_filters", True),
        tr_conv_group_ratio=decoder_conf.get("tr_conv_group_ratio", -1),
        last_out_padding=tuples(decoder_conf.get("last_out_padding", ((0, 1), (0, 0)))),
        final_activation=decoder_conf["final_activation"],
        final_activation_params=decoder_conf["final_activation_params"],
    )
    domain_conf = model_conf["domain_conf"]
    try:
        return FunCodecConfig(
            model=kind,
            encoder=encoder,
            decoder=decoder,
            codebook_size=quantizer_conf["codebook_size"],
            num_quantizers=quantizer_conf["num_quantizers"],
            codec_dim=quantizer_conf["codec_dim"],
            codec_range=quantizer_conf["codec_range"],
            sampling_rate=int(model_conf["target_sample_hz"]),
            audio_normalize=bool(model_conf["audio_normalize"]),
            segment_dur=model_conf["segment_dur"],
            overlap_ratio=model_conf["overlap_ratio"],
            n_fft=int(domain_conf.get("n_fft", 512)),
            stft_hop=int(domain_conf.get("hop_length", 160)),
            mel_bins=model_conf["multi_spectral_n_mels"],
            spectral_window_powers=tuple(model_conf["multi_spectral_window_powers_of_two"]),
        )
    except ValueError as error:  # segment_dur without overlap_ratio
        raise FunCodecCheckpointError(f"config.yaml model_conf: {error}") from None


def state_dict_from_upstream(
    state_dict: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Map an upstream ``model.pth`` state dict onto the model whose own state dict is ``expected``.

    Raises:
        FunCodecCheckpointError: names the first missing, unexpected or misshaped key (upstream
            names), or the codebooks were never initialised (``inited == 0``: upstream would run
            k-means on the first batch).
    """
    given = {k: v for k, v in state_dict.items() if not k.startswith(IGNORED_PREFIXES)}
    ours = map_state_dict(
        given,
        expected,
        "quantizer.codebooks",
        _take_codebooks,
        FunCodecCheckpointError,
        "FunCodec checkpoint does not match its config.yaml",
    )
    check_codebooks_initialised(given, FunCodecCheckpointError)
    return ours


def _take_codebooks(upstream: UpstreamStateDict, codebooks: torch.Tensor) -> list[torch.Tensor | None]:
    """One ``EuclideanCodebook`` of ``[n_q, codebook_size, dim]``, its stages as rows."""
    embed = take_euclidean_codebook(upstream, CODEBOOK_PREFIX, codebooks.shape)
    return [] if embed is None else list(embed)


def read_checkpoint(config_path: Path, weights_path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """The parsed ``config.yaml`` and the ``model.pth`` state dict (``weights_only`` load).

    Raises:
        FunCodecCheckpointError: a file that cannot be read as such, named with the fix.
    """
    try:
        config = yaml.safe_load(Path(config_path).read_text())
    except yaml.YAMLError as error:
        raise FunCodecCheckpointError(f"{config_path}: not valid YAML ({error}); re-download it") from None
    try:
        state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated download, wrong file
        raise FunCodecCheckpointError(
            f"{weights_path}: cannot be read as a state dict ({error}); re-download it"
        ) from None
    return config, state_dict


def from_upstream(config: dict, state_dict: dict[str, torch.Tensor]) -> FunCodecModel:
    """Build from a parsed upstream ``config.yaml`` (:func:`config_from_upstream`) and load an upstream
    ``model.pth`` state dict, strictly (:func:`state_dict_from_upstream`); eval mode."""
    model = FunCodecModel(config_from_upstream(config))
    model.load_state_dict(state_dict_from_upstream(state_dict, model.state_dict()))
    return model.eval()


def pretrained_codec(spec: CodecSpec, local_dir: str | None = None) -> FunCodecModel:
    """The official ``config.yaml`` + ``model.pth`` of ``spec.repo_id`` (Hub cache or ``local_dir``)."""
    paths = fetch_checkpoint(spec, local_dir=local_dir)
    config, state_dict = read_checkpoint(paths["config.yaml"], paths["model.pth"])
    try:
        return from_upstream(config, state_dict)
    except FunCodecCheckpointError as error:
        raise FunCodecCheckpointError(f"{spec.repo_id}: {error}") from None
