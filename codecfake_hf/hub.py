"""Fetching checkpoint files: a local folder, the Hugging Face cache, or a download.

Every path that may download goes through :func:`fetch_files`, so offline behaviour is the same
everywhere: with ``HF_HUB_OFFLINE=1`` or no network it fails within seconds and the message lists
the files to pre-download (and the command that does it).
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from huggingface_hub import constants, hf_hub_download
from huggingface_hub.errors import LocalEntryNotFoundError

from codecfake_hf.errors import CodecFakeError


class CheckpointUnavailableError(CodecFakeError, RuntimeError):
    """Checkpoint files are neither local nor downloadable (offline, missing, no access)."""


def fetch_files(
    repo_id: str,
    files: tuple[str, ...] | list[str],
    local_dir: str | os.PathLike | None = None,
    revision: str | None = None,
) -> dict[str, Path]:
    """Return ``{file: local path}`` for ``files`` of the Hub repo ``repo_id``.

    Args:
        repo_id: Hub repository ("facebook/encodec_24khz").
        files: paths inside the repository.
        local_dir: a folder that already holds the files (same relative paths, or flat by
            basename); nothing is downloaded then.
        revision: branch, tag or commit on the Hub.

    Raises:
        CheckpointUnavailableError: a file is missing from ``local_dir``, or cannot be downloaded
            (offline, network down, no access); the message names every file and the fix.
    """
    if local_dir is not None:
        root = Path(local_dir)
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
    cached_only = constants.HF_HUB_OFFLINE or not hub_reachable()
    paths: dict[str, Path] = {}
    for name in files:
        try:
            paths[name] = Path(
                hf_hub_download(
                    repo_id, name, revision=revision, etag_timeout=5, local_files_only=cached_only
                )
            )
        except LocalEntryNotFoundError:
            raise CheckpointUnavailableError(_offline_message(repo_id, files)) from None
        except Exception as error:  # network errors, gated repos, 404s: all say what to do
            raise CheckpointUnavailableError(
                f"could not download {name} from {repo_id}: {type(error).__name__}: {error}\n"
                + _offline_message(repo_id, files)
            ) from None
    return paths


@functools.cache
def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether a TCP connection to the Hub endpoint opens within ``timeout_s`` seconds (checked
    once per process), so that an unplugged machine fails fast instead of retrying for minutes."""
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _offline_message(repo_id: str, files: tuple[str, ...] | list[str]) -> str:
    reason = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else "the Hub is unreachable"
    listed = " ".join(files)
    return (
        f"{reason} and these files of {repo_id} are not in the local cache: {listed}.\n"
        f"Pre-download them on a machine with network access:\n"
        f"  huggingface-cli download {repo_id} {listed}\n"
        f"or pass a folder that holds them (local_dir / --checkpoint-dir)."
    )


class HubPushError(CodecFakeError, RuntimeError):
    """Uploading is impossible (offline, no token, unreachable, refused, interrupted)."""


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    repo_type: str = "model",
    private: bool = False,
    ignore_patterns: list[str] | None = None,
    commit_message: str | None = None,
) -> str:
    """Upload ``folder`` to the Hub repo ``repo_id`` (created if missing); returns its URL.

    ``HfApi.upload_folder`` (huggingface_hub >= 2.4 with hf_xet) streams large folders, commits in
    parts and resumes when rerun. The token comes from ``HF_TOKEN`` or ``hf auth login`` and is
    never printed.

    Args:
        repo_type: "model" or "dataset".
        ignore_patterns: glob patterns of files not to upload (caches, temporary files).

    Raises:
        HubPushError: offline, no token, Hub unreachable, upload refused or interrupted; the
            message says what to do.
    """
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder to upload")
    if constants.HF_HUB_OFFLINE:
        raise HubPushError("HF_HUB_OFFLINE is set: unset it on a machine with network access to push")
    token = get_token()
    if not token:
        raise HubPushError(
            "no Hugging Face token: run `hf auth login` or set HF_TOKEN to a token with write access"
        )
    if not hub_reachable():
        raise HubPushError(
            f"cannot reach {constants.ENDPOINT}: check the network, then rerun (the upload resumes)"
        )
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            repo_type=repo_type,
            ignore_patterns=ignore_patterns,
            commit_message=commit_message or f"Upload {folder.name} with codecfake-hf",
        )
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise HubPushError(
            f"the Hub refused the upload to {repo_id} (HTTP {status}); check that the token can write there"
        ) from None
    except Exception as error:  # network drop mid-upload (httpx/OS errors): resumable
        raise HubPushError(
            f"upload to {repo_id} interrupted ({type(error).__name__}); rerun the same command to resume"
        ) from None
    prefix = "datasets/" if repo_type == "dataset" else ""
    return f"{constants.ENDPOINT}/{prefix}{repo_id}"
