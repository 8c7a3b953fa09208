"""train.py: resuming never runs code from a checkpoint, a damaged latest checkpoint falls back to
the newest intact one, and user errors are one line with exit code 2 (on every process)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from safetensors.torch import load_file

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("one_thread")


def _error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("train.py: error:")]


def test_progress_is_json_and_no_object_is_pickled(tiny_run):
    checkpoints = tiny_run.root / "reference" / "checkpoints"
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
def test_a_malicious_pickle_in_any_checkpoint_file_is_never_run(tiny_run, planted, malicious_pickle, capsys):
    payload, marker = malicious_pickle
    run = tiny_run.copy(tiny_run.root / f"planted-{planted}")
    for checkpoint in (run / "checkpoints").iterdir():  # every checkpoint, so none is intact
        (checkpoint / planted).write_bytes(payload)
    try:
        code = tiny_run.run(run.name, "--resume")
    finally:
        assert not marker.exists(), f"the code planted in {planted} ran"
    assert code == 2
    (line,) = _error_lines(capsys)
    assert line.startswith(f"train.py: error: no intact checkpoint to resume from in {run / 'checkpoints'}: ")
    assert f"{run / 'checkpoints' / 'step_4' / planted}: " in line
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_3", "step_4"]  # nothing moved


def test_a_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(tiny_run, capsys):
    run = tiny_run.copy(tiny_run.root / "damaged")
    optimizer = run / "checkpoints" / "step_4" / "optimizer.bin"
    optimizer.write_bytes(optimizer.read_bytes()[:100])  # an interrupted copy
    assert tiny_run.run(run.name, "--resume") == 0
    err = capsys.readouterr().err
    assert (
        f"warning: checkpoint {run / 'checkpoints' / 'step_4'} is damaged ({optimizer}: cannot be loaded"
        in err
    )
    assert (run / "checkpoints" / "step_4.damaged" / "optimizer.bin").is_file()  # kept, set aside
    # resumed from step_3 and retrained its last step: the same weights as the uninterrupted run
    reference = load_file(tiny_run.root / "reference" / "checkpoints" / "step_4" / "model.safetensors")
    resumed = load_file(run / "checkpoints" / "step_4" / "model.safetensors")
    assert max((reference[k] - resumed[k]).abs().max().item() for k in reference) == 0.0


def test_a_checkpoint_of_another_model_is_a_one_line_error(tiny_run, capsys):
    from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification

    run = tiny_run.copy(tiny_run.root / "other-model")
    for checkpoint in (run / "checkpoints").iterdir():
        AasistForAudioClassification(AasistConfig.from_preset("AASIST-L")).save_pretrained(checkpoint)
        (checkpoint / "config.json").unlink()
    assert tiny_run.run(run.name, "--resume") == 2
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
        (["--recipe", "fast"], "--recipe 'fast': unknown; choose one of paper, official, release"),
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
    tiny_run, hub_layout_dataset, tmp_path, capsys, arguments, expected
):
    (tmp_path / "bad.yaml").write_text("epochs: [2\n")
    (tmp_path / "unknown.yaml").write_text("epoch: 2\n")
    paths = {"codecfake": hub_layout_dataset, "missing": tmp_path / "missing.yaml", "bad_yaml": tmp_path / "bad.yaml",
             "unknown_option": tmp_path / "unknown.yaml"}  # fmt: skip
    arguments = [argument.format(**paths) for argument in arguments]
    assert tiny_run.run(str(tmp_path / "run"), *arguments) == 2
    (line,) = _error_lines(capsys)
    assert expected in line
    assert not (tmp_path / "run").exists()  # --output-dir is created only once every check has passed


def test_a_user_error_under_accelerate_launch_is_one_line_from_every_process(tiny_run, accelerate_launch):
    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", "2"], ["--dataset", "no/such/folder"]
    )
    result = subprocess.run(
        command, cwd=tiny_run.root, env=environment, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("train.py: error: no/such/folder: no such dataset folder") == 1, output
    # the launcher's report: the processes exit 2 (one may be stopped by the launcher first, -15)
    exit_codes = re.findall(r"exitcode\s*: (-?\d+)", output)
    assert "2" in exit_codes and set(exit_codes) <= {"2", "-15"}, output
    assert f'File "{REPO_ROOT / "train.py"}"' not in output  # no traceback from the training processes
