"""The codec registry: one :class:`CodecSpec` per CodecFake subset id (A, B1..B3, C, D1..D3, E, F1..F6)
and the codecs beyond the paper.

Each spec says where the weights live, the codec rate, how many quantizers decode, the licence and
the official pre/post-processing of the CodecFake generation code (``roger-tseng/AudioDecBenchmark``,
branch ``vctk`` at ``5bb2b98``, the dataset-creation part of ``roger-tseng/CodecFake``). The model
itself is built lazily by the modules that :data:`FAMILY_MODULES` names for the spec's
``family_module``: the family module (the architecture, tiny and random weights) and, for the official
weights, the family's ``convert_<family>`` module when they come in an upstream format. A family
missing from that table raises :class:`CodecNotImplementedError`, never a wrong codec. Neither kind of
module imports this one (they import :mod:`codecfake_hf.codecs.spec`), so the dependency runs one way:
registry -> converters -> families -> spec.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import replace
from types import ModuleType
from typing import NamedTuple

from codecfake_hf.codecs.spec import (
    CodecNotImplementedError,
    CodecSpec,
    UnknownCodecError,
    fetch_checkpoint,
)

__all__ = [
    "CODECS",
    "FAMILY_MODULES",
    "MODERN_SUBSETS",
    "PAPER_SUBSETS",
    "TAXONOMY_FIELDS",
    "TAXONOMY_VALUES",
    "CodecNotImplementedError",
    "CodecSpec",
    "FamilyModules",
    "UnknownCodecError",
    "checkpoint_module",
    "family_module",
    "fetch_checkpoint",
    "get_spec",
    "implemented",
    "load_codec",
]


class FamilyModules(NamedTuple):
    """The modules of one codec family (dotted names, imported only when a codec of it is loaded).

    Attributes:
        model: the architecture: ``tiny_codec(spec, seed)`` and ``random_codec(spec, seed)``
            (:mod:`codecfake_hf.codecs.base`).
        checkpoint: what loads the official weights, ``pretrained_codec(spec, local_dir)``: the
            family's ``convert_<family>`` module when the weights come in an upstream format (it
            imports ``model``, never the reverse), else ``model`` itself (a ``transformers`` checkpoint).
    """

    model: str
    checkpoint: str


def _native(family: str) -> FamilyModules:
    return FamilyModules(f"codecfake_hf.codecs.{family}", f"codecfake_hf.codecs.convert_{family}")


def _transformers(family: str) -> FamilyModules:
    return FamilyModules(f"codecfake_hf.codecs.{family}", f"codecfake_hf.codecs.{family}")


#: Every codec family: its name (``CodecSpec.family_module``) -> its modules.
FAMILY_MODULES: dict[str, FamilyModules] = {
    "speechtokenizer": _native("speechtokenizer"),
    "hificodec": _native("hificodec"),
    "audiodec": _native("audiodec"),
    "dac": _native("dac"),
    "encodec": _transformers("encodec"),
    "funcodec": _native("funcodec"),
    "mimi": _transformers("mimi"),
    "xcodec": _transformers("xcodec"),
    "wavtokenizer": _transformers("wavtokenizer"),
    "xcodec2": _transformers("xcodec2"),
}

_CLAMP = "output clamped to +-0.99, written as 16-bit PCM at the codec rate"
_FUNCODEC = f"all 32 quantizers at decode; per-clip RMS scale (audio_normalize) restored on decode; {_CLAMP}"
_HIFI = f"input peak-normalised to 0.95, output not de-normalised; {_CLAMP}"
_DAC = (
    "DAC compress/decompress defaults: BS.1770 loudness to -16 LUFS then peak <= 1; inputs > 1 s in 1 s "
    "windows through the padding-free network, <= 1 s in one pass; all codebooks; input loudness restored "
    f"on decode; {_CLAMP}"
)


#: Why a row has no pinned revision: the commits of these Hub repositories could not be looked up when the
#: registry was checked (no access to the Hub there, and no public record of a commit was found). Such a
#: row downloads from the repo's main branch; docs/codecs.md ("Pinned downloads") lists them.
_NOT_PINNED = "not pinned: no commit of this Hub repo could be verified when the registry was checked"


def _pinned_by(count: int, detail: str = "") -> str:
    """``revision_source`` of a commit that ``count`` independent public projects pin for this repo."""
    return f"pinned by {count} independent public projects that download this repo{detail}"


_FREQCODEC = {"model": "freq_codec"}
_ENCODEC_DS320 = {"model": "encodec", "ratios": (8, 5, 4, 2)}
_ENCODEC_DS640 = {"model": "encodec", "ratios": (8, 5, 4, 2, 2)}


def _funcodec(subset: str, repo: str, name: str, frame_rate_hz: float, options: dict) -> CodecSpec:
    """A FunCodec row; ``options`` name the architecture of ``model.pth`` (``funcodec.official_config``)."""
    return CodecSpec(
        id=subset,
        family="FunCodec",
        family_module="funcodec",
        model_name=name,
        repo_id=f"alibaba-damo/{repo}",
        files=("config.yaml", "model.pth"),
        sampling_rate=16000,
        n_quantizers=32,
        license="MIT",
        processing=_FUNCODEC,
        decoder_domain="frequency" if options["model"] == "freq_codec" else "time",
        kbps=32 * 10 * frame_rate_hz / 1000,
        frame_rate_hz=frame_rate_hz,
        options=options,
        revision_source=_NOT_PINNED,
    )


def _hificodec(subset: str, file: str, config: str, sampling_rate: int, name: str) -> CodecSpec:
    return CodecSpec(
        id=subset,
        family="AcademiCodec (HiFi-Codec)",
        family_module="hificodec",
        model_name=name,
        repo_id="Dongchao/AcademiCodec",
        files=(file,),
        sampling_rate=sampling_rate,
        n_quantizers=4,
        license="MIT (README statement; no LICENSE file upstream)",
        processing=_HIFI,
        kbps=4 * 10 * sampling_rate / 320 / 1000,
        frame_rate_hz=sampling_rate / 320,
        input_peak=0.95,
        options={"checkpoint": file, "config": config},
        revision_source=_NOT_PINNED,
    )


def _dac(
    subset: str,
    repo: str,
    sampling_rate: int,
    ratios: tuple[int, ...],
    n_q: int,
    name: str,
    *,
    revision: str,
    revision_source: str,
) -> CodecSpec:
    hop = math.prod(ratios)
    return CodecSpec(
        id=subset,
        family="Descript Audio Codec",
        family_module="dac",
        model_name=name,
        repo_id=repo,
        files=("config.json", "model.safetensors"),
        sampling_rate=sampling_rate,
        n_quantizers=n_q,
        license="MIT (descript-audio-codec; the weights' terms are not restated on the Hub card)",
        processing=_DAC,
        kbps=round(n_q * 10 * sampling_rate / hop / 1000, 2),
        frame_rate_hz=round(sampling_rate / hop, 2),
        options={"mode": "compress", "downsampling_ratios": ratios},
        revision=revision,
        revision_source=revision_source,
    )


CODECS: dict[str, CodecSpec] = {
    spec.id: spec
    for spec in (
        CodecSpec(
            id="A",
            family="SpeechTokenizer",
            family_module="speechtokenizer",
            model_name="speechtokenizer_hubert_avg",
            repo_id="fnlp/SpeechTokenizer",
            files=("speechtokenizer_hubert_avg/config.json", "speechtokenizer_hubert_avg/SpeechTokenizer.pt"),
            sampling_rate=16000,
            n_quantizers=8,
            license="Apache-2.0",
            processing=f"no normalisation; all 8 RVQ layers; encoded per clip; {_CLAMP}",
            auxiliary="semantic distillation",
            kbps=4.0,
            frame_rate_hz=50.0,
            # the repo is now OpenMOSS-Team/SpeechTokenizer (the old name redirects)
            revision="4d54939beef00572fa7bfe41ee35a335c3732f51",
            revision_source=_pinned_by(
                2,
                "; at this commit speechtokenizer_hubert_avg/SpeechTokenizer.pt has sha256 d04593b6c9a4b475... "
                "and config.json ea343ad69ca7e70c..., the files this port was written for",
            ),
        ),
        _hificodec("B1", "HiFi-Codec-16k-320d", "config_16k_320d.json", 16000, "hifi_16k_320d"),
        _hificodec(
            "B2",
            "HiFi-Codec-16k-320d-large-universal",
            "config_16k_320d.json",
            16000,
            "hifi_16k_320d_large_uni",
        ),
        _hificodec("B3", "HiFi-Codec-24k-320d", "config_24k_320d.json", 24000, "hifi_24k_320d"),
        CodecSpec(
            id="C",
            family="AudioDec",
            family_module="audiodec",
            model_name="symAD_libritts_24000_hop300 + AudioDec_v1 vocoder",
            # the current name of the organisation; Codec-SUPERB's code still uses the older one
            repo_id="Codec-SUPERB/AudioDec",
            fallback_repo_ids=("AudioDecBenchmark/AudioDec",),
            files=(
                "autoencoder/symAD_libritts_24000_hop300/checkpoint-500000steps.pkl",
                "autoencoder/symAD_libritts_24000_hop300/config.yml",
                "vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean/checkpoint-500000steps.pkl",
                "vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean/config.yml",
            ),
            sampling_rate=24000,
            n_quantizers=8,
            license="CC BY-NC 4.0 (non-commercial)",
            processing=f"no normalisation; encoder + HiFiGAN vocoder, clean streaming state per utterance; {_CLAMP}",
            kbps=6.4,
            frame_rate_hz=80.0,
            options={"streaming_state": "reset"},
            # its vocoder config.yml was edited after upload: pin it as soon as a commit can be checked
            revision_source=_NOT_PINNED,
        ),
        _dac(
            "D1",
            "descript/dac_16khz",
            16000,
            (2, 4, 5, 8),
            12,
            "dac_16khz",
            revision="7c2fc5e759f1f501aefc6e7a0265cc57f5d17ba7",
            revision_source=_pinned_by(2),
        ),
        _dac(
            "D2",
            "descript/dac_24khz",
            24000,
            (2, 4, 5, 8),
            32,
            "dac_24khz",
            revision="6ba020b5ba7d9d8076fb90db7e67f27e31980f6e",
            revision_source=_pinned_by(
                3, "; at this commit model.safetensors has 298,652,268 bytes, sha256 7452e3fc6972991d..."
            ),
        ),
        _dac(
            "D3",
            "descript/dac_44khz",
            44100,
            (2, 4, 8, 8),
            9,
            "dac_44khz",
            revision="c1bc521685adf9cfe247bc39a5ca58917eda1ac4",
            revision_source=_pinned_by(3),
        ),
        CodecSpec(
            id="E",
            family="EnCodec",
            family_module="encodec",
            model_name="encodec_24khz",
            repo_id="facebook/encodec_24khz",
            files=("config.json", "model.safetensors"),
            sampling_rate=24000,
            n_quantizers=2,
            # facebookresearch/encodec moved from CC BY-NC 4.0 to MIT in 349b729 ("Releasing under the MIT
            # license", 2023-04-26), the release these weights belong to; the facebook/encodec_48khz card
            # states MIT as well
            license="MIT (facebookresearch/encodec since 349b729, 2023-04-26; before: CC BY-NC 4.0)",
            processing=f"bandwidth 1.5 kbps (2 codebooks), no chunking, no normalisation; {_CLAMP}",
            kbps=1.5,
            frame_rate_hz=75.0,
            options={"bandwidth": 1.5},
            revision="c1dbe2ae3f1de713481a3b3e7c47f357092ee040",
            revision_source=_pinned_by(3),
        ),
        _funcodec(
            "F1",
            "audio_codec-freqcodec_magphase-en-libritts-16k-gr1nq32ds320-pytorch",
            "en_libritts_16k_gr1nq32ds320",
            50.0,
            _FREQCODEC,
        ),
        _funcodec(
            "F2",
            "audio_codec-freqcodec_magphase-en-libritts-16k-gr8nq32ds320-pytorch",
            "en_libritts_16k_gr8nq32ds320",
            50.0,
            _FREQCODEC,
        ),
        _funcodec(
            "F3",
            "audio_codec-encodec-en-libritts-16k-nq32ds320-pytorch",
            "en_libritts_16k_nq32ds320",
            50.0,
            _ENCODEC_DS320,
        ),
        _funcodec(
            "F4",
            "audio_codec-encodec-en-libritts-16k-nq32ds640-pytorch",
            "en_libritts_16k_nq32ds640",
            25.0,
            _ENCODEC_DS640,
        ),
        _funcodec(
            "F5",
            "audio_codec-encodec-zh_en-general-16k-nq32ds320-pytorch",
            "zh_en_16k_nq32ds320",
            50.0,
            _ENCODEC_DS320,
        ),
        _funcodec(
            "F6",
            "audio_codec-encodec-zh_en-general-16k-nq32ds640-pytorch",
            "zh_en_16k_nq32ds640",
            25.0,
            _ENCODEC_DS640,
        ),
    )
}

#: The paper's 15 subsets, in the paper's order.
PAPER_SUBSETS: tuple[str, ...] = tuple(CODECS)

# Beyond the paper: codecs of 2024-2025 that ship with `transformers`, registered under their own
# lowercase names. Kept as a separate block so the paper rows above stay untouched.
_PER_CLIP = f"no normalisation; encoded and decoded per clip; {_CLAMP}"
MODERN_CODECS: tuple[CodecSpec, ...] = (
    CodecSpec(
        id="mimi",
        family="Mimi",
        family_module="mimi",
        model_name="mimi (8 of 32 codebooks, as Moshi)",
        repo_id="kyutai/mimi",
        files=("config.json", "model.safetensors"),
        sampling_rate=24000,
        n_quantizers=8,
        license="CC-BY-4.0 (Kyutai model cards; confirm on the kyutai/mimi card)",
        processing=f"no normalisation; causal, batched; first 8 codebooks; {_CLAMP}",
        auxiliary="semantic distillation",
        kbps=1.1,
        frame_rate_hz=12.5,
        revision="89091b3e466eb6a9d11e537bf26b144f194978f7",
        revision_source=_pinned_by(
            4, "; at this commit model.safetensors has 384,649,828 bytes, sha256 bac7e85083dcded6..."
        ),
    ),
    CodecSpec(
        id="xcodec",
        family="X-codec",
        family_module="xcodec",
        model_name="xcodec-hubert-librispeech @ 4 kbps",
        repo_id="hf-audio/xcodec-hubert-librispeech",
        files=("config.json", "model.safetensors"),
        sampling_rate=16000,
        n_quantizers=8,
        license="CC-BY-4.0 (stated on sibling hf-audio X-codec cards; unverified for this checkpoint)",
        processing=_PER_CLIP,
        auxiliary="semantic distillation",
        kbps=4.0,
        frame_rate_hz=50.0,
        options={"bandwidth": 4.0},
        revision_source=_NOT_PINNED,
    ),
    CodecSpec(
        id="wavtokenizer",
        family="WavTokenizer",
        family_module="wavtokenizer",
        model_name="wavtokenizer-large-unify-40token",
        repo_id="swiss-ai/wavtokenizer-large-unify-40token",
        files=("config.json", "model.safetensors"),
        sampling_rate=24000,
        n_quantizers=1,
        license="MIT (original WavTokenizer release; confirm on the converted checkpoint's card)",
        processing=_PER_CLIP,
        quantizer="SVQ",
        decoder_domain="frequency",
        kbps=0.48,
        frame_rate_hz=40.0,
        revision_source=_NOT_PINNED,
    ),
    CodecSpec(
        id="xcodec2",
        family="X-codec 2",
        family_module="xcodec2",
        model_name="xcodec2 (Llasa codec)",
        # the transformers-format conversion that transformers' own X-codec 2 docs load; the 3.29 GB
        # model.safetensors of hf-audio/xcodec2 is the original layout (semantic_model, decoder,
        # fc_prior), which does not fit Xcodec2Model (semantic_encoder, acoustic_decoder, fc_encoder)
        repo_id="HKUSTAudio/xcodec2-hf",
        files=("config.json", "model.safetensors"),
        sampling_rate=16000,
        n_quantizers=1,
        license="CC BY-NC 4.0 (non-commercial; HKUSTAudio/xcodec2 card, the weights it converts)",
        processing=_PER_CLIP,
        quantizer="SQ",
        auxiliary="semantic distillation",
        decoder_domain="frequency",
        kbps=0.8,
        frame_rate_hz=50.0,
        revision="64bd034d12d441299cdd535b15c33efd6ccdf252",
        revision_source=_pinned_by(3, "; at this commit model.safetensors has sha256 611a63e4dff70c19..."),
    ),
)
CODECS.update((spec.id, spec) for spec in MODERN_CODECS)

#: The codecs beyond the paper, in registration order.
MODERN_SUBSETS: tuple[str, ...] = tuple(spec.id for spec in MODERN_CODECS)

#: Taxonomy attributes of :class:`CodecSpec` that results can be grouped by.
TAXONOMY_FIELDS: tuple[str, ...] = ("family", "quantizer", "auxiliary", "decoder_domain")
#: The values of each taxonomy field but ``family`` (CodecFake+'s taxonomy, in this project's spelling):
#: what a registered codec and a corpus's own codec may be labelled with. ``disentanglement`` has no
#: registered codec; CodecFake+'s FACodec, TiCodec and SoCodec carry it.
TAXONOMY_VALUES: dict[str, tuple[str, ...]] = {
    "quantizer": ("MVQ", "SVQ", "SQ"),
    "auxiliary": ("none", "semantic distillation", "disentanglement"),
    "decoder_domain": ("time", "frequency"),
}


def get_spec(subset: str) -> CodecSpec:
    """The spec of ``subset`` (case-insensitive); :class:`UnknownCodecError` lists the valid ids."""
    key = subset.strip()
    for candidate in (key, key.upper(), key.lower()):
        if candidate in CODECS:
            return CODECS[candidate]
    raise UnknownCodecError(f"unknown codec id {subset!r}; valid ids: {', '.join(CODECS)}")


def implemented(spec: CodecSpec) -> bool:
    """Whether :data:`FAMILY_MODULES` has the family of ``spec``."""
    return spec.family_module in FAMILY_MODULES


def _import(spec: CodecSpec, role: str) -> ModuleType:
    if not implemented(spec):
        raise CodecNotImplementedError(
            f"codec {spec.id} ({spec.family}) is not implemented yet in this version of codecfake-hf"
        )
    return importlib.import_module(getattr(FAMILY_MODULES[spec.family_module], role))


def family_module(spec: CodecSpec) -> ModuleType:
    """Import the family module of ``spec`` (``tiny_codec``, ``random_codec``) or raise
    :class:`CodecNotImplementedError`."""
    return _import(spec, "model")


def checkpoint_module(spec: CodecSpec) -> ModuleType:
    """Import the module that loads the official weights of ``spec`` (``pretrained_codec``) or raise
    :class:`CodecNotImplementedError`."""
    return _import(spec, "checkpoint")


def load_codec(
    subset: str,
    *,
    tiny: bool = False,
    device: str = "cpu",
    local_dir: str | None = None,
    seed: int = 0,
    revision: str | None = None,
    **options,
):
    """Build the :class:`~codecfake_hf.codecs.base.Resynthesizer` of ``subset``.

    Args:
        subset: the registry id ("E", "D1", "mimi", ...; case-insensitive).
        tiny: build the family at a tiny config with random weights (tests, offline demo) instead
            of loading the official weights.
        device: torch device for the model.
        local_dir: folder holding the checkpoint files (``spec.files``) instead of the Hub cache.
        seed: torch seed for the tiny random weights.
        revision: the Hub branch, tag or commit to download the weights from, as ``from_pretrained``'s
            (``"main"``: the newest upload); None: the commit the registry pins (``spec.revision``).
        options: override entries of ``spec.options`` (``bandwidth=6.0`` for E, ``mode="plain"`` for D).
    """
    from codecfake_hf.codecs.base import Resynthesizer

    spec = get_spec(subset)
    if revision is not None:
        spec = replace(spec, revision=revision)
    if options:
        spec = replace(spec, options={**spec.options, **options})
    if tiny:
        model = family_module(spec).tiny_codec(spec, seed=seed)
    else:
        model = checkpoint_module(spec).pretrained_codec(spec, local_dir=local_dir)
    return Resynthesizer(model, input_peak=spec.input_peak, device=device)
