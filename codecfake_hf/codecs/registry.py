"""The codec registry: one :class:`CodecSpec` per CodecFake subset id (A, B1..B3, C, D1..D3, E, F1..F6).

Each spec says where the weights live, the codec rate, how many quantizers decode, the licence and
the official pre/post-processing of the CodecFake generation code (``../shared/paper/README.md``,
``../shared/codec_facts/``). The model itself is built lazily by the family module named in
``family_module``; a family whose module is not there yet raises :class:`CodecNotImplementedError`,
never a wrong codec.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


class CodecNotImplementedError(NotImplementedError):
    """The subset id is registered but its codec family is not implemented yet."""


class UnknownCodecError(KeyError):
    """The id names no registered codec."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@dataclass(frozen=True)
class CodecSpec:
    """Everything needed to rebuild one CodecFake subset.

    Attributes:
        id: subset id ("A", "B1", ..., "F6").
        family: human-readable codec family.
        family_module: module under ``codecfake_hf.codecs`` that builds it (``load_codec(spec, ...)``).
        model_name: upstream model name (paper Table 1).
        repo_id: Hub repository holding the weights.
        files: files of ``repo_id`` that loading needs (to pre-download for offline use).
        sample_rate: codec sample rate in Hz (output is written at this rate).
        n_quantizers: codebooks used at decode in the official data.
        licence: licence of the weights.
        processing: the official pre/post-processing, in words.
        input_peak: peak normalisation applied before encoding (HiFi-Codec: 0.95), else None.
        options: family-specific loading options (variant names, bandwidth, ...).
    """

    id: str
    family: str
    family_module: str
    model_name: str
    repo_id: str
    files: tuple[str, ...]
    sample_rate: int
    n_quantizers: int
    licence: str
    processing: str
    input_peak: float | None = None
    options: dict = field(default_factory=dict)

    @property
    def implemented(self) -> bool:
        """Whether the family module exists in this installation."""
        try:
            importlib.import_module(f"codecfake_hf.codecs.{self.family_module}")
        except ModuleNotFoundError as error:
            if error.name == f"codecfake_hf.codecs.{self.family_module}":
                return False
            raise
        return True


_CLAMP = "output clamped to +-0.99, written as 16-bit PCM at the codec rate"
_FUNCODEC = f"all 32 quantizers at decode; per-clip RMS scale (audio_normalize) restored on decode; {_CLAMP}"
_HIFI = f"input peak-normalised to 0.95, output not de-normalised; {_CLAMP}"
_DAC = (
    f"DAC compress/decompress: 1 s chunks, loudness normalised to -16 LUFS and restored on decode; {_CLAMP}"
)


def _funcodec(subset: str, repo: str, name: str) -> CodecSpec:
    return CodecSpec(
        subset,
        "FunCodec",
        "funcodec",
        name,
        f"alibaba-damo/{repo}",
        ("config.yaml", "model.pth"),
        16000,
        32,
        "MIT",
        _FUNCODEC,
    )


def _hificodec(subset: str, file: str, config: str, rate: int, name: str) -> CodecSpec:
    return CodecSpec(
        subset,
        "AcademiCodec (HiFi-Codec)",
        "hificodec",
        name,
        "Dongchao/AcademiCodec",
        (file,),
        rate,
        4,
        "MIT (README statement; no LICENSE file upstream)",
        _HIFI,
        input_peak=0.95,
        options={"checkpoint": file, "config": config},
    )


def _dac(subset: str, repo: str, rate: int, n_q: int, name: str) -> CodecSpec:
    return CodecSpec(
        subset,
        "Descript Audio Codec",
        "dac",
        name,
        repo,
        ("config.json", "model.safetensors"),
        rate,
        n_q,
        "MIT",
        _DAC,
        options={"mode": "compress"},
    )


