"""The one place for audio I/O and sample-level helpers.

Everything in the project that reads, writes, resamples, down-mixes or clamps audio goes through
this module, so bona fide and spoof audio are treated identically (a detector must learn the codec,
not the resampler).

Conventions: waveforms are ``numpy.float32`` arrays, mono ``[T]`` (samples), values about [-1, 1];
sample rates are in Hz. Files are read and written with ``soundfile`` (libsndfile); resampling is
``soxr`` at "VHQ" quality (:func:`resample`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from codecfake_hf.errors import CodecFakeError

#: Official CodecFake post-processing: codec output clamped to +-0.99 before 16-bit quantisation.
OUTPUT_CLAMP = 0.99


class AudioError(CodecFakeError, ValueError):
    """A user-facing audio problem (missing, unreadable, empty or non-finite audio).

    The message always names the offending file (or ``<array>``) and says what to do.
    """


def _name(source: str | os.PathLike | None) -> str:
    return str(source) if source is not None else "<array>"


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Down-mix ``[T]`` or ``[T, channels]`` (soundfile layout) to mono ``[T]`` by averaging."""
    waveform = np.asarray(waveform)
    if waveform.ndim == 1:
        return waveform
    if waveform.ndim == 2:
        return waveform.mean(axis=1)
    raise AudioError(f"expected audio of shape [T] or [T, channels], got {waveform.shape}")


def validate_waveform(waveform: np.ndarray, source: str | os.PathLike | None = None) -> np.ndarray:
    """Return ``waveform`` as a mono float32 ``[T]`` array; raise :class:`AudioError` if it is
    empty or contains NaN/inf."""
    waveform = to_mono(np.asarray(waveform, dtype=np.float32))
    if waveform.size == 0:
        raise AudioError(f"{_name(source)}: the audio is empty (0 samples); remove or replace the file")
    if not np.isfinite(waveform).all():
        bad = int((~np.isfinite(waveform)).sum())
        raise AudioError(f"{_name(source)}: the audio has {bad} NaN/inf samples; re-export the file")
    return waveform


def load_audio(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32.

    Args:
        path: any format libsndfile reads (wav, flac, ogg, ...).
        sample_rate: if given, resample to this rate (Hz) with :func:`resample`.

    Returns:
        ``(waveform [T] float32, sample_rate_hz)``.

    Raises:
        AudioError: the file is missing, unreadable, empty or contains NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file; check the path")
    try:
        waveform, file_rate = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as error:  # libsndfile raises several types for corrupt files
        raise AudioError(f"{path}: cannot decode audio ({error}); the file is corrupt or not audio") from None
    waveform = validate_waveform(waveform, path)
    if sample_rate is not None and sample_rate != file_rate:
        waveform = resample(waveform, file_rate, sample_rate)
        file_rate = sample_rate
    return waveform, int(file_rate)


def decode_audio_bytes(data: bytes, source: str | None = None) -> tuple[np.ndarray, int]:
    """Decode an in-memory audio file (wav/flac/...) to mono float32 ``([T], sample_rate_hz)``."""
    try:
        waveform, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    except Exception as error:
        raise AudioError(f"{_name(source)}: cannot decode audio bytes ({error})") from None
    return validate_waveform(waveform, source), int(rate)


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample mono ``[T]`` (or ``[T, channels]``) float audio from ``orig_sr`` to ``target_sr`` Hz.

    The one resampler of the project (soxr, "VHQ"). It lives in
    :mod:`codecfake_hf.models.aasist.resampling`, a file every saved detector carries, so a folder
    loaded with ``trust_remote_code`` resamples exactly as this package does. Returns float32; a
    no-op copy when the rates are equal. Output length is ``T * target_sr / orig_sr`` rounded half up.
    """
    from codecfake_hf.models.aasist.resampling import resample as resample_with_detector_code

    if orig_sr <= 0 or target_sr <= 0:
        raise AudioError(f"invalid sample rates {orig_sr} -> {target_sr} Hz")
    return resample_with_detector_code(waveform, orig_sr, target_sr)


def peak_normalize(waveform: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so that ``max |x| == peak``; silent input (all zeros) is returned unchanged."""
    waveform = np.asarray(waveform, dtype=np.float32)
    current = float(np.abs(waveform).max()) if waveform.size else 0.0
    if current == 0.0:
        return waveform.copy()
    return (waveform * (peak / current)).astype(np.float32)


def clamp(waveform: np.ndarray, limit: float = OUTPUT_CLAMP) -> np.ndarray:
    """Clip samples to ``[-limit, limit]`` (no rescaling), as the official codec outputs were."""
    return np.clip(np.asarray(waveform, dtype=np.float32), -limit, limit)


def encode_audio(waveform: np.ndarray, sample_rate: int, format: str = "FLAC") -> bytes:
    """Encode mono float audio as a 16-bit PCM file in memory (``format`` "FLAC" or "WAV").

    Samples are clamped to +-0.99 first (official CodecFake post-processing), then quantised to
    16 bits by libsndfile.
    """
    buffer = io.BytesIO()
    sf.write(buffer, clamp(waveform), int(sample_rate), format=format, subtype="PCM_16")
    return buffer.getvalue()


def write_audio(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int) -> None:
    """Write mono float audio as 16-bit PCM (format from the file suffix), clamped to +-0.99."""
    sf.write(str(path), clamp(waveform), int(sample_rate), subtype="PCM_16")
