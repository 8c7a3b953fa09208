"""The one place for audio I/O and sample-level helpers.

Everything in the project that reads, writes, resamples, down-mixes or clamps audio goes through
this module, so bona fide and spoof audio are treated identically (a detector must learn the codec,
not the resampler).

Conventions: waveforms are ``numpy.float32`` arrays, mono ``[T]`` (samples), values about [-1, 1];
sample rates are in Hz. Files are read and written with ``soundfile`` (libsndfile); resampling is
``soxr`` at "VHQ" quality (:func:`resample`), or for ``--recipe release`` training torchaudio's default
windowed sinc as the CodecFake release used it (``resample(..., resampler="torchaudio")``).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping
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


#: Frames (samples per channel) read at a time when a file is streamed.
BLOCK_FRAMES = 1 << 16


class AudioFile:
    """An audio file opened for reading as mono float32, whole (:meth:`read`) or in blocks (:meth:`blocks`).

    Formats libsndfile reads (wav, flac, ogg, mp3, aiff, ...) are read block by block, so memory does
    not grow with the file. Other formats FFmpeg decodes (m4a/AAC, mp4, wma, ...) go through
    ``torchcodec`` and are decoded whole: FFmpeg's range decoding is not sample-exact at its seek points.

    Opening checks what can be checked without decoding and raises :class:`AudioError` naming the file:
    missing, a directory, a format neither libsndfile nor FFmpeg reads, or a WAV file whose data chunk is
    shorter than its header says (a truncated copy or recording; libsndfile would silently return the
    samples that are there).

    Attributes:
        path: the file.
        sampling_rate: its sample rate (Hz).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise AudioError(
                f"{self.path}: is a directory, not an audio file; pass the files in it (e.g. {self.path}/*.wav)"
            )
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such audio file; check the path")
        self._decoded: np.ndarray | None = None  # FFmpeg-decoded mono audio
        try:
            info = sf.info(str(self.path))
        except Exception as libsndfile_error:  # libsndfile raises several types for unknown or corrupt files
            self._decoded, self.sampling_rate = _decode_with_ffmpeg(self.path, self.path, libsndfile_error)
            return
        self.sampling_rate = int(info.samplerate)
        if info.format in ("WAV", "WAVEX"):
            _check_wav_data_chunk(self.path)

    def blocks(self, block_frames: int | None = None) -> Iterator[np.ndarray]:
        """Mono float32 blocks ``[<= block_frames]`` (default :data:`BLOCK_FRAMES`; channels averaged)
        from the start of the file.

        Raises:
            AudioError: at the first block holding NaN/inf samples, or at the end if the file holds no
                sample.
        """
        seen = 0
        for block in self._raw_blocks(block_frames or BLOCK_FRAMES):
            block = to_mono(block)
            finite = np.isfinite(block)
            if not finite.all():
                first = (seen + int(np.argmin(finite))) / self.sampling_rate
                raise AudioError(
                    f"{self.path}: the audio has NaN/inf samples (the first at {first:.3f} s); re-export the file"
                )
            seen += block.shape[0]
            yield block
        if seen == 0:
            raise AudioError(f"{self.path}: the audio is empty (0 samples); remove or replace the file")

    def _raw_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        if self._decoded is not None:
            for start in range(0, self._decoded.shape[0], block_frames):
                yield self._decoded[start : start + block_frames]
            return
        try:
            yield from sf.blocks(str(self.path), blocksize=block_frames, dtype="float32", always_2d=True)
        except sf.LibsndfileError as error:
            raise AudioError(f"{self.path}: cannot decode audio ({error}); the file is corrupt") from None

    def read(self) -> np.ndarray:
        """The whole file as mono float32 ``[T]`` (the blocks of :meth:`blocks`, concatenated)."""
        return np.concatenate(list(self.blocks()))


def _decode_with_ffmpeg(
    source: Path | bytes, name: str | os.PathLike, libsndfile_error: Exception
) -> tuple[np.ndarray, int]:
    """Decode a file (or its bytes) that libsndfile cannot read with torchcodec (FFmpeg): mono float32
    ``[T]`` and its rate (Hz). ``name`` names it in the error."""
    try:
        from torchcodec.decoders import AudioDecoder

        samples = AudioDecoder(source if isinstance(source, bytes) else str(source)).get_all_samples()
    except Exception as ffmpeg_error:  # torchcodec raises RuntimeError/ValueError, or fails to load FFmpeg
        lines = str(ffmpeg_error).strip().splitlines() or [type(ffmpeg_error).__name__]
        reason = re.sub(r"^\w+, \S+:\d+, ", "", lines[0])  # drop torchcodec's "function, file.cpp:line, "
        raise AudioError(
            f"{name}: cannot decode audio (libsndfile: {libsndfile_error}; FFmpeg: {reason}); "
            "the file is corrupt or not audio"
        ) from None
    return samples.data.numpy().mean(axis=0, dtype=np.float32), int(samples.sample_rate)  # data: [C, T]


