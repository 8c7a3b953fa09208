"""`codecfake push` and `codecfake push-model` check everything (offline, repo id, token, the Hub,
write access, the card's dataset link) before touching the folder, and never overwrite a README.md
they did not write unless asked (--write-card). The Hub is a mocked ``HfApi``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx2
import pytest
from huggingface_hub.errors import HfHubHTTPError

from codecfake_cli.main import main
from codecfake_hf.files import hub_io

USER_README = "---\nlicense: mit\n---\n# My detector\n\nNotes I wrote by hand.\n"


def _http_error(status: int) -> HfHubHTTPError:
    request = httpx2.Request("POST", "https://huggingface.co/api/repos/create")
    return HfHubHTTPError(f"{status} error", response=httpx2.Response(status, request=request))


class FakeApi:
    """A mocked ``HfApi``; class attributes choose how each call answers."""

    whoami_error: Exception | None = None
    role = "write"
    create_error: Exception | None = None
    datasets: set = {"org/codecfake"}
    calls: list = []

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def whoami(self):
        self.calls.append(("whoami",))
        if self.whoami_error:
            raise self.whoami_error
        return {"name": "me", "auth": {"accessToken": {"role": self.role}}}

    def repo_exists(self, repo_id, repo_type=None):
        self.calls.append(("repo_exists", repo_id, repo_type))
        return repo_id in self.datasets

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        if self.create_error:
            raise self.create_error

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))


@pytest.fixture()
def online(monkeypatch):
    """Online, with a token, and a fresh mocked API class."""
    api = type("Api", (FakeApi,), {"calls": []})
    monkeypatch.setattr(hub_io, "HfApi", api)
    monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_io, "get_token", lambda: "hf_SECRETVALUE")
    return api


@pytest.fixture()
def detector(tiny_aasist_dir, tmp_path) -> Path:
    """A trained detector folder (training_config.json: config C, a local dataset) with a README
    its user wrote."""
    folder = Path(shutil.copytree(tiny_aasist_dir, tmp_path / "best"))
    settings = {"config": "C", "dataset": str(tmp_path), "model": "tiny", "recipe": "paper"}
    (folder / "training_config.json").write_text(json.dumps(settings))
    (folder / "README.md").write_text(USER_README)
    return folder


def _push_model(folder: Path, *extra: str) -> int:
    return main(["push-model", str(folder), "--repo", "org/aasist-l-c", *extra])


DATASET = ["--dataset-id", "org/codecfake"]


@pytest.mark.parametrize(
    ("setup", "repo", "extra", "message"),
    [
        ("offline", "org/aasist-l-c", DATASET, "HF_HUB_OFFLINE is set"),
        ("no token", "org/aasist-l-c", DATASET, "no Hugging Face token"),
        ("", "org/bad..name", DATASET, "'org/bad..name' is not a valid Hub model repo id"),
        ("bad token", "org/aasist-l-c", DATASET, "rejected your token (HTTP 401)"),
        ("no network", "org/aasist-l-c", DATASET, "cannot reach"),
        ("read-only token", "org/aasist-l-c", DATASET, "token is read-only"),
        (
            "no write access",
            "org/aasist-l-c",
            DATASET,
            "refused access to the model repo org/aasist-l-c (HTTP 403)",
        ),
        ("", "org/aasist-l-c", [], "must name the Hub dataset it was trained on"),
        ("", "org/aasist-l-c", ["--dataset-id", "org/other"], "org/other, which does not exist on the Hub"),
        ("", "org/aasist-l-c", ["--dataset-id", "codecfake"], "'codecfake' is not a Hub dataset id"),
    ],
)
def test_a_failing_check_leaves_the_detector_folder_untouched(
    online, detector, monkeypatch, capsys, setup, repo, extra, message
):
    if setup == "offline":
        monkeypatch.setattr(hub_io.constants, "HF_HUB_OFFLINE", True)
    elif setup == "no token":
        monkeypatch.setattr(hub_io, "get_token", lambda: None)
    elif setup == "bad token":
        online.whoami_error = _http_error(401)
    elif setup == "no network":
        online.whoami_error = httpx2.ConnectError("[Errno 111] Connection refused")
    elif setup == "read-only token":
        online.role = "read"
    elif setup == "no write access":
        online.create_error = _http_error(403)
    before = {p.name: p.read_bytes() for p in detector.iterdir()}
    code = main(["push-model", str(detector), "--repo", repo, "--write-card", *extra])
    error = capsys.readouterr().err
    assert code == 2 and message in error, error
    assert "resume" not in error and "SECRETVALUE" not in error
    assert {p.name: p.read_bytes() for p in detector.iterdir()} == before
    assert not [call for call in online.calls if call[0] == "upload_folder"]


def test_an_existing_readme_is_uploaded_as_it_is(online, detector, capsys):
    assert _push_model(detector) == 0  # no --dataset-id needed: the existing card is not rewritten
    assert (detector / "README.md").read_text() == USER_README
    assert "kept" in capsys.readouterr().out
    assert online.calls[-1][0] == "upload_folder"


def test_an_existing_readme_that_links_nowhere_is_refused(online, detector, capsys):
    (detector / "README.md").write_text("---\nlicense: mit\ndatasets:\n- codecfake\n---\n# old card\n")
    assert _push_model(detector) == 2
    assert "names the dataset 'codecfake', which is no Hub dataset" in capsys.readouterr().err


def test_the_card_is_written_when_missing_or_asked(online, detector):
    (detector / "README.md").unlink()
    assert _push_model(detector, "--dataset-id", "org/codecfake", "--base-model", "org/aasist-l") == 0
    card = (detector / "README.md").read_text()
    assert (
        "license: cc-by-nc-4.0" in card and "- org/codecfake" in card and "base_model: org/aasist-l" in card
    )
    assert ("repo_exists", "org/codecfake", "dataset") in online.calls
    upload = online.calls[-1][1]
    assert upload["repo_id"] == "org/aasist-l-c" and upload["folder_path"] == detector
    (detector / "README.md").write_text(USER_README)
    assert _push_model(detector, "--dataset-id", "org/codecfake", "--write-card") == 0
    assert "license: cc-by-nc-4.0" in (detector / "README.md").read_text()


def test_the_training_dataset_is_the_default_dataset_id(online, detector):
    settings = json.loads((detector / "training_config.json").read_text()) | {"dataset": "org/codecfake"}
    (detector / "training_config.json").write_text(json.dumps(settings))
    assert _push_model(detector, "--write-card") == 0
    assert "- org/codecfake" in (detector / "README.md").read_text()


# --- The dataset push --------------------------------------------------------------------------


def _push(folder: Path, *extra: str) -> int:
    return main(["push", str(folder), "--repo", "org/codecfake", *extra])


def test_dataset_push_checks_before_touching_the_card(online, bonafide_build, tmp_path, capsys):
    folder = Path(shutil.copytree(bonafide_build, tmp_path / "codecfake"))
    original = (folder / "README.md").read_bytes()
    online.create_error = _http_error(403)
    assert (
        _push(folder) == 2 and "refused access to the dataset repo org/codecfake" in capsys.readouterr().err
    )
    assert (folder / "README.md").read_bytes() == original  # unedited, yet not rewritten before the checks
    assert main(["push", str(folder), "--repo", "org/bad..name"]) == 2
    error = capsys.readouterr().err
    assert "'org/bad..name' is not a valid Hub dataset repo id" in error and "resume" not in error
    assert (folder / "README.md").read_bytes() == original


def test_dataset_push_keeps_an_edited_card_unless_asked(online, bonafide_build, tmp_path):
    folder = Path(shutil.copytree(bonafide_build, tmp_path / "codecfake"))
    edited = (folder / "README.md").read_text() + "\nMy own notes.\n"
    (folder / "README.md").write_text(edited)
    assert _push(folder) == 0
    assert (folder / "README.md").read_text() == edited
    assert _push(folder, "--write-card") == 0
    card = (folder / "README.md").read_text()
    assert "My own notes." not in card and 'load_dataset("org/codecfake", "E")' in card


def test_a_detector_of_the_default_config_gets_the_licence_of_every_pooled_subset(online, detector, tmp_path):
    from huggingface_hub import DatasetCard

    from codecfake_hf.data.dataset_card import card_data

    pooled = tmp_path / "pooled"
    DatasetCard(f"---\n{card_data(['C', 'D1'], ['train'], 10).to_yaml()}\n---\n").save(pooled / "README.md")
    settings = {"config": "default", "dataset": str(pooled), "model": "tiny"}
    (detector / "training_config.json").write_text(json.dumps(settings))
    assert _push_model(detector, "--dataset-id", "org/codecfake", "--write-card") == 0
    card = (detector / "README.md").read_text()
    assert "license: cc-by-nc-4.0" in card
    assert "- C: CC BY-NC 4.0 (non-commercial)" in card and "- D1: MIT" in card


def test_dataset_push_needs_hf_xet_to_resume(online, bonafide_build, monkeypatch, capsys):
    """Without hf_xet, huggingface_hub 2.4's upload_folder makes one commit that cannot resume."""
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "hf_xet" else find_spec(name, *a)
    )
    assert _push(bonafide_build) == 2
    assert "hf_xet is not installed" in capsys.readouterr().err and not online.calls
