"""Fixtures of the app tests: tiny detectors (one calibrated), speech-like recordings on disk, a fake
local Hub cache, servers started as subprocesses, and headless Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.bench_detect_memory import speech_like
from codecfake_cli.main import main
from codecfake_hf.detection.calibration import ScoreCalibration, write_calibration

#: Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    # a fake microphone (a beeping tone) that needs no permission prompt
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]  # fmt: skip
#: Set to a folder to keep the screenshots the browser tests take (the README's come from there).
SCREENSHOTS_ENV = "CODECFAKE_SCREENSHOTS"
HUB_ID = "org/tiny-detector"


@pytest.fixture(scope="package")
def detectors(tmp_path_factory) -> dict[str, Path]:
    """A tiny random AASIST saved by this package, uncalibrated and calibrated (8,000-sample windows)."""
    import torch

    from codecfake_hf.models.aasist import AasistConfig, AasistFeatureExtractor, AasistForAudioClassification

    root = tmp_path_factory.mktemp("detectors")
    torch.manual_seed(0)
    config = AasistConfig.from_preset("tiny")
    AasistForAudioClassification(config).eval().save_pretrained(root / "tiny")
    AasistFeatureExtractor(num_samples=config.num_samples).save_pretrained(root / "tiny")
    shutil.copytree(root / "tiny", root / "tiny-calibrated")
    calibration = ScoreCalibration(
        scale=3.0, offset=0.2, threshold=0.1, prior_spoof=0.5, bonafide_label="bonafide",
        fitted_on="synthetic test trials", n_bonafide=10, n_spoof=10,
    )  # fmt: skip
    write_calibration(root / "tiny-calibrated", calibration)
    return {"tiny": root / "tiny", "tiny-calibrated": root / "tiny-calibrated"}


@pytest.fixture(scope="package")
def recordings(tmp_path_factory) -> dict[str, Path]:
    """Files on disk: speech-like 4 s (44.1 kHz stereo WAV), 2 minutes (16 kHz FLAC), 6 s (22.05 kHz
    OGG), digital silence, and a text file."""
    root = tmp_path_factory.mktemp("recordings")
    speech = speech_like(4.0, 44100, seed=3)
    sf.write(root / "speech-4s.wav", np.stack([speech, 0.8 * speech], axis=1), 44100, subtype="PCM_16")
    sf.write(root / "talk-2min.flac", speech_like(120.0, 16000, seed=4), 16000, subtype="PCM_16")
    sf.write(root / "speech-6s.ogg", speech_like(6.0, 22050, seed=5), 22050)
    sf.write(root / "silence.wav", np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    (root / "notes.txt").write_text("not a recording\n")
    return {path.name: path for path in root.iterdir()}


def detect_json(model: Path, path: Path, *options: str) -> dict:
    """What ``codecfake detect PATH --model MODEL --json OPTIONS`` prints for one file."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["detect", str(path), "--model", str(model), "--json", "--windows", *options])
    (entry,) = json.loads(out.getvalue())
    return entry


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], env: dict, cwd: Path, port: int, timeout: float = 180):
    """Run ``command`` (a server on ``port``) until the block ends; yields its URL once it answers."""
    log = cwd / f"server-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no answer on {url}:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def server_env(**extra: str) -> dict:
    """The environment of a server subprocess: offline, quiet, one torch thread."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", OMP_NUM_THREADS="1", **extra)
    return env


def fake_hub_cache(root: Path, folder: Path, repo_id: str = HUB_ID, license: str = "mit") -> Path:
    """``root`` as HF_HOME whose Hub cache holds ``folder`` as the model ``repo_id`` (a snapshot and
    ``refs/main``, as a download leaves them) with a model card naming ``license``: with
    ``HF_HUB_OFFLINE=1``, ``pipeline(model=repo_id)`` and ``hf_hub_download`` find it there."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = root / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    (snapshot / "README.md").write_text(
        f"---\nlicense: {license}\nlibrary_name: transformers\n---\n# {repo_id}\n"
    )
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return root


@pytest.fixture(scope="package")
def browser():
    """Headless Debian Chromium under Playwright; each test opens its own contexts (fresh profiles)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def screenshots(tmp_path_factory) -> list[Path]:
    """Where screenshots go: a temporary folder, and ``$CODECFAKE_SCREENSHOTS`` when set."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get(SCREENSHOTS_ENV):
        folders.append(Path(os.environ[SCREENSHOTS_ENV]))
        folders[-1].mkdir(parents=True, exist_ok=True)
    return folders


def python_blocking_codecfake_hf(script: str) -> list[str]:
    """``python`` running ``script`` as ``__main__`` where ``import codecfake_hf`` fails, as it does
    where the package is not installed."""
    code = (
        "import runpy, sys; sys.modules['codecfake_hf'] = None; "
        f"sys.argv = [{script!r}]; runpy.run_path({script!r}, run_name='__main__')"
    )
    return [sys.executable, "-c", code]
