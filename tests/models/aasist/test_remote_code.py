"""A saved detector folder runs with plain transformers where ``codecfake_hf`` is not installed.

Folders written the three ways this project writes them (``save_pretrained`` of a tiny model,
``convert-aasist`` of the official AASIST-L, and training's save) are loaded in a subprocess where
``import codecfake_hf`` fails (tests/models/aasist/remote_code_probe.py), with ``pipeline("audio-classification",
trust_remote_code=True)`` and the Auto classes, on file paths, arrays and ``{"raw",
"sampling_rate"}`` at 8 to 48 kHz; their probabilities must equal ``codecfake detect``'s
(:class:`~codecfake_hf.detection.detector.Detector`), with the model loaded as saved and with each
``implementation=`` (the fused kernels are a file of the folder too). Once more with ``soxr``
unimportable: the folder then resamples with its own windowed-sinc fallback.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from codecfake_hf.audio import audio_io
from codecfake_hf.detection.detector import Detector
from codecfake_hf.models.aasist import resampling
from codecfake_hf.models.aasist.configuration_aasist import AASIST_IMPLEMENTATIONS
from codecfake_hf.models.aasist.convert_aasist_checkpoint import convert_aasist_checkpoint
from codecfake_hf.models.families import build_model

PROBE = Path(__file__).with_name("remote_code_probe.py")
RATES = (8000, 16000, 22050, 44100, 48000)
SECONDS = 0.75


@pytest.fixture(scope="module")
def folders(tmp_path_factory, tiny_aasist_dir) -> dict[str, Path]:
    """Saved folders: tiny ``save_pretrained`` and training's save."""
    trained = tmp_path_factory.mktemp("trained")
    model, extractor = build_model(str(tiny_aasist_dir))  # what train.py trains and saves as best/
    model.save_pretrained(trained)
    extractor.save_pretrained(trained)
    return {"tiny": tiny_aasist_dir, "trained": trained}


@pytest.fixture(scope="module")
def converted(tmp_path_factory, fixtures_dir) -> Path:
    """The official AASIST-L as ``codecfake convert-aasist`` writes it."""
    folder = tmp_path_factory.mktemp("converted")
    convert_aasist_checkpoint(fixtures_dir / "aasist" / "AASIST-L.pth", folder, "AASIST-L")
    return folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    """Probe inputs (noise, 0.75 s) at every rate as array / dict / file, and inputs to refuse."""
    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    inputs = []
    for rate in RATES:
        waveform = rng.normal(0, 0.1, int(SECONDS * rate)).astype(np.float32)
        np.save(root / f"{rate}.npy", waveform)
        stereo = np.stack([waveform, rng.normal(0, 0.1, waveform.shape[0]).astype(np.float32)], axis=1)
        sf.write(root / f"{rate}.wav", stereo, rate, subtype="FLOAT")
        inputs.append(
            {"name": f"dict-{rate}", "kind": "dict", "file": str(root / f"{rate}.npy"), "rate": rate}
        )
        inputs.append(
            {"name": f"path-{rate}", "kind": "path", "file": str(root / f"{rate}.wav"), "rate": rate}
        )
    inputs.append({"name": "array-16000", "kind": "array", "file": str(root / "16000.npy"), "rate": 16000})
    np.save(root / "zeros.npy", np.zeros(16000, np.float32))
    sf.write(root / "one.wav", np.full(1, 0.5, np.float32), 16000)
    refuse = [
        {"name": "silence", "kind": "dict", "file": str(root / "zeros.npy"), "rate": 16000},
        {"name": "one-sample", "kind": "path", "file": str(root / "one.wav"), "rate": 16000},
    ]
    return inputs, refuse


