"""``codecfake app``: the detection page (:mod:`codecfake_hf.app.page`) over this package's
:class:`~codecfake_hf.detection.detector.Detector`, served on this machine.

Every number comes from the code ``codecfake detect`` runs: a recording is scored by
:meth:`Detector.detect_files` (streamed, so memory does not grow with its length), the batch tab by the
same call on every file (windows of several files share forward passes), the prior slider re-reads the
scores with :meth:`Detector.at_prior` (nothing is scored again), and each result shows the ``codecfake
detect --json`` command that prints the same numbers. "What if it were compressed" passes the decoded
recording through the conditions of :mod:`codecfake_hf.evaluation.robustness` (MP3 and Opus need the ``ffmpeg``
program; without it only the telephone-band conditions are offered), writes each as 16-bit FLAC as
``codecfake robustness`` does, and scores those files.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from importlib import resources
from pathlib import Path

from codecfake_hf.app import AppPortError, require_gradio
from codecfake_hf.audio.audio_io import load_audio, write_audio
from codecfake_hf.detection.detector import Detection, DetectionError, Detector
from codecfake_hf.evaluation.robustness import CONDITIONS, apply_condition

#: Where the example clips live (package data; provenance in their README.md).
EXAMPLES = resources.files("codecfake_hf.app").joinpath("examples")


def example_files() -> list[str]:
    """The example clips shipped with the package (synthetic; see ``examples/README.md``)."""
    return sorted(str(path) for path in Path(str(EXAMPLES)).iterdir() if path.suffix in (".flac", ".mp3"))


def available_conditions() -> list[str]:
    """The compression conditions this machine can apply: all of them with ``ffmpeg``, else those
    that need none (the telephone band)."""
    usable = [condition for condition in CONDITIONS.values() if condition.kind != "clean"]
    if shutil.which("ffmpeg") is None:
        usable = [condition for condition in usable if condition.kind != "ffmpeg"]
    return [condition.name for condition in usable]


class DetectorBackend:
    """One saved detector (folder or Hub id) as a backend of the page (:mod:`codecfake_hf.app.page`).

    Args:
        model: what ``codecfake detect --model`` takes.
        device: torch device (default CPU).
        batch_size: windows per forward pass (default: ``detect``'s for the device).
        name: how the page names it (default: ``model``).
    """

    def __init__(self, model: str, device: str | None = "cpu", batch_size: int | None = None,
                 name: str | None = None) -> None:  # fmt: skip
        first = Detector.from_pretrained(model, mode="first", batch_size=batch_size, device=device)
        self._detectors = {"first": first}
        if first.windowed:
            self._detectors["full"] = Detector(
                first.model, first.feature_extractor, mode="full", batch_size=first.batch_size,
                device=str(first.device),
            )  # fmt: skip
        self.model = str(model)
        self.name = name or self.model
        self.calibrated = first.calibration is not None
        self.conditions = available_conditions()

    def _detector(self, mode: str) -> Detector:
        if mode not in self._detectors:
            raise DetectionError(f"{self.name} scores whole clips, not 4.04 s windows: choose the first mode")
        return self._detectors[mode]

    def score(self, path: str, mode: str) -> Detection:
        return self._detector(mode).detect_files([path])[0]

    def score_files(self, paths: Sequence[str], mode: str) -> list[Detection]:
        return self._detector(mode).detect_files(paths)

    def score_conditions(
        self, path: str, mode: str, conditions: Sequence[str]
    ) -> list[tuple[str, Detection]]:
        """The recording through each condition (16-bit FLAC at its own rate, as ``codecfake
        robustness`` writes them), scored."""
        if not conditions:
            return []
        waveform, rate = load_audio(path)
        folder = Path(tempfile.mkdtemp(prefix="codecfake_app_conditions_"))
        try:
            files = []
            for condition in conditions:
                files.append(folder / f"{Path(path).stem}.{condition}.flac")
                write_audio(files[-1], apply_condition(waveform, rate, condition), rate)
            return list(zip(conditions, self._detector(mode).detect_files(files)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def result(self, detection: Detection, prior_spoof: float, file_name: str) -> dict:
        """What the page shows: the detection at ``prior_spoof``, named ``file_name``, and the JSON that
        ``codecfake detect FILE_NAME --json`` prints for it."""
        detector = self._detectors["first"]
        shown = replace(detector.at_prior(detection, prior_spoof), path=file_name)
        if shown.error is not None:  # name the file as the user knows it, not by the server's copy
            shown.error = shown.error.replace(detection.path, file_name)
        result = {**asdict(shown), "file": file_name, "json": json.dumps([shown.to_dict()], indent=2)}
        windowed = detector.windowed  # a classifier of whole clips has one "window", the clip
        result["window_seconds"] = (
            detector.feature_extractor.num_samples / detector.sampling_rate if windowed else 0
        )
        result["operating_point"] = detector.operating_point(prior_spoof)
        return result

    def command(self, file_name: str, mode: str, prior_spoof: float) -> str:
        prior = f" --prior-spoof {prior_spoof:g}" if self.calibrated else ""
        return (
            f"codecfake detect {shlex.quote(file_name)} --model {shlex.quote(self.model)} --mode {mode} "
            f"--json{prior}"
        )


def description(backends: Sequence[DetectorBackend]) -> str:
    """The page's introduction: the models and where its numbers come from."""
    models = ", ".join(
        f"`{backend.model}` ({'calibrated' if backend.calibrated else 'uncalibrated'})"
        for backend in backends
    )
    return (
        f"Upload or record a recording; {models} say whether it sounds bona fide (real) or like a spoof "
        "made through a neural audio codec. Every number is what `codecfake detect --json` prints for the "
        "same file (each result shows the command). The recording stays on this machine. A first screen, "
        "not proof: do not base decisions about people on it alone."
    )


def launch_app(
    models: Sequence[str],
    *,
    server_port: int | None = None,
    device: str | None = "cpu",
    share: bool = False,
    concurrency_limit: int = 1,
) -> None:
    """Load every detector and serve the page on 127.0.0.1 (a public ``gradio.live`` link only with
    ``share``) until interrupted.

    Raises:
        AppUnavailableError: gradio is not installed.
        AppPortError: the port is taken.
        SourceNotFoundError, ModelLoadError, DetectionError: a model or device that does not load.
    """
    require_gradio()
    from codecfake_hf.app.page import build_page, launch

    backends = [DetectorBackend(model, device=device) for model in models]
    page = build_page(
        backends,
        description=description(backends),
        examples=example_files(),
        concurrency_limit=concurrency_limit,
    )
    try:
        launch(page, server_name="127.0.0.1", server_port=server_port, share=share)
    except OSError as error:  # gradio: "Cannot find empty port in range: N-N. ..."
        if "port" not in str(error).lower():
            raise
        raise AppPortError(
            f"--port {server_port}: {str(error).splitlines()[0]}; pass a free port (or leave --port out)"
        ) from None
