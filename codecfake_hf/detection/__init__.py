"""A saved detector run on audio: scoring waveforms or files (``detector``), reading them ahead in
threads (``read_ahead``) and its score calibration, an LLR map and an operating point
(``calibration``)."""
