"""The loopback Hub (tests/loopback_hub.py) answers the real clients: huggingface_hub's upload_folder,
snapshot_download, hf_hub_download at a pinned commit, HfFileSystem range reads and its errors, and
datasets' load_dataset of a pushed parquet dataset (downloaded and streamed). Each client runs in a subprocess with
only ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE=0`` pointing it there, as a docs block's commands do."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tests.loopback_hub import LoopbackHub


@pytest.fixture()
def hub():
    with LoopbackHub() as started:
        yield started
    assert started.unhandled == [], f"requests the loopback Hub has no endpoint for: {started.unhandled}"


def run_client(hub: LoopbackHub, code: str, home: Path) -> str:
    """Run Python ``code`` in a new interpreter pointed at ``hub``, in ``home`` (an empty Hub cache); its stdout."""
    return hub.run_client([sys.executable, "-c", textwrap.dedent(code)], home, timeout=240)


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


FILES = {
    "config.json": b'{"model_type": "tiny"}\n',
    "README.md": b"---\nlicense: mit\ntags: [audio]\n---\n# A card\n",
    "weights/model.safetensors": bytes(range(256)) * 40,
    "weights/notes.txt": b"regular text\n",
}


def test_upload_folder_then_snapshot_download_round_trip(hub, tmp_path):
    write_files(tmp_path / "folder", FILES)
    out = run_client(hub, """
        import json
        from huggingface_hub import HfApi, snapshot_download
        api = HfApi()
        print(json.dumps(api.whoami()["name"]))
        api.create_repo("org/model", exist_ok=True)
        api.create_repo("org/model", exist_ok=True)  # a second create is accepted with exist_ok
        first = api.upload_folder(repo_id="org/model", folder_path="folder", commit_message="first")
        again = api.upload_folder(repo_id="org/model", folder_path="folder", commit_message="unchanged")
        local = snapshot_download("org/model", local_dir="copy")
        info = api.model_info("org/model", files_metadata=True)
        lfs = {s.rfilename: s.lfs.sha256 for s in info.siblings if s.lfs}
        print(json.dumps([first.oid, again.oid, info.sha, info.card_data.license, lfs]))
    """, tmp_path)  # fmt: skip
    user, (first, again, sha, license, lfs) = (json.loads(line) for line in out.splitlines()[-2:])
    assert user == "loopback-user" and first == again == sha  # nothing changed: no second commit
    assert license == "mit"
    assert list(lfs) == ["weights/model.safetensors"]  # stored with LFS, as .gitattributes says
    for name, content in FILES.items():
        assert (tmp_path / "copy" / name).read_bytes() == content
    assert {name: hub.files("org/model")[name] for name in FILES} == FILES
    assert [commit.title for commit in hub.commits("org/model")] == ["first", "initial commit"]


def test_hf_hub_download_at_a_pinned_commit_and_the_not_found_errors(hub, tmp_path):
    pinned = "0123456789abcdef0123456789abcdef01234567"
    hub.seed("org/codec", write_files(tmp_path / "v1", {"config.json": b"old"}), commit=pinned)
    write_files(tmp_path / "v2", {"config.json": b"new", "sub/extra.bin": b"x" * 10})
    out = run_client(hub, f"""
        import json
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import (RemoteEntryNotFoundError, RepositoryNotFoundError,
                                            RevisionNotFoundError)
        api = HfApi()
        api.upload_folder(repo_id="org/codec", folder_path="v2")
        old = open(hf_hub_download("org/codec", "config.json", revision="{pinned}")).read()
        new = open(hf_hub_download("org/codec", "config.json")).read()
        errors = []
        for call in (lambda: hf_hub_download("org/codec", "missing.json"),
                     lambda: hf_hub_download("org/none", "config.json"),
                     lambda: hf_hub_download("org/codec", "config.json", revision="f" * 40)):
            try:
                call()
            except (RemoteEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError) as error:
                errors.append(type(error).__name__)
        tree = [(e.path, e.last_commit.title) for e in api.list_repo_tree("org/codec", recursive=True, expand=True)]
        at_pin = sorted(api.list_repo_files("org/codec", revision="{pinned}"))
        print(json.dumps([old, new, errors, tree, at_pin]))
    """, tmp_path)  # fmt: skip
    old, new, errors, tree, at_pin = json.loads(out.splitlines()[-1])
    assert (old, new) == ("old", "new")
    assert errors == ["RemoteEntryNotFoundError", "RepositoryNotFoundError", "RevisionNotFoundError"]
    assert tree == [
        [".gitattributes", "initial commit"], ["config.json", "Upload folder using huggingface_hub"],
        ["sub", "Upload folder using huggingface_hub"], ["sub/extra.bin", "Upload folder using huggingface_hub"],
    ]  # fmt: skip
    assert at_pin == [".gitattributes", "config.json"]


def test_hf_file_system_reads_byte_ranges_and_listings_come_in_pages(hub, tmp_path):
    many = {f"rows/{i:03d}.txt": b"%d" % i for i in range(120)}  # 3 pages of 50 with expand
    hub.seed(
        "org/data", write_files(tmp_path / "data", {"blob.bin": bytes(range(256)) * 4, **many}), "dataset"
    )
    out = run_client(hub, """
        import json
        from huggingface_hub import HfApi, HfFileSystem
        fs = HfFileSystem()
        with fs.open("datasets/org/data/blob.bin", "rb", block_size=64) as handle:
            handle.seek(300)
            part = handle.read(10)
        rows = [entry.path for entry in HfApi().list_repo_tree("org/data", "rows", repo_type="dataset", expand=True)]
        print(json.dumps([list(part), fs.size("datasets/org/data/blob.bin"), fs.ls("datasets/org/data", detail=False), rows]))
    """, tmp_path)  # fmt: skip
    part, size, listed, rows = json.loads(out.splitlines()[-1])
    assert part == list(range(300 - 256, 310 - 256)) and size == 1024
    assert listed == [
        "datasets/org/data/.gitattributes",
        "datasets/org/data/blob.bin",
        "datasets/org/data/rows",
    ]
    assert rows == sorted(many) and sum("/tree/main/rows" in path for _, path, _ in hub.requests) == 3
    assert any(status == 206 for method, path, status in hub.requests if "blob.bin" in path)


def test_a_parquet_dataset_pushed_with_upload_folder_loads_downloaded_and_streamed(hub, tmp_path):
    """The layout ``codecfake push`` uploads: parquet shards and a card whose ``configs`` name them."""
    card = (
        "---\nconfigs:\n- config_name: small\n  data_files:\n  - split: train\n    path: data/small/train-*\n"
    )
    card += "  - split: test\n    path: data/small/test-*\n---\n"
    write_files(tmp_path / "dataset", {"README.md": card.encode()})
    out = run_client(hub, """
        import json
        from datasets import Dataset, load_dataset
        from huggingface_hub import HfApi
        rows = {"text": [f"row {i}" for i in range(6)], "label": [i % 2 for i in range(6)]}
        Dataset.from_dict(rows).to_parquet("dataset/data/small/train-00000-of-00001.parquet")
        Dataset.from_dict(rows).select(range(2)).to_parquet("dataset/data/small/test-00000-of-00001.parquet")
        api = HfApi()
        api.create_repo("org/pushed", repo_type="dataset")
        api.upload_folder(repo_id="org/pushed", repo_type="dataset", folder_path="dataset")
        loaded = load_dataset("org/pushed", "small")
        streamed = list(load_dataset("org/pushed", "small", split="train", streaming=True))
        print(json.dumps([list(loaded["train"]["text"]), loaded["test"].num_rows, [row["label"] for row in streamed]]))
    """, tmp_path)  # fmt: skip
    texts, test_rows, labels = json.loads(out.splitlines()[-1])
    assert texts == [f"row {i}" for i in range(6)] and test_rows == 2 and labels == [0, 1, 0, 1, 0, 1]
    assert sorted(hub.files("org/pushed", "dataset")) == [
        ".gitattributes", "README.md", "data/small/test-00000-of-00001.parquet",
        "data/small/train-00000-of-00001.parquet",
    ]  # fmt: skip


def test_ranges_and_an_endpoint_it_lacks():
    """Byte ranges as HTTP has them (suffix, open-ended, unsatisfiable), the error headers huggingface_hub
    reads, and a request no endpoint answers: 404, recorded in ``unhandled``."""
    import urllib.error
    import urllib.request

    with LoopbackHub() as hub:
        hub.seed("org/m", {"blob.bin": bytes(range(100))})

        def get(path: str, **headers: str):
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(hub.url + path, headers=headers)
                ) as answer:
                    return answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as error:
                return error.code, error.headers, error.read()

        assert get("/org/m/resolve/main/blob.bin", Range="bytes=-3")[::2] == (206, bytes([97, 98, 99]))
        assert get("/org/m/resolve/main/blob.bin", Range="bytes=98-")[::2] == (206, bytes([98, 99]))
        status, headers, _ = get("/org/m/resolve/main/blob.bin", Range="bytes=100-")
        assert status == 416 and headers["Content-Range"] == "bytes */100"
        status, headers, _ = get("/org/m/resolve/main/none.bin")
        assert (status, headers["X-Error-Code"]) == (404, "EntryNotFound") and headers["X-Repo-Commit"]
        assert get("/org/none/resolve/main/blob.bin")[1]["X-Error-Code"] == "RepoNotFound"
        assert get("/api/models/org/m/discussions")[0] == 404
        assert hub.unhandled == [("GET", "/api/models/org/m/discussions")]
