"""The detection page: a Gradio app over one or more detectors ("backends").

This one file is the user interface of ``codecfake app`` (backends: :mod:`codecfake_hf.app.local`,
this package's ``Detector``) and of the Space that ``codecfake space`` writes (backend:
``pipeline_backend.py``, the model's own pipeline), which carries a copy of it: it imports only gradio,
numpy and the standard library, never ``codecfake_hf``, and computes no score itself. Every number it
shows comes from a backend.

A backend has ``name`` (shown above its results), ``calibrated`` (bool), ``conditions`` (the compression
conditions it can apply, possibly none) and:

- ``score(path, mode) -> scored``: score a file (``mode`` "full" or "first");
- ``result(scored, prior_spoof, file_name) -> dict``: what the page shows (below), at a spoof prior;
  calling it again with another prior must not score the audio again;
- ``score_files(paths, mode) -> list`` of scored files, for the batch tab;
- ``score_conditions(path, mode, conditions) -> list`` of ``(condition, scored)``;
- ``command(file_name, mode, prior_spoof) -> str``: how to get the same numbers without the page.

A result dict: ``file``, ``error`` (a one-line message, or None; then nothing else is needed),
``label``, ``probability`` (the bona fide probability), ``score`` (the raw bona fide logit, or None),
``llr`` and ``prior_spoof`` (calibrated detectors, else None), ``num_windows``, ``window_starts`` (s),
``window_probabilities``, ``window_seconds`` (a window's length), ``operating_point`` (the bona fide probability at
which the verdict changes, or None) and ``json`` (the raw output as text, e.g. what
``codecfake detect --json`` prints).
"""

from __future__ import annotations

import csv
import html
import logging
import os
import tempfile
from collections.abc import Sequence

import gradio as gr

logger = logging.getLogger(__name__)

MODES = [
    ("every 4.04 s window (--mode full)", "full"),
    ("first 4.04 s only (--mode first, official)", "first"),
]
#: Columns of the batch tab's table and CSV.
TABLE_COLUMNS = [
    "model",
    "file",
    "label",
    "p_bonafide",
    "score",
    "llr",
    "prior_spoof",
    "num_windows",
    "error",
]

PAGE_CSS = """
.cf-results { display: flex; flex-wrap: wrap; gap: 16px; }
.cf-result { flex: 1 1 320px; border: 1px solid #ccc; border-radius: 8px; padding: 12px; }
.cf-verdict { font-size: 1.6em; font-weight: bold; }
.cf-verdict.bonafide { color: #15803d; } .cf-verdict.spoof { color: #b91c1c; }
.cf-probability { font-size: 1.3em; font-family: monospace; }
.cf-error { color: #b91c1c; font-weight: bold; }
.cf-note { color: #666; font-size: 0.9em; }
.cf-timeline { width: 100%; max-width: 640px; height: auto; }
"""


def format_probability(probability: float) -> str:
    """How the page writes the bona fide probability: ``p(bonafide) = 0.8827``."""
    return f"p(bonafide) = {probability:.4f}"


def _timeline(result: dict, calibrated: bool) -> str:
    """An SVG of the windows' bona fide probabilities over time, the operating point (calibrated) or the
    arg-max boundary (uncalibrated) dashed."""
    width, height, left, bottom, top = 640, 170, 40, 24, 8
    starts, probabilities = result["window_starts"], result["window_probabilities"]
    half = result["window_seconds"] / 2
    end = starts[-1] + 2 * half  # the last window ends with the recording
    x = [left + (width - left - 8) * (start + half) / end for start in starts]  # at each window's centre
    y = [top + (height - top - bottom) * (1 - p) for p in probabilities]
    threshold = result.get("operating_point")
    parts = [
        f'<svg class="cf-timeline" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="bona fide probability per window">',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="4" y="{top + 8}" font-size="10">1</text><text x="4" y="{height - bottom}" font-size="10">0</text>',
        f'<text x="{left}" y="{height - 6}" font-size="10">0 s</text>',
        f'<text x="{width - 60}" y="{height - 6}" font-size="10">{end:.1f} s</text>',
        f'<polyline fill="none" stroke="#2563eb" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))}"/>',
    ]
    if threshold is not None:
        boundary = "operating point" if calibrated else "arg-max boundary"
        level = top + (height - top - bottom) * (1 - threshold)
        parts.append(
            f'<line class="cf-operating-point" data-probability="{threshold!r}" x1="{left}" y1="{level:.1f}" '
            f'x2="{width - 8}" y2="{level:.1f}" stroke="#f59e0b" stroke-dasharray="6 4"/>'
            f'<text x="{left + 4}" y="{level - 3:.1f}" font-size="10" fill="#b45309">{boundary}</text>'
        )
    radius = 4 if len(starts) <= 60 else 2
    for start, p, a, b in zip(starts, probabilities, x, y):
        colour = "#15803d" if threshold is None or p > threshold else "#b91c1c"
        parts.append(
            f'<circle class="cf-window" data-start="{start!r}" data-probability="{p!r}" cx="{a:.1f}" '
            f'cy="{b:.1f}" r="{radius}" fill="{colour}"><title>{start:.2f} s: {format_probability(p)}</title></circle>'
        )
    return "".join(parts) + "</svg>"


