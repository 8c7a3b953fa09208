"""train.py: resuming never runs code from a checkpoint, a damaged latest checkpoint falls back to
the newest intact one, and user errors are one line with exit code 2 (on every process)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from safetensors.torch import load_file

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("one_thread")


def _train_script():
    spec = importlib.util.spec_from_file_location("train_script", REPO_ROOT / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A labelled folder (bonafide/ + spoof/) and a finished tiny run: 2 epochs of 2 steps each,
    a checkpoint every step, the last two kept (step_3 mid-epoch 2, step_4 its end)."""
    root = tmp_path_factory.mktemp("resume")
    rng = np.random.default_rng(0)
    for label in ("bonafide", "spoof"):
        (root / "data" / label).mkdir(parents=True)
        for index in range(4):
            sf.write(
                root / "data" / label / f"{index}.wav", rng.normal(0, 0.1, 9000).astype(np.float32), 16000
            )
    assert _run(root, "reference") == 0
    return root


def _run(root: Path, output_dir: str, *extra: str) -> int:
    options = ["--dataset", str(root / "data"), "--model", "tiny", "--epochs", "2", "--batch-size", "2",
               "--max-train-samples", "4", "--checkpoint-steps", "1", "--num-workers", "0", "--log-with", "none",
               "--output-dir", str(root / output_dir)]  # fmt: skip
    return _train_script().main([*options, *extra])


def _copy_of_reference(workspace: Path, name: str) -> Path:
    target = workspace / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(workspace / "reference", target)
    return target


def _error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("train.py: error:")]


def test_progress_is_json_and_no_object_is_pickled(workspace):
    checkpoints = workspace / "reference" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step_3", "step_4"]
    assert sorted(p.name for p in (checkpoints / "step_4").iterdir()) == [
        "model.safetensors", "optimizer.bin", "progress.json", "random_states_0.pkl", "scheduler.bin",
    ]  # fmt: skip
    progress = json.loads((checkpoints / "step_4" / "progress.json").read_text())
    assert progress["epoch"] == 2 and progress["step_in_epoch"] == 0 and 0 <= progress["best_eer"] <= 1


@pytest.mark.parametrize(
    "planted",
    [
        "model.safetensors",
        "optimizer.bin",
        "scheduler.bin",
        "random_states_0.pkl",
        "progress.json",
        "custom_checkpoint_0.pkl",
    ],  # fmt: skip
)
def test_a_malicious_pickle_in_any_checkpoint_file_is_never_run(workspace, planted, malicious_pickle, capsys):
    payload, marker = malicious_pickle
    run = _copy_of_reference(workspace, f"planted-{planted}")
    for checkpoint in (run / "checkpoints").iterdir():  # every checkpoint, so none is intact
        (checkpoint / planted).write_bytes(payload)
    try:
        code = _run(workspace, run.name, "--resume")
    finally:
        assert not marker.exists(), f"the code planted in {planted} ran"
    assert code == 2
    (line,) = _error_lines(capsys)
    assert line.startswith(f"train.py: error: no intact checkpoint to resume from in {run / 'checkpoints'}: ")
    assert f"{run / 'checkpoints' / 'step_4' / planted}: " in line
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_3", "step_4"]  # nothing moved


def test_a_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(workspace, capsys):
    run = _copy_of_reference(workspace, "damaged")
    optimizer = run / "checkpoints" / "step_4" / "optimizer.bin"
    optimizer.write_bytes(optimizer.read_bytes()[:100])  # an interrupted copy
    assert _run(workspace, run.name, "--resume") == 0
    err = capsys.readouterr().err
    assert (
        f"warning: checkpoint {run / 'checkpoints' / 'step_4'} is damaged ({optimizer}: cannot be loaded"
        in err
    )
    assert (run / "checkpoints" / "step_4.damaged" / "optimizer.bin").is_file()  # kept, set aside
    # resumed from step_3 and retrained its last step: the same weights as the uninterrupted run
    reference = load_file(workspace / "reference" / "checkpoints" / "step_4" / "model.safetensors")
    resumed = load_file(run / "checkpoints" / "step_4" / "model.safetensors")
    assert max((reference[k] - resumed[k]).abs().max().item() for k in reference) == 0.0


def test_a_checkpoint_of_another_model_is_a_one_line_error(workspace, capsys):
    from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification

    run = _copy_of_reference(workspace, "other-model")
    for checkpoint in (run / "checkpoints").iterdir():
        AasistForAudioClassification(AasistConfig.from_preset("AASIST-L")).save_pretrained(checkpoint)
        (checkpoint / "config.json").unlink()
    assert _run(workspace, run.name, "--resume") == 2
    (line,) = _error_lines(capsys)
    assert f"{run / 'checkpoints' / 'step_4'}: does not fit this run's model or optimizer" in line


@pytest.fixture(scope="module")
def hub_layout_dataset(tmp_path_factory) -> Path:
    """A dataset folder whose card lists the configs bonafide and E (no data needed to reject Z)."""
    root = tmp_path_factory.mktemp("codecfake")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: bonafide\n  data_files:\n  - split: train\n    path: data/bonafide/train-*\n"
        "- config_name: E\n  data_files:\n  - split: train\n    path: data/E/train-*\n---\n"
    )
    return root


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--dataset", "no/such/folder"], "no/such/folder: no such dataset folder"),
        (
            ["--config", "Z", "--dataset", "{codecfake}"],
            "no config 'Z' in this dataset (its configs: bonafide, E)",
        ),
        (["--epochs", "0"], "--epochs 0: must be at least 1"),
        (["--learning-rate", "-0.1"], "--learning-rate -0.1: must be at least 0"),
        (["--recipe", "fast"], "--recipe 'fast': unknown; choose one of paper, official"),
        (["--class-weights", "0.5"], "--class-weights: give two numbers"),
        (["--mixed-precision", "fp12"], "--mixed-precision 'fp12': unknown"),
        (["--model", "models/aasist-l"], "models/aasist-l: no such model folder"),
        (["--batch-size", "64"], "fewer than one batch (64 per process); lower --batch-size"),
        (["--config-file", "{missing}"], "missing.yaml: no such options file (--config-file)"),
        (["--config-file", "{bad_yaml}"], "bad.yaml: not valid YAML"),
        (["--config-file", "{unknown_option}"], "unknown.yaml: unknown training options ['epoch']"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    workspace, hub_layout_dataset, tmp_path, capsys, arguments, expected
):
    (tmp_path / "bad.yaml").write_text("epochs: [2\n")
    (tmp_path / "unknown.yaml").write_text("epoch: 2\n")
    paths = {"codecfake": hub_layout_dataset, "missing": tmp_path / "missing.yaml", "bad_yaml": tmp_path / "bad.yaml",
             "unknown_option": tmp_path / "unknown.yaml"}  # fmt: skip
    arguments = [argument.format(**paths) for argument in arguments]
    assert _run(workspace, str(tmp_path / "run"), *arguments) == 2
    (line,) = _error_lines(capsys)
    assert expected in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_user_error_under_accelerate_launch_is_one_line_from_every_process(workspace):
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(_free_port()), str(REPO_ROOT / "train.py"), "--dataset", "no/such/folder",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("train.py: error: no/such/folder: no such dataset folder") == 1, output
    # the launcher's report: the processes exit 2 (one may be stopped by the launcher first, -15)
    exit_codes = re.findall(r"exitcode\s*: (-?\d+)", output)
    assert "2" in exit_codes and set(exit_codes) <= {"2", "-15"}, output
    assert f'File "{REPO_ROOT / "train.py"}"' not in output  # no traceback from the training processes
