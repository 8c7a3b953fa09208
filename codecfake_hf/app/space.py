"""``codecfake space`` and ``codecfake push-space``: a Hugging Face Space that shows a pushed detector
in a browser and needs only what the model repository publishes.

The Space folder holds

- ``app.py``: loads the detector with ``pipeline("audio-classification", model=HUB_ID,
  trust_remote_code=True)`` (the repository's own code) and serves the page;
- ``page.py`` and ``pipeline_backend.py``: copies of :mod:`codecfake_hf.app.page` (the one page of
  ``codecfake app`` too) and :mod:`codecfake_hf.app.pipeline_backend`, which import no ``codecfake_hf``;
- ``requirements.txt``: gradio, torch, transformers, numpy, soundfile and soxr (so the folder's
  resampler is soxr, as here, and the numbers equal ``codecfake detect``'s), at this package's bounds;
- ``README.md``: the Space's YAML (``sdk: gradio``, ``sdk_version``, ``app_file``, ``models:
  [HUB_ID]``, the model card's licence) and what the Space does and leaves out;
- ``examples/``: the synthetic example clips;
- ``codecfake_space.json``: the sha256 of every file it wrote. A later ``codecfake space`` rewrites only
  those of its files that are unchanged, and ``push-space`` overwrites in an existing Space only files that
  an earlier push wrote and nobody changed since.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata, resources
from pathlib import Path

from huggingface_hub import ModelCard, SpaceCard, SpaceCardData, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, HTTPError

from codecfake_hf.detection.detector import bonafide_index
from codecfake_hf.errors import CodecFakeError, InputFileError
from codecfake_hf.files.atomic_files import atomic_path
from codecfake_hf.files.hub_io import check_repo_id, create_repo, fetch_files, hub_api_for_push, upload_folder

#: The gradio version the page is tested with: the Space's ``sdk_version``.
GRADIO_VERSION = "6.31.0"
#: The Space's dependencies besides gradio (none of them this package).
SPACE_PACKAGES = ("torch", "transformers", "numpy", "soundfile", "soxr")
#: The record of what ``codecfake space`` wrote.
MANIFEST = "codecfake_space.json"
#: First line of every text file it writes.
HEADER = "Written by `codecfake space` (codecfake-hf)"

APP_TEMPLATE = '''# {header} for {hub_id}; rerun it to update this file.
"""A page that tells whether a recording sounds bona fide or like a codec fake, with {hub_id}.

The detector is the model repository's own code (`trust_remote_code=True`): no codecfake-hf here. The
page is `page.py` (the page of `codecfake app`), its numbers come from the pipeline (`pipeline_backend.py`).
"""

from pathlib import Path

from transformers import pipeline

from page import build_page, launch
from pipeline_backend import PipelineBackend

MODEL = "{hub_id}"
DESCRIPTION = (
    "Upload or record a recording; [{hub_id}](https://huggingface.co/{hub_id}) says whether it sounds "
    "bona fide (real) or like a spoof made through a neural audio codec. The numbers are what the model's "
    "own pipeline returns, and what `codecfake detect --json` prints for the same file. A first screen, "
    "not proof: do not base decisions about people on it alone."
)

classifier = pipeline("audio-classification", model=MODEL, trust_remote_code=True)
backend = PipelineBackend(classifier, MODEL, bonafide_label={bonafide_label!r})
examples = sorted(str(path) for path in (Path(__file__).parent / "examples").iterdir())
demo = build_page([backend], description=DESCRIPTION, examples=examples)

if __name__ == "__main__":
    launch(demo, server_name=None)
'''

README_BODY = """
<!-- {header}; rerun it to update this file. -->

# {hub_id} in a browser

