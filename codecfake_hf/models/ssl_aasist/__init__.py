"""SSL-AASIST (wav2vec 2.0 / XLS-R front end + AASIST back end) as a transformers model.

Importing this package registers the classes with ``AutoConfig`` and ``AutoModelForAudioClassification``
(model type ``"ssl_aasist"``), with AASIST's feature extractor (raw 16 kHz windows, no normalisation:
what the official model reads) for ``AutoFeatureExtractor``, and marks them for
``register_for_auto_class`` so that a saved folder carries ``auto_map`` and its code and loads
elsewhere with ``trust_remote_code=True``.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

from ..aasist import AasistFeatureExtractor
from .building import build_ssl_aasist
from .configuration_ssl_aasist import SSL_AASIST_PRESETS, SslAasistConfig
from .modeling_ssl_aasist import SslAasistPreTrainedModel, Wav2Vec2AasistForAudioClassification

AutoConfig.register("ssl_aasist", SslAasistConfig, exist_ok=True)
AutoModelForAudioClassification.register(SslAasistConfig, Wav2Vec2AasistForAudioClassification, exist_ok=True)
AutoFeatureExtractor.register(SslAasistConfig, AasistFeatureExtractor, exist_ok=True)
SslAasistConfig.register_for_auto_class()
Wav2Vec2AasistForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")

__all__ = [
    "SSL_AASIST_PRESETS",
    "SslAasistConfig",
    "SslAasistPreTrainedModel",
    "Wav2Vec2AasistForAudioClassification",
    "build_ssl_aasist",
]