def render_result(model: str, result: dict, calibrated: bool, command: str) -> str:
    """One detector's card: verdict, probability, LLR or what is missing, the timeline, the raw output."""
    name = html.escape(model)
    if result.get("error"):
        return (
            f'<div class="cf-result" data-model="{name}"><h3>{name}</h3>'
            f'<div class="cf-error">{html.escape(result["error"])}</div></div>'
        )
    label = html.escape(str(result["label"]))
    lines = [
        f'<div class="cf-result" data-model="{name}"><h3>{name}</h3>',
        f'<div class="cf-verdict {label}">{label}</div>',
        f'<div class="cf-probability" data-value="{result["probability"]!r}">'
        f"{format_probability(result['probability'])}</div>",
    ]
    if calibrated:
        lines.append(
            f'<div class="cf-llr" data-value="{result["llr"]!r}">calibrated LLR = {result["llr"]:.4f} '
            f"(posterior at p(spoof) = {result['prior_spoof']:g}; verdict: the stored operating point)</div>"
        )
    else:
        score = (
            "" if result.get("score") is None else f"raw score (bona fide logit) = {result['score']:.4f}. "
        )
        lines.append(
            f'<div class="cf-note cf-uncalibrated">{score}Uncalibrated: this detector stores no calibration, so '
            "there is no LLR and no stored operating point; the probability is the softmax, the verdict the arg-max, and "
            "the prior slider does not apply. <code>codecfake calibrate</code> adds one.</div>"
        )
    windows = result["num_windows"]
    lines.append(
        f'<div class="cf-note cf-windows">{windows} window{"s" if windows != 1 else ""} of '
        f"{result['window_seconds']:.2f} s scored</div>"
    )
    if windows > 1:
        lines.append(_timeline(result, calibrated))
    lines.append(
        f'<details><summary>same numbers without this page</summary><code class="cf-command">'
        f'{html.escape(command)}</code><pre class="cf-json">{html.escape(result["json"])}</pre></details></div>'
    )
    return "".join(lines)


def _message(text: str) -> str:
    return f'<div class="cf-results"><div class="cf-error">{html.escape(text)}</div></div>'


def _one_line(error: Exception) -> str:
    """A message for the page: the error's first line, never a traceback (which goes to the log)."""
    if not isinstance(error, (ValueError, OSError)):
        logger.exception("unexpected error while scoring")
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _file_name(path: str) -> str:
    return os.path.basename(path)


def show_results(backends: Sequence, state: tuple | None, prior_spoof: float) -> str:
    """The cards of a scored recording (``state``: ``(mode, [(file name, scored), ...])``, one per
    backend) at ``prior_spoof``; nothing is scored."""
    if not state:
        return ""
    mode, scored = state
    cards = []
    for backend, (file_name, item) in zip(backends, scored):
        try:
            result = backend.result(item, prior_spoof, file_name)
        except Exception as error:  # noqa: BLE001 - shown as a message, never a traceback
            result = {"error": _one_line(error)}
        command = backend.command(file_name, mode, prior_spoof)
        cards.append(render_result(backend.name, result, backend.calibrated, command))
    return f'<div class="cf-results">{"".join(cards)}</div>'


