"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake build``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import json
import sys

import pytest

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    absent,
    both,
    debug_test,
    interrupted,
    sweep_test,
    vctk_folder,
    written,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _report_paths(sandbox: Sandbox, outcome: Outcome) -> None:
    report = json.loads((sandbox.root / "cf" / "build_report.json").read_text())
    assert report["vctk"]["root"] == str((sandbox.root / "vctk" / "VCTK-Corpus-0.92").resolve())
    (excluded,) = report["excluded"]
    assert excluded["path"] == "wav48_silence_trimmed/p225/p225_002_mic1.flac"
    assert excluded["error"].startswith(f"{excluded['path']}: cannot decode audio")


def _foreign_folder(sandbox: Sandbox) -> list[str]:
    sandbox.write("my_project/README.md", "# my project\n")
    return ["build", "--vctk", vctk_folder(sandbox), "--configs", "E", "--tiny", "--out", "my_project"]


def _disk_full_build(sandbox: Sandbox) -> list[str]:
    """A build whose bona fide shards (12 clips of 1-1.5 s, about 1.2 MB) do not fit in 200 kB."""
    from dataset_builder.synthetic import make_synthetic_vctk

    make_synthetic_vctk(sandbox.root / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=4,
                        seconds=(1.0, 1.5))  # fmt: skip
    return [sys.executable, "-m", "codecfake_cli", "build", "--vctk", "vctk", "--configs", "bonafide",
            "--out", "cf", "--shard-size", "100"]  # fmt: skip


def _interrupted_build(sandbox: Sandbox) -> list[str]:
    from dataset_builder.synthetic import make_synthetic_vctk

    make_synthetic_vctk(sandbox.root / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=4,
                        seconds=(1.0, 1.5))  # fmt: skip
    return [sys.executable, "-m", "codecfake_cli", "build", "--vctk", "vctk", "--configs", "E", "--tiny",
            "--out", "cf", "--shard-size", "2"]  # fmt: skip


# fmt: off
CASES = [
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 build --out a folder that is not a CodecFake build keeps its README.md", _foreign_folder,
         errors=(r"my_project: not empty and not a CodecFake build .*--force",)),
    # 7. build without --tiny finds every checkpoint first (tests/dataset_builder/test_build_checkpoints.py; README)
    Case("7 build without --tiny offline stops before the bona fide pass",
         lambda s: ["build", "--vctk", vctk_folder(s), "--configs", "E,D1", "--out", "cf"],
         check=absent("cf/data", "cf/README.md"),
         errors=(r"checkpoint files not in the Hub cache and HF_HUB_OFFLINE is set .*nothing was built.*"
                 r"`hf download facebook/encodec_24khz config\.json model\.safetensors --revision [0-9a-f]{40}`; "
                 r"`hf download descript/dac_16khz config\.json model\.safetensors --revision [0-9a-f]{40}`"
                 r".*--checkpoint-dir DIR"
                 r".*--tiny",)),
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 build on a full disk: one line, no temporary file, nothing half-written", _disk_full_build,
         runner="process", file_size_limit=200_000, check=absent("cf/data/bonafide"),
         errors=(r"cf: cannot write \(File too large\); free disk space, or build into another --out",)),
    Case("10 build_report.json: the corpus absolute, every file relative to it",
         lambda s: ["build", "--vctk", vctk_folder(s, broken=True), "--configs", "", "--out", "cf"], code=0,
         check=_report_paths),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.12 build interrupted (Ctrl-C): one line, exit 130, finished shards kept", _interrupted_build,
         code=130, runner="process", interrupt_when="config E",
         check=both(interrupted("codecfake build", "the finished shards in cf are kept; rerun the same command "
                                  "to resume (only unfinished shards are built)"),
                     written("cf/data/bonafide/train-00000-of-00002.parquet"))),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
