"""Upstream-format checkpoints of the native codec models, for tests: the inverse of each
``convert_<family>.state_dict_from_upstream`` (a model's state dict in the layout an upstream checkpoint
of that model has), and FunCodec's official ``config.yaml`` in upstream format.

Written from the same upstream facts as the converters (the official layouts are in
``tests/fixtures/codec_facts/*_state_dict.tsv``), so a test that round-trips through both directions
checks the converter against an independent statement of the layout.
"""

from __future__ import annotations

import math

import torch

from codecfake_hf.codecs.spec import CodecSpec


def euclidean_codebook_state(embed: torch.Tensor) -> dict[str, torch.Tensor]:
    """The state of upstream's ``EuclideanCodebook`` (the EnCodec lineage: SpeechTokenizer, FunCodec)
    holding the codewords ``embed [..., codebook_size, dim]``, in its key order: the k-means / EMA
    training state at the values of an initialised codebook (``inited`` 1, ``cluster_size`` 0,
    ``embed_avg`` = ``embed``)."""
    return {
        "inited": embed.new_ones(*embed.shape[:-2], 1),
        "cluster_size": embed.new_zeros(embed.shape[:-1]),
        "embed": embed,
        "embed_avg": embed.clone(),
    }


def speechtokenizer(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``SpeechTokenizer.pt``: one ``EuclideanCodebook`` per residual layer,
    ``quantizer.vq.layers.K._codebook.*``, in upstream key order."""
    upstream: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key != "quantizer.codebooks":
            upstream[key] = value
            continue
        for layer, embed in enumerate(value):
            state = euclidean_codebook_state(embed)
            upstream.update({f"quantizer.vq.layers.{layer}._codebook.{name}": v for name, v in state.items()})
    return upstream


def hificodec(state_dict: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The checkpoint file ``{"encoder": ..., "quantizer": ..., "generator": ...}``: one ``nn.Embedding``
    per codebook, ``quantizer_modules.G`` (first residual layer) and ``quantizer_modules2.G``."""
    upstream: dict[str, dict[str, torch.Tensor]] = {"encoder": {}, "quantizer": {}, "generator": {}}
    layers = ("quantizer_modules", "quantizer_modules2")
    for name, tensor in state_dict.items():
        top, key = name.split(".", 1)
        if name != "quantizer.codebooks":
            upstream[top][key] = tensor
            continue
        groups = len(tensor) // len(layers)
        for index, codebook in enumerate(tensor):
            layer, group = divmod(index, groups)
            upstream["quantizer"][f"{layers[layer]}.{group}.embedding.weight"] = codebook
    return upstream


def audiodec(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The two generators' keys prefixed ``autoencoder/`` / ``vocoder/`` (the golden vectors' layout),
    less the parts the pairing does not use; codebooks ``autoencoder/quantizer.codebook.layers.K.embed``."""
    upstream: dict[str, torch.Tensor] = {}
    for name, tensor in state_dict.items():
        if name == "autoencoder.quantizer.codebooks":
            for layer, embed in enumerate(tensor):
                upstream[f"autoencoder/quantizer.codebook.layers.{layer}.embed"] = embed
        else:
            part, key = name.split(".", 1)
            upstream[f"{part}/{key}"] = tensor
    return upstream


def funcodec(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``model.pth``: the codebooks as one ``EuclideanCodebook`` of all stages, ``quantizer.rq.model.*``."""
    upstream: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key != "quantizer.codebooks":
            upstream[key] = value
            continue
        upstream.update(
            {f"quantizer.rq.model.{name}": v for name, v in euclidean_codebook_state(value).items()}
        )
    return upstream


def funcodec_official_config(spec: CodecSpec) -> dict:
    """The architecture part of the official ``config.yaml`` of ``spec``, in upstream format, chosen by
    ``spec.options``: ``{"model": "encodec", "ratios": ...}`` gives the egs ``encodec_16k_n32_600k_step``
    config (ratios ``[8, 5, 4, 2]``, or ``[8, 5, 4, 2, 2]`` for ``…_ds640``; F3-F6); ``{"model":
    "freq_codec"}`` the closest public FreqCodec config (``freqcodec_mag_phase_16k_n32_600k_step``;
    F1/F2), which does NOT match the released checkpoints."""
    quantizer = {
        "codebook_size": 1024,
        "num_quantizers": 32,
        "ema_decay": 0.99,
        "kmeans_init": True,
        "sampling_rate": 16000,
        "quantize_dropout": True,
        "use_ddp": True,
        "encoder_hop_length": 320,
    }
    model_conf = {
        "odim": 128,
        "multi_spectral_window_powers_of_two": [5, 6, 7, 8, 9, 10],
        "target_sample_hz": 16000,
        "audio_normalize": True,
        "use_power_spec_loss": True,
        "segment_dur": None,
        "overlap_ratio": None,
    }
    if spec.options["model"] == "freq_codec":
        seanet = {
            "ratios": [[4, 1], [4, 1], [4, 2], [4, 1]],
            "norm": "time_group_norm",
            "norm_params": {"num_groups": 1},
            "causal": False,
            "dilation_base": 1,
        }
        return {
            "input_size": 3,
            "encoder": "encodec_seanet_encoder_2d",
            "encoder_conf": seanet,
            "quantizer": "costume_quantizer",
            "quantizer_conf": quantizer,
            "decoder": "encodec_seanet_decoder_2d",
            "decoder_conf": {**seanet, "channels": 3},
            "model": "freq_codec",
            "model_conf": {**model_conf, "codec_domain": ["mag_phase", "mag_phase"]},
        }
    ratios = list(spec.options["ratios"])
    seanet = {"ratios": ratios, "norm": "time_group_norm", "causal": False}
    return {
        "input_size": 1,
        "encoder": "encodec_seanet_encoder",
        "encoder_conf": seanet,
        "quantizer": "costume_quantizer",
        "quantizer_conf": {**quantizer, "encoder_hop_length": int(math.prod(ratios))},
        "decoder": "encodec_seanet_decoder",
        "decoder_conf": seanet,
        "model": "encodec",
        "model_conf": model_conf,
    }
