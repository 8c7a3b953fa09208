"""Hub I/O through ``huggingface_hub``: fetching checkpoint files and pushing folders.

Offline and unreachable cases come from ``HF_HUB_OFFLINE`` and from huggingface_hub's own requests and
exceptions (no socket probes), so an HTTPS proxy or a custom ``HF_ENDPOINT`` works here exactly as it
works for huggingface_hub. Every message names a command that exists (``hf download``,
``hf auth login``) and never prints the token.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from huggingface_hub import HfApi, constants, get_hf_file_metadata, get_token, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    HTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from codecfake_hf.errors import CodecFakeError
from codecfake_hf.files.atomic_files import TEMPORARY_GLOBS


class CheckpointUnavailableError(CodecFakeError, RuntimeError):
    """Checkpoint files are neither local nor downloadable (offline, missing, no access)."""


class InvalidRepoIdError(CodecFakeError, ValueError):
    """A Hub repo id that huggingface_hub's validator rejects (or that lacks a namespace where one is
    required)."""


class HubPushError(CodecFakeError, RuntimeError):
    """Uploading is impossible (offline, no token, unreachable, refused, interrupted)."""


def check_repo_id(repo_id: str, what: str = "repo", namespace: bool = False) -> str:
    """Return ``repo_id`` if huggingface_hub's validator accepts it (and, with ``namespace``, it is
    ``ORG/NAME``).

    Raises:
        InvalidRepoIdError: the message names the id and the expected form.
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise InvalidRepoIdError(
            f"{repo_id!r} is not a valid Hub {what} id ({error}); use ORG/NAME"
        ) from None
    if namespace and "/" not in repo_id:
        raise InvalidRepoIdError(f"{repo_id!r} is not a Hub {what} id: use ORG/NAME (its namespace included)")
    return repo_id


def fetch_files(
    repo_id: str,
    files: tuple[str, ...] | list[str],
    local_dir: str | os.PathLike | None = None,
    revision: str | None = None,
) -> dict[str, Path]:
    """Return ``{file: local path}`` for ``files`` of the Hub repo ``repo_id``.

    With ``HF_HUB_OFFLINE=1`` only the local cache is read. Otherwise one HEAD request without retries
    (timeout ``HF_HUB_ETAG_TIMEOUT``, 10 s by default) tells whether the Hub answers; if it does not,
    the cache is used, so an unreachable Hub fails within seconds instead of going through
    ``hf_hub_download``'s retries (huggingface_hub 2.4 retries a failed metadata request of an
    uncached file 5 times, each with a 60 s timeout).

    Args:
        repo_id: Hub repository ("facebook/encodec_24khz").
        files: paths inside the repository.
        local_dir: a folder that already holds the files (same relative paths, or flat by
            basename); nothing is downloaded then.
        revision: branch, tag or commit on the Hub.

    Raises:
        CheckpointUnavailableError: a file is missing from ``local_dir``, or cannot be downloaded
            (offline, Hub unreachable, no such repo or file, gated); the message names every file and
            the fix.
    """
    if local_dir is not None:
        return _files_in_folder(Path(local_dir), repo_id, files)
    try:
        check_repo_id(repo_id)
    except InvalidRepoIdError as error:
        raise CheckpointUnavailableError(str(error)) from None
    online = not constants.HF_HUB_OFFLINE and hub_answers(repo_id, files[0], revision)
    paths: dict[str, Path] = {}
    for name in files:
        try:
            paths[name] = Path(hf_hub_download(repo_id, name, revision=revision, local_files_only=not online))
        except LocalEntryNotFoundError:
            raise CheckpointUnavailableError(_not_cached_message(repo_id, files, revision)) from None
        except (
            RepositoryNotFoundError,
            GatedRepoError,
            RevisionNotFoundError,
            RemoteEntryNotFoundError,
        ) as error:
            raise CheckpointUnavailableError(_access_message(repo_id, name, revision, error)) from None
        except HTTPError as error:  # network or server failure while downloading
            raise CheckpointUnavailableError(
                f"downloading {name} from {repo_id} failed ({type(error).__name__}); rerun to resume, or "
                f"pre-download with `{_download_command(repo_id, files, revision)}`"
            ) from None
    return paths