def detect_recording(
    backends: Sequence, path: str | None, mode: str, prior_spoof: float
) -> tuple[str, tuple | None]:
    """Score one recording with every backend: the cards and the state :func:`show_results` re-reads.
    Whatever goes wrong (no file, a folder, unreadable audio) is a message in the page."""
    if not path:
        return _message("Upload or record a recording first."), None
    if os.path.isdir(path):
        return _message(f"{_file_name(path)}: is a folder, not an audio file; upload the files in it."), None
    scored = []
    for backend in backends:
        try:
            scored.append((_file_name(path), backend.score(path, mode)))
        except Exception as error:  # noqa: BLE001
            return _message(_one_line(error).replace(path, _file_name(path))), None
    return show_results(backends, (mode, scored), prior_spoof), (mode, scored)


def detect_compressed(
    backends: Sequence, path: str | None, mode: str, prior_spoof: float, chosen: Sequence[str]
) -> str:
    """A table of the recording and its compressed versions (``chosen`` conditions), every backend."""
    if not path or not chosen:
        return _message("Upload a recording and choose at least one condition.")
    rows = []
    for backend in backends:
        usable = [condition for condition in chosen if condition in backend.conditions]
        try:
            scored = [("original", backend.score(path, mode)), *backend.score_conditions(path, mode, usable)]
            rows += [
                (backend.name, condition, backend.result(item, prior_spoof, _file_name(path)))
                for condition, item in scored
            ]
        except Exception as error:  # noqa: BLE001
            return _message(_one_line(error).replace(path, _file_name(path)))
    cells = "".join(
        f'<tr class="cf-condition" data-model="{html.escape(model)}" data-condition="{html.escape(condition)}">'
        f"<td>{html.escape(model)}</td><td>{html.escape(condition)}</td>"
        + (
            f'<td colspan="2" class="cf-error">{html.escape(result["error"])}</td>'
            if result.get("error")
            else f"<td>{html.escape(str(result['label']))}</td>"
            f'<td data-value="{result["probability"]!r}">{format_probability(result["probability"])}</td>'
        )
        + "</tr>"
        for model, condition, result in rows
    )
    return (
        '<table class="cf-conditions"><tr><th>model</th><th>condition</th><th>verdict</th>'
        f"<th>probability</th></tr>{cells}</table>"
    )


def detect_files(
    backends: Sequence, paths: Sequence[str] | None, mode: str, prior_spoof: float
) -> tuple[list, str | None]:
    """The batch tab: a row per backend and file (:data:`TABLE_COLUMNS`) and the same rows as a CSV file."""
    if not paths:
        return [], None
    rows = []
    for backend in backends:
        try:
            scored = backend.score_files(paths, mode)
        except Exception as error:  # noqa: BLE001
            rows += [
                [backend.name, _file_name(p), "", None, None, None, None, None, _one_line(error)]
                for p in paths
            ]
            continue
        for path, item in zip(paths, scored):
            r = backend.result(item, prior_spoof, _file_name(path))
            rows.append(
                [backend.name, _file_name(path), r.get("label") or "", r.get("probability"), r.get("score"),
                 r.get("llr"), r.get("prior_spoof"), r.get("num_windows"), r.get("error") or ""]
            )  # fmt: skip
    table = os.path.join(tempfile.mkdtemp(prefix="codecfake_app_"), "detections.csv")
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TABLE_COLUMNS)
        writer.writerows(rows)
    shown = [[f"{cell:.4f}" if isinstance(cell, float) else cell for cell in row] for row in rows]
    return shown, table


#: The conditions ticked at first: one each of MP3, Opus and the telephone band.
DEFAULT_CONDITIONS = ("mp3-32", "opus-16", "tel-8k")


