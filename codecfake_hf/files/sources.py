"""Where a ``--model`` or ``--dataset`` comes from (a local folder or a Hub repo), decided fast.

The rule, shared by ``detect``, ``evaluate``, ``matrix``, ``robustness`` and ``train.py``:

- a name that exists on disk is a local folder (a model folder must hold ``config.json``);
- a name that does not exist is looked up on the Hub only if it is a valid repo id (``NAME`` or
  ``ORG/NAME``: no ``./``, ``../``, ``/`` or ``~`` prefix, at most one slash). Online, one metadata
  request without retries decides (:data:`HUB_LOOKUP_TIMEOUT_S` at most); with ``HF_HUB_OFFLINE``
  only the local cache is used. So ``--model models/aasist-l`` typed before the model was converted
  fails at once with "no such folder" instead of retrying downloads for half a minute;
- a model repo already in the local cache loads from it, also when the Hub cannot be reached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codecfake_hf.errors import CodecFakeError

#: Seconds the Hub may take to answer whether a repo exists.
HUB_LOOKUP_TIMEOUT_S = 5.0

#: How to get a model folder, the end of a not-found message.
MAKE_MODEL = "convert one with `codecfake convert-aasist` or train one with train.py"


class SourceNotFoundError(CodecFakeError, FileNotFoundError):
    """A ``--model`` / ``--dataset`` is neither a local folder nor a Hub repo that can be reached."""


class ModelLoadError(CodecFakeError, ValueError):
    """A model folder or repo exists but does not load (corrupt weights, another kind of model)."""


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: a local folder or a Hub repo id (at ``revision``, None: ``main``);
    ``local_files_only`` when only the local cache may be used (offline, or the Hub unreachable)."""

    name: str
    local_files_only: bool = False
    revision: str | None = None


def is_repo_id(name: str) -> bool:
    """Whether ``name`` can be a Hub repo id (and not a path such as ``./x``, ``/x``, ``a/b/c``)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if name.startswith(("~", ".")) or os.path.isabs(name):
        return False
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def hub_lookup_problem(repo_id: str, repo_type: str, revision: str | None = None) -> str | None:
    """Ask the Hub once (no retries) whether ``repo_id`` (at ``revision``) exists; None if it does, else
    what is wrong."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, revision=revision, timeout=HUB_LOOKUP_TIMEOUT_S)
    except RevisionNotFoundError:
        return f"the Hub {repo_type} repo {repo_id} has no revision {revision!r}; pass an existing branch, tag or commit"
    except GatedRepoError:
        return (
            f"the Hub {repo_type} repo {repo_id} is gated: accept its terms on the Hub, then `hf auth login`"
        )
    except RepositoryNotFoundError:
        return (
            f"the Hub has no {repo_type} repo {repo_id} (or it is private: `hf auth login`); check the path"
        )
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        return f"the Hub answered HTTP {status} for the {repo_type} repo {repo_id}; check the path, or retry later"
    except Exception as error:  # connection refused, DNS, timeout: the Hub cannot be asked
        return (
            f"the Hub ({constants.ENDPOINT}) could not be reached to look for a {repo_type} repo of that "
            f"name ({type(error).__name__}); check the path, or the network"
        )
    return None


def no_such_folder(name: str, what: str) -> str:
    """``"<name>: no such <what> folder (relative to <cwd>)"``, the start of a not-found message."""
    where = "" if os.path.isabs(os.path.expanduser(name)) else f" (relative to {Path.cwd()})"
    return f"{name}: no such {what} folder{where}"


def resolve_model_source(name_or_path: str | os.PathLike, revision: str | None = None) -> ModelSource:
    """Decide where the model ``name_or_path`` is loaded from (see the module docstring); a Hub repo is
    read at ``revision`` (None: ``main``; ignored for a folder).

    Raises:
        SourceNotFoundError: a folder without ``config.json``; a missing path that cannot be a repo
            id; a repo id while offline and not cached; a repo the Hub does not have (or hides);
            an unreachable Hub. The message names the path and the fix.
    """
    from huggingface_hub import is_offline_mode, try_to_load_from_cache

    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise SourceNotFoundError(f"{path}: not a saved model folder (no config.json); {MAKE_MODEL}")
        return ModelSource(str(path))
    if not is_repo_id(name):
        raise SourceNotFoundError(f"{no_such_folder(name, 'model')}; check the path, or {MAKE_MODEL}")
    cached = isinstance(try_to_load_from_cache(name, "config.json", revision=revision), str)
    at = f" at revision {revision}" if revision else ""
    if is_offline_mode():
        if cached:
            return ModelSource(name, local_files_only=True, revision=revision)
        download = f"hf download {name}" + (f" --revision {revision}" if revision else "")
        raise SourceNotFoundError(
            f"{no_such_folder(name, 'model')}, and HF_HUB_OFFLINE is set, so the Hub repo {name} was not looked up "
            f"(it is not in the local cache{at}); check the path, or run `{download}` with network access"
        )
    problem = hub_lookup_problem(name, "model", revision)
    if problem is None or cached:  # the cache loads without further network attempts
        return ModelSource(name, local_files_only=problem is not None, revision=revision)
    raise SourceNotFoundError(f"{no_such_folder(name, 'model')}, and {problem}")


def check_dataset_source(name_or_path: str | os.PathLike) -> None:
    """Fail fast when the dataset ``name_or_path`` is neither a local folder nor a Hub dataset repo
    (online: one lookup; offline, ``datasets`` itself tries its cache, which fails within seconds).

    Raises:
        SourceNotFoundError: the message names the path and the fix.
    """
    from huggingface_hub import is_offline_mode

    name = os.fspath(name_or_path)
    if Path(name).expanduser().exists():
        return
    fix = "build one with `codecfake build`, or pass a folder with bonafide/ and spoof/ subfolders"
    if not is_repo_id(name):
        raise SourceNotFoundError(f"{no_such_folder(name, 'dataset')}; check the path, or {fix}")
    if not is_offline_mode():
        problem = hub_lookup_problem(name, "dataset")
        if problem is not None:
            raise SourceNotFoundError(f"{no_such_folder(name, 'dataset')}, and {problem}")