CODECS: dict[str, CodecSpec] = {
    spec.id: spec
    for spec in (
        CodecSpec(
            "A",
            "SpeechTokenizer",
            "speechtokenizer",
            "speechtokenizer_hubert_avg",
            "fnlp/SpeechTokenizer",
            ("speechtokenizer_hubert_avg/config.json", "speechtokenizer_hubert_avg/SpeechTokenizer.pt"),
            16000,
            8,
            "Apache-2.0",
            f"no normalisation; all 8 RVQ layers; encoded per clip; {_CLAMP}",
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
            "C",
            "AudioDec",
            "audiodec",
            "symAD_libritts_24000_hop300 + AudioDec_v1 vocoder",
            "AudioDecBenchmark/AudioDec",
            (
                "autoencoder/symAD_libritts_24000_hop300/checkpoint-500000steps.pkl",
                "autoencoder/symAD_libritts_24000_hop300/config.yml",
                "vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean/checkpoint-500000steps.pkl",
                "vocoder/AudioDec_v1_symAD_libritts_24000_hop300_clean/config.yml",
            ),
            24000,
            8,
            "CC BY-NC 4.0 (non-commercial)",
            f"no normalisation; encoder + HiFiGAN vocoder, clean streaming state per utterance; {_CLAMP}",
        ),
        _dac("D1", "descript/dac_16khz", 16000, 12, "dac_16khz"),
        _dac("D2", "descript/dac_24khz", 24000, 32, "dac_24khz"),
        _dac("D3", "descript/dac_44khz", 44100, 9, "dac_44khz"),
        CodecSpec(
            "E",
            "EnCodec",
            "encodec",
            "encodec_24khz",
            "facebook/encodec_24khz",
            ("config.json", "model.safetensors", "preprocessor_config.json"),
            24000,
            2,
            "CC BY-NC 4.0 (weights; see the model card)",
            f"bandwidth 1.5 kbps (2 codebooks), no chunking, no normalisation; {_CLAMP}",
            options={"bandwidth": 1.5},
        ),
        _funcodec(
            "F1",
            "audio_codec-freqcodec_magphase-en-libritts-16k-gr1nq32ds320-pytorch",
            "en_libritts_16k_gr1nq32ds320",
        ),
        _funcodec(
            "F2",
            "audio_codec-freqcodec_magphase-en-libritts-16k-gr8nq32ds320-pytorch",
            "en_libritts_16k_gr8nq32ds320",
        ),
        _funcodec("F3", "audio_codec-encodec-en-libritts-16k-nq32ds320-pytorch", "en_libritts_16k_nq32ds320"),
        _funcodec("F4", "audio_codec-encodec-en-libritts-16k-nq32ds640-pytorch", "en_libritts_16k_nq32ds640"),
        _funcodec("F5", "audio_codec-encodec-zh_en-general-16k-nq32ds320-pytorch", "zh_en_16k_nq32ds320"),
        _funcodec("F6", "audio_codec-encodec-zh_en-general-16k-nq32ds640-pytorch", "zh_en_16k_nq32ds640"),
    )
}

#: The paper's 15 subsets, in the paper's order.
PAPER_SUBSETS: tuple[str, ...] = tuple(CODECS)


def get_spec(codec_id: str) -> CodecSpec:
    """The spec of ``codec_id`` (case-insensitive); :class:`UnknownCodecError` lists the valid ids."""
    key = codec_id.strip()
    for candidate in (key, key.upper(), key.lower()):
        if candidate in CODECS:
            return CODECS[candidate]
    raise UnknownCodecError(f"unknown codec id {codec_id!r}; valid ids: {', '.join(CODECS)}")


def family_module(spec: CodecSpec):
    """Import the family module of ``spec`` or raise :class:`CodecNotImplementedError`."""
    if not spec.implemented:
        raise CodecNotImplementedError(
            f"codec {spec.id} ({spec.family}) is not implemented yet in this version of codecfake-hf"
        )
    return importlib.import_module(f"codecfake_hf.codecs.{spec.family_module}")


def load_codec(
    codec_id: str, *, tiny: bool = False, device: str = "cpu", local_dir: str | None = None, seed: int = 0
):
    """Build the :class:`~codecfake_hf.codecs.base.Resynthesizer` of ``codec_id``.

    Args:
        codec_id: subset id ("E", "D1", ...).
        tiny: build the family at a tiny config with random weights (tests, offline demo) instead
            of loading the official weights.
        device: torch device for the model.
        local_dir: folder holding the checkpoint files (``spec.files``) instead of the Hub cache.
        seed: torch seed for the tiny random weights.
    """
    from codecfake_hf.codecs.base import Resynthesizer

    spec = get_spec(codec_id)
    module = family_module(spec)
    model = module.tiny_codec(spec, seed=seed) if tiny else module.pretrained_codec(spec, local_dir=local_dir)
    return Resynthesizer(model, input_peak=spec.input_peak, device=device)