def build_page(
    backends: Sequence,
    *,
    title: str = "Is this recording a codec fake?",
    description: str = "",
    examples: Sequence[str] = (),
    concurrency_limit: int = 1,
) -> gr.Blocks:
    """The Gradio Blocks of the page (module docstring) over ``backends``, side by side.

    Args:
        description: markdown under the title (which models, where the numbers come from).
        examples: audio files offered as examples.
        concurrency_limit: scoring requests that run at once; the others wait in the queue.
    """
    backends = list(backends)
    calibrated = any(backend.calibrated for backend in backends)
    conditions = list(dict.fromkeys(c for backend in backends for c in backend.conditions))

    def detect(upload: str | None, recorded: str | None, mode: str, prior_spoof: float):
        return detect_recording(backends, upload or recorded, mode, prior_spoof)

    def show(state: tuple | None, prior_spoof: float) -> str:
        return show_results(backends, state, prior_spoof)

    def compress(
        upload: str | None, recorded: str | None, mode: str, prior_spoof: float, chosen: list[str]
    ) -> str:
        return detect_compressed(backends, upload or recorded, mode, prior_spoof, chosen)

    def detect_many(paths: list[str] | None, mode: str, prior_spoof: float):
        return detect_files(backends, paths, mode, prior_spoof)

    with gr.Blocks(title=title, analytics_enabled=False) as page:
        gr.Markdown(f"# {title}\n\n{description}")
        with gr.Tab("One recording"):
            with gr.Row():
                with gr.Column():
                    upload = gr.File(
                        type="filepath", label="A recording: any audio file, sample rate and length",
                        elem_id="cf-upload",
                    )  # fmt: skip
                    microphone = gr.Audio(
                        sources=["microphone"],
                        type="filepath",
                        label="... or record one",
                        elem_id="cf-microphone",
                    )
                with gr.Column():
                    mode = gr.Radio(MODES, value="full", label="What to score", elem_id="cf-mode")
                    prior = gr.Slider(
                        0.01, 0.99, value=0.5, step=0.01, elem_id="cf-prior", visible=calibrated,
                        label="Spoof prior p(spoof) of the bona fide posterior (calibrated detectors)",
                    )  # fmt: skip
                    button = gr.Button("Detect", variant="primary", elem_id="cf-detect")
            results = gr.HTML(elem_id="cf-results")
            scored = gr.State(None)
            if examples:
                gr.Examples(
                    [[example] for example in examples], inputs=[upload], label="Examples (synthetic)"
                )
            button.click(
                detect,
                [upload, microphone, mode, prior],
                [results, scored],
                concurrency_limit=concurrency_limit,
                api_name="detect",
            )
            prior.change(
                show,
                [scored, prior],
                [results],
                concurrency_limit=None,
                api_name=False,
                trigger_mode="always_last",
            )
            if conditions:
                with gr.Accordion("What if it were compressed?", open=False):
                    gr.Markdown(
                        "The same recording through ordinary channels (`codecfake robustness` conditions: MP3 and "
                        "Opus through ffmpeg, the 8 kHz telephone band), each scored beside the original."
                    )
                    ticked = [condition for condition in DEFAULT_CONDITIONS if condition in conditions]
                    chosen = gr.CheckboxGroup(
                        conditions, value=ticked or conditions[:1], label="Conditions", elem_id="cf-chosen"
                    )
                    compress_button = gr.Button("Score compressed versions", elem_id="cf-compress")
                    compressed = gr.HTML(elem_id="cf-compressed")
                compress_button.click(
                    compress, [upload, microphone, mode, prior, chosen], [compressed], concurrency_limit=concurrency_limit,
                    api_name="compressed",
                )  # fmt: skip
        with gr.Tab("Many files"):
            files = gr.File(file_count="multiple", type="filepath", label="Audio files", elem_id="cf-files")
            batch_button = gr.Button("Detect all", variant="primary", elem_id="cf-batch")
            table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, elem_id="cf-table")
            download = gr.File(label="The table as CSV", elem_id="cf-csv")
            batch_button.click(
                detect_many, [files, mode, prior], [table, download], concurrency_limit=concurrency_limit,
                api_name="detect_files",
            )  # fmt: skip
    return page


def launch(page: gr.Blocks, *, server_name: str | None = None, server_port: int | None = None,
           share: bool = False, max_queue: int = 32, **options) -> None:  # fmt: skip
    """Serve ``page`` with its style and a bounded queue (requests beyond ``max_queue`` are refused).
    ``server_name`` None: gradio's choice (``GRADIO_SERVER_NAME``, as a Space sets it, else 127.0.0.1)."""
    page.queue(max_size=max_queue).launch(
        server_name=server_name, server_port=server_port, share=share, css=PAGE_CSS, ssr_mode=False,
        footer_links=["api"], **options,
    )  # fmt: skip
