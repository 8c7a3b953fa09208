"""Feature extractor for AASIST: raw 16 kHz mono waveform windows of a fixed length.

AASIST has no spectral features or normalisation: the "features" are the samples themselves,
cut to windows of ``num_samples`` (64,600 = about 4.04 s). Three window modes:

- ``"first"`` (evaluation, the official protocol, deterministic): the first ``num_samples`` samples;
  shorter audio is repeat-padded (the waveform tiled end to end, then cut). Never zero-padded.
- ``"random"`` (training): a random window of longer audio, its start uniform over
  ``0 .. T - num_samples - 1`` as AASIST's (clovaai/aasist) and the CodecFake release's loaders
  draw it (``np.random.randint(T - num_samples)``: the window ending on the last sample is never drawn);
  audio of exactly ``num_samples`` is used whole (as the CodecFake release; AASIST's own loader
  raises there); shorter audio is repeat-padded.
- ``"full"`` (evaluation of long recordings, deterministic): consecutive non-overlapping windows
  covering the whole recording, the last one aligned to the end (it may overlap the one before), so
  no sample is dropped and nothing is padded; audio up to ``num_samples`` gives one repeat-padded
  window. The output then has one row per window and ``num_windows`` per input; combine the window
  logits of an utterance with :func:`aggregate_window_logits` (mean of the logits).

Windows are made from any clip that has at least one finite sample (the official protocol scores
every trial). A *verdict* on one recording is another matter: :func:`check_judgeable` refuses
digital silence and clips shorter than :data:`MIN_VERDICT_SECONDS`, on which AASIST still answers
"bonafide" with confidence; ``codecfake detect`` and the saved folder's pipeline apply it.

This file travels with every saved detector (``trust_remote_code``): it imports only numpy, torch,
transformers and its sibling ``resampling.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import BatchFeature, SequenceFeatureExtractor

from .resampling import resample

WINDOW_MODES = ("first", "random", "full")


#: Shortest recording (seconds) that gets a verdict. AASIST-L turns shorter audio into a loop of
#: itself (4.04 s windows, repeat-padded); one temporal graph node spans about 0.14 s, so 0.5 s is
#: a few nodes of real content, about one short word. See the project's docs/detection.md ("Silent or too short audio").
MIN_VERDICT_SECONDS = 0.5
#: Peak amplitude (full scale = 1.0) below which a recording is silent: -60 dBFS.
SILENCE_PEAK = 1e-3


class AudioInputError(ValueError):
    """Audio the detector cannot take (empty, non-finite, wrongly shaped) or cannot judge (silent,
    too short). The message names the clip and says what to do."""


def as_mono(waveform, source: str = "<array>") -> np.ndarray:
    """One clip as a float32 mono ``[T]`` array: ``[T]`` is kept, ``[T, C]`` or ``[C, T]`` (the
    shorter axis is taken as channels) is averaged over the channels.

    Raises:
        AudioInputError: more than two dimensions, no samples, or NaN/inf samples.
    """
    if isinstance(waveform, torch.Tensor):
        waveform = waveform.detach().cpu().numpy()
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim == 2:
        waveform = waveform.mean(axis=1 if waveform.shape[0] >= waveform.shape[1] else 0)
    if waveform.ndim != 1:
        raise AudioInputError(f"{source}: expected audio of shape [T] or [T, channels], got {waveform.shape}")
    if waveform.size == 0:
        raise AudioInputError(f"{source}: the audio is empty (0 samples); remove or replace it")
    if not np.isfinite(waveform).all():
        bad = int((~np.isfinite(waveform)).sum())
        raise AudioInputError(f"{source}: the audio has {bad} NaN/inf samples; re-export it")
    return waveform


def check_judgeable(waveform: np.ndarray, sampling_rate: int, source: str = "<array>") -> None:
    """Refuse a mono recording ``[T]`` at ``sampling_rate`` Hz on which a verdict would mean nothing.

    Raises:
        AudioInputError: shorter than :data:`MIN_VERDICT_SECONDS`, or its peak is below
            :data:`SILENCE_PEAK` (-60 dBFS; all zeros is digital silence).
    """
    peak = float(np.abs(waveform).max()) if waveform.size else 0.0
    check_judgeable_summary(waveform.shape[0], peak, sampling_rate, source)


def check_judgeable_summary(
    num_samples: int, peak: float, sampling_rate: int, source: str = "<array>"
) -> None:
    """:func:`check_judgeable` from a recording's length (``num_samples`` at ``sampling_rate`` Hz) and
    its peak ``max |x|``, for audio that is read in blocks."""
    seconds = num_samples / sampling_rate
    if seconds < MIN_VERDICT_SECONDS:
        raise AudioInputError(
            f"{source}: the audio lasts {seconds:.3f} s, too short to judge; a verdict needs at least "
            f"{MIN_VERDICT_SECONDS} s"
        )
    if peak < SILENCE_PEAK:
        level = (
            "digital silence (every sample is 0)"
            if peak == 0
            else f"silent (peak {20 * np.log10(peak):.0f} dBFS)"
        )
        raise AudioInputError(
            f"{source}: the audio is {level}, below -60 dBFS there is nothing to judge; if it is a real "
            "but very quiet recording, raise its level (normalise it) and try again"
        )


def repeat_pad(waveform: np.ndarray, length: int) -> np.ndarray:
    """Tile ``waveform [T]`` end to end and cut it to ``length`` samples (``T >= 1``)."""
    return np.tile(waveform, length // waveform.shape[0] + 1)[:length]


def window_starts(
    num_total: int, length: int, mode: str, rng: np.random.Generator | None = None
) -> list[int]:
    """Start samples of the windows of ``length`` samples taken from audio of ``num_total`` samples.

    Audio not longer than ``length`` always gives ``[0]`` (it is repeat-padded later). A random start
    is uniform over ``0 .. num_total - length - 1`` (``randint(num_total - length)`` in AASIST's and
    the CodecFake release's loaders).
    """
    if num_total <= length or mode == "first":
        return [0]
    if mode == "random":
        rng = rng if rng is not None else np.random.default_rng()
        return [int(rng.integers(0, num_total - length))]
    num_windows = -(-num_total // length)
    return [*range(0, (num_windows - 1) * length, length), num_total - length]


def aggregate_window_logits(logits: torch.Tensor, num_windows: list[int] | torch.Tensor) -> torch.Tensor:
    """Mean of the window logits of each utterance: ``[sum(num_windows), C]`` -> ``[len(num_windows), C]``."""
    counts = [int(count) for count in num_windows]
    return torch.stack([chunk.mean(dim=0) for chunk in torch.split(logits, counts)])


class AasistFeatureExtractor(SequenceFeatureExtractor):
    r"""Turn waveforms into AASIST's ``input_values [N, num_samples]`` (float32, 16 kHz mono).

    Input of any sample rate is resampled (:func:`resampling.resample`, the project's one
    resampler); multi-channel input is averaged to mono; empty or non-finite input raises
    :class:`AudioInputError`.

    Args:
        sampling_rate (`int`, defaults to 16000): the model's rate (Hz).
        num_samples (`int`, defaults to 64600): window length in samples.
        mode (`str`, defaults to `"first"`): default window mode, see the module docstring.
    """

    model_input_names = ["input_values"]

    def __init__(
        self,
        feature_size: int = 1,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        num_samples: int = 64600,
        mode: str = "first",
        **kwargs,
    ):
        super().__init__(
            feature_size=feature_size, sampling_rate=sampling_rate, padding_value=padding_value, **kwargs
        )
        if mode not in WINDOW_MODES:
            raise ValueError(f"unknown window mode {mode!r}; choose one of {', '.join(WINDOW_MODES)}")
        self.num_samples = num_samples
        self.mode = mode

    def _as_waveforms(self, raw_speech) -> list[np.ndarray]:
        """A batch as a list of arrays: a 1-D array or list of floats is one clip; a 2-D array is a
        batch ``[B, T]``; a list holds clips ``[T]`` or multi-channel ``[T, C]`` / ``[C, T]``."""
        if isinstance(raw_speech, torch.Tensor):
            raw_speech = raw_speech.detach().cpu().numpy()
        if isinstance(raw_speech, np.ndarray):
            return [raw_speech] if raw_speech.ndim <= 1 else list(raw_speech)
        if len(raw_speech) > 0 and np.isscalar(raw_speech[0]):
            return [np.asarray(raw_speech)]
        return [np.asarray(item.cpu() if isinstance(item, torch.Tensor) else item) for item in raw_speech]

    def prepare(self, waveform: np.ndarray, sampling_rate: int, source: str) -> np.ndarray:
        """One clip as validated mono float32 at ``self.sampling_rate`` (see :func:`as_mono`)."""
        waveform = as_mono(waveform, source)
        if sampling_rate != self.sampling_rate:
            waveform = resample(waveform, sampling_rate, self.sampling_rate)
        return waveform

    def __call__(
        self,
        raw_speech,
        sampling_rate: int | None = None,
        mode: str | None = None,
        return_tensors: str | None = None,
        seed: int | np.random.Generator | None = None,
        source_names: list[str] | None = None,
        **kwargs,
    ) -> BatchFeature:
        """Window a clip or a batch of clips.

        Args:
            raw_speech: one clip (``[T]`` array, list of floats, tensor) or a batch (list of clips,
                ``[B, T]`` array). List items may be multi-channel (``[T, C]`` or ``[C, T]``).
            sampling_rate: rate (Hz) of ``raw_speech``; resampled when it differs from 16 kHz.
                ``None`` means it is already at the model's rate.
            mode: ``"first"``, ``"random"`` or ``"full"`` (default: ``self.mode``).
            return_tensors: ``"pt"``, ``"np"`` or ``None`` (lists).
            seed: seed or generator for ``"random"`` windows.
            source_names: names used in error messages (e.g. file paths), one per clip.

        Returns:
            ``BatchFeature`` with ``input_values [N, num_samples]`` and, in ``"full"`` mode,
            ``num_windows [B]`` (``N = sum(num_windows)``; ``N = B`` in the other modes).
        """
        mode = mode or self.mode
        if mode not in WINDOW_MODES:
            raise ValueError(f"unknown window mode {mode!r}; choose one of {', '.join(WINDOW_MODES)}")
        rate = self.sampling_rate if sampling_rate is None else int(sampling_rate)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        waveforms = self._as_waveforms(raw_speech)
        names = source_names or [f"<array {index}>" for index in range(len(waveforms))]
        windows, counts = [], []
        for waveform, name in zip(waveforms, names):
            waveform = self.prepare(waveform, rate, name)
            starts = window_starts(waveform.shape[0], self.num_samples, mode, rng)
            for start in starts:
                windows.append(repeat_pad(waveform[start : start + self.num_samples], self.num_samples))
            counts.append(len(starts))
        data = {"input_values": np.stack(windows)}
        if mode == "full":
            data["num_windows"] = np.asarray(counts, dtype=np.int64)
        return BatchFeature(data, tensor_type=return_tensors)


AasistFeatureExtractor.register_for_auto_class(
    "AutoFeatureExtractor"
)  # class-local: save_pretrained writes auto_map
