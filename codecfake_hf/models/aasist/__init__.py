"""AASIST / AASIST-L anti-spoofing detectors as transformers models.

Importing this package registers the classes with ``AutoConfig``, ``AutoModelForAudioClassification``
and ``AutoFeatureExtractor`` (model type ``"aasist"``), and marks them for ``register_for_auto_class``
so that a saved folder carries ``auto_map`` and its code, and loads elsewhere with
``trust_remote_code=True``.
"""

from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

from .configuration_aasist import AASIST_PRESETS, AasistConfig
from .feature_extraction_aasist import AasistFeatureExtractor, aggregate_window_logits
from .modeling_aasist import AasistForAudioClassification, AasistPreTrainedModel

AutoConfig.register("aasist", AasistConfig, exist_ok=True)
AutoModelForAudioClassification.register(AasistConfig, AasistForAudioClassification, exist_ok=True)
AutoFeatureExtractor.register(AasistConfig, AasistFeatureExtractor, exist_ok=True)
AasistConfig.register_for_auto_class()
AasistForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
AasistFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")

__all__ = [
    "AASIST_PRESETS",
    "AasistConfig",
    "AasistFeatureExtractor",
    "AasistForAudioClassification",
    "AasistPreTrainedModel",
    "aggregate_window_logits",
]