Upload or record a recording and [{hub_id}](https://huggingface.co/{hub_id}) says whether it sounds bona
fide or like a spoof made by resynthesis through a neural audio codec: the verdict (the stored operating
point for a calibrated detector, else the arg-max), `p(bonafide)` with four decimals (for a calibrated
detector the posterior at the spoof prior of the slider, and the calibrated LLR), and for recordings longer
than one 4.04 s window a timeline of every window's probability with the operating point. The "Many files"
tab scores several files into a table and a CSV.

The detector runs through the model repository's own code, `pipeline("audio-classification",
model="{hub_id}", trust_remote_code=True)`; the Space installs gradio, torch, transformers, numpy,
soundfile and soxr, not codecfake-hf. The probabilities equal those of `codecfake detect FILE --model
{hub_id} --json` (and of `codecfake app`, which shows the same page).

What `codecfake app` offers and this Space leaves out: "what if it were compressed" (scoring the recording
again after MP3, Opus and telephone-band channels) needs the ffmpeg program and codecfake-hf's robustness
code, which a Space without the package does not have; formats only FFmpeg reads (m4a, ...); streaming
(a file is decoded whole here).
"""


class SpaceError(CodecFakeError, ValueError):
    """A Space folder that cannot be written or pushed as asked."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _requirements() -> str:
    """One line per Space dependency, with this package's own lower bounds."""
    bounds = {}
    for requirement in metadata.requires("codecfake-hf") or []:
        specifier = requirement.split(";")[0].strip()
        name = specifier.split(">")[0].split("=")[0].split("<")[0].strip()
        bounds.setdefault(name.lower(), specifier)
    lines = [f"# {HEADER}", f"gradio=={GRADIO_VERSION}"]
    return "\n".join(lines + [bounds.get(name, name) for name in SPACE_PACKAGES]) + "\n"


def _model_facts(hub_id: str) -> tuple[str, str]:
    """The model's licence (its card's ``license``) and bona fide label (its config's labels).

    Raises:
        CheckpointUnavailableError: offline or unreachable and not cached, or no such repository.
        SpaceError: the card names no licence.
    """
    (config_path,) = fetch_files(hub_id, ("config.json",)).values()
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    label = config["id2label"][str(bonafide_index(config.get("id2label", {}), model_name=hub_id))]
    (card_path,) = fetch_files(hub_id, ("README.md",)).values()
    license = ModelCard.load(card_path).data.license
    if not license:
        raise SpaceError(
            f"{hub_id}: its model card names no licence, which the Space's card must repeat; push the model "
            "with `codecfake push-model --write-card` (it derives the licence from the training data)"
        )
    return str(license), label


def space_files(hub_id: str, license: str, bonafide_label: str) -> dict[str, bytes]:
    """Every file of the Space folder of ``hub_id``: ``{relative path: content}``."""
    package = resources.files("codecfake_hf.app")
    files = {
        "app.py": APP_TEMPLATE.format(header=HEADER, hub_id=hub_id, bonafide_label=bonafide_label).encode(),
        "requirements.txt": _requirements().encode(),
    }
    for module in ("page.py", "pipeline_backend.py"):
        files[module] = (
            f"# {HEADER}: a copy of codecfake_hf/app/{module}\n".encode()
            + package.joinpath(module).read_bytes()
        )
    card = SpaceCard.from_template(
        SpaceCardData(
            title=hub_id.split("/")[-1], sdk="gradio", sdk_version=GRADIO_VERSION, app_file="app.py",
            models=[hub_id], license=license, emoji="🎙️", colorFrom="blue", colorTo="green", pinned=False,
            short_description="Is this recording a codec fake?",
        ),
        template_str="---\n{{ card_data }}\n---\n" + README_BODY.format(header=HEADER, hub_id=hub_id),
    )  # fmt: skip
    files["README.md"] = str(card).encode()
    for example in package.joinpath("examples").iterdir():
        if example.name.endswith((".flac", ".mp3")):
            files[f"examples/{example.name}"] = example.read_bytes()
    return files


def _written_before(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of the manifest in ``folder`` (empty when there is none)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    return json.loads(manifest.read_text(encoding="utf-8"))["files"]


def write_space(hub_id: str, out_dir: str | os.PathLike) -> Path:
    """Write the Space folder of the model ``hub_id`` into ``out_dir`` (a new or empty folder, or one this
    command wrote before: only its own unchanged files are replaced). Everything is checked first.

    Raises:
        InvalidRepoIdError, CheckpointUnavailableError, SpaceError: nothing is written then.
    """
    check_repo_id(hub_id, what="model", namespace=True)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SpaceError(f"{out}: exists and is not a folder; choose a new folder for the Space")
    license, label = _model_facts(hub_id)
    files = space_files(hub_id, license, label)
    before = _written_before(out) if out.is_dir() else {}
    for relative in [*files, MANIFEST]:
        target = out / relative
        if target.exists() and not (
            relative == MANIFEST or before.get(relative) == _sha256(target.read_bytes())
        ):
            raise SpaceError(
                f"{target}: exists and was not written by `codecfake space` (or was changed since); nothing "
                "was written: move it away or choose a new --out folder"
            )
    for relative, content in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as temporary:
            Path(temporary).write_bytes(content)
    manifest = {"model": hub_id, "files": {relative: _sha256(content) for relative, content in files.items()}}
    with atomic_path(out / MANIFEST) as temporary:
        Path(temporary).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def push_space(folder: str | os.PathLike, repo_id: str, private: bool = False) -> str:
    """Upload a Space folder written by :func:`write_space` to the Space ``repo_id``.

    Checks, before anything is uploaded: the folder, offline mode, the repo id, the token (as
    ``push-model``), then, for a Space that exists already, that no file it would overwrite there was
    written by anyone else (or changed since an earlier push: its sha256 differs from the Space's own
    ``codecfake_space.json``).

    Returns:
        The Space's URL.

    Raises:
        InputFileError: no such folder, or not a Space folder.
        SpaceError: the upload would overwrite a file this command did not write.
        codecfake_hf.files.hub_io.HubPushError: offline, no token, refused, unreachable, interrupted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(
            f"{folder}: no such folder; write it first with `codecfake space --out {folder}`"
        )
    if not (folder / MANIFEST).is_file():
        raise InputFileError(f"{folder}: not a Space folder written by `codecfake space` (no {MANIFEST})")
    api = hub_api_for_push(repo_id, "space")
    try:
        existed = api.repo_exists(repo_id, repo_type="space")
        if existed:
            _check_overwrites(api, folder, repo_id)
    except (HfHubHTTPError, HTTPError) as error:
        raise SpaceError(
            f"cannot read the Space {repo_id} to check its files ({type(error).__name__})"
        ) from None
    create_repo(api, repo_id, "space", private=private, space_sdk="gradio")
    return upload_folder(
        api, folder, repo_id, "space", commit_message="Upload the Space written by codecfake space"
    )


def _check_overwrites(api, folder: Path, repo_id: str) -> None:
    """Refuse to upload over a file of the existing Space ``repo_id`` that an earlier push did not write
    or that changed since (:func:`push_space`)."""
    remote = set(api.list_repo_files(repo_id, repo_type="space"))
    local = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    clashes = sorted((local & remote) - {".gitattributes", MANIFEST})
    if not clashes:
        return
    written = {}
    if MANIFEST in remote:
        manifest = hf_hub_download(repo_id, MANIFEST, repo_type="space")
        written = json.loads(Path(manifest).read_text(encoding="utf-8"))["files"]
    for relative in clashes:
        if relative in written:
            content = Path(hf_hub_download(repo_id, relative, repo_type="space")).read_bytes()
            if _sha256(content) == written[relative]:
                continue
        raise SpaceError(
            f"the Space {repo_id} holds {relative}, which `codecfake push-space` did not write (or which was "
            "changed since); nothing was uploaded: remove or rename it there, or push to a new Space"
        )
