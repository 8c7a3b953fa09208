"""Driving the detection page in a browser (Playwright), and reading what it shows."""

from __future__ import annotations

import json
from pathlib import Path

#: How long a scoring request may take in the page (ms): tiny models, a loaded 2-core machine.
RESULT_TIMEOUT = 90_000


def open_page(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#cf-detect")
    return page


def upload(page, target: str, paths: list[Path]) -> None:
    """Choose ``paths`` in the file input of ``target`` and wait until the page lists each one."""
    page.locator(f"{target} input[type=file]").set_input_files([str(path) for path in paths])
    for path in paths:
        page.locator(target).get_by_text(path.stem, exact=True).first.wait_for(timeout=RESULT_TIMEOUT)


def detect(page, path: Path, mode: str = "full") -> None:
    """Upload ``path``, pick ``mode`` and press Detect; returns once results (or a message) are shown."""
    upload(page, "#cf-upload", [path])
    page.locator(f'#cf-mode input[value="{mode}"]').check()
    page.click("#cf-detect")
    page.wait_for_selector("#cf-results .cf-result, #cf-results .cf-error", timeout=RESULT_TIMEOUT)


def detect_together(browser, url: str, paths: list[Path]) -> tuple[list, list]:
    """One browser context (one user) per file: each uploads its file, then all press Detect at once;
    returns the pages, once each shows its results, and the contexts (to close)."""
    contexts = [browser.new_context() for _ in paths]
    pages = [open_page(context, url) for context in contexts]
    for page, path in zip(pages, paths):
        upload(page, "#cf-upload", [path])
    for page in pages:
        page.click("#cf-detect")
    for page in pages:
        page.wait_for_selector("#cf-results .cf-result", timeout=RESULT_TIMEOUT)
    return pages, contexts


def card(page, model: str) -> dict:
    """What one detector's card shows: verdict, the probability as written and its full value, the LLR,
    the timeline's points and operating point, the raw JSON, or the error."""
    element = page.locator(f'.cf-result[data-model="{model}"]')
    if element.locator(".cf-error").count():
        return {"error": element.locator(".cf-error").inner_text()}
    probability = element.locator(".cf-probability")
    windows = element.locator(".cf-window")
    operating_point = element.locator(".cf-operating-point")
    llr = element.locator(".cf-llr")
    return {
        "label": element.locator(".cf-verdict").inner_text(),
        "text": probability.inner_text(),
        "probability": float(probability.get_attribute("data-value")),
        "llr": float(llr.get_attribute("data-value")) if llr.count() else None,
        "window_starts": [float(windows.nth(i).get_attribute("data-start")) for i in range(windows.count())],
        "window_probabilities": [
            float(windows.nth(i).get_attribute("data-probability")) for i in range(windows.count())
        ],
        "operating_point": float(operating_point.get_attribute("data-probability"))
        if operating_point.count()
        else None,
        "json": json.loads(element.locator(".cf-json").text_content()),
        "command": element.locator(".cf-command").text_content(),
    }


def screenshot(page, folders: list[Path], name: str, selector: str | None = None) -> None:
    """Save a PNG of the page (or of ``selector``) as ``name`` in every folder."""
    target = page.locator(selector) if selector else page
    for folder in folders:
        target.screenshot(path=str(folder / name))
