"""End to end on tiny data: build a CodecFake config, train AASIST with 2 DDP CPU processes (killed
and resumed), evaluate, build the cross-test matrix and the model card."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file

from codecfake_cli.main import main
from dataset_builder.build import BuildOptions, build_codecfake
from dataset_builder.synthetic import make_synthetic_vctk


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_aasist_dir) -> Path:
    """A tiny CodecFake folder (config E, tiny EnCodec) and a tiny random AASIST folder."""
    root = tmp_path_factory.mktemp("train")
    make_synthetic_vctk(root / "vctk", utterances_per_speaker=6)
    build_codecfake(root / "vctk", root / "codecfake", ["E"], BuildOptions(tiny=True, batch_size=8))
    shutil.copytree(tiny_aasist_dir, root / "init")
    (root / "train.yaml").write_text(
        "config: E\ndataset: codecfake\nmodel: init\nepochs: 2\nbatch_size: 2\nnum_workers: 0\n"
        "checkpoint_steps: 1\nlog_with: [none]\n"
    )
    return root


def _launch(accelerate_launch, workspace: Path, output_dir: str, *extra: str) -> subprocess.Popen:
    """train.py with ``workspace/train.yaml`` on 2 DDP CPU processes (``accelerate_launch`` fixture)."""
    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", "2"],
        ["--config-file", "train.yaml", "--output-dir", output_dir, *extra],
    )
    return subprocess.Popen(command, cwd=workspace, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)  # fmt: skip


def _finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    return output


@pytest.fixture(scope="module")
def trained(workspace, accelerate_launch) -> Path:
    """An uninterrupted 2-process run, and a second one SIGKILLed mid-epoch, then resumed."""
    reference = _launch(accelerate_launch, workspace, "run_a")
    interrupted = _launch(accelerate_launch, workspace, "run_b")
    checkpoint = workspace / "run_b" / "checkpoints" / "step_3" / "progress.json"  # mid-epoch 1
    deadline = time.monotonic() + 600
    while not checkpoint.is_file() and interrupted.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(interrupted.pid, signal.SIGKILL)
    interrupted.communicate()
    _finish(reference)
    resumed = _finish(_launch(accelerate_launch, workspace, "run_b", "--resume"))
    assert "resumed from" in resumed
    return workspace


def _last_checkpoint(run: Path) -> Path:
    return max((run / "checkpoints").glob("step_*"), key=lambda p: int(p.name.split("_")[1]))


def test_ddp_training_logs_saves_best_and_resumes_exactly(trained):
    run_a, run_b = trained / "run_a", trained / "run_b"
    log = [json.loads(line) for line in (run_a / "log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]
    assert all(0.0 <= entry["validation_eer"] <= 1.0 and entry["train_loss"] > 0 for entry in log)
    assert (run_a / "best" / "model.safetensors").is_file()
    assert json.loads((run_a / "best" / "training_config.json").read_text())["subset"] == "E"
    # the killed-and-resumed run ends with the same weights and the same log as the uninterrupted one
    assert _last_checkpoint(run_a).name == _last_checkpoint(run_b).name
    weights_a = load_file(_last_checkpoint(run_a) / "model.safetensors")
    weights_b = load_file(_last_checkpoint(run_b) / "model.safetensors")
    assert max((weights_a[k] - weights_b[k]).abs().max().item() for k in weights_a) == 0.0
    assert (run_a / "log.jsonl").read_text() == (run_b / "log.jsonl").read_text()


def test_evaluate_is_deterministic_and_tests_significance(trained, capsys):
    dataset = str(trained / "codecfake")
    for out in ("eval_1", "eval_2"):
        code = main(["evaluate", "--model", str(trained / "run_a" / "best"), "--dataset", dataset, "--configs", "E",
                     "--against", str(trained / "init"), "--output-dir", str(trained / out), "--batch-size", "4"])  # fmt: skip
        assert code == 0
    first, second = (pd.read_csv(trained / out / "scores_E.csv") for out in ("eval_1", "eval_2"))
    pd.testing.assert_frame_equal(first, second)
    assert set(first["codec"]) == {"bonafide", "E"} and set(first["label"]) == {0, 1}
    summary = pd.read_csv(trained / "eval_1" / "eer.csv", index_col=0)
    assert list(summary.index) == ["E"] and 0 <= summary.at["E", "eer"] <= 1
    assert {"ttest_p", "wilcoxon_p", "significant", "better", "baseline_eer"} <= set(summary.columns)
    assert "eer_%" in capsys.readouterr().out


def test_matrix_writes_csv_png_and_paper_comparison(trained):
    out = trained / "matrix"
    code = main(["matrix", "--models", str(trained / "run_a" / "best"), "AASIST-L(ASVspoof2019)=" + str(trained / "init"),
                 "--dataset", str(trained / "codecfake"), "--configs", "E", "--output-dir", str(out)])  # fmt: skip
    assert code == 0
    matrix = pd.read_csv(out / "cross_test_eer.csv", index_col=0)
    assert list(matrix.index) == ["AASIST-L(ASVspoof2019)", "E"] and list(matrix.columns) == ["E"]
    comparison = pd.read_csv(out / "cross_test_vs_paper.csv")
    assert list(comparison["paper"]) == [13.51, 0.0]
    assert (out / "cross_test_eer.png").read_bytes()[:4] == b"\x89PNG"
