"""Audio: reading, decoding, resampling and writing waveforms (``audio_io``), listing a folder of audio
files in the ``audiofolder`` convention (``audio_folder``), and torchaudio's default resampler
(``hann_sinc_resampling``).

``codecfake_hf.audio.resample`` is the project's one resampler (soxr "VHQ", or ``resampler=
"torchaudio"``), the name every built dataset's card cites; it is :func:`audio_io.resample`.
"""

from codecfake_hf.audio.audio_io import resample

__all__ = ["resample"]