def hub_answers(repo_id: str, filename: str, revision: str | None = None) -> bool:
    """Whether the Hub answers a HEAD request for ``filename`` of ``repo_id`` within
    ``HF_HUB_ETAG_TIMEOUT`` seconds (one try). An error answer (404, 401, gated) counts as an answer: the
    download then raises huggingface_hub's specific error. Network errors and 5xx/429 do not."""
    try:
        get_hf_file_metadata(
            hf_hub_url(repo_id, filename, revision=revision), timeout=constants.HF_HUB_ETAG_TIMEOUT
        )
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else 0
        return status < 500 and status != 429
    except HTTPError:  # connection refused, DNS failure, timeout, proxy error
        return False
    return True


def sha256_file(path: str | os.PathLike, progress: bool = False) -> str:
    """Hex sha256 of a file, read in 8 MiB chunks (with a byte progress bar when ``progress``)."""
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    path = Path(path)
    with (
        path.open("rb") as source,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=f"sha256 {path.name}",
            disable=not progress,
        ) as bar,
    ):
        while chunk := source.read(8 << 20):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _files_in_folder(root: Path, repo_id: str, files: tuple[str, ...] | list[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    missing = []
    for name in files:
        for candidate in (root / name, root / Path(name).name):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            missing.append(name)
    if missing:
        raise CheckpointUnavailableError(
            f"{root}: missing checkpoint file(s) {', '.join(missing)} (from the Hub repo {repo_id})"
        )
    return found


def _download_command(repo_id: str, files: tuple[str, ...] | list[str], revision: str | None) -> str:
    return f"hf download {repo_id} {' '.join(files)}" + (f" --revision {revision}" if revision else "")


def _not_cached_message(repo_id: str, files: tuple[str, ...] | list[str], revision: str | None) -> str:
    reason = (
        "HF_HUB_OFFLINE is set"
        if constants.HF_HUB_OFFLINE
        else f"the Hub ({constants.ENDPOINT}) is unreachable"
    )
    return (
        f"{reason} and files of {repo_id} are not in the local cache ({' '.join(files)}): run "
        f"`{_download_command(repo_id, files, revision)}` on a machine with network access (same HF_HOME), "
        "or pass a folder that holds them (local_dir= / --checkpoint-dir)"
    )


def _access_message(repo_id: str, name: str, revision: str | None, error: Exception) -> str:
    if isinstance(error, GatedRepoError):
        return (
            f"{repo_id} is gated: accept its conditions at {constants.ENDPOINT}/{repo_id} and log in with "
            "`hf auth login` (or set HF_TOKEN)"
        )
    if isinstance(error, RepositoryNotFoundError):
        return (
            f"{repo_id}: no such Hub repo, or it is private and your token cannot read it "
            "(check the id; log in with `hf auth login`)"
        )
    if isinstance(error, RevisionNotFoundError):
        return f"{repo_id} has no revision {revision!r}; pass an existing branch, tag or commit"
    return f"{repo_id} has no file {name}" + (f" at revision {revision}" if revision else "")


# --- Pushing ----------------------------------------------------------------------------------


def hub_api_for_push(repo_id: str, repo_type: str = "model") -> HfApi:
    """Check what a push needs before anything local is touched, and return the API client.

    In order: ``HF_HUB_OFFLINE``, the repo id (huggingface_hub's validator), a token
    (``HF_TOKEN`` or ``hf auth login``), and the token with the Hub (``whoami``: the Hub answers, the
    token is valid and not read-only). :func:`create_repo` then checks write access to the repo.

    Raises:
        HubPushError: the message names the repo and the fix; never the token.
    """
    if constants.HF_HUB_OFFLINE:
        raise HubPushError("HF_HUB_OFFLINE is set: unset it on a machine with network access to push")
    try:
        check_repo_id(repo_id, what=f"{repo_type} repo")
    except InvalidRepoIdError as error:
        raise HubPushError(str(error)) from None
    token = get_token()
    if not token:
        raise HubPushError(
            "no Hugging Face token: run `hf auth login` or set HF_TOKEN to a token with write access"
        )
    api = HfApi(token=token)
    try:
        identity = api.whoami()
        role = identity.get("auth", {}).get("accessToken", {}).get("role")
    except HfHubHTTPError as error:
        raise HubPushError(_refused_message(repo_id, repo_type, error)) from None
    except HTTPError as error:
        raise HubPushError(_unreachable_message(error)) from None
    if role == "read":
        raise HubPushError(
            "your Hugging Face token is read-only: create one with write access and run `hf auth login` "
            f"(or set HF_TOKEN), then push to {repo_id} again"
        )
    return api


def create_repo(
    api: HfApi, repo_id: str, repo_type: str = "model", private: bool = False, space_sdk: str | None = None
) -> None:
    """Create ``repo_id`` if missing (an existing one is kept): the check that the token can write
    there. A Space needs its ``space_sdk`` ("gradio").

    Raises:
        HubPushError: refused (no write access to the namespace) or the Hub is unreachable.
    """
    try:
        options = {"space_sdk": space_sdk} if space_sdk else {}
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, **options)
    except HfHubHTTPError as error:
        raise HubPushError(_refused_message(repo_id, repo_type, error)) from None
    except HTTPError as error:
        raise HubPushError(_unreachable_message(error)) from None


def upload_folder(
    api: HfApi,
    folder: str | os.PathLike,
    repo_id: str,
    repo_type: str = "model",
    ignore_patterns: list[str] | None = None,
    commit_message: str | None = None,
) -> str:
    """Upload ``folder`` to ``repo_id`` with ``HfApi.upload_folder``; returns the repo URL.

    In huggingface_hub >= 2.4 with ``hf_xet`` (a dependency on common platforms), ``upload_folder`` is
    the resumable uploader: large folders are committed in parts and rerunning the same call skips
    what is committed (``upload_large_folder`` is gone). Call :func:`hub_api_for_push` and
    :func:`create_repo` first.

    Raises:
        HubPushError: upload refused or interrupted; the message says what to do.
    """
    try:
        api.upload_folder(
            repo_id=repo_id,
            folder_path=Path(folder),
            repo_type=repo_type,
            ignore_patterns=[*(ignore_patterns or []), *TEMPORARY_GLOBS],  # unfinished files stay local
            commit_message=commit_message or f"Upload {Path(folder).name} with codecfake-hf",
        )
    except HfHubHTTPError as error:
        raise HubPushError(_refused_message(repo_id, repo_type, error)) from None
    except ValueError as error:  # the Hub's check of README.md's YAML metadata failed
        raise HubPushError(f"{Path(folder) / 'README.md'}: the Hub rejected its metadata: {error}") from None
    except (HTTPError, OSError) as error:  # network drop mid-upload: rerunning resumes
        raise HubPushError(
            f"upload to {repo_id} interrupted ({type(error).__name__}); rerun the same command to resume"
        ) from None
    prefix = "datasets/" if repo_type == "dataset" else ""
    return f"{constants.ENDPOINT}/{prefix}{repo_id}"


def _unreachable_message(error: Exception) -> str:
    return (
        f"cannot reach {constants.ENDPOINT} ({type(error).__name__}): check the network or proxy, then rerun"
    )


def _refused_message(repo_id: str, repo_type: str, error: HfHubHTTPError) -> str:
    status = error.response.status_code if error.response is not None else "?"
    if status == 401:
        return (
            "the Hub rejected your token (HTTP 401): run `hf auth login` with a valid token (or fix HF_TOKEN)"
        )
    return (
        f"the Hub refused access to the {repo_type} repo {repo_id} (HTTP {status}); check that your token can "
        "write there (`hf auth whoami`)"
    )
