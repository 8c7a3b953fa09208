"""The detector families this package trains and loads, in one table (:data:`DETECTOR_FAMILIES`).

A family is a transformers model package under ``codecfake_hf/models/`` (its config, model and
feature-extractor classes, saved with every folder) plus one :class:`DetectorFamily` row here: its
classes, its ``--model`` presets, how a preset is built (with the pre-trained front end its config
names), and where the model keeps a wav2vec 2.0 front end that training's ``--front-end-*`` /
``--freeze-*`` options act on. Adding a family is adding its package and its row.

- :func:`register_auto_classes`: every family registered with transformers' Auto classes, the one
  place that does it (run when this module is imported, and by the lazy face of each family package
  on first use), so ``AutoModelForAudioClassification`` / ``pipeline`` load a saved folder of any
  family by its model type;

- :func:`build_model`: a new detector from a ``--model`` preset, or a saved one (folder or Hub id);
- :func:`load_audio_classifier`: a saved detector of any family, loaded strictly;
- :func:`build_ssl_aasist`: SSL-AASIST from a preset or config, with the pre-trained front end when
  asked for.

Package side only: a saved folder never imports this module (it uses this project's model-source
rules and errors).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.files.sources import MAKE_MODEL, ModelLoadError, ModelSource, resolve_model_source
from codecfake_hf.models.aasist.configuration_aasist import AASIST_PRESETS, AasistConfig
from codecfake_hf.models.aasist.configuration_ssl_aasist import SslAasistConfig
from codecfake_hf.models.aasist.feature_extraction_aasist import AasistFeatureExtractor
from codecfake_hf.models.aasist.modeling_aasist import AasistForAudioClassification
from codecfake_hf.models.aasist.modeling_ssl_aasist import Wav2Vec2AasistForAudioClassification

if TYPE_CHECKING:
    from transformers import FeatureExtractionMixin, PretrainedConfig, PreTrainedModel, Wav2Vec2Model

    from codecfake_hf.files.checkpoint_files import CheckpointError


@dataclass(frozen=True)
class DetectorFamily:
    """One row of :data:`DETECTOR_FAMILIES`.

    Attributes:
        name: how messages name the family (``"SSL-AASIST"``).
        config_class: its transformers config class, with ``from_preset(name)``.
        model_class: its audio-classification model class (``logits [B, 2]``: spoof, bona fide).
        feature_extractor_class: the feature extractor its folders are saved with.
        presets: ``--model`` name -> the ``config_class.from_preset`` name it builds.
        build: a config of the family -> ``(model, feature_extractor)``: a new model, with the
            pre-trained weights the config names (none for random-init presets) loaded.
        front_end: the model's attribute holding a wav2vec 2.0 front end (``transformers.Wav2Vec2Model``),
            which training can freeze and give its own learning rates; None: the family has none.
    """

    name: str
    config_class: type[PretrainedConfig]
    model_class: type[PreTrainedModel]
    feature_extractor_class: type[FeatureExtractionMixin]
    presets: Mapping[str, str]
    build: Callable[[PretrainedConfig], tuple[PreTrainedModel, AasistFeatureExtractor]]
    front_end: str | None = None

    def build_preset(self, name: str) -> tuple[PreTrainedModel, AasistFeatureExtractor]:
        """A new model of the ``--model`` preset ``name`` and its feature extractor."""
        return self.build(self.config_class.from_preset(self.presets[name]))


def _feature_extractor(config: AasistConfig) -> AasistFeatureExtractor:
    """The feature extractor of both families: ``num_samples`` windows at the config's rate (Hz)."""
    return AasistFeatureExtractor(sampling_rate=config.sampling_rate, num_samples=config.num_samples)


def _build_aasist(config: AasistConfig) -> tuple[AasistForAudioClassification, AasistFeatureExtractor]:
    return AasistForAudioClassification(config), _feature_extractor(config)


def _build_ssl_aasist(
    config: SslAasistConfig,
) -> tuple[Wav2Vec2AasistForAudioClassification, AasistFeatureExtractor]:
    """SSL-AASIST with the pre-trained front end its config names (XLS-R for ``xls-r-300m``; ``tiny``
    names none and is random throughout)."""
    return build_ssl_aasist(config, pretrained_front_end=config.ssl_model_name_or_path is not None)


#: Every detector family: AASIST / AASIST-L (sinc front end) and SSL-AASIST (wav2vec 2.0 / XLS-R front
#: end); ``ssl-aasist`` starts from the pre-trained XLS-R 300M front end, ``ssl-aasist-tiny`` is random
#: (tests).
DETECTOR_FAMILIES: tuple[DetectorFamily, ...] = (
    DetectorFamily(
        "AASIST",
        AasistConfig,
        AasistForAudioClassification,
        AasistFeatureExtractor,
        presets={name: name for name in AASIST_PRESETS},
        build=_build_aasist,
    ),
    DetectorFamily(
        "SSL-AASIST",
        SslAasistConfig,
        Wav2Vec2AasistForAudioClassification,
        AasistFeatureExtractor,
        presets={"ssl-aasist": "xls-r-300m", "ssl-aasist-tiny": "tiny"},
        build=_build_ssl_aasist,
        front_end="ssl_model",
    ),
)


