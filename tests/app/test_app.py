"""The app without a browser: gradio stays optional, the page's files stand alone, bad input is a
message, ``codecfake space`` never overwrites what it did not write, ``push-space`` checks like
``push-model``, and ``push-model --space`` links the Space from the card."""

from __future__ import annotations

import ast
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codecfake_cli.main import main
from codecfake_hf.app import page as page_module
from codecfake_hf.app import pipeline_backend, space
from codecfake_hf.app.local import DetectorBackend
from codecfake_hf.app.page import detect_files, detect_recording
from codecfake_hf.files import hub_io
from tests.dataset_builder.test_push_checks import FakeApi

from .conftest import HUB_ID

pytestmark = pytest.mark.usefixtures("one_thread")
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_library_does_not_need_gradio():
    code = (
        "import sys; sys.modules['gradio'] = None\n"
        "import codecfake_hf.app, codecfake_hf.app.space, codecfake_cli.main, codecfake_hf.detection.detector\n"
        "from codecfake_cli.main import main\n"
        "sys.exit(main(['app', '--model', 'models/x']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert 'pip install -e ".[app]"' in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("module", [page_module, pipeline_backend])
def test_the_space_files_import_only_gradio_numpy_and_the_standard_library(module):
    imported = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a Space holds the file alone"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) <= {"gradio", "numpy"}, imported


@pytest.fixture(scope="module")
def backends(detectors) -> list[DetectorBackend]:
    return [DetectorBackend(str(detectors["tiny"])), DetectorBackend(str(detectors["tiny-calibrated"]))]


def test_bad_input_is_a_message_in_the_page(backends, recordings, tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "a-folder.wav").mkdir()
    for path, message in [
        (None, "Upload or record a recording first."),
        (str(tmp_path / "a-folder.wav"), "a-folder.wav: is a folder, not an audio file"),
        (str(tmp_path / "empty.wav"), "empty.wav: cannot decode audio"),
        (str(recordings["silence.wav"]), "silence.wav: the audio is digital silence"),
        (str(recordings["notes.txt"]), "notes.txt: cannot decode audio"),
    ]:
        shown, state = detect_recording(backends, path, "full", 0.5)
        assert message in shown and "Traceback" not in shown and str(tmp_path) not in shown, shown
    shown, state = detect_recording(backends, str(recordings["speech-4s.wav"]), "full", 0.5)
    assert shown.count('class="cf-probability"') == 2 and state[0] == "full"


def test_the_batch_tab_uses_detects_batched_path(backends, recordings, monkeypatch):
    from codecfake_hf.detection.detector import Detector

    calls = []
    original = Detector.detect_files
    monkeypatch.setattr(
        Detector,
        "detect_files",
        lambda self, paths, **kw: calls.append(list(paths)) or original(self, paths, **kw),
    )
    paths = [str(recordings[name]) for name in ("speech-4s.wav", "notes.txt", "speech-6s.ogg")]
    rows, table = detect_files(backends, paths, "first", 0.5)
    assert calls == [paths, paths]  # one call per detector with every file: windows share forward passes
    assert [row[1] for row in rows] == ["speech-4s.wav", "notes.txt", "speech-6s.ogg"] * 2
    assert rows[0][3] == f"{float(rows[0][3]):.4f}"  # the page shows four decimals, the CSV every digit
    assert Path(table).read_text().count("\n") == 7


# --- codecfake space --------------------------------------------------------------------------


@pytest.fixture()
def model_files(detectors, tmp_path, monkeypatch) -> Path:
    """``fetch_files`` answers from a folder, as from the Hub cache (the real cache: test_space_browser.py)."""
    folder = Path(shutil.copytree(detectors["tiny-calibrated"], tmp_path / "hub-model"))
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n# a detector\n")
    monkeypatch.setattr(space, "fetch_files", lambda repo, files: {name: folder / name for name in files})
    return folder


def test_space_takes_the_licence_and_label_from_the_model(model_files, tmp_path):
    out = space.write_space(HUB_ID, tmp_path / "space")
    assert "license: cc-by-nc-4.0" in (out / "README.md").read_text()
    assert "bonafide_label='bonafide'" in (out / "app.py").read_text()
    manifest = json.loads((out / "codecfake_space.json").read_text())
    assert manifest["model"] == HUB_ID and set(manifest["files"]) >= {"app.py", "page.py", "README.md"}
    (model_files / "README.md").write_text("# a card without metadata\n")
    with pytest.raises(space.SpaceError, match="names no licence"):
        space.write_space(HUB_ID, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_space_never_overwrites_a_file_it_did_not_write(model_files, tmp_path, capsys):
    out = tmp_path / "space"
    out.mkdir()
    (out / "README.md").write_text("my own notes\n")
    assert main(["space", "--model", HUB_ID, "--out", str(out)]) == 2
    assert "README.md: exists and was not written by `codecfake space`" in capsys.readouterr().err
    assert [path.name for path in out.iterdir()] == ["README.md"]
    (out / "README.md").unlink()
    assert main(["space", "--model", HUB_ID, "--out", str(out)]) == 0
    assert main(["space", "--model", HUB_ID, "--out", str(out)]) == 0  # its own files: rewritten
    (out / "app.py").write_text("# edited by hand\n")
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert main(["space", "--model", HUB_ID, "--out", str(out)]) == 2
    assert "app.py: exists and was not written" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_space_offline_without_the_model_in_the_cache_is_one_line(tmp_path, capsys):
    assert main(["space", "--model", "org/not-cached", "--out", str(tmp_path / "space")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "HF_HUB_OFFLINE is set" in error and "org/not-cached" in error
    assert not (tmp_path / "space").exists()


# --- codecfake push-space -----------------------------------------------------------------------


class SpaceApi(FakeApi):
    """The mocked Hub with Spaces: ``spaces`` maps an existing Space to its files ``{path: bytes}``."""

    spaces: dict = {}

    def repo_exists(self, repo_id, repo_type=None):
        self.calls.append(("repo_exists", repo_id, repo_type))
        return repo_id in (self.spaces if repo_type == "space" else self.datasets)

    def list_repo_files(self, repo_id, repo_type=None):
        return list(self.spaces[repo_id])


@pytest.fixture()
def hub_spaces(monkeypatch, tmp_path):
    api = type("Api", (SpaceApi,), {"calls": [], "spaces": {}})
    monkeypatch.setattr(hub_io, "HfApi", api)
    monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_io, "get_token", lambda: "hf_SECRETVALUE")

    def download(repo_id, filename, repo_type=None):
        path = tmp_path / "downloads" / repo_id / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(api.spaces[repo_id][filename])
        return str(path)

    monkeypatch.setattr(space, "hf_hub_download", download)
    return api


@pytest.fixture()
def space_folder(model_files, tmp_path) -> Path:
    return space.write_space(HUB_ID, tmp_path / "space")


def test_push_space_creates_a_gradio_space_and_uploads(hub_spaces, space_folder, capsys):
    assert main(["push-space", str(space_folder), "--repo", "org/try-it"]) == 0
    created = [call for call in hub_spaces.calls if call[0] == "create_repo"]
    assert created == [
        (
            "create_repo",
            "org/try-it",
            {"repo_type": "space", "private": False, "exist_ok": True, "space_sdk": "gradio"},
        )
    ]
    (upload,) = [call[1] for call in hub_spaces.calls if call[0] == "upload_folder"]
    assert upload["repo_type"] == "space" and Path(upload["folder_path"]) == space_folder
    assert "pushed to" in capsys.readouterr().out


def test_push_space_overwrites_only_what_an_earlier_push_wrote(hub_spaces, space_folder, capsys):
    ours = {
        path.relative_to(space_folder).as_posix(): path.read_bytes()
        for path in space_folder.rglob("*")
        if path.is_file()
    }
    hub_spaces.spaces["org/try-it"] = {**ours, ".gitattributes": b"*.mp3 filter=lfs\n"}
    assert main(["push-space", str(space_folder), "--repo", "org/try-it"]) == 0  # its own, unchanged files
    hub_spaces.spaces["org/try-it"]["app.py"] = b"# edited on the Hub\n"
    assert main(["push-space", str(space_folder), "--repo", "org/try-it"]) == 2
    assert "holds app.py, which `codecfake push-space` did not write" in capsys.readouterr().err
    hub_spaces.spaces["org/other"] = {"README.md": b"---\nsdk: gradio\n---\nsomeone's Space\n"}
    assert main(["push-space", str(space_folder), "--repo", "org/other"]) == 2
    assert "holds README.md" in capsys.readouterr().err
    assert len([call for call in hub_spaces.calls if call[0] == "upload_folder"]) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("offline", "HF_HUB_OFFLINE is set"),
        ("no token", "no Hugging Face token"),
        ("not a space", "not a Space folder"),
    ],
)
def test_push_space_checks_like_push_model(hub_spaces, space_folder, monkeypatch, capsys, setup, message):
    if setup == "offline":
        monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", True)
    elif setup == "no token":
        monkeypatch.setattr(hub_io, "get_token", lambda: None)
    else:
        (space_folder / "codecfake_space.json").unlink()
    assert main(["push-space", str(space_folder), "--repo", "org/try-it"]) == 2
    error = capsys.readouterr().err
    assert message in error and "SECRETVALUE" not in error
    assert not [call for call in hub_spaces.calls if call[0] in ("create_repo", "upload_folder")]


# --- push-model --space ---------------------------------------------------------------------------


def test_push_model_links_the_space_from_the_card(hub_spaces, detectors, tmp_path, capsys):
    folder = Path(shutil.copytree(detectors["tiny"], tmp_path / "baseline"))
    hub_spaces.spaces["org/try-it"] = {}
    assert (
        main(["push-model", str(folder), "--repo", "org/aasist-l", "--baseline", "--space", "org/try-it"])
        == 0
    )
    card = (folder / "README.md").read_text()
    assert "[org/try-it](https://huggingface.co/spaces/org/try-it)" in card
    (folder / "README.md").unlink()
    assert (
        main(["push-model", str(folder), "--repo", "org/aasist-l", "--baseline", "--space", "org/missing"])
        == 2
    )
    assert "--space org/missing: no such Space on the Hub" in capsys.readouterr().err
    assert not (folder / "README.md").exists()


def test_a_taken_port_is_one_line(detectors, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--model", str(detectors["tiny"]), "--port", str(port)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]  # after transformers' loading bar
    assert (
        line.startswith("codecfake app: error: --port") and f"--port {port}: Cannot find empty port" in line
    ), line