def run_probe(tmp_path: Path, folders: list[Path], clips, block: list[str]) -> dict:
    """Run tests/models/aasist/remote_code_probe.py in a fresh interpreter whose path has no checkout of this project."""
    inputs, refuse = clips
    spec = {
        "block": block,
        "folders": [str(f) for f in folders],
        "inputs": inputs,
        "refuse": refuse,
        "implementations": list(AASIST_IMPLEMENTATIONS),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    return run_outside_the_checkout(PROBE, [tmp_path / "spec.json"], tmp_path)


def run_outside_the_checkout(probe: Path, arguments: list, tmp_path: Path) -> dict:
    """Run ``python PROBE *ARGUMENTS OUT.json`` in a fresh interpreter in ``tmp_path`` whose path has no
    checkout of this project (the probe itself blocks ``import codecfake_hf``); returns OUT.json."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(probe), *map(str, arguments), str(tmp_path / "out.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((tmp_path / "out.json").read_text())


def expected_probabilities(folder: Path, inputs: list[dict], resample) -> dict[str, float]:
    """``codecfake detect``'s p_bonafide for every probe input, resampling with ``resample``."""
    detector = Detector.from_pretrained(folder, device="cpu")
    expected = {}
    for item in inputs:
        if item["kind"] == "path":
            waveform, rate = audio_io.load_audio(item["file"])
        else:
            waveform, rate = np.load(item["file"]), item["rate"]
        logits, _ = detector.logits([resample(waveform, rate, 16000)], 16000)
        expected[item["name"]] = float(torch.softmax(logits[0], -1)[detector.bonafide_index])
    return expected


def check_probe(result: dict, folder: Path, clips, resample, backend: str) -> None:
    inputs, _ = clips
    assert result["codecfake_hf_blocked"]
    assert all(module.startswith("transformers_modules.") for module in result["classes"]), result["classes"]
    assert result["kernels"] and all(
        module.startswith("transformers_modules.") for module in result["kernels"]
    )
    assert result["implementations"] == {
        "auto": "auto",  # no choice saved in the folder: the default, fused on this CPU
        **{f"auto-{name}": name for name in AASIST_IMPLEMENTATIONS},
    }
    assert result["backend"] == [backend]
    expected = expected_probabilities(folder, inputs, resample)
    for name, scores in result["scores"].items():
        for source, probability in scores.items():
            assert probability == pytest.approx(expected[name], abs=1e-5), (folder.name, name, source)
    assert "digital silence" in result["refusals"]["silence"]
    assert "too short" in result["refusals"]["one-sample"] and "one.wav" in result["refusals"]["one-sample"]


def test_saved_folders_run_without_this_package(folders, converted, clips, tmp_path):
    saved = [*folders.values(), converted]
    result = run_probe(tmp_path, saved, clips, ["codecfake_hf"])
    for folder in saved:
        check_probe(result[str(folder)], folder, clips, audio_io.resample, "soxr-vhq")


def test_saved_folder_without_soxr_uses_the_windowed_sinc(folders, clips, tmp_path):
    folder = folders["tiny"]
    result = run_probe(tmp_path, [folder], clips, ["codecfake_hf", "soxr"])
    check_probe(result[str(folder)], folder, clips, resampling.sinc_resample, "kaiser-sinc")


def test_saved_code_imports_only_its_siblings(folders):
    """Every Python file of a saved folder: no import of this package; each relative import is a
    file of the folder (transformers copies what the model code imports relatively, e.g. a kernel
    module split off the model file). ``convert-aasist`` saves with the same two calls."""
    for folder in folders.values():
        files = sorted(folder.glob("*.py"))
        assert {f.name for f in files} >= {
            "configuration_aasist.py",
            "modeling_aasist.py",
            "feature_extraction_aasist.py",
            "pipeline_aasist.py",
            "resampling.py",
            "fused_aasist.py",
        }
        for file in files:
            for node in ast.walk(ast.parse(file.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level:
                    assert (folder / f"{node.module}.py").is_file(), (file.name, node.module)
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and not node.level:
                    modules = [node.module]
                assert not any(m.split(".")[0] == "codecfake_hf" for m in modules), (file.name, modules)
        config = json.loads((folder / "config.json").read_text())
        assert config["custom_pipelines"]["audio-classification"]["impl"] == (
            "pipeline_aasist.AasistAudioClassificationPipeline"
        )


# --- the one resampler ---------------------------------------------------------------------------


@pytest.mark.parametrize(("orig", "target"), [(44100, 16000), (22050, 16000), (8000, 16000), (48000, 44100)])
def test_sinc_fallback_matches_soxr_vhq(orig, target):
    """In the pass band the fallback equals soxr VHQ to better than 70 dB; lengths always agree."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.1, orig).astype(np.float32)
    spectrum = np.fft.rfft(noise)
    spectrum[np.fft.rfftfreq(orig, 1 / orig) > 0.85 * min(orig, target) / 2] = 0  # inside the pass band
    signal = np.fft.irfft(spectrum, orig).astype(np.float32)
    ours, reference = (
        resampling.sinc_resample(signal, orig, target),
        soxr.resample(signal, orig, target, "VHQ"),
    )
    error = (ours - reference)[200:-200]
    assert 10 * np.log10((reference[200:-200] ** 2).sum() / (error**2).sum()) > 70
    for length in (1, 2, 3, 7, 1001):
        assert len(resampling.sinc_resample(signal[:length], orig, target)) == len(
            soxr.resample(signal[:length], orig, target, "VHQ")
        )
    stereo = np.stack([signal, -signal], axis=1)
    np.testing.assert_allclose(resampling.sinc_resample(stereo, orig, target)[:, 1], -ours, atol=1e-6)


def test_library_and_saved_folders_share_the_resampler():
    waveform = np.random.default_rng(2).normal(0, 0.1, 4410).astype(np.float32)
    np.testing.assert_array_equal(
        audio_io.resample(waveform, 44100, 16000), resampling.resample(waveform, 44100, 16000)
    )
    assert resampling.BACKEND == "soxr-vhq"


# --- what the saved code imports ------------------------------------------------------------------


def _documented_import_list() -> set[str]:
    """The modules docs/detection.md says a saved folder imports (besides the standard library): the
    backticked names between "importing only" and "Only public modules"."""
    page = Path(__file__).resolve().parents[3] / "docs" / "detection.md"
    text = " ".join(page.read_text(encoding="utf-8").split())
    start = text.index("importing only", text.index("**Without this package.**"))
    return set(re.findall(r"`([A-Za-z_][\w.]*)`", text[start : text.index("Only public modules", start)]))


def _absolute_imports(file: Path) -> list[tuple[str, list[str]]]:
    """``(module, imported names)`` of every absolute import in ``file``, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


@pytest.fixture(scope="module")
def ssl_aasist_folder(tmp_path_factory) -> Path:
    from codecfake_hf.models.families import build_ssl_aasist

    folder = tmp_path_factory.mktemp("ssl-aasist")
    model, extractor = build_ssl_aasist("tiny")
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)
    return folder


def test_saved_code_imports_what_the_docs_list_and_only_public_apis(folders, ssl_aasist_folder):
    """Every remote-code file of a saved AASIST and SSL-AASIST folder, parsed: each import is the standard
    library or a module docs/detection.md lists (and every listed module is imported somewhere), never through
    a private path (a component or name starting with ``_``) or a ``utils`` module, where libraries keep
    internals (``huggingface_hub.utils.httpx`` was one)."""
    listed = _documented_import_list()
    assert {"torch", "transformers", "numpy", "soundfile", "soxr", "huggingface_hub"} <= listed
    third_party = set()
    for folder in (folders["tiny"], ssl_aasist_folder):
        files = sorted(folder.glob("*.py"))
        assert {"modeling_aasist.py", "pipeline_aasist.py", "resampling.py"} <= {f.name for f in files}
        for file in files:
            for module, names in _absolute_imports(file):
                parts = module.split(".")
                where = (folder.name, file.name, module, names)
                if module == "__future__":
                    continue
                if parts[0] not in sys.stdlib_module_names:
                    assert parts[0] in listed, where
                    third_party.add(parts[0])
                assert not any(part.startswith("_") for part in parts), where
                assert not any(name.startswith("_") for name in names), where
                assert "utils" not in parts, where
    assert third_party == listed  # the docs list nothing that is not imported


def test_the_saved_pipeline_fetches_a_url_with_huggingface_hub_s_public_client(
    folders, tmp_path, monkeypatch
):
    """A URL input is fetched with ``huggingface_hub.get_session`` (offline: refused at once, naming
    HF_HUB_OFFLINE; an HTTP error: raised, not decoded as audio_io)."""
    import functools
    import http.server
    import threading

    import httpx2
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled
    from transformers import pipeline

    rng = np.random.default_rng(5)
    sf.write(tmp_path / "clip.wav", rng.normal(0, 0.1, 12000).astype(np.float32), 16000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        classifier = pipeline("audio-classification", model=str(folders["tiny"]), trust_remote_code=True)
        with pytest.raises(OfflineModeIsEnabled, match="HF_HUB_OFFLINE"):
            classifier(f"{url}/clip.wav")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        from_url = {entry["label"]: entry["score"] for entry in classifier(f"{url}/clip.wav")}
        from_file = {entry["label"]: entry["score"] for entry in classifier(str(tmp_path / "clip.wav"))}
        assert from_url == from_file
        with pytest.raises(httpx2.HTTPStatusError, match="404"):  # an error page is not decoded as audio
            classifier(f"{url}/missing.wav")
    finally:
        server.shutdown()
