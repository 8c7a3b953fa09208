"""The Space folder of ``codecfake space`` in headless Chromium, where ``import codecfake_hf`` fails:
its ``app.py`` loads a tiny detector saved by this package from a fake local Hub cache with
``pipeline(model="org/tiny-detector", trust_remote_code=True)`` (offline), and shows the numbers of
``codecfake detect --json`` for the same files."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from codecfake_hf.app.space import GRADIO_VERSION

from .browser import card, detect, detect_together, open_page
from .conftest import (
    HUB_ID,
    detect_json,
    fake_hub_cache,
    free_port,
    python_blocking_codecfake_hf,
    server_env,
    serving,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def hub_home(detectors, tmp_path_factory):
    """HF_HOME whose cache holds the calibrated tiny detector as ``org/tiny-detector`` (licence mit)."""
    return fake_hub_cache(tmp_path_factory.mktemp("hf_home"), detectors["tiny-calibrated"])


@pytest.fixture(scope="module")
def space(hub_home, tmp_path_factory):
    """The folder `codecfake space --model org/tiny-detector --out ...` writes (the command, offline)."""
    out = tmp_path_factory.mktemp("space") / "space"
    result = subprocess.run(
        [sys.executable, "-m", "codecfake_cli", "space", "--model", HUB_ID, "--out", str(out)],
        env=server_env(HF_HOME=str(hub_home)), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def space_url(space, hub_home, tmp_path_factory):
    port = free_port()
    env = server_env(
        HF_HOME=str(hub_home),
        HF_MODULES_CACHE=str(tmp_path_factory.mktemp("modules")),
        GRADIO_SERVER_PORT=str(port),
    )
    with serving(python_blocking_codecfake_hf("app.py"), env, space, port) as url:
        yield url


def test_the_space_folder(space):
    files = sorted(path.relative_to(space).as_posix() for path in space.rglob("*") if path.is_file())
    assert files == [
        "README.md", "app.py", "codecfake_space.json", "examples/synthetic-speech-10s-22k.mp3",
        "examples/synthetic-speech-4s-16k.flac", "page.py", "pipeline_backend.py", "requirements.txt",
    ]  # fmt: skip
    header = yaml.safe_load((space / "README.md").read_text().split("---")[1])
    assert header["sdk"] == "gradio" and header["sdk_version"] == GRADIO_VERSION
    assert header["app_file"] == "app.py" and header["models"] == [HUB_ID] and header["license"] == "mit"
    requirements = [
        line for line in (space / "requirements.txt").read_text().splitlines() if not line.startswith("#")
    ]
    assert [line.split("=")[0].split(">")[0] for line in requirements] == [
        "gradio", "torch", "transformers", "numpy", "soundfile", "soxr",
    ]  # fmt: skip
    app = (space / "app.py").read_text()
    assert 'pipeline("audio-classification", model=MODEL, trust_remote_code=True)' in app
    assert f'MODEL = "{HUB_ID}"' in app and "codecfake_hf" not in app
    from codecfake_hf.app import page, pipeline_backend

    for module in (page, pipeline_backend):  # copies of the package's modules: one page for both
        copied = (space / f"{module.__name__.rsplit('.', 1)[1]}.py").read_text().split("\n", 1)[1]
        assert copied == open(module.__file__).read()


def test_a_recording_gets_the_numbers_of_detect_json(space_url, browser, detectors, recordings):
    context = browser.new_context()
    page = open_page(context, space_url)
    detect(page, recordings["speech-4s.wav"], mode="first")
    shown = card(page, HUB_ID)
    expected = detect_json(detectors["tiny-calibrated"], recordings["speech-4s.wav"], "--mode", "first")
    assert (
        shown["label"] == expected["label"]
        and shown["text"] == f"p(bonafide) = {expected['probability']:.4f}"
    )
    assert shown["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    assert shown["llr"] == pytest.approx(expected["llr"], abs=1e-6)
    assert shown["command"].startswith(f'pipeline("audio-classification", model="{HUB_ID}"')
    context.close()


def test_a_two_minute_recording_gets_one_timeline_point_per_window(space_url, browser, detectors, recordings):
    context = browser.new_context()
    page = open_page(context, space_url)
    detect(page, recordings["talk-2min.flac"])
    shown = card(page, HUB_ID)
    expected = detect_json(detectors["tiny-calibrated"], recordings["talk-2min.flac"], "--mode", "full")
    assert len(shown["window_starts"]) == expected["num_windows"] == 240
    assert shown["window_starts"] == pytest.approx(expected["window_starts"], abs=1e-9)
    assert shown["window_probabilities"] == pytest.approx(expected["window_probabilities"], abs=1e-6)
    assert shown["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    assert page.get_by_text("What if it were compressed?").count() == 0  # not offered without the package
    context.close()


def test_bad_input_and_two_users_at_once(space_url, browser, detectors, recordings):
    context = browser.new_context()
    page = open_page(context, space_url)
    detect(page, recordings["notes.txt"])
    error = page.locator("#cf-results .cf-error").inner_text()
    assert "notes.txt: cannot decode audio" in error and "Traceback" not in page.content()
    files = [recordings["speech-4s.wav"], recordings["speech-6s.ogg"]]
    pages, contexts = detect_together(browser, space_url, files)
    for other, path in zip(pages, files):
        expected = detect_json(detectors["tiny-calibrated"], path, "--mode", "full")
        assert card(other, HUB_ID)["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    for other in [context, *contexts]:
        other.close()
