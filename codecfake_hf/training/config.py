"""The options of a training run (:class:`TrainingConfig`) and the two files that hold them.

- An options file a user writes (YAML or JSON, ``train.py --config-file``): any of the options, by
  field name; read by :func:`read_options_file`, which names the file and the option in every error.
- ``training_config.json``, saved next to the best model (``best/``) by :meth:`TrainingConfig.save`
  and read back by :meth:`TrainingConfig.load` (model cards, ``codecfake evaluate`` row names). Its
  values are scalars: a list option is written as its items joined by commas (``"0.1,0.9"``), as
  the trackers receive it.

The subset option is ``subset`` in Python, in ``training_config.json`` and on the command line
(``--subset``, with ``--config`` its earlier name, the same flag). Files written before the rename
hold it as ``config``: both files are read with either key.

Every field carries its ``help`` text in ``metadata``: ``train.py`` builds its flags, help and defaults
from this class with ``transformers.HfArgumentParser``, so the dataclass is the one place where an
option, its default and its description live.

Recipes (``--recipe``):

- ``paper`` (default): the CodecFake paper's search result on top of AASIST's official recipe:
  Adam, lr 1e-3, batch 16, weighted cross-entropy [spoof 0.1, bona fide 0.9], weight decay 1e-4,
  cosine decay per step to 5e-6; the paper does not state the epoch count, so AASIST's 100 is kept.
- ``official``: AASIST's released recipe (``config/AASIST*.conf`` of ``clovaai/aasist``): Adam lr 1e-4,
  batch 24, weight decay 1e-4, per-step cosine to 5e-6, 100 epochs, the same class weights (SWA is not
  reproduced).
- ``release``: what the CodecFake authors' released training code ran (``roger-tseng/CodecDetect``:
  ``config/AASIST-L.conf``, ``main.py``, ``data_utils.py``): Adam lr 1e-4, batch 24, weight decay 1e-4,
  per-step cosine to 5e-6, 5 epochs, cross-entropy weights [0.5, 0.5], stochastic weight averaging of
  the snapshots that did not worsen the validation EER (``--swa``), audio resampled to 16 kHz with
  torchaudio's default resampler as the release's loader has done since January 2024
  (``--resampler torchaudio``; ``--input-rate native`` is its earlier loader, which read each file at
  its own rate) and random windows at validation too (``--eval-window random``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from accelerate.utils import PrecisionType

from codecfake_hf.audio.audio_io import RESAMPLERS
from codecfake_hf.augmentation.rawboost import FIR_ALIGNMENTS
from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.files.json_files import read_json

#: The 16 kHz input protocol of AASIST's and the paper's recipes.
_RESAMPLED_INPUT = {"swa": False, "input_rate": "model", "resampler": "soxr", "eval_window": "first"}
RECIPES: dict[str, dict] = {
    "paper": {"learning_rate": 1e-3, "batch_size": 16, "weight_decay": 1e-4, "epochs": 100,
              "class_weights": [0.1, 0.9], **_RESAMPLED_INPUT},
    "official": {"learning_rate": 1e-4, "batch_size": 24, "weight_decay": 1e-4, "epochs": 100,
                 "class_weights": [0.1, 0.9], **_RESAMPLED_INPUT},
    "release": {"learning_rate": 1e-4, "batch_size": 24, "weight_decay": 1e-4, "epochs": 5,
                "class_weights": [0.5, 0.5], "swa": True, "input_rate": "model", "resampler": "torchaudio",
                "eval_window": "random"},
}  # fmt: skip
#: Values of ``--input-rate``: resample to the model's rate (16 kHz), or keep each file's own rate.
INPUT_RATES = ("model", "native")
#: Values of ``--eval-window``: the first window (deterministic) or a random one, seeded by ``--seed``.
EVAL_WINDOWS = ("first", "random")
#: The file :meth:`TrainingConfig.save` writes next to a trained model.
TRAINING_CONFIG_FILE = "training_config.json"
#: Options that hold a list (written to ``training_config.json`` joined by commas).
_LIST_OPTIONS = ("class_weights", "log_with")
#: Earlier names of options, still read from options files and ``training_config.json``.
_EARLIER_NAMES = {"config": "subset"}


class TrainingConfigError(CodecFakeError, ValueError):
    """A training option has an unknown or out-of-range value."""


@dataclass
class TrainingConfig:
    """Every option of a training run; ``train.py --help`` lists them with these descriptions.

    Fields left as None take the recipe's value (see the module docstring); values are checked on
    creation (:class:`TrainingConfigError` names the option and what it accepts).
    """

    subset: str = field(
        default="E",
        metadata={
            "help": "CodecFake subset to train on (a config of --dataset: E, A, ..., or default); "
            "--config is the same flag",
            "aliases": ["--config"],
        },
    )
    dataset: str = field(
        default="codecfake", metadata={"help": "dataset folder written by `codecfake build`, or its Hub id"}
    )
    output_dir: str | None = field(
        default=None,
        metadata={"help": "folder for checkpoints/, best/ and log.jsonl; None: runs/<model>-<subset>"},
    )
    model: str = field(
        default="AASIST-L",
        metadata={
            "help": "preset to train from scratch (AASIST, AASIST-L, tiny; ssl-aasist: XLS-R 300M front end "
            "pre-trained, back end new; ssl-aasist-tiny: random, for tests), or a pretrained folder or Hub id"
        },
    )
    recipe: str = field(
        default="paper",
        metadata={"help": "paper, official or release; sets the options below that are left as None"},
    )
    epochs: int | None = field(
        default=None,
        metadata={"help": "training epochs; None: the recipe's (paper, official 100; release 5)"},
    )
    learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "peak Adam learning rate; None: the recipe's (paper 1e-3, official and release 1e-4)"
        },
    )
    batch_size: int | None = field(
        default=None,
        metadata={
            "help": "training clips per process and step; None: the recipe's (paper 16, official and release 24)"
        },
    )
    weight_decay: float | None = field(
        default=None, metadata={"help": "Adam weight decay; None: the recipe's (1e-4)"}
    )
    scheduler: str = field(
        default="cosine",
        metadata={
            "help": "cosine (per optimizer step, from the learning rate to --min-learning-rate) or constant"
        },
    )
    min_learning_rate: float = field(
        default=5e-6, metadata={"help": "learning rate at the end of the cosine schedule"}
    )
    class_weights: list[float] | None = field(
        default=None,
        metadata={
            "help": "cross-entropy weights of the two classes: spoof, bona fide; None: the recipe's "
            "(paper, official 0.1 0.9; release 0.5 0.5)"
        },
    )
    gradient_accumulation_steps: int = field(
        default=1, metadata={"help": "batches whose gradients add up to one optimizer step"}
    )
    mixed_precision: str | None = field(
        default=None,
        metadata={
            "help": "no, bf16 or fp16; None: Accelerate decides (accelerate launch --mixed_precision, accelerate "
            "config, ACCELERATE_MIXED_PRECISION)"
        },
    )
    seed: int = field(
        default=1234,
        metadata={"help": "seed of the model's initialisation, the data order, the crops and dropout"},
    )
    num_workers: int = field(
        default=2, metadata={"help": "data loader worker processes per training process"}
    )
    resume: bool = field(
        default=False, metadata={"help": "continue the run in --output-dir from its newest intact checkpoint"}
    )
    checkpoint_steps: int | None = field(
        default=None,
        metadata={
            "help": "also save a checkpoint every N optimizer steps (mid-epoch); None: at the end of each epoch only"
        },
    )
    keep_checkpoints: int = field(
        default=2, metadata={"help": "newest complete checkpoints kept; older ones are deleted"}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "train on this many randomly chosen clips; None: all"}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "validate on this many randomly chosen clips; None: all"}
    )
    eval_batch_size: int | None = field(
        default=None, metadata={"help": "validation clips per process and step; None: --batch-size"}
    )
    calibrate: bool = field(
        default=True,
        metadata={
            "help": "after training, fit a score calibration (LLR) and the EER operating point on the validation "
            "split into best/config.json (codecfake_hf.detection.calibration); --no-calibrate skips it"
        },
    )
    log_with: list[str] = field(
        default_factory=lambda: ["auto"],
        metadata={
            "help": "trackers (tensorboard, wandb, ...); auto: tensorboard if installed; none: no tracker"
        },
    )
    front_end_learning_rate: float | None = field(
        default=None,
        metadata={
            "help": "SSL-AASIST: learning rate of the wav2vec 2.0 front end's top layer; None: --learning-rate"
        },
    )
    layer_decay: float = field(
        default=1.0,
        metadata={
            "help": "SSL-AASIST: layer-wise learning-rate decay in (0, 1]: each front-end layer further from the "
            "top gets this factor once more; 1: one rate for the whole front end"
        },
    )
    freeze_feature_encoder: bool = field(
        default=False, metadata={"help": "SSL-AASIST: do not train the front end's CNN feature encoder"}
    )
    freeze_front_end_layers: int | None = field(
        default=None,
        metadata={
            "help": "SSL-AASIST: freeze the CNN, projection and this many transformer layers nearest the "
            "waveform; None: train them all"
        },
    )
    rawboost: int = field(
        default=0,
        metadata={
            "help": "RawBoost augmentation of training clips (any model): 0 off; 1 LnL, 2 ISD, 3 SSI, 4 LnL-ISD-SSI, "
            "5 LnL-ISD (SSL-AASIST's LA recipe), 6 LnL-SSI, 7 ISD-SSI, 8 LnL+ISD in parallel"
        },
    )
    rawboost_alignment: str = field(
        default="upstream",
        metadata={
            "help": "RawBoost's FIR output alignment: upstream (one sample ahead of the filter's delay, as the "
            "official filterFIR; in mode 8 this low-passes the sum) or centred (delay compensated exactly)"
        },
    )
    rawboost_validation: bool = field(
        default=False,
        metadata={
            "help": "also apply --rawboost to the validation clips, as the official SSL-AASIST recipe did; the "
            "draws come from (seed, clip) and are the same at every epoch"
        },
    )
    swa: bool | None = field(
        default=None,
        metadata={
            "help": "stochastic weight averaging: average the weights of every epoch whose validation EER is "
            "not worse than the best so far, recompute BatchNorm statistics, save the average in swa/; "
            "None: the recipe's (release: on)"
        },
    )
    input_rate: str | None = field(
        default=None,
        metadata={
            "help": "model: resample every file to the model's rate (16 kHz) with --resampler; native: read "
            "each file at its own rate, not resampled (the release's early loader, Dec 2023 - Jan 2024); "
            "None: the recipe's (model)"
        },
    )
    resampler: str | None = field(
        default=None,
        metadata={
            "help": "how --input-rate model resamples: soxr (soxr VHQ, the project's resampler) or torchaudio "
            "(torchaudio's default windowed sinc: Hann window, 6 zero crossings, roll-off 0.99, as the "
            "release's loader; written here, torchaudio is not needed); unused with --input-rate native; "
            "None: the recipe's (paper, official soxr; release torchaudio)"
        },
    )
    eval_window: str | None = field(
        default=None,
        metadata={
            "help": "validation window: first (the first 64,600 samples) or random (one random window per "
            "clip, drawn from --seed); None: the recipe's (release: random)"
        },
    )

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise TrainingConfigError(
                f"--recipe {self.recipe!r}: unknown; choose one of {', '.join(RECIPES)}"
            )
        for key, value in RECIPES[self.recipe].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        for name, choices in (
            ("input_rate", INPUT_RATES),
            ("resampler", RESAMPLERS),
            ("eval_window", EVAL_WINDOWS),
            ("rawboost_alignment", FIR_ALIGNMENTS),
        ):
            if getattr(self, name) not in choices:
                flag = "--" + name.replace("_", "-")
                raise TrainingConfigError(
                    f"{flag} {getattr(self, name)!r}: unknown; choose {' or '.join(choices)}"
                )
        if not isinstance(self.swa, bool):
            raise TrainingConfigError(f"--swa {self.swa!r}: expected true or false")
        if self.scheduler not in ("cosine", "constant"):
            raise TrainingConfigError(f"--scheduler {self.scheduler!r}: unknown; choose cosine or constant")
        precisions = [precision.value for precision in PrecisionType]
        if self.mixed_precision is not None and self.mixed_precision not in precisions:
            raise TrainingConfigError(
                f"--mixed-precision {self.mixed_precision!r}: unknown; choose one of {', '.join(precisions)}"
            )
        optional = {item.name for item in dataclasses.fields(self) if item.default is None}
        for name, (kind, minimum) in _NUMBER_OPTIONS.items():
            if getattr(self, name) is not None or name not in optional:
                setattr(self, name, _checked_number(name, getattr(self, name), kind, minimum))
        if not self.learning_rate > 0:
            raise TrainingConfigError(f"--learning-rate {self.learning_rate}: must be greater than 0")
        weights = list(self.class_weights) if isinstance(self.class_weights, list | tuple) else []
        self.class_weights = [_checked_number("class_weights", w, float, 0.0) for w in weights]
        if len(self.class_weights) != 2:
            raise TrainingConfigError("--class-weights: give two numbers, the spoof and the bona fide weight")
        if not any(self.class_weights):
            raise TrainingConfigError(
                "--class-weights 0 0: the loss would be 0 / 0; give at least one weight > 0"
            )
        if not 0 < self.layer_decay <= 1:
            raise TrainingConfigError(f"--layer-decay {self.layer_decay}: must be in (0, 1]")
        if self.front_end_learning_rate is not None and not self.front_end_learning_rate > 0:
            raise TrainingConfigError(
                f"--front-end-learning-rate {self.front_end_learning_rate}: must be greater than 0"
            )
        if self.rawboost not in range(9):
            raise TrainingConfigError(
                f"--rawboost {self.rawboost}: choose 0 (off) or a RawBoost algorithm 1-8 (see train.py --help)"
            )
        if not isinstance(self.rawboost_validation, bool):
            raise TrainingConfigError(
                f"--rawboost-validation {self.rawboost_validation!r}: expected true or false"
            )
        if self.rawboost_validation and not self.rawboost:
            raise TrainingConfigError(
                "--rawboost-validation: augments validation clips with --rawboost, which is 0 (off); "
                "choose an algorithm with --rawboost 1-8, or leave --rawboost-validation out"
            )
        self._check_front_end_options()
        if self.output_dir is None:
            self.output_dir = str(Path("runs") / f"{Path(self.model).name.lower()}-{self.subset}")

    def _check_front_end_options(self) -> None:
        """Refuse front-end options for a ``--model`` preset whose family has no wav2vec 2.0 front end
        (:data:`codecfake_hf.models.families.DETECTOR_FAMILIES`); a folder is checked once its model is built."""
        from codecfake_hf.models.families import DETECTOR_FAMILIES, preset_family

        ssl_options = [f"--{name.replace('_', '-')}" for name, value in self._ssl_options().items() if value]
        family = preset_family(self.model)
        if ssl_options and family is not None and family.front_end is None:
            with_front_end = [family for family in DETECTOR_FAMILIES if family.front_end]
            raise TrainingConfigError(
                f"{', '.join(ssl_options)}: options of {' and '.join(f.name for f in with_front_end)}'s "
                f"wav2vec 2.0 front end, but --model {self.model} has none; use --model "
                f"{' or '.join(name for f in with_front_end for name in f.presets)}, or leave them out"
            )

    def _ssl_options(self) -> dict:
        """The SSL-AASIST-only options and whether each is set (differs from its default)."""
        return {
            "front_end_learning_rate": self.front_end_learning_rate is not None,
            "layer_decay": self.layer_decay != 1.0,
            "freeze_feature_encoder": bool(self.freeze_feature_encoder),
            "freeze_front_end_layers": self.freeze_front_end_layers is not None,
        }

    def uses_ssl_options(self) -> bool:
        """Whether any SSL-AASIST front-end option is set (the model must then have a front end)."""
        return any(self._ssl_options().values())

    def to_flat_dict(self) -> dict:
        """The options as JSON scalars, a list joined by commas (trackers take no lists), under the
        keys of ``training_config.json`` (the field names)."""
        return {
            key: ",".join(map(str, value)) if isinstance(value, list | tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``folder/training_config.json`` (:meth:`to_flat_dict`, atomically); returns its path."""
        path = Path(folder) / TRAINING_CONFIG_FILE
        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(self.to_flat_dict(), indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike) -> TrainingConfig | None:
        """The options a training run saved in ``folder`` (:meth:`save`), or None if it has no
        ``training_config.json``. Options the file leaves out take their defaults; keys that are
        no option (a file of another version) are ignored.

        Raises:
            InputFileError: the file is not JSON holding a mapping, or holds a bad value.
        """
        path = Path(folder) / TRAINING_CONFIG_FILE
        if not path.is_file():
            return None
        fix = f"remove it, or copy the {TRAINING_CONFIG_FILE} train.py wrote for this model"
        values = read_json(path, fix)
        try:
            values = with_current_names(values)
        except TrainingConfigError as error:
            raise InputFileError(f"{path}: {error}; {fix}") from error
        known = {item.name for item in dataclasses.fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        for key in _LIST_OPTIONS:
            if isinstance(values.get(key), str):
                values[key] = values[key].split(",")
        try:
            return cls(**values)
        except TrainingConfigError as error:
            raise InputFileError(f"{path}: {error}; {fix}") from error


#: Numeric options: their type and smallest allowed value (None stays None where it is the default).
_NUMBER_OPTIONS = {
    "epochs": (int, 1),
    "batch_size": (int, 1),
    "gradient_accumulation_steps": (int, 1),
    "seed": (int, 0),
    "num_workers": (int, 0),
    "checkpoint_steps": (int, 1),
    "keep_checkpoints": (int, 1),
    "max_train_samples": (int, 1),
    "max_eval_samples": (int, 1),
    "eval_batch_size": (int, 1),
    "freeze_front_end_layers": (int, 0),
    "rawboost": (int, 0),
    "learning_rate": (float, 0.0),
    "weight_decay": (float, 0.0),
    "min_learning_rate": (float, 0.0),
    "front_end_learning_rate": (float, 0.0),
    "layer_decay": (float, 0.0),
}


def _checked_number(name: str, value, kind: type, minimum: float):
    """``value`` as ``kind`` (YAML reads 1e-3 as a string), or TrainingConfigError naming the option."""
    flag = "--" + name.replace("_", "-")
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise TrainingConfigError(
            f"{flag} {value!r}: expected {'an integer' if kind is int else 'a number'}"
        ) from None
    if number < minimum:
        raise TrainingConfigError(f"{flag} {value!r}: must be at least {minimum:g}")
    return number


def read_options_file(path: str | os.PathLike) -> dict:
    """The options of a YAML or JSON options file (``train.py --config-file``), as written: values
    are checked when a :class:`TrainingConfig` is made from them.

    Raises:
        InputFileError: the file is missing or not YAML/JSON holding a mapping.
        TrainingConfigError: a key that is no option.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such options file (--config-file); check the path")
    text = path.read_text()
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:  # json.JSONDecodeError is a ValueError
        reason = " ".join(str(error).split())
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise InputFileError(f"{path}: not valid {kind} ({reason})") from error
    if values is not None and not isinstance(values, dict):
        raise InputFileError(f"{path}: expected option: value pairs, found a {type(values).__name__}")
    try:
        values = with_current_names(values or {})
    except TrainingConfigError as error:
        raise TrainingConfigError(f"{path}: {error}") from error
    unknown = set(values) - {item.name for item in dataclasses.fields(TrainingConfig)}
    if unknown:
        raise TrainingConfigError(
            f"{path}: unknown training options {sorted(unknown)}; the options are the flags of train.py"
        )
    return values


def with_current_names(values: dict) -> dict:
    """``values`` (options by name) with every earlier option name (``config``) replaced by the
    current one (``subset``).

    Raises:
        TrainingConfigError: an option is given under both its names.
    """
    renamed = dict(values)
    for earlier, current in _EARLIER_NAMES.items():
        if earlier in renamed:
            if current in renamed:
                raise TrainingConfigError(
                    f"both {earlier!r} and {current!r} are given; {earlier!r} is the earlier name of "
                    f"{current!r}: keep one"
                )
            renamed[current] = renamed.pop(earlier)
    return renamed
