"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake convert-aasist``: every case's exit code, one-line
error message and the user's files kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.sweep import (
    Case,
    Sandbox,
    absent,
    both,
    debug_test,
    no_code_ran,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _official_pth(sandbox: Sandbox, name: str = "AASIST-L.pth") -> Path:
    return sandbox.root / sandbox.copy(sandbox.fixture("fixtures_dir") / "aasist" / "AASIST-L.pth", name)


def _truncated_pth(sandbox: Sandbox) -> list[str]:
    official = _official_pth(sandbox)
    sandbox.write("cut.pth", official.read_bytes()[:5000])
    return ["convert-aasist", "cut.pth", "models/aasist-l"]


def _malicious_pth(sandbox: Sandbox) -> list[str]:
    sandbox.plant(sandbox.root / "AASIST-L.pth")
    return ["convert-aasist", "AASIST-L.pth", "models/aasist-l"]


def _unreachable_download(sandbox: Sandbox) -> list[str]:
    """``convert-aasist download`` online, with the official file's host refusing connections."""
    import huggingface_hub

    from codecfake_hf.models.aasist import convert_aasist_checkpoint as converter
    from tests.conftest import free_port

    monkeypatch = sandbox.fixture("monkeypatch")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(
        converter, "OFFICIAL_CHECKPOINT_URL", f"http://127.0.0.1:{free_port()}/{{variant}}.pth"
    )
    return ["convert-aasist", "download", "models/aasist-l"]


# fmt: off
CASES = [
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 convert-aasist into an existing detector folder replaces nothing",
         lambda s: ["convert-aasist", _official_pth(s).name, s.detector("best")],
         errors=(r"best: is a folder that is not empty; nothing was written: pass a new or empty output "
                 r"folder$",)),
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 convert-aasist a truncated .pth", _truncated_pth, check=absent("models"),
         errors=(r"cut\.pth: cannot be loaded safely \(.*\); the file is truncated, corrupt or holds Python "
                 r"objects other than tensors \(nothing in it was run\)",)),
    Case("4 convert-aasist a malicious .pth runs nothing", _malicious_pth,
         check=both(no_code_ran, absent("models")),
         errors=(r"AASIST-L\.pth: cannot be loaded safely .*\(nothing in it was run\)",)),
    # found while walking the commands as a new user
    Case("new: convert-aasist a folder instead of the .pth", lambda s: ["convert-aasist", s.model(), "out"],
         errors=(r"model: is a folder, not a checkpoint file; pass the official AASIST-L\.pth$",)),
    Case("new: convert-aasist with the wrong --variant names the other",
         lambda s: ["convert-aasist", _official_pth(s).name, "out", "--variant", "AASIST"],
         check=absent("out"),
         errors=(r"AASIST-L\.pth: not an official AASIST checkpoint \(size mismatch for spectral_position: "
                 r".*; \d+ more\); if it is AASIST-L, pass --variant AASIST-L$",)),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.13 convert-aasist download that cannot download leaves no models/aasist-l.download",
         _unreachable_download, check=absent("models"),
         errors=(r"could not download http://127\.0\.0\.1:\d+/AASIST-L\.pth \(.*\); download .* on a machine "
                 r"with network access and pass the file path instead$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
