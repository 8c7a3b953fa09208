"""A synthetic VCTK-shaped corpus (tests, benchmarks, offline demos): same folder layout, speaker
ids, transcripts and 48 kHz audio as VCTK 0.92 or 0.80, with short harmonic "voiced" clips."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from codecfake_hf.audio.audio_io import write_audio

#: The split speakers (validation p226, p229; test p227, p228), two train speakers, and p315, the
#: VCTK speaker without transcripts.
DEFAULT_SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p230", "p315")
UNTRANSCRIBED_SPEAKERS = ("p315",)
SAMPLE_RATE = 48000


def make_synthetic_vctk(
    root: str | os.PathLike,
    layout: str = "0.92",
    speakers: tuple[str, ...] = DEFAULT_SPEAKERS,
    utterances_per_speaker: int = 3,
    seconds: tuple[float, float] = (0.3, 1.0),
    seed: int = 0,
) -> Path:
    """Write a VCTK-shaped corpus under ``root`` and return ``root``.

    Args:
        layout: "0.92" (``wav48_silence_trimmed/<spk>/<utt>_mic{1,2}.flac``) or "0.80"
            (``wav48/<spk>/<utt>.wav``).
        speakers: speaker ids; those in :data:`UNTRANSCRIBED_SPEAKERS` get no ``txt/`` files.
        utterances_per_speaker: clips per speaker, ids ``<spk>_001``, ...
        seconds: clip durations are drawn uniformly from this range (seconds).
    """
    if layout not in ("0.92", "0.80"):
        raise ValueError(f"unknown VCTK layout {layout!r}; use 0.92 or 0.80")
    root = Path(root)
    rng = np.random.default_rng(seed)
    audio_dir = root / ("wav48_silence_trimmed" if layout == "0.92" else "wav48")
    info = ["ID  AGE  GENDER  ACCENTS  REGION"]
    for number, speaker in enumerate(speakers):
        (audio_dir / speaker).mkdir(parents=True, exist_ok=True)
        info.append(
            f"{speaker if layout == '0.92' else speaker.lstrip('p')}  {20 + number}  F  English  Region{number}"
        )
        for index in range(1, utterances_per_speaker + 1):
            utterance = f"{speaker}_{index:03d}"
            length = int(rng.uniform(*seconds) * SAMPLE_RATE)
            time = np.arange(length) / SAMPLE_RATE
            pitch = rng.uniform(90, 250)
            voiced = sum(np.sin(2 * np.pi * pitch * k * time + rng.uniform(0, 6.3)) / k for k in range(1, 6))
            waveform = (0.2 * voiced * np.hanning(length) + 0.005 * rng.standard_normal(length)).astype(
                np.float32
            )
            if layout == "0.92":
                for mic, gain in (("mic1", 1.0), ("mic2", 0.8)):
                    write_audio(audio_dir / speaker / f"{utterance}_{mic}.flac", gain * waveform, SAMPLE_RATE)
            else:
                write_audio(audio_dir / speaker / f"{utterance}.wav", waveform, SAMPLE_RATE)
            if speaker not in UNTRANSCRIBED_SPEAKERS:
                (root / "txt" / speaker).mkdir(parents=True, exist_ok=True)
                (root / "txt" / speaker / f"{utterance}.txt").write_text(f"Sentence {index} of {speaker}.\n")
    (root / "speaker-info.txt").write_text("\n".join(info) + "\n")
    return root