def _check_wav_data_chunk(path: Path) -> None:
    """Raise :class:`AudioError` if the ``data`` chunk of a RIFF/WAVE file is shorter than its header says.

    A size of 0 or 0xFFFFFFFF is a placeholder written when the length was not known (streamed
    output) and is not checked; neither are RF64 files, which keep their sizes elsewhere.
    """
    bytes_per_second = 0
    with path.open("rb") as handle:
        if handle.read(12)[:4] != b"RIFF":
            return
        while len(header := handle.read(8)) == 8:
            chunk, size = header[:4], int.from_bytes(header[4:], "little")
            if chunk == b"data":
                present = path.stat().st_size - handle.tell()
                if size in (0, 0xFFFFFFFF) or present >= size:
                    return
                seconds = (
                    f" ({present / bytes_per_second:.2f} of {size / bytes_per_second:.2f} s)"
                    if bytes_per_second
                    else ""
                )
                raise AudioError(
                    f"{path}: truncated WAV: its header announces {size:,} bytes of audio but the file holds "
                    f"{present:,}{seconds}, as after an interrupted copy or recording; copy it again, or keep "
                    f"what is there with `ffmpeg -i {path.name} repaired.wav` (which rewrites the header)"
                )
            if chunk == b"fmt ":  # wFormatTag, nChannels, nSamplesPerSec, nAvgBytesPerSec, ...
                bytes_per_second = int.from_bytes(handle.read(size)[8:12], "little")
                handle.seek(size % 2, os.SEEK_CUR)
            else:
                handle.seek(size + size % 2, os.SEEK_CUR)


def load_audio(path: str | os.PathLike, sampling_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file as mono float32.

    Args:
        path: any format libsndfile reads (wav, flac, ogg, mp3, ...) or FFmpeg decodes (m4a/AAC, mp4, ...).
        sampling_rate: if given, resample to this rate (Hz) with :func:`resample`.

    Returns:
        ``(waveform [T] float32, sample_rate_hz)``.

    Raises:
        AudioError: the file is missing, a directory, unreadable, truncated, empty, contains NaN/inf,
            or too short to give one sample at ``sampling_rate``.
    """
    audio = AudioFile(path)
    waveform, file_rate = audio.read(), audio.sampling_rate
    if sampling_rate is not None and sampling_rate != file_rate:
        resampled = resample(waveform, file_rate, sampling_rate)
        require_resampled(waveform.shape[0], resampled.shape[0], file_rate, sampling_rate, path)
        waveform = resampled
        file_rate = sampling_rate
    return waveform, int(file_rate)


def require_resampled(
    num_in: int,
    num_out: int,
    sampling_rate: int,
    target_sampling_rate: int,
    source: str | os.PathLike | None = None,
) -> None:
    """Raise :class:`AudioError` with the numbers when ``num_in > 0`` samples at ``sampling_rate`` Hz
    gave ``num_out == 0`` at ``target_sampling_rate`` Hz (rather than a later, puzzling "empty (0
    samples)")."""
    if num_out == 0 and num_in > 0:
        raise AudioError(
            f"{_name(source)}: too short: {num_in} sample(s) at {sampling_rate} Hz "
            f"({1000 * num_in / sampling_rate:.3g} ms) "
            f"give no sample at {target_sampling_rate} Hz; pass a longer recording"
        )


def resample_blocks(
    blocks: Iterable[np.ndarray],
    sampling_rate: int,
    target_sampling_rate: int,
    source: str | os.PathLike | None = None,
) -> Iterator[np.ndarray]:
    """Resample a stream of mono float32 blocks from ``sampling_rate`` to ``target_sampling_rate`` Hz.

    The concatenated output equals :func:`resample` of the concatenated input sample for sample (soxr
    "VHQ" in its streaming form), while holding only the resampler's state and one block.

    Raises:
        AudioError: the whole stream gave no output sample (see :func:`require_resampled`).
    """
    if int(sampling_rate) == int(target_sampling_rate):
        yield from blocks
        return
    if sampling_rate <= 0 or target_sampling_rate <= 0:
        raise AudioError(
            f"{_name(source)}: invalid sample rates {sampling_rate} -> {target_sampling_rate} Hz"
        )
    import soxr  # a dependency of this package; only the saved detector folders run without it

    stream = soxr.ResampleStream(
        int(sampling_rate), int(target_sampling_rate), 1, dtype="float32", quality="VHQ"
    )
    num_in = num_out = 0
    for block in blocks:
        num_in += block.shape[0]
        resampled = stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32))
        num_out += resampled.shape[0]
        if resampled.shape[0]:
            yield resampled
    tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
    require_resampled(num_in, num_out + tail.shape[0], sampling_rate, target_sampling_rate, source)
    if tail.shape[0]:
        yield tail


