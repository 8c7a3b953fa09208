"""The AASIST family of anti-spoofing detectors as transformers models: AASIST / AASIST-L (sinc front
end) and SSL-AASIST (wav2vec 2.0 / XLS-R front end, ``Wav2Vec2AasistForAudioClassification``), which
share the residual blocks and the graph back end of ``modeling_aasist.py``.

Importing this package registers the classes with ``AutoConfig``, ``AutoModelForAudioClassification``
and ``AutoFeatureExtractor`` (model types ``"aasist"`` and ``"ssl_aasist"``; both read raw 16 kHz
windows with ``AasistFeatureExtractor``), and marks them for ``register_for_auto_class`` so that a saved
folder carries ``auto_map`` and its code, and loads elsewhere with ``trust_remote_code=True``.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

from .configuration_aasist import AASIST_PRESETS, AasistConfig
from .configuration_ssl_aasist import SSL_AASIST_PRESETS, SslAasistConfig
from .feature_extraction_aasist import AasistFeatureExtractor, aggregate_window_logits
from .modeling_aasist import AasistForAudioClassification, AasistPreTrainedModel
from .modeling_ssl_aasist import SslAasistPreTrainedModel, Wav2Vec2AasistForAudioClassification

AutoConfig.register("aasist", AasistConfig, exist_ok=True)
AutoModelForAudioClassification.register(AasistConfig, AasistForAudioClassification, exist_ok=True)
AutoFeatureExtractor.register(AasistConfig, AasistFeatureExtractor, exist_ok=True)
AasistConfig.register_for_auto_class()
AasistForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
AasistFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
AutoConfig.register("ssl_aasist", SslAasistConfig, exist_ok=True)
AutoModelForAudioClassification.register(SslAasistConfig, Wav2Vec2AasistForAudioClassification, exist_ok=True)
AutoFeatureExtractor.register(SslAasistConfig, AasistFeatureExtractor, exist_ok=True)
SslAasistConfig.register_for_auto_class()
Wav2Vec2AasistForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")

__all__ = [
    "AASIST_PRESETS",
    "AasistConfig",
    "AasistFeatureExtractor",
    "AasistForAudioClassification",
    "AasistPreTrainedModel",
    "SSL_AASIST_PRESETS",
    "SslAasistConfig",
    "SslAasistPreTrainedModel",
    "Wav2Vec2AasistForAudioClassification",
    "aggregate_window_logits",
]
