"""Build an SSL-AASIST detector from a preset, with the pre-trained front end only when asked for.

Package-side only (it uses this project's model-source rules and errors); the model files of the
folder never import it.
"""

from __future__ import annotations

import os

from codecfake_hf.sources import ModelLoadError, resolve_model_source

from .configuration_ssl_aasist import SslAasistConfig
from .feature_extraction_aasist import AasistFeatureExtractor
from .modeling_ssl_aasist import Wav2Vec2AasistForAudioClassification


def build_ssl_aasist(
    preset_or_config: str | SslAasistConfig,
    pretrained_front_end: bool = False,
    front_end_name_or_path: str | os.PathLike | None = None,
) -> tuple[Wav2Vec2AasistForAudioClassification, AasistFeatureExtractor]:
    """A new SSL-AASIST and its feature extractor (``num_samples`` windows at 16 kHz).

    Args:
        preset_or_config: ``"xls-r-300m"``, ``"tiny"`` or an :class:`SslAasistConfig`.
        pretrained_front_end: load the pre-trained wav2vec 2.0 weights into ``model.ssl_model``
            (the back end stays randomly initialised). ``False`` builds everything from random
            initialisation and touches neither the network nor the cache.
        front_end_name_or_path: where those weights come from (Hub id or folder of a saved
            ``Wav2Vec2Model`` / ``Wav2Vec2ForPreTraining``); defaults to ``config.ssl_model_name_or_path``
            at ``config.ssl_model_revision`` (the preset's pinned commit; a name given here is read at
            its ``main``). The front end keeps this config's settings (dropout, layer-drop and masking
            off), not the checkpoint's.

    Raises:
        SourceNotFoundError: the weights are neither a local folder nor a reachable / cached Hub repo
            (offline: at once, naming ``hf download <repo>``).
        ModelLoadError: the checkpoint does not fit the front end's architecture.
    """
    config = (
        SslAasistConfig.from_preset(preset_or_config)
        if isinstance(preset_or_config, str)
        else preset_or_config
    )
    front_end = front_end_name_or_path or config.ssl_model_name_or_path
    revision = None if front_end_name_or_path else config.ssl_model_revision
    if pretrained_front_end and front_end is not None:
        resolve_model_source(
            front_end, revision
        )  # a missing checkpoint fails before 300M parameters are built
    model = Wav2Vec2AasistForAudioClassification(config)
    if pretrained_front_end:
        load_front_end_weights(model, front_end, revision)
    return model, AasistFeatureExtractor(sampling_rate=config.sampling_rate, num_samples=config.num_samples)


def load_front_end_weights(
    model: Wav2Vec2AasistForAudioClassification, name_or_path: str | os.PathLike, revision: str | None = None
) -> None:
    """Copy the pre-trained wav2vec 2.0 weights of ``name_or_path`` (a Hub repo at ``revision``, or a
    folder) into ``model.ssl_model``, strictly (every front-end parameter must come from the
    checkpoint; its pre-training heads are dropped)."""
    from transformers import Wav2Vec2Model

    if name_or_path is None:
        raise ModelLoadError(
            "no pre-trained front end named: set ssl_model_name_or_path in the config or pass front_end_name_or_path"
        )
    source = resolve_model_source(name_or_path, revision)
    try:
        pretrained, info = Wav2Vec2Model.from_pretrained(
            source.name,
            config=model.config.ssl_config,
            revision=source.revision,
            local_files_only=source.local_files_only,
            output_loading_info=True,
        )
    except (OSError, ValueError, RuntimeError) as error:
        reason = " ".join(str(error).split())[:300]
        raise ModelLoadError(
            f"{source.name}: cannot load wav2vec 2.0 weights for the SSL-AASIST front end "
            f"({type(error).__name__}: {reason}); pass a folder or repo of a Wav2Vec2 model of this architecture"
        ) from None
    if info["missing_keys"] or info["mismatched_keys"]:
        names = sorted(info["missing_keys"]) + [str(key) for key in info["mismatched_keys"]]
        raise ModelLoadError(
            f"{source.name}: its weights do not fit the SSL-AASIST front end ({len(names)} keys missing or of "
            f"another shape, e.g. {', '.join(names[:3])}); use the checkpoint the preset names"
        )
    model.ssl_model.load_state_dict(pretrained.state_dict(), strict=True)
