"""Windows of several files share forward passes (``codecfake detect`` with many files, ``evaluate``):
scores per file equal one-file-at-a-time scoring for every batch size and file order, errors stay
per file, and the readers run at most a batch ahead of the model."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest
import soundfile as sf

from codecfake_cli.main import main
from codecfake_hf.audio.audio_io import load_audio
from codecfake_hf.detection import detector as detector_module
from codecfake_hf.detection.detector import Detector
from codecfake_hf.detection.read_ahead import read_ahead

pytestmark = pytest.mark.usefixtures("one_thread")

# the tiny preset's window is 8,000 samples at 16 kHz (0.5 s)
GOOD = {
    "short-16k.wav": (0.7, 16000, 1),
    "long-44k-stereo.flac": (3.1, 44100, 2),
    "exact-window.wav": (0.5, 16000, 1),
    "mid-8k.wav": (1.3, 8000, 1),
    "long-48k.flac": (2.25, 48000, 1),
    "short-22k.ogg": (0.9, 22050, 1),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Readable files of several rates, lengths and formats, and files that get an error."""
    root = tmp_path_factory.mktemp("batching")
    rng = np.random.default_rng(0)
    paths = {}
    for name, (seconds, rate, channels) in GOOD.items():
        waveform = (0.1 * rng.standard_normal((int(seconds * rate), channels))).astype(np.float32)
        sf.write(root / name, waveform, rate)
        paths[name] = str(root / name)
    sf.write(root / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(root / "too-short.wav", (0.1 * rng.standard_normal(1000)).astype(np.float32), 16000)
    (root / "notes.txt").write_text("not audio\n")
    paths.update({name: str(root / name) for name in ("silent.wav", "too-short.wav", "notes.txt")})
    paths["missing.wav"] = str(root / "missing.wav")
    return paths


def one_at_a_time(folder, path: str, mode: str) -> float:
    """Today's per-file route, independent of the batched one: the whole file decoded and scored
    alone (``Detector.logits``, batch 1)."""
    detector = Detector.from_pretrained(folder, mode=mode, batch_size=1, device="cpu")
    waveform, rate = load_audio(path)
    logits, _ = detector.logits([waveform], rate)
    return float(logits[0, detector.bonafide_index])


@pytest.mark.parametrize("mode", ["first", "full"])
def test_scores_equal_one_file_at_a_time_for_any_batch_size_and_order(tiny_aasist_dir, files, mode):
    expected = {name: one_at_a_time(tiny_aasist_dir, files[name], mode) for name in GOOD}
    names = list(files)
    for batch_size, seed in [(1, 0), (4, 1), (32, 2), (3, 3)]:
        order = random.Random(seed).sample(names, len(names))
        detector = Detector.from_pretrained(tiny_aasist_dir, mode=mode, batch_size=batch_size, device="cpu")
        results = detector.detect_files([files[name] for name in order])
        assert [result.path for result in results] == [files[name] for name in order]
        for name, result in zip(order, results):
            if name in GOOD:
                assert result.error is None, result.error
                assert result.score == pytest.approx(expected[name], abs=1e-5), (name, batch_size)
                assert len(result.window_scores) == result.num_windows
            else:
                assert result.score is None and name.split(".")[0] in result.error, result.error


def test_windows_of_several_files_share_a_forward_pass(tiny_aasist_dir, files, monkeypatch):
    detector = Detector.from_pretrained(tiny_aasist_dir, batch_size=4, device="cpu")
    sizes = []
    original = detector.model.forward
    monkeypatch.setattr(
        detector.model,
        "forward",
        lambda input_values, **kw: (
            sizes.append(len(input_values)) or original(input_values=input_values, **kw)
        ),
    )
    results = detector.detect_files([files[name] for name in GOOD])  # first mode: one window per file
    assert all(result.error is None for result in results)
    assert sizes == [4, 2]  # not six forward passes of one window


def test_readers_stay_a_bounded_way_ahead_of_the_model(tiny_aasist_dir, files, monkeypatch):
    """However many files wait, the windows read but not yet scored are at most the batch being
    scored and 2 waiting (plus one in hand) for each of the ``batch_size + workers`` files read ahead."""
    batch_size, workers = 2, 2
    detector = Detector.from_pretrained(tiny_aasist_dir, mode="full", batch_size=batch_size, device="cpu")
    lock, read, scored, ahead = threading.Lock(), [0], [0], []
    original_windows, original_forward = detector_module.stream_windows, detector.model.forward

    def counting_windows(*args):
        for window in original_windows(*args):
            with lock:
                read[0] += 1
            yield window

    def recording_forward(input_values, **kwargs):
        with lock:
            ahead.append(read[0] - scored[0])
            scored[0] += len(input_values)
        return original_forward(input_values=input_values, **kwargs)

    monkeypatch.setattr(detector_module, "stream_windows", counting_windows)
    monkeypatch.setattr(detector.model, "forward", recording_forward)
    long = files["long-44k-stereo.flac"]
    results = detector.detect_files([long] * 12, workers=workers)
    assert len({result.score for result in results}) == 1 and results[0].num_windows == 7
    assert scored[0] == 84 and max(ahead) <= batch_size + (batch_size + workers) * 3 < 84


def test_the_same_files_give_the_same_scores_bit_for_bit(tiny_aasist_dir, files):
    """Batches follow the files' order, not the reader threads' timing: calibrate and evaluate are
    reproducible."""
    paths = [files[name] for name in GOOD] * 3
    runs = [
        [
            r.score
            for r in Detector.from_pretrained(
                tiny_aasist_dir, mode="full", batch_size=4, device="cpu"
            ).detect_files(paths, workers=3)
        ]
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_a_file_that_fails_midway_drops_its_windows_and_keeps_the_others(tiny_aasist_dir, files, tmp_path):
    waveform = (0.1 * np.random.default_rng(3).standard_normal(40000)).astype(np.float32)
    waveform[30000] = np.nan  # found after several windows were read (and maybe scored)
    sf.write(tmp_path / "nan.wav", waveform, 16000, subtype="FLOAT")
    detector = Detector.from_pretrained(tiny_aasist_dir, mode="full", batch_size=2, device="cpu")
    good = files["long-44k-stereo.flac"]
    results = detector.detect_files([good, str(tmp_path / "nan.wav"), good])
    assert "NaN/inf samples" in results[1].error and results[1].score is None
    assert (
        results[0].score
        == results[2].score
        == pytest.approx(one_at_a_time(tiny_aasist_dir, good, "full"), abs=1e-5)
    )


def test_window_starts_and_probabilities(tiny_aasist_dir, files):
    detector = Detector.from_pretrained(tiny_aasist_dir, mode="full", device="cpu")
    (result,) = detector.detect_files([files["long-44k-stereo.flac"]])
    samples = round(3.1 * 16000)  # resampled length
    assert result.window_starts == pytest.approx([0, 0.5, 1.0, 1.5, 2.0, 2.5, (samples - 8000) / 16000])
    assert np.mean(result.window_scores) == pytest.approx(result.score, abs=1e-6)
    assert all(0 < p < 1 for p in result.window_probabilities)
    assert detector.operating_point() == 0.5
    assert "window_scores" not in result.to_dict() and len(result.to_dict(windows=True)["window_scores"]) == 7


def test_detect_json_is_unchanged_and_windows_are_behind_an_option(tiny_aasist_dir, files, capsys):
    paths = [files["long-44k-stereo.flac"], files["short-16k.wav"]]
    assert main(["detect", *paths, "--model", str(tiny_aasist_dir), "--mode", "full", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert [sorted(entry) for entry in plain] == [
        ["error", "label", "num_windows", "path", "probability", "score"]
    ] * 2
    assert (
        main(["detect", *paths, "--model", str(tiny_aasist_dir), "--mode", "full", "--json", "--windows"])
        == 0
    )
    windowed = json.loads(capsys.readouterr().out)
    assert [entry["num_windows"] for entry in windowed] == [7, 2]
    assert len(windowed[0]["window_probabilities"]) == len(windowed[0]["window_starts"]) == 7
    assert [{k: e[k] for k in plain[0]} for e in windowed] == plain


def test_read_ahead_raises_a_readers_bug_and_stops_on_break():
    def read(source, emit):
        if source == 3:
            raise RuntimeError("a bug")
        emit(source)
        return source

    with pytest.raises(RuntimeError, match="a bug"):
        list(read_ahead(range(6), read, (ValueError,)))
    started, before = [], threading.active_count()

    def endless(source, emit):
        started.append(source)
        while True:
            emit(source)

    events = read_ahead(range(100), endless, (ValueError,), workers=2, max_buffered=1)
    event = next(events)
    events.close()
    assert event.kind == "item" and len(started) <= 2  # the threads stopped, no source after them
    assert threading.active_count() == before
