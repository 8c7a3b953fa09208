"""Audio: reading, decoding, resampling and writing waveforms (``audio_io``), listing a folder of audio
files in the ``audiofolder`` convention (``audio_folder``), and torchaudio's default resampler
(``hann_sinc_resampling``)."""
