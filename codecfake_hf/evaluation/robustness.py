"""Robustness to ordinary compression: does the detector still accept real speech sent as an MP3,
an Opus voice message or a phone call?

A codec-deepfake detector can learn "lossy codec artefacts = fake"; then an MP3 of a real voice is
flagged as fake and the detector is useless. This module builds evaluation sets in which bona fide
(and spoof) audio went through ordinary lossy codecs, and reports per condition:

- ``eer``: the condition's own EER (``codecfake_hf.metrics.compute_eer``, labels 1 = bona fide);
- ``bonafide_frr_at_clean``: fraction of bona fide trials rejected at the threshold that gives the
  EER on the clean condition (the operating point a deployed detector would keep);
- ``spoof_far_at_clean``: fraction of spoof trials accepted at that threshold;
- ``n_bonafide``, ``n_spoof``: trial counts.

Conditions (:data:`CONDITIONS`): ``clean``; MP3 (LAME) and Opus (libopus) at 16, 32 and 64 kbit/s
through the ``ffmpeg`` binary; ``tel-8k``, an 8 kHz narrowband channel (resampled down and back
with ``codecfake_hf.audio.resample``); ``g711-8k``, the same plus G.711 mu-law (8-bit) quantisation
by libsndfile. Opus codes at 8/12/16/24/48 kHz; other input rates are converted inside FFmpeg,
identically for bona fide and spoof. Every processed file is decoded, resampled back to its own rate with the project's
resampler, cut or zero-padded to its original length and written as 16-bit FLAC, so the detector
reads every condition the same way.

Layout written by :func:`make_conditions` (input: a folder with ``bonafide/`` and ``spoof/``)::

    out_dir/conditions.json            what each condition did
    out_dir/<condition>/bonafide/...   same relative paths as the input, suffix .flac
    out_dir/<condition>/spoof/...

Scoring uses any ``score_fn(waveforms: list[np.ndarray], sampling_rate: int) -> np.ndarray`` (higher
= more bona fide, AASIST's ``logits[:, 1]``); :class:`codecfake_hf.detection.detector.Detector` is one, for a saved
``transformers`` audio-classification model (AASIST, or any other).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from tqdm.auto import tqdm

from codecfake_hf.audio.audio_io import load_audio, resample, validate_waveform, write_audio
from codecfake_hf.data.labels import BONAFIDE, LABEL_NAMES, SPOOF
from codecfake_hf.data.loading import folder_dataset, load_waveform
from codecfake_hf.errors import CodecFakeError
from codecfake_hf.metrics import compute_eer

#: ``score_fn(waveforms [T_i] float32, sampling_rate Hz) -> scores [N]`` (higher = more bona fide).
ScoreFn = Callable[[list[np.ndarray], int], np.ndarray]

LABEL_FOLDERS = {LABEL_NAMES[label]: label for label in (BONAFIDE, SPOOF)}


class RobustnessError(CodecFakeError, ValueError):
    """A user-facing problem: unknown condition, missing FFmpeg, an unusable conditions folder."""


@dataclass(frozen=True)
class Condition:
    """One transmission condition.

    Attributes:
        name: folder name ("mp3-32").
        kind: "clean", "ffmpeg" (lossy codec through the ffmpeg binary) or "narrowband".
        description: what it does, in words (written to ``conditions.json``).
        encoder: FFmpeg audio encoder ("libmp3lame", "libopus"), for kind "ffmpeg".
        container: file suffix of the encoded file ("mp3", "opus").
        kbps: target bitrate in kbit/s.
        max_rate: encode at no more than this rate (Hz), resampling first (MP3 below 32 kbit/s
            needs MPEG-2 rates, <= 24 kHz; LAME would silently raise the bitrate otherwise).
        mulaw: G.711 mu-law quantisation, for kind "narrowband".
    """

    name: str
    kind: str
    description: str
    encoder: str | None = None
    container: str | None = None
    kbps: int | None = None
    max_rate: int | None = None
    mulaw: bool = False


def _lossy(codec: str, encoder: str, container: str, kbps: int) -> Condition:
    max_rate = 24000 if codec == "mp3" and kbps < 32 else None
    note = f", encoded at <= {max_rate} Hz" if max_rate else ""
    return Condition(
        name=f"{codec}-{kbps}",
        kind="ffmpeg",
        description=f"{codec.upper()} ({encoder}) at {kbps} kbit/s CBR target{note}",
        encoder=encoder,
        container=container,
        kbps=kbps,
        max_rate=max_rate,
    )


#: Every supported condition, by name, in report order.
CONDITIONS: dict[str, Condition] = {
    condition.name: condition
    for condition in (
        Condition("clean", "clean", "unchanged (16-bit FLAC at the input rate)"),
        *(_lossy("mp3", "libmp3lame", "mp3", kbps) for kbps in (16, 32, 64)),
        *(_lossy("opus", "libopus", "opus", kbps) for kbps in (16, 32, 64)),
        Condition("tel-8k", "narrowband", "8 kHz narrowband: resampled to 8 kHz and back", max_rate=8000),
        Condition(
            "g711-8k",
            "narrowband",
            "telephone G.711: 8 kHz, mu-law 8-bit, and back",
            max_rate=8000,
            mulaw=True,
        ),
    )
}


def get_conditions(names: Sequence[str] | str | None = None) -> list[Condition]:
    """Conditions by name (a list or a comma-separated string; default all), ``clean`` always
    first (the report's reference). Raises :class:`RobustnessError` naming the supported ones."""
    if names is None:
        names = list(CONDITIONS)
    elif isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONDITIONS]
    if unknown:
        raise RobustnessError(
            f"unsupported condition(s) {', '.join(unknown)}; supported: {', '.join(CONDITIONS)}"
        )
    return [CONDITIONS["clean"]] + [CONDITIONS[name] for name in dict.fromkeys(names) if name != "clean"]


