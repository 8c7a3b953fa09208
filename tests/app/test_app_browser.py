"""``codecfake app`` in headless Chromium: the page shows what ``codecfake detect --json`` prints.

One server (the real command, a subprocess) with two tiny detectors side by side, one of them
calibrated; each test opens its own browser context. The README's screenshots are taken here
(``CODECFAKE_SCREENSHOTS=docs`` keeps them).
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest

from codecfake_hf.audio.audio_io import load_audio, write_audio
from codecfake_hf.evaluation.robustness import apply_condition

from .browser import card, detect, detect_together, open_page, screenshot, upload
from .conftest import detect_json, free_port, server_env, serving

pytestmark = pytest.mark.usefixtures("one_thread")


#: How the page names the two detectors: the paths given to `codecfake app --model` (relative to its folder).
SHOWN = {"tiny": "models/aasist-tiny", "tiny-calibrated": "models/aasist-tiny-calibrated"}


@pytest.fixture(scope="module")
def app_folder(tmp_path_factory) -> Path:
    """Where the app runs; its uploads (GRADIO_TEMP_DIR) go to ``uploads/``."""
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="module")
def app_url(detectors, app_folder):
    folder = app_folder
    for key, name in SHOWN.items():
        shutil.copytree(detectors[key], folder / name)
    port = free_port()
    models = [option for name in SHOWN.values() for option in ("--model", name)]
    command = [sys.executable, "-m", "codecfake_cli", "app", *models, "--port", str(port)]
    with serving(command, server_env(GRADIO_TEMP_DIR=str(folder / "uploads")), folder, port) as url:
        yield url


def check_card(shown: dict, expected: dict) -> None:
    """The card equals ``codecfake detect --json --windows`` for the file."""
    assert shown["label"] == expected["label"]
    assert shown["probability"] == pytest.approx(expected["probability"], abs=1e-6)
    assert shown["text"] == f"p(bonafide) = {expected['probability']:.4f}"
    if expected.get("llr") is not None:
        assert shown["llr"] == pytest.approx(expected["llr"], abs=1e-6)
    if expected["num_windows"] > 1:
        assert shown["window_starts"] == pytest.approx(expected["window_starts"], abs=1e-9)
        assert shown["window_probabilities"] == pytest.approx(expected["window_probabilities"], abs=1e-6)


def test_a_recording_gets_the_verdict_and_probability_of_detect_json(
    app_url, browser, detectors, recordings, screenshots
):
    context = browser.new_context(viewport={"width": 1100, "height": 1000})
    page = open_page(context, app_url)
    detect(page, recordings["speech-4s.wav"], mode="first")
    for key, folder in detectors.items():
        expected = detect_json(folder, recordings["speech-4s.wav"], "--mode", "first")
        shown = card(page, SHOWN[key])
        check_card(shown, expected)
        assert shown["window_starts"] == []  # one window: no timeline
        assert shown["json"] == [
            {**{k: v for k, v in expected.items() if not k.startswith("window_")}, "path": "speech-4s.wav"}
        ]
        assert shown["command"].startswith("codecfake detect speech-4s.wav --model ")
    assert card(page, SHOWN["tiny"])["operating_point"] is None
    context.close()


def test_the_prior_slider_rereads_the_calibrated_posterior(app_url, browser, detectors, recordings):
    context = browser.new_context()
    page = open_page(context, app_url)
    detect(page, recordings["speech-6s.ogg"])
    model = SHOWN["tiny-calibrated"]
    before = card(page, model)
    number = page.locator("#cf-prior input[type=number]")
    number.fill("0.05")
    number.press("Enter")
    page.locator(f'.cf-result[data-model="{model}"] .cf-llr').get_by_text("p(spoof) = 0.05").wait_for()
    after = card(page, model)
    check_card(
        after,
        detect_json(
            detectors["tiny-calibrated"],
            recordings["speech-6s.ogg"],
            "--mode",
            "full",
            "--prior-spoof",
            "0.05",
        ),
    )
    assert after["probability"] != before["probability"] and after["llr"] == before["llr"]
    assert after["command"].endswith("--prior-spoof 0.05")
    check_card(
        card(page, SHOWN["tiny"]),
        detect_json(detectors["tiny"], recordings["speech-6s.ogg"], "--mode", "full"),
    )
    context.close()


def test_a_two_minute_recording_gets_one_timeline_point_per_window(
    app_url, browser, detectors, recordings, screenshots
):
    context = browser.new_context(viewport={"width": 1100, "height": 1100})
    page = open_page(context, app_url)
    detect(page, recordings["talk-2min.flac"])
    for key, folder in detectors.items():
        expected = detect_json(folder, recordings["talk-2min.flac"], "--mode", "full")
        shown = card(page, SHOWN[key])
        assert expected["num_windows"] == 240 and len(shown["window_starts"]) == 240  # 0.5 s windows
        check_card(shown, expected)
    assert card(page, SHOWN["tiny-calibrated"])["operating_point"] is not None
    screenshot(page, screenshots, "app-one-recording.png")
    context.close()


def test_a_recording_from_the_microphone(app_url, app_folder, browser, detectors):
    """Chromium's fake microphone (a tone): record about 2 s, stop, Detect; the page scores the file
    the browser uploaded, as `codecfake detect` scores it."""
    context = browser.new_context(permissions=["microphone"])
    page = open_page(context, app_url)
    microphone = page.locator("#cf-microphone")
    microphone.get_by_role("button", name="Record").click()
    page.wait_for_timeout(2200)
    microphone.get_by_role("button", name="Stop").click()
    page.wait_for_timeout(1000)
    page.click("#cf-detect")
    page.wait_for_selector("#cf-results .cf-result", timeout=90_000)
    shown = card(page, SHOWN["tiny"])
    (recorded,) = (app_folder / "uploads").rglob(shown["json"][0]["path"])
    expected = detect_json(detectors["tiny"], recorded, "--mode", "full")
    assert expected["num_windows"] >= 3  # about 2 s of 0.5 s windows
    check_card(shown, expected)
    context.close()


def test_bad_input_is_a_message_and_the_server_keeps_serving(app_url, browser, recordings):
    context = browser.new_context()
    for name, message in [
        ("notes.txt", "notes.txt: cannot decode audio"),
        ("silence.wav", "digital silence"),
    ]:
        page = open_page(context, app_url)
        detect(page, recordings[name])
        errors = page.locator("#cf-results .cf-error").all_inner_texts()
        assert errors and all(message in error for error in errors), errors
        assert "Traceback" not in page.content() and "/tmp/" not in " ".join(errors)
    page = open_page(context, app_url)
    detect(page, recordings["speech-4s.wav"])
    assert page.locator(".cf-result .cf-probability").count() == 2
    context.close()


def test_two_browsers_at_once(app_url, browser, detectors, recordings):
    """Two contexts (two users) upload different files and press Detect together; each gets its own."""
    files = [recordings["speech-4s.wav"], recordings["speech-6s.ogg"]]
    pages, contexts = detect_together(browser, app_url, files)
    for page, path in zip(pages, files):
        for key, folder in detectors.items():
            check_card(card(page, SHOWN[key]), detect_json(folder, path, "--mode", "full"))
    for context in contexts:
        context.close()


def test_many_files_give_a_table_and_a_csv(app_url, browser, detectors, recordings, screenshots):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = open_page(context, app_url)
    page.get_by_role("tab", name="Many files").click()
    files = [recordings["speech-4s.wav"], recordings["notes.txt"], recordings["speech-6s.ogg"]]
    upload(page, "#cf-files", files)
    with page.expect_download() as download:
        page.click("#cf-batch")
        page.locator("#cf-csv a").first.wait_for(timeout=90_000)
        page.locator("#cf-csv a").first.click()
    rows = list(csv.DictReader(open(download.value.path(), encoding="utf-8")))
    assert [(row["model"], row["file"]) for row in rows] == [
        (name, path.name) for name in SHOWN.values() for path in files
    ]
    folders = {SHOWN[key]: folder for key, folder in detectors.items()}
    for row in rows:
        if row["file"] == "notes.txt":
            assert "cannot decode audio" in row["error"] and not row["p_bonafide"]
            continue
        expected = detect_json(folders[row["model"]], recordings[row["file"]], "--mode", "full")
        assert float(row["p_bonafide"]) == pytest.approx(expected["probability"], abs=1e-6)
        assert row["label"] == expected["label"] and int(row["num_windows"]) == expected["num_windows"]
    table = page.locator("#cf-table").inner_text()
    assert "speech-6s.ogg" in table and "cannot decode audio" in table
    screenshot(page, screenshots, "app-many-files.png")
    context.close()


def test_what_if_it_were_compressed(app_url, browser, detectors, recordings, tmp_path):
    context = browser.new_context()
    page = open_page(context, app_url)
    upload(page, "#cf-upload", [recordings["speech-4s.wav"]])
    page.get_by_text("What if it were compressed?").click()
    page.click("#cf-compress")
    page.wait_for_selector(".cf-conditions", timeout=90_000)
    rows = page.locator(".cf-condition")
    shown = {
        (rows.nth(i).get_attribute("data-model"), rows.nth(i).get_attribute("data-condition")): float(
            rows.nth(i).locator("td[data-value]").get_attribute("data-value")
        )
        for i in range(rows.count())
    }
    assert {condition for _, condition in shown} == {"original", "mp3-32", "opus-16", "tel-8k"}
    waveform, rate = load_audio(recordings["speech-4s.wav"])
    write_audio(tmp_path / "tel.flac", apply_condition(waveform, rate, "tel-8k"), rate)
    for key, folder in detectors.items():
        expected = detect_json(folder, tmp_path / "tel.flac", "--mode", "full")
        assert shown[(SHOWN[key], "tel-8k")] == pytest.approx(expected["probability"], abs=1e-6)
        original = detect_json(folder, recordings["speech-4s.wav"], "--mode", "full")
        assert shown[(SHOWN[key], "original")] == pytest.approx(original["probability"], abs=1e-6)
    context.close()


def test_the_api_through_gradio_client(app_url, detectors, recordings):
    from gradio_client import Client, handle_file

    client = Client(app_url, verbose=False)
    path = recordings["speech-6s.ogg"]
    cards = client.predict(handle_file(str(path)), None, "full", 0.5, api_name="/detect")
    values = [float(value) for value in re.findall(r'class="cf-probability" data-value="([^"]+)"', cards)]
    assert values == pytest.approx(
        [detect_json(folder, path, "--mode", "full")["probability"] for folder in detectors.values()],
        abs=1e-6,
    )
    table, table_file = client.predict(
        [handle_file(str(recordings["speech-4s.wav"])), handle_file(str(recordings["silence.wav"]))], "first", 0.5,
        api_name="/detect_files",
    )  # fmt: skip
    rows = list(csv.DictReader(open(table_file, encoding="utf-8")))
    assert [row["file"] for row in rows] == ["speech-4s.wav", "silence.wav"] * 2
    assert "digital silence" in rows[1]["error"]
    expected = detect_json(detectors["tiny"], recordings["speech-4s.wav"], "--mode", "first")
    assert float(rows[0]["p_bonafide"]) == pytest.approx(expected["probability"], abs=1e-6)
    assert table["headers"][:4] == ["model", "file", "label", "p_bonafide"]
    done = []
    threads = [
        threading.Thread(
            target=lambda: done.append(
                client.predict(handle_file(str(path)), None, "first", 0.5, api_name="/detect")
            )
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(done) == 3 and len(set(done)) == 1  # queued requests, identical answers
