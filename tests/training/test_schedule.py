"""The cosine schedule ends at ``min_learning_rate`` with several DDP processes: its horizon counts the
optimizer steps of each process after Accelerate has split the data."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from tests.training.test_training import _finish, _launch  # the 2-process CPU launch of the training tests


def test_cosine_reaches_the_minimum_on_the_last_step_with_two_processes(
    tmp_path, tiny_aasist_dir, accelerate_launch
):
    # 10 clips, batch 2: 5 batches in all, 2 per process after the split (drop_last), so the old
    # horizon (5 per epoch) was never reached by the 4 scheduler steps per epoch
    rng = np.random.default_rng(0)
    for label in ("bonafide", "spoof"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for index in range(5):
            sf.write(
                tmp_path / "data" / label / f"{index}.wav",
                (0.1 * rng.standard_normal(4000)).astype(np.float32),
                16000,
            )
    shutil.copytree(tiny_aasist_dir, tmp_path / "init")
    (tmp_path / "train.yaml").write_text(
        "dataset: data\nmodel: init\nepochs: 2\nbatch_size: 2\nnum_workers: 0\nlog_with: [none]\n"
        "learning_rate: 0.001\nmin_learning_rate: 0.000005\n"
    )
    _finish(_launch(accelerate_launch, tmp_path, "run"))
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2
    assert log[-1]["learning_rate"] == pytest.approx(5e-6, rel=1e-9)