def ffmpeg_binary() -> str:
    """Path of the ``ffmpeg`` executable, or :class:`RobustnessError` saying how to install it."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise RobustnessError(
            "the MP3/Opus conditions need the ffmpeg program, which is not on PATH; install it "
            "(Debian/Ubuntu: apt-get install -y ffmpeg) or choose only clean, tel-8k, g711-8k"
        )
    return path


def _run_ffmpeg(arguments: list[str], stdin: bytes | None = None) -> None:
    command = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *arguments]
    result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise RobustnessError(f"ffmpeg failed ({' '.join(command[6:])}): {message[-1] if message else '?'}")


def _fit(waveform: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad ``waveform`` to ``length`` samples."""
    if len(waveform) >= length:
        return waveform[:length]
    return np.pad(waveform, (0, length - len(waveform)))


def apply_condition(waveform: np.ndarray, sampling_rate: int, condition: Condition | str) -> np.ndarray:
    """Pass mono float audio ``[T]`` at ``sampling_rate`` Hz through ``condition``.

    Returns float32 ``[T]`` at ``sampling_rate`` (same length as the input).
    """
    condition = get_conditions([condition])[-1] if isinstance(condition, str) else condition
    waveform = validate_waveform(waveform)
    length = len(waveform)
    if condition.kind == "clean":
        return waveform.copy()
    rate = min(sampling_rate, condition.max_rate) if condition.max_rate else sampling_rate
    coded = resample(waveform, sampling_rate, rate)
    if condition.kind == "narrowband":
        if condition.mulaw:
            buffer = io.BytesIO()
            sf.write(buffer, np.clip(coded, -1.0, 1.0), rate, format="WAV", subtype="ULAW")
            coded, _ = sf.read(io.BytesIO(buffer.getvalue()), dtype="float32")
        return _fit(resample(coded, rate, sampling_rate), length)
    source = io.BytesIO()
    sf.write(source, np.clip(coded, -1.0, 1.0), rate, format="WAV", subtype="FLOAT")
    with tempfile.TemporaryDirectory(prefix="codecfake_robustness_") as scratch:
        encoded = Path(scratch) / f"coded.{condition.container}"
        decoded = Path(scratch) / "decoded.wav"
        # a seekable output file lets the muxer write the encoder delay / padding, so decoding is gapless
        _run_ffmpeg(
            [
                "-f",
                "wav",
                "-i",
                "pipe:0",
                "-c:a",
                condition.encoder,
                "-b:a",
                f"{condition.kbps}k",
                str(encoded),
            ],
            stdin=source.getvalue(),
        )
        _run_ffmpeg(["-i", str(encoded), "-c:a", "pcm_f32le", str(decoded)])
        coded, decoded_rate = load_audio(decoded)
    return _fit(resample(coded, decoded_rate, sampling_rate), length)