def decode_audio_bytes(data: bytes, source: str | None = None) -> tuple[np.ndarray, int]:
    """Decode an in-memory audio file to mono float32 ``([T], sample_rate_hz)``: what libsndfile reads
    (wav/flac/...), else through torchcodec (FFmpeg: m4a/AAC, mp4, ...)."""
    try:
        waveform, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    except Exception as libsndfile_error:
        waveform, rate = _decode_with_ffmpeg(data, _name(source), libsndfile_error)
    return validate_waveform(waveform, source), int(rate)


#: Values of ``resampler``: the project's resampler (soxr "VHQ"), or torchaudio's default windowed sinc
#: as the CodecFake release's training loader used it (:mod:`codecfake_hf.audio.hann_sinc_resampling`).
RESAMPLERS = ("soxr", "torchaudio")


def read_audio_value(audio: Mapping, name: str | None = None) -> tuple[np.ndarray, int]:
    """Decode one ``Audio(decode=False)`` value (``{"bytes", "path"}``) at its own rate: mono float32
    ``([T], sampling_rate_hz)``; ``name`` names it in errors (default: its path).

    Raises:
        AudioError: the audio cannot be decoded, is empty or non-finite, or the value holds neither.
    """
    source = name or audio.get("path") or "<embedded audio>"
    if audio.get("bytes"):
        return decode_audio_bytes(audio["bytes"], source)
    if audio.get("path"):
        return load_audio(audio["path"])
    raise AudioError(f"{source}: the audio value has neither bytes nor a path")


def resample(
    waveform: np.ndarray, sampling_rate: int, target_sampling_rate: int, resampler: str = "soxr"
) -> np.ndarray:
    """Resample mono ``[T]`` (or ``[T, channels]``) float audio from ``sampling_rate`` to
    ``target_sampling_rate`` Hz.

    ``resampler="soxr"`` is the one resampler of the project (soxr, "VHQ"). It lives in
    :mod:`codecfake_hf.models.aasist.resampling`, a file every saved detector carries, so a folder
    loaded with ``trust_remote_code`` resamples exactly as this package does; output length is
    ``T * target_sampling_rate / sampling_rate`` rounded half up. ``resampler="torchaudio"`` is
    torchaudio's default resampler (Hann-windowed sinc), which ``--recipe release`` trains with
    (:func:`codecfake_hf.audio.hann_sinc_resampling.hann_sinc_resample`; length rounded up). Returns
    float32; a no-op copy when the rates are equal.
    """
    if sampling_rate <= 0 or target_sampling_rate <= 0:
        raise AudioError(f"invalid sample rates {sampling_rate} -> {target_sampling_rate} Hz")
    if resampler == "torchaudio":
        from codecfake_hf.audio.hann_sinc_resampling import hann_sinc_resample

        return hann_sinc_resample(waveform, sampling_rate, target_sampling_rate)
    if resampler != "soxr":
        raise ValueError(f"unknown resampler {resampler!r}; choose one of {', '.join(RESAMPLERS)}")
    from codecfake_hf.models.aasist.resampling import resample as resample_with_detector_code

    return resample_with_detector_code(waveform, sampling_rate, target_sampling_rate)


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


def encode_audio(waveform: np.ndarray, sampling_rate: int, format: str = "FLAC") -> bytes:
    """Encode mono float audio as a 16-bit PCM file in memory (``format`` "FLAC" or "WAV").

    Samples are clamped to +-0.99 first (official CodecFake post-processing), then quantised to
    16 bits by libsndfile.
    """
    buffer = io.BytesIO()
    sf.write(buffer, clamp(waveform), int(sampling_rate), format=format, subtype="PCM_16")
    return buffer.getvalue()


def check_output_file(path: str | os.PathLike) -> None:
    """Check, before any work, that :func:`write_audio` can create ``path``: a new file whose suffix
    names a format that holds 16-bit PCM (``.wav``, ``.flac``, ``.aiff``, ...).

    Raises:
        AudioError: ``path`` already exists (it is never replaced) or its suffix names no such format.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise AudioError(
            f"{path}: already exists; nothing was written: remove it or choose another output file"
        )
    if not sf.check_format(path.suffix.lstrip(".").upper(), "PCM_16"):
        raise AudioError(
            f"{path}: cannot write 16-bit audio to a {path.suffix or 'suffix-less'} file; name the output "
            ".wav or .flac"
        )


def write_audio(path: str | os.PathLike, waveform: np.ndarray, sampling_rate: int) -> None:
    """Write mono float audio as 16-bit PCM (format from the file suffix), clamped to +-0.99."""
    sf.write(str(path), clamp(waveform), int(sampling_rate), subtype="PCM_16")
