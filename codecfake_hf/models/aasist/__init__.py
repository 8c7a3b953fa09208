"""The AASIST family of anti-spoofing detectors as transformers models: AASIST / AASIST-L (sinc front
end) and SSL-AASIST (wav2vec 2.0 / XLS-R front end, ``Wav2Vec2AasistForAudioClassification``), which
share the residual blocks and the graph back end of ``modeling_aasist.py``.

A lazy package (PEP 562, as transformers' own model packages): importing it, or one of its files such
as ``resampling.py`` (which the codec toolkit's resampler uses), imports no model. The first access to
one of the names below imports the file that defines it and registers every detector family with
``AutoConfig``, ``AutoModelForAudioClassification`` and ``AutoFeatureExtractor``
(:func:`codecfake_hf.models.families.register_auto_classes`: model types ``"aasist"`` and
``"ssl_aasist"``). Each class marks itself for ``register_for_auto_class`` in its own file, so a saved
folder carries ``auto_map`` and its code, and loads elsewhere with ``trust_remote_code=True``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the file of this package that defines it.
_FILE_OF = {
    "AASIST_PRESETS": "configuration_aasist",
    "AasistConfig": "configuration_aasist",
    "SSL_AASIST_PRESETS": "configuration_ssl_aasist",
    "SslAasistConfig": "configuration_ssl_aasist",
    "AasistFeatureExtractor": "feature_extraction_aasist",
    "aggregate_window_logits": "feature_extraction_aasist",
    "AasistForAudioClassification": "modeling_aasist",
    "AasistPreTrainedModel": "modeling_aasist",
    "SslAasistPreTrainedModel": "modeling_ssl_aasist",
    "Wav2Vec2AasistForAudioClassification": "modeling_ssl_aasist",
}

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

if TYPE_CHECKING:
    from .configuration_aasist import AASIST_PRESETS, AasistConfig
    from .configuration_ssl_aasist import SSL_AASIST_PRESETS, SslAasistConfig
    from .feature_extraction_aasist import AasistFeatureExtractor, aggregate_window_logits
    from .modeling_aasist import AasistForAudioClassification, AasistPreTrainedModel
    from .modeling_ssl_aasist import SslAasistPreTrainedModel, Wav2Vec2AasistForAudioClassification


def __getattr__(name: str) -> Any:
    if name not in _FILE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_FILE_OF[name]}", __name__), name)
    importlib.import_module("codecfake_hf.models.families").register_auto_classes()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
