"""The sweep (:mod:`tests.commands.sweep`) of ``codecfake detect``: every case's exit code, one-line error
message and the user's files kept."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
import soundfile as sf

from tests.commands.sweep import (
    Case,
    Outcome,
    Sandbox,
    bin_weights,
    both,
    debug_test,
    no_unsafe_advice,
    online,
    sweep_test,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _scored(*names: str, windows: int | None = None) -> Callable[[Sandbox, Outcome], None]:
    """``detect --json`` scored exactly ``names`` (the good files), with ``windows`` windows each."""

    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        results = json.loads(outcome.out)
        assert sorted(r["path"] for r in results if r["score"] is not None) == sorted(names), outcome.out
        assert all(r["label"] and r["probability"] is not None for r in results if r["score"] is not None)
        if windows is not None:
            assert {r["num_windows"] for r in results if r["score"] is not None} == {windows}

    return check


def _detect(*arguments: str, model: str = "tiny_aasist_dir") -> Callable[[Sandbox], list[str]]:
    """``codecfake detect ARGUMENTS --json --model M``; ``model`` names a fixture (a shared model
    folder, copied in) or is typed as it is."""

    def prepare(sandbox: Sandbox) -> list[str]:
        typed = sandbox.copy(sandbox.fixture(model), "model") if model.endswith("_dir") else model
        return ["detect", *arguments, "--json", "--model", typed]

    return prepare


def _with(
    *steps: Callable[[Sandbox], object], then: Callable[[Sandbox], object]
) -> Callable[[Sandbox], object]:
    def prepare(sandbox: Sandbox):
        for step in steps:
            step(sandbox)
        return then(sandbox)

    return prepare


def _speech(sandbox: Sandbox) -> None:
    sandbox.audio("speech.wav")


def _silent_and_one_sample(sandbox: Sandbox) -> None:
    sf.write(sandbox.root / "zeros.wav", np.zeros(16000, np.float32), 16000)
    sf.write(sandbox.root / "one.wav", np.full(1, 0.3, np.float32), 16000)


def _two_samples_at_96k(sandbox: Sandbox) -> None:
    sf.write(sandbox.root / "two.wav", np.array([0.1, -0.1], np.float32), 96000)


def _truncated_wav(sandbox: Sandbox) -> None:
    whole = sandbox.root / sandbox.audio("whole.wav")
    sandbox.write("cut.wav", whole.read_bytes()[:-12_000])  # an interrupted copy: 6,000 samples missing


def _m4a(sandbox: Sandbox) -> None:
    sandbox.audio("talk.flac", seconds=1.5, rate=44100, channels=2)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "talk.flac", "-c:a", "aac", "talk.m4a"],
                   cwd=sandbox.root, check=True)  # fmt: skip
    (sandbox.root / "talk.flac").unlink()


def _long_file(sandbox: Sandbox) -> None:
    """4.6 s of 44.1 kHz stereo: 10 windows of the tiny model at 16 kHz."""
    sandbox.audio("long.flac", seconds=203_000 / 44100, rate=44100, channels=2)


def _corrupt_weights(sandbox: Sandbox) -> list[str]:
    sandbox.model()
    weights = sandbox.root / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:300])
    return ["detect", sandbox.audio("speech.wav"), "--model", "model"]


def _ten_minute_files(sandbox: Sandbox) -> list[str]:
    """A 10-minute 44.1 kHz stereo FLAC and a 10-minute WAV whose last minute is missing."""
    rng = np.random.default_rng(0)
    with (
        sf.SoundFile(sandbox.root / "talk.flac", "w", 44100, 2) as flac,
        sf.SoundFile(sandbox.root / "whole.wav", "w", 16000, 1, subtype="PCM_16") as wav,
    ):
        for _ in range(10):
            flac.write((0.1 * rng.standard_normal((60 * 44100, 2))).astype(np.float32))
            wav.write((0.1 * rng.standard_normal(60 * 16000)).astype(np.float32))
    whole = sandbox.root / "whole.wav"
    sandbox.write("cut.wav", whole.read_bytes()[: -60 * 16000 * 2])
    whole.unlink()
    sandbox.model()
    return [sys.executable, "-m", "codecfake_cli", "detect", "talk.flac", "cut.wav", "--model", "model",
            "--json", "--mode", "full", "--batch-size", "8"]  # fmt: skip


def _warned(text: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert [line for line in outcome.err.splitlines() if "warning" in line] == [text], outcome.err

    return check


# fmt: off
CASES = [
    # 3. detect --mode full streams --batch-size windows on --device (tests/detection/test_detect_streaming.py)
    Case("3 detect --mode full --batch-size --device",
         _with(_long_file,
               then=_detect("long.flac", "--mode", "full", "--batch-size", "3", "--device", "cpu")),
         code=0, check=_scored("long.flac", windows=10)),
    Case("3 detect --batch-size 0", _with(_speech, then=_detect("speech.wav", "--batch-size", "0")),
         errors=(r"batch size 0: must be at least 1 \(windows per forward pass\)$",)),
    Case("3 detect --device banana", _with(_speech, then=_detect("speech.wav", "--device", "banana")),
         errors=(r"unknown device 'banana'; use cpu, cuda or cuda:N$",)),
    # 4. one line instead of a traceback (tests/commands/test_user_errors.py, test_build_failures.py)
    Case("4 detect with a corrupt model.safetensors", _corrupt_weights,
         errors=(r"model: cannot load an audio-classification model .*SafetensorError",)),
    Case("4 detect --mode full with a model that is not AASIST",
         _with(_speech, then=_detect("speech.wav", "--mode", "full", model="wav2vec2_dir")),
         errors=(r"mode 'full' scores 4\.04 s windows and needs an AASIST model; this model's feature "
                 r"extractor is Wav2Vec2FeatureExtractor: use mode 'first' \(--mode first\)$",)),
    # 6. a --model path that does not exist is no Hub id to retry (tests/commands/test_user_errors.py)
    Case("6 detect --model models/aasist-l before converting (README, offline)",
         _with(_speech, then=_detect("speech.wav", model="models/aasist-l")),
         errors=(r"models/aasist-l: no such model folder \(relative to .*\), and HF_HUB_OFFLINE is set",)),
    Case("6 detect --model models/aasist-l with the Hub unreachable asks once",
         _with(_speech, then=online(_detect("speech.wav", model="models/aasist-l"))),
         errors=(r"models/aasist-l: no such model folder \(relative to .*\), and the Hub "
                 r"\(http://127\.0\.0\.1:\d+\) could not be reached",)),
    Case("6 detect --model ./models/aasist-l is never a Hub id",
         _with(_speech, then=_detect("speech.wav", model="./models/aasist-l")),
         errors=(r"\./models/aasist-l: no such model folder \(relative to .*\); check the path, or convert "
                 r"one",)),
    # 8. no confident verdict on nothing (tests/detection/test_verdicts.py)
    Case("8 detect: silence and a 1-sample file refused, the speech scored",
         _with(_speech, _silent_and_one_sample, then=_detect("zeros.wav", "one.wav", "speech.wav")),
         check=_scored("speech.wav"), raised=False,
         errors=(r"zeros\.wav: the audio is digital silence",
                 r"one\.wav: the audio lasts 0\.000 s, too short to judge")),
    Case("8 detect with LABEL_0/LABEL_1 labels",
         _with(_speech, then=_detect("speech.wav", model="anonymous_labels_dir")),
         errors=(r"do not name exactly one bona fide class.*--bonafide-label",)),
    Case("8 detect with LABEL_0/LABEL_1 labels and --bonafide-label LABEL_1",
         _with(_speech,
               then=_detect("speech.wav", "--bonafide-label", "LABEL_1", model="anonymous_labels_dir")),
         code=0, check=_scored("speech.wav")),
    # 9. messages that say what happened (tests/audio/test_audio_loading.py)
    Case("9 detect an m4a (AAC) file", _with(_m4a, then=_detect("talk.m4a")), code=0,
         check=_scored("talk.m4a")),
    Case("9 detect a folder", _with(_speech, then=_detect("speech.wav", ".")),
         check=_scored("speech.wav"), raised=False,
         errors=(r"\.: is a directory, not an audio file; pass the files in it",)),
    Case("9 detect 2 samples at 96 kHz",
         _with(_speech, _two_samples_at_96k, then=_detect("two.wav", "speech.wav")),
         check=_scored("speech.wav"), raised=False,
         errors=(r"two\.wav: too short: 2 sample\(s\) at 96000 Hz \(0\.0208 ms\) give no sample at "
                 r"16000 Hz",)),
    Case("9 detect a WAV whose data chunk is cut short",
         _with(_speech, _truncated_wav, then=_detect("cut.wav", "speech.wav")),
         check=_scored("speech.wav"), raised=False,
         errors=(r"cut\.wav: truncated WAV.*ffmpeg -i cut\.wav repaired\.wav",)),
    # issue 22, items 9-15 (tests/models/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.9 detect with a pytorch_model.bin that is garbage",
         lambda s: ["detect", s.audio("speech.wav"), "--model", bin_weights(s, b"not a checkpoint " * 20)],
         check=no_unsafe_advice,
         errors=(r"model/pytorch_model\.bin: cannot be loaded safely \(\w+Error: .*\); "
                 r"the file is truncated, corrupt or holds Python objects other than tensors \(nothing in it was "
                 r"run\); re-save the model as safetensors",)),
    Case("22.14 detect --prior-spoof with an uncalibrated model warns",
         _with(_speech, then=_detect("speech.wav", "--prior-spoof", "0.05")), code=0,
         check=both(_scored("speech.wav"),
                     _warned("codecfake detect: warning: --prior-spoof 0.05 is ignored: model holds no calibration, "
                             "so p_bonafide is the softmax of its logits; calibrate it first (`codecfake calibrate "
                             "--model ...`)"))),
    # slow: fresh processes, several processes, 10-minute files
    Case("slow 3/9 detect --mode full on 10-minute files: the cut one reported, the other scored",
         _ten_minute_files, runner="process", check=_scored("talk.flac", windows=1200), slow=True,
         errors=(r"cut\.wav: truncated WAV.*\(540\.00 of 600\.00 s\)",)),
]
# fmt: on

test_sweep = sweep_test(CASES)
test_debug_shows_the_traceback = debug_test(CASES)
