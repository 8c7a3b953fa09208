"""A Hugging Face Hub on 127.0.0.1, in memory, for tests: the real huggingface_hub, datasets and
transformers client code runs against it with ``HF_ENDPOINT=http://127.0.0.1:PORT`` (see
:meth:`LoopbackHub.environment`).

It speaks the part of the Hub's HTTP API that those clients use here (huggingface_hub 2.4 / 2.5,
datasets 5.2, transformers 5.25), as their source reads it:

- ``GET /api/whoami-v2`` (a token with write access; 401 without a token), ``/api/agent-harnesses``
  (what huggingface_hub 2.5 reads for its user agent: an empty registry);
- ``POST /api/repos/create`` (model, dataset, space; a Space needs its ``sdk``; 409 with the repo's
  ``url`` when it exists, which ``exist_ok=True`` accepts); a new repo has one commit holding
  ``.gitattributes``, as on the Hub;
- ``POST /api/validate-yaml`` (the front matter of a README.md must be a YAML mapping);
- ``POST /api/{type}s/{id}/preupload/{rev}``: every file ``"regular"`` (its bytes travel base64 in the
  commit, so neither LFS nor Xet storage is involved), ``shouldIgnore`` false, and the git blob id of
  the file already at that path (the client then leaves unchanged files out of the commit);
- ``POST /api/{type}s/{id}/commit/{branch}``: NDJSON ``header`` / ``file`` / ``deletedFile`` /
  ``deletedFolder`` lines; each commit gets a new id and the history is kept, so ``revision=<commit>``
  reads an older state (``parentCommit`` is checked: 412 when the branch moved on);
- ``GET /api/{type}s/{id}`` and ``/revision/{rev}`` (``sha``, ``siblings``, ``cardData`` from the
  README.md front matter, ``sdk`` of a Space), ``/tree/{rev}[/{path}]`` (``recursive``, ``expand``
  with ``lastCommit``, paginated by a ``Link`` header), ``/commits/{rev}`` (newest first), ``/refs``,
  ``POST .../paths-info/{rev}``;
- ``HEAD`` and ``GET /[datasets/|spaces/]{id}/resolve/{rev}/{path}`` with ``X-Repo-Commit``,
  ``ETag`` (the git blob id), ``Range`` (206, 416), and for files that the repo's ``.gitattributes``
  stores with LFS (``*.parquet``, ``*.safetensors``, ...) ``X-Linked-Etag`` (sha256) and
  ``X-Linked-Size``, which listings show as their ``lfs`` entry too;
- errors as the Hub sends them: 404 with ``X-Error-Code`` ``RepoNotFound``, ``RevisionNotFound`` or
  ``EntryNotFound`` (and ``X-Repo-Commit`` for a missing file), which huggingface_hub turns into its
  ``RepositoryNotFoundError``, ``RevisionNotFoundError``, ``RemoteEntryNotFoundError``.

Any other request is answered 404 and recorded in :attr:`LoopbackHub.unhandled`, so a test sees an
endpoint a client needs that this Hub does not offer. Tests seed repos from local folders
(:meth:`LoopbackHub.seed`, at a chosen commit id when a client pins one), run clients pointed at the Hub
(:meth:`LoopbackHub.run_client`) and read what they pushed (:meth:`LoopbackHub.files`,
:meth:`LoopbackHub.differences`, :meth:`LoopbackHub.commits`) and asked for (:attr:`LoopbackHub.requests`).

Not offered: LFS and Xet storage (so ``datasets``' ``push_to_hub``, which deletes its shards once they are
pre-uploaded as LFS objects, cannot push here; ``upload_folder`` and ``create_commit`` can), pull requests,
tags, gated or private access rules.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import http.server
import json
import mimetypes
import os
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import yaml
from huggingface_hub.utils import filter_repo_objects
from huggingface_hub.utils.sha import git_hash

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
#: What a URL puts before a repo id on the Hub's web side (resolve URLs), per repo type.
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
#: The user every token belongs to.
USER = "loopback-user"
#: Extensions the ``.gitattributes`` of a new repo stores with LFS, as the Hub's default file does.
LFS_EXTENSIONS = (
    "7z", "arrow", "bin", "bz2", "ckpt", "flac", "ftz", "gz", "h5", "joblib", "lz4", "mp3", "msgpack",
    "npy", "npz", "ogg", "onnx", "parquet", "pb", "pickle", "pkl", "pt", "pth", "rar", "safetensors",
    "tar", "tflite", "tgz", "wasm", "wav", "xz", "zip", "zst",
)  # fmt: skip
GITATTRIBUTES = "".join(f"*.{ext} filter=lfs diff=lfs merge=lfs -text\n" for ext in LFS_EXTENSIONS).encode()
#: Entries per page of a tree listing (the Hub's: 1000, 50 with ``expand``).
PAGE_SIZE, EXPANDED_PAGE_SIZE = 1000, 50
COMMIT_ID = re.compile(r"[0-9a-f]{40}")


def folder_files(folder: str | Path, ignore_patterns: list[str] | None = None) -> dict[str, bytes]:
    """``{path: content}`` of every file under ``folder``, but those ``ignore_patterns`` match (the
    patterns of ``upload_folder``)."""
    folder = Path(folder)
    names = [path.relative_to(folder).as_posix() for path in sorted(folder.rglob("*")) if path.is_file()]
    return {
        name: (folder / name).read_bytes()
        for name in filter_repo_objects(names, ignore_patterns=ignore_patterns)
    }


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Commit:
    """One commit: its id, message, parent and the whole tree at that commit (path -> bytes)."""

    oid: str
    title: str
    description: str
    parent: str | None
    date: str
    tree: dict[str, bytes]


@dataclass
class Repo:
    """One repository: its branches (name -> commit id) and every commit ever made."""

    repo_type: str
    repo_id: str
    private: bool = False
    sdk: str | None = None
    created: str = field(default_factory=_now)
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        """The commit a branch name or a full commit id names (None: no such revision)."""
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)

    def history(self, oid: str) -> Iterator[Commit]:
        """The commit ``oid`` and its ancestors, newest first."""
        commit: Commit | None = self.commits[oid]
        while commit is not None:
            yield commit
            commit = self.commits.get(commit.parent) if commit.parent else None

    def lfs_patterns(self, commit: Commit) -> list[str]:
        """The patterns its ``.gitattributes`` stores with LFS at ``commit``."""
        text = commit.tree.get(".gitattributes", b"").decode("utf-8", "replace")
        return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line.split()[1:]]


class HubError(Exception):
    """An error answer: HTTP ``status``, the Hub's ``X-Error-Code`` and message, extra headers."""

    def __init__(self, status: int, code: str | None, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class LoopbackHub:
    """The Hub's state and the server that answers for it (module docstring).

    Use it as a context manager (``with LoopbackHub() as hub:``), or :meth:`start` / :meth:`stop`.
    """

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        #: ``(method, path with query, status)`` of every request, in order.
        self.requests: list[tuple[str, str, int]] = []
        #: ``(method, path)`` of every request this Hub has no endpoint for.
        self.unhandled: list[tuple[str, str]] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._counter = 0

    # --- the server -----------------------------------------------------------------------------

    def start(self) -> LoopbackHub:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the hub first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def environment(self, token: str = "hf_loopback_token") -> dict[str, str]:
        """The variables that point huggingface_hub, datasets and transformers at this Hub, online."""
        return {"HF_ENDPOINT": self.url, "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0", "HF_TOKEN": token}

    def run_client(self, command: list[str], home: Path, env: dict[str, str] | None = None,
                   timeout: float = 300) -> str:  # fmt: skip
        """Run ``command`` in the folder ``home`` (also its HOME; its Hub cache ``home/.cache/huggingface``)
        with this process's environment but every ``HF_*`` variable replaced by ``env`` and
        :meth:`environment`; returns its stdout, and fails (AssertionError, with its stderr) if it does."""
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGINGFACE"))
        }
        environment |= {
            "HOME": str(home),
            "HF_HOME": str(home / ".cache" / "huggingface"),
            "OMP_NUM_THREADS": "1",
        }
        environment |= (env or {}) | self.environment()
        Path(home).mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            command, cwd=home, env=environment, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, f"{' '.join(command)[:200]} failed:\n{result.stderr[-6000:]}"
        return result.stdout

    # --- seeding and inspecting (for tests) ----------------------------------------------------

    def create(self, repo_id: str, repo_type: str = "model", *, sdk: str | None = None,
               private: bool = False) -> Repo:  # fmt: skip
        """The repo ``repo_id``, created (with its ``.gitattributes`` commit) if missing."""
        with self.lock:
            key = (repo_type, repo_id)
            if key not in self.repos:
                repo = Repo(repo_type, repo_id, private=private, sdk=sdk)
                self.repos[key] = repo
                self._commit(repo, "main", {".gitattributes": GITATTRIBUTES}, [], "initial commit")
            return self.repos[key]

    def seed(self, repo_id: str, folder: str | Path | dict[str, bytes], repo_type: str = "model", *,
             commit: str | None = None, message: str = "Seed from a local folder", sdk: str | None = None,
             ignore_patterns: list[str] | None = None) -> str:  # fmt: skip
        """Commit the files of ``folder`` (:func:`folder_files`; or ``{path: content}``) to ``main`` of
        ``repo_id`` (created if missing: a Space gets ``sdk``, default gradio), as the commit ``commit``
        (40 hex digits; default a new id: a client that pins a commit finds it). Files of earlier commits
        stay unless replaced. Returns the commit id."""
        files = folder if isinstance(folder, dict) else folder_files(folder, ignore_patterns)
        with self.lock:
            repo = self.create(repo_id, repo_type, sdk=sdk or ("gradio" if repo_type == "space" else None))
            return self._commit(repo, "main", files, [], message, oid=commit)

    def differences(self, repo_id: str, folder: str | Path, repo_type: str = "model",
                    ignore_patterns: list[str] | None = None) -> list[str]:  # fmt: skip
        """The files of ``folder`` (:func:`folder_files`) that ``main`` of ``repo_id`` lacks or holds with
        other bytes, and the files under ``ignore_patterns`` it holds nonetheless (empty: the repo holds
        the folder as ``upload_folder`` would have uploaded it)."""
        remote = self.files(repo_id, repo_type)
        local = folder_files(folder, ignore_patterns)
        everything = folder_files(folder)
        return sorted({name for name in local if remote.get(name) != local[name]}
                      | {name for name in everything if name not in local and name in remote})  # fmt: skip

    def files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, bytes]:
        """``{path: content}`` of ``repo_id`` at ``revision`` (a branch or commit id)."""
        with self.lock:
            commit = self._repo(repo_type, repo_id).resolve(revision)
            assert commit is not None, f"{repo_type} {repo_id} has no revision {revision}"
            return dict(commit.tree)

    def commits(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> list[Commit]:
        """The commits of ``revision``, newest first (the last one: the repo's creation)."""
        with self.lock:
            repo = self._repo(repo_type, repo_id)
            commit = repo.resolve(revision)
            assert commit is not None, f"{repo_type} {repo_id} has no revision {revision}"
            return list(repo.history(commit.oid))

    def has_repo(self, repo_id: str, repo_type: str = "model") -> bool:
        with self.lock:
            return (repo_type, repo_id) in self.repos

    # --- the state behind the API --------------------------------------------------------------

    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, "RepoNotFound", f"Repository not found: {repo_type} {repo_id}")
        return repo

    def _revision(self, repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return commit

    def _commit(self, repo: Repo, branch: str, added: dict[str, bytes], deleted: list[tuple[str, bool]],
                title: str, description: str = "", oid: str | None = None) -> str:  # fmt: skip
        """Make a commit on ``branch`` (``deleted``: ``(path, is_folder)``); returns its id."""
        parent = repo.branches.get(branch)
        tree = dict(repo.commits[parent].tree) if parent else {}
        for path, is_folder in deleted:
            doomed = [name for name in tree if name == path or (is_folder and name.startswith(path + "/"))]
            if not doomed:
                raise HubError(404, "EntryNotFound", f"A file with this name doesn't exist: {path}")
            for name in doomed:
                del tree[name]
        tree.update(added)
        self._counter += 1
        if oid is None:
            digest = hashlib.sha1(f"{repo.repo_type}/{repo.repo_id}\n{parent}\n{title}\n".encode())
            for name in sorted(tree):
                digest.update(f"{name} {git_hash(tree[name])}\n".encode())
            digest.update(str(self._counter).encode())
            oid = digest.hexdigest()
        assert COMMIT_ID.fullmatch(oid) and oid not in repo.commits, f"commit id {oid} unusable"
        repo.commits[oid] = Commit(oid, title, description, parent, _now(), tree)
        repo.branches[branch] = oid
        return oid

    def _entry(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict:
        """The tree / paths-info entry of a file or folder ``path`` at ``commit``."""
        if path in commit.tree:
            content = commit.tree[path]
            entry = {"type": "file", "oid": git_hash(content), "size": len(content), "path": path}
            if any(
                fnmatch.fnmatch(PurePosixPath(path).name, pattern) for pattern in repo.lfs_patterns(commit)
            ):
                sha256 = hashlib.sha256(content).hexdigest()
                pointer = (
                    f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(content)}\n"
                )
                entry |= {"oid": git_hash(pointer.encode()),
                          "lfs": {"oid": sha256, "size": len(content), "pointerSize": len(pointer)}}  # fmt: skip
        else:
            below = sorted(name for name in commit.tree if name.startswith(path + "/"))
            listing = "".join(f"{name} {git_hash(commit.tree[name])}\n" for name in below)
            entry = {"type": "directory", "oid": git_hash(listing.encode()), "size": 0, "path": path}
        if expand:
            last = self._last_change(repo, commit, path)
            entry["lastCommit"] = {"id": last.oid, "title": last.title, "date": last.date}
        return entry

    def _last_change(self, repo: Repo, commit: Commit, path: str) -> Commit:
        """The newest commit up to ``commit`` that changed ``path`` (a file or anything under a folder)."""

        def state(tree: dict[str, bytes]) -> dict[str, bytes]:
            return {name: data for name, data in tree.items() if name == path or name.startswith(path + "/")}

        history = list(repo.history(commit.oid))
        for newer, older in zip(history, history[1:]):
            if state(newer.tree) != state(older.tree):
                return newer
        return history[-1]

    def _exists(self, commit: Commit, path: str) -> bool:
        return path in commit.tree or any(name.startswith(path + "/") for name in commit.tree)

    def _info(self, repo: Repo, commit: Commit, blobs: bool) -> dict:
        """``GET /api/{type}s/{id}[/revision/{rev}]``: what ModelInfo / DatasetInfo / SpaceInfo read."""
        siblings = []
        for path in sorted(commit.tree):
            sibling = {"rfilename": path}
            if blobs:
                entry = self._entry(repo, commit, path, expand=False)
                sibling |= {"size": entry["size"], "blobId": entry["oid"]}
                if "lfs" in entry:
                    sibling["lfs"] = {"sha256": entry["lfs"]["oid"], "size": entry["lfs"]["size"],
                                      "pointerSize": entry["lfs"]["pointerSize"]}  # fmt: skip
            siblings.append(sibling)
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0] if "/" in repo.repo_id else USER, "sha": commit.oid,
            "lastModified": commit.date, "createdAt": repo.created, "private": repo.private, "gated": False,
            "disabled": False, "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
        }  # fmt: skip
        card = _front_matter(commit.tree.get("README.md"))
        if isinstance(card, dict):
            info["cardData"] = card
            info["tags"] = list(card.get("tags") or [])
            if repo.repo_type == "model":
                info |= {key: card[key] for key in ("library_name", "pipeline_tag") if key in card}
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
            config = commit.tree.get("config.json")
            if config is not None:
                try:
                    parsed = json.loads(config)
                    info["config"] = {key: parsed[key] for key in ("architectures", "model_type", "auto_map")
                                      if key in parsed}  # fmt: skip
                except ValueError:
                    pass
        if repo.repo_type == "space":
            info["sdk"] = repo.sdk
        return info

    # --- the endpoints -------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        """``(status, headers, body)`` of one request (the body of a HEAD answer is dropped); a request no
        endpoint answers is recorded in :attr:`unhandled` and answered 404."""
        split = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(split.query)
        parts = split.path.split("/")[1:]
        try:
            with self.lock:
                if parts[:1] == ["api"]:
                    return self._api(method, parts[1:], query, headers, body)
                if "resolve" in parts[:4] and method in ("GET", "HEAD"):
                    return self._resolve(parts, headers)
                raise _NotHandled
        except HubError as error:
            code = {"X-Error-Code": error.code} if error.code else {}
            headers = {"X-Error-Message": error.message, **code, **error.headers}
            return error.status, headers, json.dumps({"error": error.message}).encode()
        except _NotHandled:
            self.unhandled.append((method, raw_path))
            message = f"the loopback Hub has no endpoint {method} {split.path}"
            return 404, {}, json.dumps({"error": message}).encode()

    def _api(
        self, method: str, parts: list[str], query: dict, headers, body: bytes
    ) -> tuple[int, dict, bytes]:
        authorized = headers.get("Authorization", "").startswith("Bearer ")
        if parts == ["whoami-v2"] and method == "GET":
            if not authorized:
                raise HubError(401, None, "Invalid credentials in Authorization header")
            role = {"role": "write", "displayName": "loopback"}
            return _json({"type": "user", "name": USER, "fullname": "Loopback User", "orgs": [],
                          "auth": {"type": "access_token", "accessToken": role}})  # fmt: skip
        if parts == ["validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body or b"{}"))
        if parts == ["repos", "create"] and method == "POST":
            if not authorized:
                raise HubError(401, None, "You must be authenticated to create a repo")
            return self._create(json.loads(body or b"{}"))
        if parts[:1] == ["telemetry"]:
            return 200, {}, b""
        if parts == ["agent-harnesses"] and method == "GET":  # the user agent's registry: none known here
            return _json({"standardEnvVars": [], "harnesses": {}})
        if len(parts) < 2 or parts[0] not in REPO_TYPES:
            raise _NotHandled
        repo_type = REPO_TYPES[parts[0]]
        repo_id, rest = self._split_repo(repo_type, parts[1:])
        unquoted = [urllib.parse.unquote(part) for part in rest]
        action = unquoted[0] if unquoted else None
        if action is None and method == "GET":
            repo = self._repo(repo_type, repo_id)
            return _json(self._info(repo, self._revision(repo, "main"), _flag(query, "blobs")))
        if action == "revision" and len(unquoted) == 2 and method == "GET":
            repo = self._repo(repo_type, repo_id)
            return _json(self._info(repo, self._revision(repo, unquoted[1]), _flag(query, "blobs")))
        if action == "refs" and method == "GET":
            repo = self._repo(repo_type, repo_id)
            branches = [{"name": name, "ref": f"refs/heads/{name}", "targetCommit": oid}
                        for name, oid in repo.branches.items()]  # fmt: skip
            return _json({"branches": branches, "tags": [], "converts": []})
        if action in ("preupload", "commit", "paths-info", "tree", "commits") and len(unquoted) >= 2:
            repo = self._repo(repo_type, repo_id)
            revision, path = unquoted[1], "/".join(unquoted[2:])
            if action == "tree" and method == "GET":
                return self._tree(repo, revision, path, query)
            if action == "commits" and method == "GET":
                return _json([
                    {"id": c.oid, "title": c.title, "message": c.description, "date": c.date,
                     "authors": [{"user": USER, "avatar": None}]}
                    for c in repo.history(self._revision(repo, revision).oid)
                ])  # fmt: skip
            if action == "paths-info" and method == "POST":
                return self._paths_info(repo, revision, headers, body)
            if action in ("preupload", "commit") and method == "POST":
                if not authorized:
                    raise HubError(401, None, "You must be authenticated to write to a repo")
                if "create_pr" in query:
                    raise HubError(400, None, "the loopback Hub has no pull requests")
                if action == "preupload":
                    return self._preupload(repo, revision, json.loads(body or b"{}"))
                return self._receive_commit(repo, revision, body)
        raise _NotHandled

    def _split_repo(self, repo_type: str, parts: list[str]) -> tuple[str, list[str]]:
        """``(repo id, the path parts after it)``: ``namespace/name`` unless a repo without namespace
        of that name exists."""
        if (
            len(parts) >= 2
            and (repo_type, parts[0]) in self.repos
            and (repo_type, "/".join(parts[:2])) not in self.repos
        ):
            return parts[0], parts[1:]
        return "/".join(parts[:2]), parts[2:]

    def _create(self, payload: dict) -> tuple[int, dict, bytes]:
        repo_type = payload.get("type") or "model"
        name, organization = payload.get("name"), payload.get("organization")
        if repo_type not in URL_PREFIXES or not name:
            raise HubError(400, None, f"invalid repo type {repo_type!r} or name {name!r}")
        repo_id = f"{organization}/{name}" if organization else f"{USER}/{name}"
        url = f"{self.url}/{URL_PREFIXES[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.repos:
            return _json({"error": f"You already created this {repo_type} repo", "url": url}, status=409)
        if repo_type == "space" and not payload.get("sdk"):
            raise HubError(400, None, "a Space needs an sdk (gradio, docker, static)")
        private = bool(payload.get("private")) or payload.get("visibility") == "private"
        self.create(repo_id, repo_type, sdk=payload.get("sdk"), private=private)
        return _json({"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]})

    def _validate_yaml(self, payload: dict) -> tuple[int, dict, bytes]:
        content = payload.get("content", "")
        try:
            card = _front_matter(content.encode())
        except yaml.YAMLError as error:
            return _json({"errors": [{"message": f"invalid YAML: {error}"}], "warnings": []}, status=400)
        if card is not None and not isinstance(card, dict):
            return _json(
                {"errors": [{"message": "the metadata must be a YAML mapping"}], "warnings": []}, status=400
            )
        return _json({"errors": [], "warnings": []})

    def _preupload(self, repo: Repo, revision: str, payload: dict) -> tuple[int, dict, bytes]:
        commit = self._revision(repo, revision)
        files = []
        for item in payload.get("files", []):
            answer = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if item["path"] in commit.tree:
                answer["oid"] = git_hash(commit.tree[item["path"]])
            files.append(answer)
        return _json({"files": files, "commitOid": commit.oid})

    def _receive_commit(self, repo: Repo, branch: str, body: bytes) -> tuple[int, dict, bytes]:
        if branch not in repo.branches:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {branch} (commits go to a branch)")
        header, added, deleted = {}, {}, []
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item.get("key"), item.get("value", {})
            if key == "header":
                header = value
                continue
            path = value.get("path", "")
            if not path or path.startswith("/") or ".." in PurePosixPath(path).parts:
                raise HubError(400, None, f"invalid path in repo {path!r}")
            if key == "file" and value.get("encoding") == "base64":
                added[path] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append((path.rstrip("/"), key == "deletedFolder"))
            else:  # lfsFile: this Hub asked for no LFS upload, so it has no such object
                raise HubError(400, None, f"unsupported commit operation {key!r} for {path!r}")
        parent = header.get("parentCommit")
        if parent and parent != repo.branches[branch]:
            raise HubError(412, None, f"A commit has happened since {parent}. Please refresh and try again.")
        oid = self._commit(repo, branch, added, deleted, header.get("summary") or "Upload",
                           header.get("description") or "")  # fmt: skip
        url = f"{self.url}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{oid}"
        return _json({"success": True, "commitOid": oid, "commitUrl": url, "hookOutput": "",
                      "pullRequestUrl": None})  # fmt: skip

    def _tree(self, repo: Repo, revision: str, path: str, query: dict) -> tuple[int, dict, bytes]:
        commit = self._revision(repo, revision)
        path = path.strip("/")
        if path and (path in commit.tree or not self._exists(commit, path)):
            raise HubError(404, "EntryNotFound", f"{path} does not exist (or is no folder) at {revision}",
                           {"X-Repo-Commit": commit.oid})  # fmt: skip
        prefix = path + "/" if path else ""
        recursive, expand = _flag(query, "recursive"), _flag(query, "expand")
        paths = set()
        for name in commit.tree:
            if not name.startswith(prefix):
                continue
            below = name[len(prefix) :].split("/")
            depth = len(below) if recursive else 1
            paths.update(prefix + "/".join(below[: level + 1]) for level in range(min(depth, len(below))))
        ordered = sorted(paths)
        size = EXPANDED_PAGE_SIZE if expand else PAGE_SIZE
        start = int(query.get("cursor", ["0"])[0])
        page = [self._entry(repo, commit, name, expand) for name in ordered[start : start + size]]
        headers = {}
        if start + size < len(ordered):
            quoted = "/".join(urllib.parse.quote(part, safe="") for part in path.split("/")) if path else ""
            url = f"{self.url}/api/{repo.repo_type}s/{repo.repo_id}/tree/{urllib.parse.quote(revision, safe='')}"
            url += f"/{quoted}" if quoted else ""
            following = urllib.parse.urlencode(
                {"recursive": recursive, "expand": expand, "cursor": start + size}
            )
            headers["Link"] = f'<{url}?{following}>; rel="next"'
        return _json(page, headers=headers)

    def _paths_info(self, repo: Repo, revision: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        commit = self._revision(repo, revision)
        if headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body or b"{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = urllib.parse.parse_qs(body.decode())
            paths, expand = form.get("paths", []), _flag(form, "expand")
        found = [path.strip("/") for path in paths if self._exists(commit, path.strip("/"))]
        return _json([self._entry(repo, commit, path, expand) for path in found])

    def _resolve(self, parts: list[str], headers) -> tuple[int, dict, bytes]:
        """``/[datasets/|spaces/]{id}/resolve/{rev}/{path}``: the file, or a part of it."""
        repo_type = "model"
        if parts[0] in ("datasets", "spaces"):
            repo_type, parts = REPO_TYPES[parts[0]], parts[1:]
        at = parts.index("resolve")
        repo_id = "/".join(urllib.parse.unquote(part) for part in parts[:at])
        revision = urllib.parse.unquote(parts[at + 1]) if len(parts) > at + 1 else ""
        path = "/".join(urllib.parse.unquote(part) for part in parts[at + 2 :])
        repo = self._repo(repo_type, repo_id)
        commit = self._revision(repo, revision)
        if path not in commit.tree:
            raise HubError(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit.oid})
        content = commit.tree[path]
        entry = self._entry(repo, commit, path, expand=False)
        answer = {
            "X-Repo-Commit": commit.oid, "ETag": f'"{git_hash(content)}"', "Accept-Ranges": "bytes",
            "Content-Type": mimetypes.guess_type(path)[0] or "application/octet-stream",
        }  # fmt: skip
        if "lfs" in entry:
            answer |= {"X-Linked-Etag": f'"{entry["lfs"]["oid"]}"', "X-Linked-Size": str(len(content))}
        wanted = headers.get("Range")
        if not wanted:
            return 200, answer, content
        span = _byte_range(wanted, len(content))
        if span is None:
            return 416, answer | {"Content-Range": f"bytes */{len(content)}"}, b""
        start, end = span
        return (
            206,
            answer | {"Content-Range": f"bytes {start}-{end}/{len(content)}"},
            content[start : end + 1],
        )


class _NotHandled(Exception):
    """No endpoint of this Hub answers the request."""


def _flag(query: dict, name: str) -> bool:
    return query.get(name, ["false"])[0].lower() in ("1", "true")


def _json(value, status: int = 200, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(value).encode()


def _front_matter(readme: bytes | None):
    """The YAML front matter of a README.md (None: none)."""
    if readme is None:
        return None
    text = readme.decode("utf-8", "replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    return yaml.safe_load(match.group(1)) if match else None


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte of a ``bytes=`` Range header, None if unsatisfiable."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size and start <= end else None


class _Handler(http.server.BaseHTTPRequestHandler):
    """Hands every request to :meth:`LoopbackHub.answer`."""

    hub: LoopbackHub
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, content = self.hub.answer(self.command, self.path, self.headers, body)
        self.hub.requests.append((self.command, self.path, status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 (http.server API)

    def log_message(self, *args) -> None:
        pass