def _input_items(
    source: str | os.PathLike | Mapping[str, Sequence[np.ndarray]], sampling_rate: int | None
) -> list[tuple[str, int, Callable[[], tuple[np.ndarray, int]]]]:
    """``(relative output path without suffix, label, loader)`` for every input utterance."""
    if isinstance(source, Mapping):
        if sampling_rate is None:
            raise RobustnessError("arrays need their sampling_rate (Hz)")
        if set(source) != set(LABEL_FOLDERS) or not all(len(source[key]) for key in LABEL_FOLDERS):
            raise RobustnessError(
                f"array input needs non-empty 'bonafide' and 'spoof' lists, got {sorted(source)}"
            )
        return [
            (
                f"{folder}/{index:05d}",
                LABEL_FOLDERS[folder],
                lambda w=waveform: (np.asarray(w), sampling_rate),
            )
            for folder, waveforms in source.items()
            for index, waveform in enumerate(waveforms)
        ]
    dataset = folder_dataset(source)
    root = Path(source)
    items = [
        (str(Path(relative).with_suffix("")), label, lambda p=root / relative: load_audio(p))
        for relative, label in zip(dataset["utterance_id"], dataset["label"])
    ]
    clashes = sorted(stem for stem, count in Counter(stem for stem, _, _ in items).items() if count > 1)
    if clashes:
        raise RobustnessError(
            f"{root}: files differing only in suffix would share one output ({', '.join(clashes[:5])}.*); rename them"
        )
    return items


