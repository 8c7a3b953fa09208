"""Resynthesize one audio file through a registered codec (the ``codecfake resynthesize`` command)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from codecfake_hf.audio import check_output_file, load_audio, write_audio
from codecfake_hf.codecs.registry import load_codec
from codecfake_hf.errors import InputFileError


def resynthesize_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    codec_id: str,
    *,
    tiny: bool = False,
    checkpoint_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> tuple[np.ndarray, int]:
    """Read ``input_path`` (any rate, mixed to mono), run it through codec ``codec_id`` and write
    ``output_path`` (a new file, never replacing one) as 16-bit PCM at the codec's rate (format from
    the suffix, e.g. ``.flac``), clamped to +-0.99 as the official data.

    Args:
        tiny: use the tiny random-weight model of the family (offline demo) instead of the weights.
        checkpoint_dir: folder holding the checkpoint files (else the Hub cache / a download).
        device: torch device.

    Returns:
        ``(waveform [T] float32, sample_rate_hz)`` as written (before 16-bit quantisation).
    """
    output_path = Path(output_path)
    if not output_path.parent.is_dir():
        raise InputFileError(f"{output_path.parent}: output folder does not exist; create it first")
    check_output_file(output_path)
    waveform, rate = load_audio(input_path)
    codec = load_codec(
        codec_id, tiny=tiny, device=device, local_dir=None if checkpoint_dir is None else str(checkpoint_dir)
    )
    output = codec.resynthesize_one(waveform, rate)
    write_audio(output_path, output, codec.sample_rate)
    return output, codec.sample_rate
