"""The audio-classification pipeline that a saved AASIST folder names in ``config.custom_pipelines``.

``pipeline("audio-classification", model=folder, trust_remote_code=True)`` loads this class from
the folder. transformers' own ``AudioClassificationPipeline`` reads files with the ffmpeg binary and
needs torchaudio to resample ``{"raw": array, "sampling_rate": rate}`` input of another rate; this
subclass reads files (and bytes) with soundfile, down-mixes, and hands every clip *with its rate* to
the feature extractor, which resamples with the project's one resampler: the same path as
``codecfake detect``. Before scoring it refuses audio on which a verdict would mean nothing
(:func:`feature_extraction_aasist.check_judgeable`: silent, or shorter than 0.5 s).

This file travels with every saved detector: it imports numpy, transformers and its siblings;
soundfile only when a file or bytes are given.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np
from transformers.pipelines.audio_classification import AudioClassificationPipeline

from .feature_extraction_aasist import AudioInputError, as_mono, check_judgeable

#: What ``AasistForAudioClassification.save_pretrained`` writes into ``config.custom_pipelines``.
CUSTOM_PIPELINES = {
    "audio-classification": {
        "impl": "pipeline_aasist.AasistAudioClassificationPipeline",
        "pt": ["AutoModelForAudioClassification"],
        "type": "audio",
    }
}


def read_audio(source: str | bytes) -> tuple[np.ndarray, int]:
    """Decode a file path or in-memory file with soundfile: ``(mono float32 [T], rate_hz)``;
    channels (soundfile's ``[T, C]``) are averaged.

    Raises:
        ImportError: soundfile is not installed.
        AudioInputError: the file is missing or libsndfile cannot decode it.
    """
    try:
        import soundfile
    except ImportError:
        raise ImportError(
            "reading audio files needs soundfile (`pip install soundfile`); or pass "
            '{"raw": array, "sampling_rate": rate}'
        ) from None
    name = source if isinstance(source, str) else "<bytes>"
    if isinstance(source, str) and not os.path.isfile(source):
        raise AudioInputError(f"{source}: no such audio file; check the path")
    try:
        waveform, rate = soundfile.read(
            source if isinstance(source, str) else io.BytesIO(source), dtype="float32", always_2d=True
        )
    except Exception as error:  # libsndfile raises several types for corrupt or unknown files
        raise AudioInputError(
            f"{name}: cannot decode audio ({error}); pass a file libsndfile reads"
        ) from None
    return waveform.mean(axis=1), int(rate)


class AasistAudioClassificationPipeline(AudioClassificationPipeline):
    """``AudioClassificationPipeline`` for AASIST detectors, without ffmpeg or torchaudio.

    Inputs: a file path or URL, the bytes of a file, a ``[T]`` array or tensor at the model's rate
    (16 kHz; transformers' convention), ``{"raw" or "array": [T] or [C, T] / [T, C], "sampling_rate":
    Hz}`` at any rate, or a torchcodec ``AudioDecoder`` (what ``datasets`` returns). Output: the
    labels with softmax probabilities, as transformers' pipeline returns them.

    Raises:
        AudioInputError (a ValueError): unreadable, empty, non-finite, silent or too short audio.
    """

    def preprocess(self, inputs):
        name, rate = "<array>", self.feature_extractor.sampling_rate
        if isinstance(inputs, str) and inputs.startswith(("http://", "https://")):
            from huggingface_hub.utils import httpx

            name, inputs = inputs, httpx.get(inputs, follow_redirects=True).content
        if isinstance(inputs, (str, bytes)):
            name = inputs if isinstance(inputs, str) else name
            waveform, rate = read_audio(inputs)
        elif isinstance(inputs, dict):
            waveform = inputs.get("raw", inputs.get("array"))
            if waveform is None or "sampling_rate" not in inputs:
                raise ValueError(
                    'a dict input needs "raw" (or "array") holding the waveform and "sampling_rate" in Hz, '
                    f"got keys {sorted(inputs)}"
                )
            name, rate = inputs.get("path") or name, int(inputs["sampling_rate"])
        elif (torchcodec := sys.modules.get("torchcodec")) and isinstance(
            inputs, torchcodec.decoders.AudioDecoder
        ):
            samples = inputs.get_all_samples()
            waveform, rate = samples.data, int(samples.sample_rate)  # [C, T]
        else:
            waveform = inputs
        waveform = as_mono(waveform, name)
        check_judgeable(waveform, rate, name)
        processed = self.feature_extractor(
            waveform, sampling_rate=rate, return_tensors="pt", source_names=[name]
        )
        if self.dtype is not None:
            processed = processed.to(dtype=self.dtype)
        return processed
