"""``codecfake detect`` streams files: windows are cut while the file is read and scored
``--batch-size`` at a time, with the same scores as scoring the whole waveform at once."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from codecfake_cli.main import main
from codecfake_hf.audio import audio_io
from codecfake_hf.detection.detector import Detector, stream_windows
from codecfake_hf.models.aasist import AasistFeatureExtractor

pytestmark = pytest.mark.usefixtures("one_thread")

WINDOW = 8000  # the tiny preset's window (samples at 16 kHz)


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """4.6 s of 44.1 kHz stereo: 10 windows of the tiny model after resampling to 16 kHz, the last
    one overlapping the one before."""
    path = tmp_path_factory.mktemp("long") / "long_44k_stereo.flac"
    rng = np.random.default_rng(0)
    sf.write(path, (0.1 * rng.standard_normal((203_000, 2))).astype(np.float32), 44100)
    return path


@pytest.mark.parametrize("mode", ["first", "full"])
def test_stream_windows_are_the_feature_extractors_windows(mode):
    extractor = AasistFeatureExtractor(num_samples=8)
    rng = np.random.default_rng(1)
    for length in [*range(1, 41), 97]:
        waveform = rng.standard_normal(length).astype(np.float32)
        cuts = np.cumsum(rng.integers(1, 12, size=length))
        blocks = np.split(waveform, cuts[cuts < length])
        windows = list(stream_windows(blocks, 8, mode))
        assert all(w.shape[0] == 8 for w in windows) or (len(windows) == 1 and length < 8)
        streamed = extractor(windows, mode="first", return_tensors="np")["input_values"]
        expected = extractor(waveform, mode=mode, return_tensors="np")["input_values"]
        assert np.array_equal(streamed, expected), length


@pytest.mark.parametrize("rates", [(44100, 16000), (48000, 16000), (8000, 16000), (22050, 24000)])
def test_streaming_resampler_equals_the_whole_file_resampler(rates):
    rng = np.random.default_rng(2)
    waveform = (0.1 * rng.standard_normal(30_011)).astype(np.float32)
    cuts = np.cumsum(rng.integers(1, 5000, size=40))
    blocks = np.split(waveform, cuts[cuts < waveform.shape[0]])
    streamed = np.concatenate(list(audio_io.resample_blocks(blocks, *rates)))
    assert np.array_equal(streamed, audio_io.resample(waveform, *rates))


def test_full_mode_streams_in_bounded_batches_with_unchanged_scores(tiny_aasist_dir, long_file, monkeypatch):
    detector = Detector.from_pretrained(tiny_aasist_dir, mode="full", batch_size=3, device="cpu")
    waveform, rate = audio_io.load_audio(long_file)
    whole, (count,) = detector.logits([waveform], rate)  # the whole waveform at once
    assert count == 10

    blocks_read, calls = [], []
    original_blocks, original_forward = audio_io.AudioFile.blocks, detector.model.forward

    def counting_blocks(self, block_frames=None):
        for block in original_blocks(self, 4096):
            blocks_read.append(block.shape[0])
            yield block

    def recording_forward(input_values, **kwargs):
        calls.append((input_values.shape[0], len(blocks_read)))
        return original_forward(input_values=input_values, **kwargs)

    monkeypatch.setattr(audio_io.AudioFile, "blocks", counting_blocks)
    monkeypatch.setattr(detector.model, "forward", recording_forward)
    streamed, windows = detector.file_logits(long_file)
    assert windows == 10 and [size for size, _ in calls] == [3, 3, 3, 1]
    # scoring began before the file was read (how far ahead the readers go: test_detect_batching.py)
    assert calls[0][1] < len(blocks_read)
    assert torch.allclose(streamed, whole[0], atol=1e-5)


def test_first_mode_is_exactly_the_whole_file_score(tiny_aasist_dir, long_file):
    detector = Detector.from_pretrained(tiny_aasist_dir, device="cpu")
    waveform, rate = audio_io.load_audio(long_file)
    whole, _ = detector.logits([waveform], rate)
    streamed, windows = detector.file_logits(long_file)
    assert windows == 1 and torch.equal(streamed, whole[0])


def test_cli_detect_batch_size_and_device(tiny_aasist_dir, long_file, capsys):
    runs = []
    for extra in ([], ["--batch-size", "1", "--device", "cpu"], ["--batch-size", "64"]):
        assert (
            main(
                [
                    "detect",
                    str(long_file),
                    "--model",
                    str(tiny_aasist_dir),
                    "--mode",
                    "full",
                    "--json",
                    *extra,
                ]
            )
            == 0
        )
        runs.append(json.loads(capsys.readouterr().out)[0])
    assert {run["num_windows"] for run in runs} == {10}
    assert max(run["score"] for run in runs) - min(run["score"] for run in runs) < 1e-5


@pytest.mark.parametrize(
    "option, message",
    [
        (["--device", "banana"], "unknown device 'banana'"),
        (["--device", "cuda:99"], "CUDA device"),
        (["--batch-size", "0"], "batch size 0: must be at least 1"),
    ],
)
def test_cli_detect_bad_options_are_one_line_errors(tiny_aasist_dir, long_file, capsys, option, message):
    assert main(["detect", str(long_file), "--model", str(tiny_aasist_dir), *option]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_dataset_audio_value_scores_as_its_file_by_bytes_or_path(tiny_aasist_dir, long_file):
    """An ``Audio(decode=False)`` value is scored like the file it holds, whether it carries the bytes
    (decoded whole) or only the path (streamed); a value holding neither is that source's error."""
    detector = Detector.from_pretrained(tiny_aasist_dir, device="cpu")
    values = [
        str(long_file),
        {"bytes": long_file.read_bytes(), "path": None},
        {"bytes": None, "path": str(long_file)},
    ]
    values.append({"bytes": None, "path": None})
    file, by_bytes, by_path, empty = detector.score_sources(
        values, names=["f", "b", "p", "row 3"], progress=False
    )
    assert torch.equal(by_bytes.logits, file.logits) and torch.equal(by_path.logits, file.logits)
    assert isinstance(empty.error, audio_io.AudioError)
    assert str(empty.error) == "row 3: the audio value has neither bytes nor a path"
