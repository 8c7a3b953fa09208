"""Training detectors on CodecFake with Accelerate (``accelerate launch train.py --subset E``).

:func:`train` runs one training run as named steps (:mod:`codecfake_hf.training.trainer` lists them);
:func:`train_seeds` runs it once per seed. The options of a run are
:class:`~codecfake_hf.training.config.TrainingConfig`.
"""

from codecfake_hf.training.config import TrainingConfig, TrainingConfigError
from codecfake_hf.training.trainer import seed_replicas, train, train_seeds

__all__ = ["TrainingConfig", "TrainingConfigError", "seed_replicas", "train", "train_seeds"]
