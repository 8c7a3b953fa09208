"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake resynthesize`` (and the codecs it loads): every
case's exit code, one-line error message and the user's files kept."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.commands.sweep import (
    Case,
    Sandbox,
    absent,
    debug_test,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _codec_made_in_inference_mode(sandbox: Sandbox) -> Callable[[], None]:
    import torch

    from codecfake_hf.codecs.registry import load_codec

    def run() -> None:
        with torch.inference_mode():
            codec = load_codec("A", tiny=True)
        clip = (0.3 * np.sin(np.linspace(0, 200, 8000))).astype(np.float32)
        assert np.isfinite(codec.resynthesize([clip], 16000, 1)[0]).all()

    return run


def _funcodec_bad_yaml(sandbox: Sandbox) -> list[str]:
    sandbox.write("F3/config.yaml", "encoder: [unclosed\n")
    sandbox.write("F3/model.pth", b"")
    return ["resynthesize", sandbox.audio("speech.wav"), "out.flac", "--codec", "F3", "--checkpoint-dir",
            "F3"]  # fmt: skip


# fmt: off
CASES = [
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 resynthesize onto its own input keeps the input",
         lambda s: ["resynthesize", s.audio("speech.wav"), "speech.wav", "--codec", "E", "--tiny"],
         errors=(r"speech\.wav: already exists; nothing was written: remove it or choose another output "
                 r"file$",)),
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 FunCodecCheckpointError is a user error", _funcodec_bad_yaml, check=absent("out.flac"),
         errors=(r"F3/config\.yaml: not valid YAML",)),
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 a codec made inside torch.inference_mode() runs", _codec_made_in_inference_mode, code=0,
         program="python", runner="call"),
    # found while walking the commands as a new user
    Case("new: resynthesize to a file type that holds no 16-bit audio",
         lambda s: ["resynthesize", s.audio("speech.wav"), "out.mp3", "--codec", "E", "--tiny"],
         errors=(r"out\.mp3: cannot write 16-bit audio to a \.mp3 file; name the output \.wav or \.flac$",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
