"""Checkpoints load strictly (a missing, renamed or misshaped key is an error naming it), the registry
points at the repositories the weights are in, and the AudioDec files fall back to the older repo."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants
from huggingface_hub.errors import RepositoryNotFoundError
from safetensors.torch import load_file, save_file

from codecfake_hf.codecs import registry
from codecfake_hf.detection.detector import Detector
from codecfake_hf.files.hub_io import CheckpointUnavailableError
from codecfake_hf.files.strict_loading import CheckpointMismatchError
from codecfake_hf.models.families import build_model

pytestmark = pytest.mark.usefixtures("one_thread")

#: Codecs whose official weights load with a ``transformers`` model class.
TRANSFORMERS_CODECS = ("E", "D1", *registry.MODERN_SUBSETS)


def _edit_weights(folder: Path, edit) -> None:
    """Rewrite ``folder/model.safetensors`` with ``edit(state_dict)`` applied."""
    weights = folder / "model.safetensors"
    state_dict = load_file(weights)
    edit(state_dict)
    save_file(state_dict, weights, metadata={"format": "pt"})


def _rename(state_dict: dict, old: str, new: str) -> None:
    state_dict[new] = state_dict.pop(old)


def _saved_codec(codec_id: str, folder: Path) -> tuple[Path, str]:
    """A tiny random ``codec_id`` saved with ``save_pretrained``, and one of its weight names (one
    stored under the model's own name: some classes save a few keys under a legacy name)."""
    spec = registry.get_spec(codec_id)
    model = registry.family_module(spec).tiny_codec(spec).model
    model.save_pretrained(folder)
    return folder, min(load_file(folder / "model.safetensors").keys() & model.state_dict().keys())


@pytest.mark.parametrize("codec_id", TRANSFORMERS_CODECS)
def test_codec_checkpoint_with_a_renamed_key_fails_naming_it(codec_id, tmp_path):
    folder, key = _saved_codec(codec_id, tmp_path)
    registry.load_codec(codec_id, local_dir=str(folder))  # the untouched folder loads
    _edit_weights(folder, lambda state: _rename(state, key, f"renamed.{key}"))
    with pytest.raises(CheckpointMismatchError) as error:
        registry.load_codec(codec_id, local_dir=str(folder))
    message = str(error.value)
    assert str(folder) in message
    assert f"missing keys (1): {key}" in message and f"unexpected keys (1): renamed.{key}" in message


@pytest.mark.parametrize("codec_id", TRANSFORMERS_CODECS)
def test_codec_checkpoint_with_a_missing_key_fails_naming_it(codec_id, tmp_path):
    folder, key = _saved_codec(codec_id, tmp_path)
    _edit_weights(folder, lambda state: state.pop(key))
    with pytest.raises(CheckpointMismatchError, match=f"missing keys \\(1\\): {key}"):
        registry.load_codec(codec_id, local_dir=str(folder))


@pytest.mark.parametrize("codec_id", ["E", "D1"])
def test_codec_checkpoint_with_a_misshaped_key_fails_naming_it(codec_id, tmp_path):
    folder, key = _saved_codec(codec_id, tmp_path)
    _edit_weights(folder, lambda state: state.update({key: torch.zeros(3)}))
    with pytest.raises(CheckpointMismatchError, match=f"another shape.*{key} \\[3\\] != "):
        registry.load_codec(codec_id, local_dir=str(folder))


def test_original_layout_xcodec2_checkpoint_is_refused(tmp_path):
    """X-codec 2's original checkpoint names its modules semantic_model, decoder and fc_prior where
    Xcodec2Model has semantic_encoder, acoustic_decoder and fc_encoder: loading it must fail, not
    leave those modules at random weights."""
    folder, _ = _saved_codec("xcodec2", tmp_path)
    original = {
        "semantic_encoder.": "semantic_model.",
        "acoustic_decoder.": "decoder.",
        "fc_encoder.": "fc_prior.",
    }

    def to_original_names(state: dict) -> None:
        for key in list(state):
            for new, old in original.items():
                if key.startswith(new):
                    _rename(state, key, old + key[len(new) :])

    _edit_weights(folder, to_original_names)
    with pytest.raises(CheckpointMismatchError) as error:
        registry.load_codec("xcodec2", local_dir=str(folder))
    missing, unexpected = str(error.value).split("; unexpected keys ")
    assert re.search(r"missing keys \(\d+\): acoustic_decoder\.", missing)  # sorted: first of the three
    assert re.match(r"\(\d+\): decoder\.", unexpected)


@pytest.mark.parametrize("codec_id", registry.MODERN_SUBSETS)
def test_registry_points_at_the_checkpoint_transformers_documents(codec_id):
    """The newer codecs load the repository that transformers' own docstrings for the class use."""
    spec = registry.get_spec(codec_id)
    model = registry.family_module(spec).tiny_codec(spec).model
    model_package = Path(inspect.getfile(type(model))).parent
    documented = "".join(path.read_text(encoding="utf-8") for path in model_package.glob("*.py"))
    assert f'"{spec.repo_id}"' in documented


def _saved_detector(tiny_aasist_dir: Path, folder: Path) -> tuple[Path, str]:
    shutil.copytree(tiny_aasist_dir, folder)
    return folder, sorted(load_file(folder / "model.safetensors"))[-1]


@pytest.mark.parametrize("load", [Detector.from_pretrained, build_model], ids=["detector", "train_model"])
def test_detector_checkpoint_with_a_renamed_or_missing_key_fails_naming_it(load, tiny_aasist_dir, tmp_path):
    renamed, key = _saved_detector(tiny_aasist_dir, tmp_path / "renamed")
    load(str(renamed))  # the untouched folder loads
    _edit_weights(renamed, lambda state: _rename(state, key, f"{key}_old"))
    with pytest.raises(CheckpointMismatchError, match=f"missing keys \\(1\\): {key};.*{key}_old"):
        load(str(renamed))
    missing, key = _saved_detector(tiny_aasist_dir, tmp_path / "missing")
    _edit_weights(missing, lambda state: state.pop(key))
    with pytest.raises(CheckpointMismatchError, match=f"{missing}: .*missing keys \\(1\\): {key}"):
        load(str(missing))


# -- AudioDec: Codec-SUPERB/AudioDec first, the older AudioDecBenchmark/AudioDec as fallback ------


def _cache(cache: Path, repo_id: str, files: tuple[str, ...], commit: str = "0" * 40) -> None:
    """Files in a Hugging Face cache layout, each holding its repo id and path as text."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for name in files:
        path = repo / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{repo_id}/{name}")


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_audiodec_registry_prefers_the_current_repo_name():
    spec = registry.get_spec("C")
    assert (spec.repo_id, spec.fallback_repo_ids) == (
        "Codec-SUPERB/AudioDec",
        ("AudioDecBenchmark/AudioDec",),
    )


def test_audiodec_files_come_from_the_fallback_when_the_current_repo_has_none(hub_cache):
    spec = registry.get_spec("C")
    _cache(
        hub_cache, "AudioDecBenchmark/AudioDec", spec.files
    )  # offline (conftest); only the old name cached
    paths = registry.fetch_checkpoint(spec)
    assert [paths[name].read_text() for name in spec.files] == [
        f"AudioDecBenchmark/AudioDec/{n}" for n in spec.files
    ]
    _cache(hub_cache, "Codec-SUPERB/AudioDec", spec.files)
    paths = registry.fetch_checkpoint(spec)
    assert [paths[name].read_text() for name in spec.files] == [
        f"Codec-SUPERB/AudioDec/{n}" for n in spec.files
    ]


def test_audiodec_fallback_after_a_missing_repository_online(fake_downloads):
    spec = registry.get_spec("C")
    fake_downloads.refuse["Codec-SUPERB/AudioDec"] = RepositoryNotFoundError
    paths = registry.fetch_checkpoint(spec)
    fallback = fake_downloads.root / "AudioDecBenchmark/AudioDec"
    assert all(path.is_relative_to(fallback) for path in paths.values())
    asked = [repo for repo, _, _ in fake_downloads.asked]
    assert asked == ["Codec-SUPERB/AudioDec"] + ["AudioDecBenchmark/AudioDec"] * len(spec.files)


def test_audiodec_unavailable_everywhere_names_both_repos_and_the_files(hub_cache):
    spec = registry.get_spec("C")
    with pytest.raises(CheckpointUnavailableError) as error:
        registry.fetch_checkpoint(spec)
    message = str(error.value)
    assert "Codec-SUPERB/AudioDec" in message and "AudioDecBenchmark/AudioDec" in message
    assert all(name in message for name in spec.files)
