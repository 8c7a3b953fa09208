"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake calibrate``: every case's exit code, one-line
error message and the user's files kept."""

from __future__ import annotations

import json

import pytest

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    debug_test,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _calibrated(sandbox: Sandbox, outcome: Outcome) -> None:
    from codecfake_hf.detection.calibration import read_calibration

    calibration = read_calibration(sandbox.root / "model")
    assert calibration is not None and calibration.bonafide_label == "bonafide", calibration


def _ranked(sandbox: Sandbox, model: str = "model") -> str:
    """``set/``: ten clips labelled so that the model's scores rank them mostly right (calibratable)."""
    from codecfake_hf.detection.detector import Detector
    from tests.detection.test_calibration import write_ranked_folder

    write_ranked_folder(sandbox.root / "set", Detector.from_pretrained(sandbox.root / model, device="cpu"))
    return "set"


def _users_temporary_name(sandbox: Sandbox) -> list[str]:
    """A file of the user's named as the atomic writer's temporary file used to be named."""
    folder = sandbox.model()
    sandbox.write(f"{folder}/config.json.tmp", "my notes")
    return ["calibrate", "--model", folder, "--dataset", _ranked(sandbox)]


def _ranked_with_a_broken_file(sandbox: Sandbox) -> list[str]:
    folder = sandbox.model()
    dataset = _ranked(sandbox)
    sandbox.write(f"{dataset}/bonafide/broken.wav", b"RIFF not really audio")
    return ["calibrate", "--model", folder, "--dataset", dataset]


def _bonafide_only(sandbox: Sandbox) -> str:
    sandbox.audio("set/bonafide/a.wav")
    return "set"


def _damaged_calibration(sandbox: Sandbox) -> list[str]:
    folder = sandbox.model()
    dataset = _ranked(sandbox)
    config = json.loads((sandbox.root / folder / "config.json").read_text())
    sandbox.write(f"{folder}/config.json", json.dumps({**config, "calibration": {"scale": "steep"}}))
    return ["calibrate", "--model", folder, "--dataset", dataset, "--overwrite"]


# fmt: off
CASES = [
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.11 calibrate keeps the user's config.json.tmp", _users_temporary_name, code=0,
         may_change=("model/config.json",), check=_calibrated),
    Case("22.14 calibrate on a folder with bonafide/ only names the missing spoof/",
         lambda s: ["calibrate", "--model", s.model(), "--dataset", _bonafide_only(s)],
         errors=(r"set: has bonafide/ but no spoof/ folder, so no spoof trials; EERs and calibration need both "
                 r"classes: put spoof audio in set/spoof/$",)),
    Case("22.14 calibrate --overwrite replaces a damaged calibration", _damaged_calibration, code=0,
         may_change=("model/config.json",), check=_calibrated),
    Case("22.14 calibrate leaves out unreadable audio and exits 2, as evaluate",
         _ranked_with_a_broken_file, may_change=("model/config.json",), check=_calibrated, raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped \(listed above\); the calibration leaves them "
                 r"out$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
