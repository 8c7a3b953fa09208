"""User errors of the `codecfake` command line: one line on stderr naming the file and the fix,
exit code 2, a traceback only with --debug / CODECFAKE_DEBUG=1; and where a `--model` comes from."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from codecfake_cli.main import main
from codecfake_hf.errors import CodecFakeError


def _one_error_line(capsys, command: str) -> str:
    """The one `codecfake <command>: error:` line of stderr (besides progress bars), no traceback."""
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith(f"codecfake {command}: error: "), err
    return errors[0]


@pytest.fixture(scope="module")
def audio_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "clip.wav"
    sf.write(path, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), 16000)
    return path


# --- errors that used to be tracebacks ---------------------------------------------------------


def test_corrupt_model_safetensors_is_one_line(tiny_aasist_dir, audio_file, tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    for item in tiny_aasist_dir.iterdir():
        (model / item.name).write_bytes(item.read_bytes())
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:300])
    assert main(["detect", str(audio_file), "--model", str(model)]) == 2
    line = _one_error_line(capsys, "detect")
    assert f"{model}: cannot load" in line and "SafetensorError" in line


def test_truncated_and_malicious_pth_are_refused_without_running_anything(tmp_path, capsys, malicious_pickle):
    from codecfake_hf.models.aasist import AasistConfig, AasistForAudioClassification

    official = tmp_path / "AASIST-L.pth"
    torch.save(AasistForAudioClassification(AasistConfig.from_preset("AASIST-L")).state_dict(), official)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(official.read_bytes()[:5000])
    payload, marker = malicious_pickle
    malicious = tmp_path / "malicious.pth"
    malicious.write_bytes(payload)
    for checkpoint in (truncated, malicious):
        assert main(["convert-aasist", str(checkpoint), str(tmp_path / "out")]) == 2
        line = _one_error_line(capsys, "convert-aasist")
        assert f"{checkpoint}: cannot be loaded safely" in line and "nothing in it was run" in line
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_read_only_output_folder_is_named(tiny_aasist_dir, label_folder, read_only_folder, capsys):
    out = read_only_folder / "eval"
    code = main(["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(label_folder),
                 "--output-dir", str(out), "--device", "cpu"])  # fmt: skip
    assert code == 2
    line = _one_error_line(capsys, "evaluate")
    assert line.endswith(": permission denied; check its permissions or choose another location")
    assert str(read_only_folder) in line


@pytest.fixture(scope="module")
def label_folder(tmp_path_factory, write_labelled_folder) -> Path:
    return write_labelled_folder(tmp_path_factory.mktemp("labelled"), per_class=2, samples=9000, seed=1)


def test_disk_full_names_the_output_folder(tiny_aasist_dir, label_folder, tmp_path, monkeypatch, capsys):
    """A full disk (simulated where the scores are written: write() reports ENOSPC without a file name)."""

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = tmp_path / "eval"
    code = main(["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(label_folder),
                 "--output-dir", str(out), "--device", "cpu"])  # fmt: skip
    assert code == 2
    line = _one_error_line(capsys, "evaluate")
    assert line == f"codecfake evaluate: error: while writing {out}: no space left on the device; free some " \
                   "space or choose another location, then rerun"  # fmt: skip


def test_full_mode_needs_an_aasist_model(wav2vec2_dir, audio_file, capsys):
    assert main(["detect", str(audio_file), "--model", str(wav2vec2_dir), "--mode", "full"]) == 2
    line = _one_error_line(capsys, "detect")
    assert "Wav2Vec2FeatureExtractor" in line and "--mode first" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("test_set,threshold\nE,0.1\n", "no 'eer' column (columns: threshold)"),
        ("test_set,eer\nE,high\n", "the 'eer' column must hold EER fractions between 0 and 1"),
        (b"\xff\xfe\x00garbage", "not a readable CSV file"),
    ],
)
def test_bad_eer_csv_stops_push_model_before_anything_is_written(tiny_aasist_dir, tmp_path, capsys, content,
                                                                 expected):  # fmt: skip
    folder = tmp_path / "detector"
    folder.mkdir()
    (folder / "config.json").write_text((tiny_aasist_dir / "config.json").read_text())
    eer_csv = tmp_path / "eer.csv"
    if isinstance(content, str):
        eer_csv.write_text(content)
    elif content is not None:
        eer_csv.write_bytes(content)
    assert main(["push-model", str(folder), "--repo", "org/x", "--eer-csv", str(eer_csv)]) == 2
    line = _one_error_line(capsys, "push-model")
    assert f"{eer_csv}: {expected}" in line and "codecfake evaluate --output-dir" in line
    assert not (folder / "README.md").exists()


def test_evaluate_names_configs_the_dataset_lacks_before_scoring(tiny_aasist_dir, tmp_path, capsys):
    dataset = tmp_path / "codecfake"
    dataset.mkdir()
    (dataset / "README.md").write_text(
        "---\nconfigs:\n- config_name: bonafide\n  data_files:\n  - split: test\n    path: data/bonafide/test-*\n"
        "- config_name: E\n  data_files:\n  - split: test\n    path: data/E/test-*\n---\n"
    )
    code = main(["evaluate", "--model", str(tiny_aasist_dir), "--dataset", str(dataset), "--configs", "E,Z"])
    assert code == 2
    line = _one_error_line(capsys, "evaluate")
    assert f"{dataset}: no config Z in this dataset (its configs: bonafide, E)" in line


def test_codec_and_robustness_errors_are_user_errors(
    audio_file, label_folder, tiny_aasist_dir, tmp_path, capsys
):
    checkpoint = tmp_path / "F3"
    checkpoint.mkdir()
    (checkpoint / "config.yaml").write_text("encoder: [unclosed\n")
    (checkpoint / "model.pth").write_bytes(b"")
    code = main(["resynthesize", str(audio_file), str(tmp_path / "o.flac"), "--codec", "F3",
                 "--checkpoint-dir", str(checkpoint)])  # fmt: skip
    assert code == 2
    assert f"{checkpoint / 'config.yaml'}: not valid YAML" in _one_error_line(capsys, "resynthesize")
    code = main(["robustness", str(label_folder), "--model", str(tiny_aasist_dir), "--out", str(tmp_path / "r"),
                 "--conditions", "mp3-7"])  # fmt: skip
    assert code == 2
    assert "mp3-7" in _one_error_line(capsys, "robustness")


def test_debug_keeps_the_traceback(audio_file, tmp_path, monkeypatch):
    args = ["detect", str(audio_file), "--model", str(tmp_path / "missing")]
    with pytest.raises(CodecFakeError, match="no such model folder"):
        main([*args, "--debug"])
    monkeypatch.setenv("CODECFAKE_DEBUG", "1")
    with pytest.raises(CodecFakeError, match="no such model folder"):
        main(args)


def test_operating_system_errors_become_one_line():
    from codecfake_hf.errors import user_error_message

    denied = PermissionError(errno.EACCES, "Permission denied", "/data/out")
    assert (
        user_error_message(denied)
        == "/data/out: permission denied; check its permissions or choose another location"
    )
    assert user_error_message(OSError(errno.EROFS, "Read-only file system", "/mnt/x")).startswith(
        "/mnt/x: the file"
    )
    assert user_error_message(IsADirectoryError(errno.EISDIR, "Is a directory", "a.wav")) == (
        "a.wav: is a folder, not a file; pass a file path"
    )
    assert user_error_message(OSError(errno.ENOSPC, "No space left on device"), output="runs/E").startswith(
        "while writing runs/E: no space left"
    )
    assert user_error_message(CodecFakeError("first\n  second")) == "first second"
    assert user_error_message(RuntimeError("a bug")) is None  # keeps its traceback
    assert user_error_message(OSError("no errno: unknown cause")) is None


# --- where a --model comes from (issue 12.6) ----------------------------------------------------


@pytest.mark.parametrize("command", ["detect", "evaluate", "matrix", "robustness"])
def test_missing_relative_model_fails_at_once_when_the_hub_is_unreachable(
    unreachable_hub, command, audio_file, label_folder, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    args = {
        "detect": ["detect", str(audio_file), "--model", "models/aasist-l"],
        "evaluate": ["evaluate", "--dataset", str(label_folder), "--model", "models/aasist-l"],
        "matrix": ["matrix", "--dataset", str(label_folder), "--models", "models/aasist-l"],
        "robustness": ["robustness", str(label_folder), "--out", "r", "--model", "models/aasist-l"],
    }[command]
    assert main(args) == 2
    line = _one_error_line(capsys, command)
    assert line.endswith(
        f"models/aasist-l: no such model folder (relative to {tmp_path}), and the Hub ({unreachable_hub}) could "
        "not be reached to look for a model repo of that name (ConnectError); check the path, or the network"
    )


def test_missing_model_offline_is_not_looked_up(audio_file, monkeypatch, capsys):
    from huggingface_hub import HfApi

    def no_lookup(*args, **kwargs):
        raise AssertionError("the Hub was asked while HF_HUB_OFFLINE is set")

    monkeypatch.setattr(HfApi, "repo_info", no_lookup)
    assert main(["detect", str(audio_file), "--model", "models/aasist-l"]) == 2
    line = _one_error_line(capsys, "detect")
    assert "models/aasist-l: no such model folder" in line and "HF_HUB_OFFLINE is set" in line


@pytest.mark.parametrize("path", ["./models/aasist-l", "../aasist-l", "runs/E/best", "/no/such/model"])
def test_a_path_that_cannot_be_a_repo_id_is_never_looked_up(unreachable_hub, monkeypatch, path):
    from huggingface_hub import HfApi

    from codecfake_hf.files import sources

    def no_lookup(*args, **kwargs):
        raise AssertionError(f"{path} was looked up on the Hub")

    monkeypatch.setattr(HfApi, "repo_info", no_lookup)
    with pytest.raises(sources.SourceNotFoundError, match="no such model folder.*; check the path"):
        sources.resolve_model_source(path)


@pytest.fixture
def hub_without_repos(monkeypatch):
    """A local Hub endpoint that answers every request "404, no such repo" and records the paths."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import huggingface_hub

    requests = []

    class NoRepos(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NoRepos)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield requests
    server.shutdown()
    server.server_close()


def test_a_repo_id_is_looked_up_with_one_request(hub_without_repos):
    from codecfake_hf.files import sources

    with pytest.raises(sources.SourceNotFoundError, match="the Hub has no model repo org/detector"):
        sources.resolve_model_source("org/detector")
    assert hub_without_repos == ["/api/models/org/detector"]
