"""A model folder whose weights are a ``pytorch_model.bin`` (the pickle format ``save_pretrained`` wrote
before safetensors): a valid one loads (with ``weights_only=True``); garbage or a pickle that
``weights_only`` loading refuses is one line naming the file and what to do, exit 2, in ``detect``,
``evaluate`` and ``train.py --model``, never a traceback, never torch's advice to load it with
``weights_only=False``, and nothing in it is run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file

from codecfake_cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")


def bin_folder(tiny_aasist_dir: Path, folder: Path, weights: bytes | None = None) -> Path:
    """A copy of the tiny AASIST folder with its weights as ``pytorch_model.bin``: the same tensors
    (``torch.save``), or ``weights``."""
    shutil.copytree(tiny_aasist_dir, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    if weights is None:
        torch.save(load_file(tiny_aasist_dir / "model.safetensors"), folder / "pytorch_model.bin")
    else:
        (folder / "pytorch_model.bin").write_bytes(weights)
    return folder


@pytest.fixture
def speech(tmp_path) -> str:
    path = tmp_path / "speech.wav"
    sf.write(path, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000)
    return str(path)


def test_a_valid_pytorch_model_bin_loads(tiny_aasist_dir, tmp_path, speech, capsys):
    folder = bin_folder(tiny_aasist_dir, tmp_path / "model")
    scores = []
    for model in (folder, tiny_aasist_dir):
        assert main(["detect", speech, "--model", str(model), "--json"]) == 0
        scores.append([result["score"] for result in json.loads(capsys.readouterr().out)])
    assert scores[0] == scores[1] and scores[0][0] is not None


@pytest.fixture(params=["garbage", "refused pickle"])
def bad_weights(request, malicious_pickle) -> tuple[bytes, Path | None]:
    """``(pytorch_model.bin's bytes, marker)``: bytes that are no checkpoint, or a pickle that runs code
    when loaded unsafely (``marker`` appears if it ran)."""
    if request.param == "garbage":
        return b"this is not a checkpoint " * 20, None
    return malicious_pickle


@pytest.mark.parametrize("command", ["detect", "evaluate", "train.py"])
def test_a_bad_pytorch_model_bin_is_one_line_naming_it(
    command, bad_weights, tiny_aasist_dir, tmp_path, speech, write_labelled_folder, train_script, capsys
):
    payload, marker = bad_weights
    folder = bin_folder(tiny_aasist_dir, tmp_path / "model", payload)
    data = write_labelled_folder(tmp_path / "set", per_class=2, samples=9000)
    out = tmp_path / "out"
    if command == "train.py":
        code = train_script.main(["--model", str(folder), "--dataset", str(data), "--output-dir", str(out),
                                  "--epochs", "1", "--batch-size", "2", "--num-workers", "0", "--log-with", "none"])  # fmt: skip
    elif command == "evaluate":
        code = main(["evaluate", "--model", str(folder), "--dataset", str(data), "--output-dir", str(out)])
    else:
        code = main(["detect", speech, "--model", str(folder)])
    err = capsys.readouterr().err
    assert code == 2, err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    program = "train.py" if command == "train.py" else f"codecfake {command}"
    assert len(errors) == 1 and errors[0].startswith(f"{program}: error: {folder / 'pytorch_model.bin'}: "), (
        err
    )
    assert "cannot be loaded safely" in errors[0] and "(nothing in it was run)" in errors[0]
    assert "re-save the model as safetensors" in errors[0]
    assert "Traceback" not in err and "weights_only=False" not in err and "set to `False`" not in err
    assert marker is None or not marker.exists()
    assert not out.exists()  # nothing written for a model that does not load