def register_auto_classes() -> None:
    """Register every family of :data:`DETECTOR_FAMILIES` with ``AutoConfig`` (its config's
    ``model_type``), ``AutoModelForAudioClassification`` and ``AutoFeatureExtractor``, so a saved folder
    of any family loads by its model type without ``trust_remote_code``. Idempotent."""
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

    for family in DETECTOR_FAMILIES:
        AutoConfig.register(family.config_class.model_type, family.config_class, exist_ok=True)
        AutoModelForAudioClassification.register(family.config_class, family.model_class, exist_ok=True)
        AutoFeatureExtractor.register(family.config_class, family.feature_extractor_class, exist_ok=True)


register_auto_classes()


def preset_family(name: str) -> DetectorFamily | None:
    """The family whose ``--model`` presets include ``name``; None for a folder or Hub id."""
    return next((family for family in DETECTOR_FAMILIES if name in family.presets), None)


def front_end_of(model: torch.nn.Module) -> Wav2Vec2Model | None:
    """``model``'s wav2vec 2.0 front end (:attr:`DetectorFamily.front_end`), None if its family has none."""
    family = next((family for family in DETECTOR_FAMILIES if isinstance(model, family.model_class)), None)
    return getattr(model, family.front_end) if family is not None and family.front_end else None


def build_model(name_or_path: str) -> tuple[PreTrainedModel, AasistFeatureExtractor]:
    """A fresh model from a ``--model`` preset of :data:`DETECTOR_FAMILIES` ("AASIST", "AASIST-L",
    "tiny"; "ssl-aasist" with the pre-trained XLS-R 300M front end, "ssl-aasist-tiny" all random) or a
    pretrained one (folder or Hub id, :func:`load_audio_classifier`, loaded strictly:
    :class:`~codecfake_hf.files.strict_loading.CheckpointMismatchError` names any key that does not fit), with
    its feature extractor.

    Raises:
        SourceNotFoundError: ``ssl-aasist`` offline without XLS-R in the cache (names ``hf download``).
    """
    family = preset_family(name_or_path)
    if family is not None:
        return family.build_preset(name_or_path)
    return load_audio_classifier(name_or_path)


def load_audio_classifier(name_or_path: str | os.PathLike):
    """``(model, feature_extractor)`` of a saved audio-classification model (folder or Hub id), with
    the Auto classes (every family of :data:`DETECTOR_FAMILIES` is registered: :func:`register_auto_classes`).

    Raises:
        SourceNotFoundError: see :func:`resolve_model_source`.
        ModelLoadError: the files there do not load (corrupt weights, a config of another kind of
            model); the message names the folder.
        CheckpointMismatchError: the weights do not fit the model class; names the keys.
    """
    from safetensors import SafetensorError
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from codecfake_hf.files.strict_loading import from_pretrained_strict

    source = resolve_model_source(name_or_path)
    try:
        model = from_pretrained_strict(
            AutoModelForAudioClassification,
            source.name,
            local_files_only=source.local_files_only,
            weights_only=True,  # transformers' default, stated: a pickle is never run
        )
        feature_extractor = AutoFeatureExtractor.from_pretrained(
            source.name, local_files_only=source.local_files_only
        )
    except CodecFakeError:  # a checkpoint that does not fit names its keys itself
        raise
    except Exception as error:
        unreadable = unreadable_pickle_weights(source)
        if unreadable is not None:  # whatever torch raised on it (IndexError, UnpicklingError, ...)
            raise unreadable from error
        if not isinstance(error, (OSError, ValueError, KeyError, RuntimeError, SafetensorError)):
            raise
        reason = " ".join(str(error).split())[:300]
        raise ModelLoadError(
            f"{source.name}: cannot load an audio-classification model and its feature extractor "
            f"({type(error).__name__}: {reason}); its files are corrupt or of another kind of model: "
            f"pass a folder written by save_pretrained, or {MAKE_MODEL}"
        ) from error
    return model, feature_extractor


def unreadable_pickle_weights(source: ModelSource) -> CheckpointError | None:
    """After a failed load: the first PyTorch-pickle weight file of ``source`` (``pytorch_model.bin``
    or its shards, in the folder or, for a Hub id, the local cache; only where there are no
    safetensors weights, which transformers reads first) that ``torch.load(..., weights_only=True)``
    refuses, as a :class:`~codecfake_hf.files.checkpoint_files.CheckpointError` naming it and what to do
    (never torch's advice to load it unsafely); None when there is no such file or each one loads.
    """
    import functools
    import zipfile

    from huggingface_hub import try_to_load_from_cache
    from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_NAME

    from codecfake_hf.files.checkpoint_files import CheckpointError, load_torch_file

    folder = Path(source.name).expanduser()
    if folder.is_dir():
        safetensors = [folder / name for name in (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME)]
        files = (
            [] if any(path.is_file() for path in safetensors) else sorted(folder.glob("pytorch_model*.bin"))
        )
    else:
        cached = try_to_load_from_cache(source.name, WEIGHTS_NAME)
        files = [Path(cached)] if isinstance(cached, str) else []
    fix = (
        "re-save the model as safetensors (save_pretrained) where it loads, or pass a folder written by "
        "save_pretrained (convert-aasist and train.py write one)"
    )
    for file in files:
        lazily = zipfile.is_zipfile(file)  # tensors are mapped, not read: only the pickle is checked
        try:
            load_torch_file(file, fix, functools.partial(torch.load, mmap=True) if lazily else torch.load)
        except CheckpointError as error:
            return error
    return None


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
    return model, _feature_extractor(config)


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
