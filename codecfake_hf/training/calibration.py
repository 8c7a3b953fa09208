"""Training's calibration step: the saved models calibrated on the validation split.

A run ends by fitting a score calibration (LLR) and the EER operating point on the validation scores
of ``best/`` (and of ``swa/``, which gets its own) into the folder's ``config.json``
(:mod:`codecfake_hf.detection.calibration`), as ``codecfake calibrate`` does; ``--no-calibrate`` skips it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from accelerate import Accelerator
from datasets import Dataset

from codecfake_hf.detection.calibration import read_calibration, write_calibration
from codecfake_hf.errors import CodecFakeError
from codecfake_hf.evaluation.scoring import calibrate_detector
from codecfake_hf.training.config import TrainingConfig

logger = logging.getLogger(__name__)


def calibrate_saved_models(
    folders: Iterable[Path], validation_rows: Dataset, config: TrainingConfig, accelerator: Accelerator
) -> None:
    """Calibrate each saved model folder that exists (``best/``, and ``swa/`` with ``--swa``) on the
    ``validation_rows`` (:func:`calibrate_after_training`); run it on the main process only."""
    for folder in folders:
        if folder.is_dir():
            calibrate_after_training(
                folder,
                validation_rows,
                f"{config.dataset} {config.subset} validation",
                config.calibrate,
                batch_size=config.eval_batch_size or config.batch_size,
                device=str(accelerator.device),
            )


def calibrate_after_training(folder: Path, dataset, fitted_on: str, enabled: bool, **options) -> None:
    """Training's last step: calibrate the saved best model on the validation ``dataset``, replacing
    any calibration its config inherited from a pretrained start. When ``enabled`` is False, or the
    validation scores cannot be calibrated (a warning says why), an inherited calibration is removed,
    since it belongs to other weights."""
    if enabled:
        try:
            report = calibrate_detector(folder, dataset, fitted_on, overwrite=True, **options)
        except CodecFakeError as error:  # one class in a small validation subset, an inverted detector
            logger.warning("no calibration stored in %s: %s", folder, error)
        else:
            calibration = report.calibration
            print(
                f"calibration on {fitted_on}: llr = {calibration.scale:.4g} * score + {calibration.offset:.4g}; "
                f"actDCF {report.before['act_dcf']:.4f} -> {report.after['act_dcf']:.4f}, "
                f"Cllr {report.before['cllr']:.4f} -> {report.after['cllr']:.4f} bits"
            )
            return
    if read_calibration(folder) is not None:
        write_calibration(folder, None)