def make_conditions(
    source: str | os.PathLike | Mapping[str, Sequence[np.ndarray]],
    out_dir: str | os.PathLike,
    conditions: Sequence[str] | str | None = None,
    sampling_rate: int | None = None,
    progress: bool = True,
) -> Path:
    """Write one copy of ``source`` per condition under ``out_dir`` (layout in the module docstring).

    Args:
        source: a folder with ``bonafide/`` and ``spoof/`` subfolders of audio files (any rate; each
            file is processed at its own rate), or ``{"bonafide": [arrays], "spoof": [arrays]}``
            of mono float arrays at ``sampling_rate`` (written as ``00000.flac``, ...).
        out_dir: output folder (created; existing condition folders are overwritten file by file).
        conditions: names from :data:`CONDITIONS` (list or comma-separated); default all.
            ``clean`` is always included.
        sampling_rate: rate (Hz) of array input.
        progress: show a progress bar.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        RobustnessError: unsupported condition, ffmpeg missing for MP3/Opus, bad array input.
        FileNotFoundError / AudioError: the input folder or one of its files is unusable.
    """
    chosen = get_conditions(conditions)
    if any(condition.kind == "ffmpeg" for condition in chosen):
        ffmpeg_binary()  # fail before any work
    items = _input_items(source, sampling_rate)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"conditions": [asdict(condition) for condition in chosen]}
    (out_dir / "conditions.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for relative, _, loader in tqdm(items, desc="conditions", unit="file", disable=not progress):
        waveform, rate = loader()
        for condition in chosen:
            target = out_dir / condition.name / f"{relative}.flac"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_audio(target, apply_condition(waveform, rate, condition), rate)
    return out_dir


def _condition_names(conditions_dir: Path) -> list[str]:
    manifest = conditions_dir / "conditions.json"
    if not manifest.is_file():
        raise RobustnessError(f"{conditions_dir}: no conditions.json; create the folder with make_conditions")
    names = [condition["name"] for condition in json.loads(manifest.read_text())["conditions"]]
    if "clean" not in names:
        raise RobustnessError(f"{manifest}: the clean condition (the reference threshold) is missing")
    return names


def score_conditions(
    score_fn: ScoreFn,
    conditions_dir: str | os.PathLike,
    sampling_rate: int = 16000,
    batch_size: int = 32,
    progress: bool = True,
) -> pd.DataFrame:
    """Score every file of every condition.

    Args:
        score_fn: ``(waveforms, sampling_rate) -> scores`` (higher = more bona fide).
        conditions_dir: the ``out_dir`` of :func:`make_conditions`.
        sampling_rate: rate (Hz) the files are resampled to before ``score_fn`` (the detector's).
        batch_size: waveforms per ``score_fn`` call.
        progress: show a progress bar.

    Returns:
        Long DataFrame: ``condition``, ``utterance_id`` (path inside the condition), ``label``
        (1 bona fide, 0 spoof), ``score``.
    """
    conditions_dir = Path(conditions_dir)
    frames = []
    for name in _condition_names(conditions_dir):
        dataset = folder_dataset(conditions_dir / name)
        scores: list[float] = []
        for start in tqdm(
            range(0, len(dataset), batch_size), desc=f"scoring {name}", unit="batch", disable=not progress
        ):
            rows = dataset[start : start + batch_size]
            waveforms = [load_waveform(audio, sampling_rate) for audio in rows["audio"]]
            batch_scores = np.asarray(score_fn(waveforms, sampling_rate), dtype=np.float64).reshape(-1)
            if batch_scores.shape != (len(waveforms),):
                raise RobustnessError(
                    f"score_fn returned {batch_scores.size} scores for {len(waveforms)} waveforms"
                )
            scores.extend(batch_scores.tolist())
        frames.append(
            pd.DataFrame(
                {
                    "condition": name,
                    "utterance_id": dataset["utterance_id"],
                    "label": dataset["label"],
                    "score": scores,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def summarize_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per-condition EER, bona fide false rejections and spoof false acceptances at the clean EER
    threshold, and counts, from the long DataFrame of :func:`score_conditions` (a row per
    condition, in the input order; rates are fractions)."""
    clean = scores[scores["condition"] == "clean"]
    _, clean_threshold = compute_eer(clean["score"].to_numpy(), clean["label"].to_numpy())
    rows = []
    for name, group in scores.groupby("condition", sort=False):
        labels, values = group["label"].to_numpy(), group["score"].to_numpy()
        bona, spoof = values[labels == BONAFIDE], values[labels == SPOOF]
        rows.append(
            {
                "condition": name,
                "eer": compute_eer(values, labels)[0],
                "bonafide_frr_at_clean": float((bona <= clean_threshold).mean()),
                "spoof_far_at_clean": float((spoof > clean_threshold).mean()),
                "n_bonafide": int(bona.size),
                "n_spoof": int(spoof.size),
            }
        )
    return pd.DataFrame(rows)


def robustness_report(
    score_fn: ScoreFn,
    conditions_dir: str | os.PathLike,
    sampling_rate: int = 16000,
    batch_size: int = 32,
    progress: bool = True,
) -> pd.DataFrame:
    """Score a :func:`make_conditions` folder and summarise it (columns in the module docstring).

    A detector is decided bona fide where ``score > threshold`` (``codecfake_hf.metrics.decisions``);
    the threshold is the clean condition's EER threshold.
    """
    return summarize_scores(score_conditions(score_fn, conditions_dir, sampling_rate, batch_size, progress))
