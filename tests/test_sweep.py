"""The reliability and security sweep (issue 12): every case, run the way a user meets it, asserts

(a) the exit code (2 for a user error),
(b) the one-line message on stderr (``<program>: error: ...`` naming the file, repo or option and the
    fix; no traceback, which only ``--debug`` shows), and
(c) that nothing was lost: every file the user had (README.md, an edited card, input audio, trained
    models and checkpoints) is byte-identical afterwards unless the case says otherwise, no temporary
    file is left behind, and where several files are given the good ones were still processed.

Each case runs in a fresh folder that is the current directory (paths are typed as a user types
them) through the ``codecfake`` entry point, ``train.py``'s or ``python -m dataset_builder.vctk``'s
``main``, a Python call for what only the library reaches, or, for the slow cases, a fresh process
(``train.py`` under ``accelerate launch``, several processes, 10-minute files). The dedicated tests
named in each case go into depth; this sweep walks every case end to end.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from codecfake_hf.errors import CodecFakeError, report_user_error, user_error_message

REPO_ROOT = Path(__file__).resolve().parents[1]
USER_README = "---\nlicense: mit\n---\n# My detector\n\nNotes I wrote by hand.\n"
TOKEN = "hf_SWEEPSECRETVALUE"

pytestmark = pytest.mark.usefixtures("one_thread")


# --- the user's folder ---------------------------------------------------------------------------


class Sandbox:
    """The user's working folder ``root`` (the current directory while a case runs) and the shared
    inputs a case copies into it; every file under ``root`` is checked by the sweep."""

    def __init__(self, root: Path, request: pytest.FixtureRequest) -> None:
        self.root = root
        self.request = request
        self.marker: Path | None = None  # a file whose existence means planted code ran
        self.figures: list = []

    def fixture(self, name: str):
        return self.request.getfixturevalue(name)

    def copy(self, source: Path, name: str) -> str:
        """Copy a shared file or folder to ``root/name``; returns ``name`` (as the user types it)."""
        if source.is_dir():
            shutil.copytree(source, self.root / name)
        else:
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, self.root / name)
        return name

    def write(self, name: str, content: str | bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return name

    def audio(
        self, name: str, seconds: float = 1.0, rate: int = 16000, channels: int = 1, seed: int = 0
    ) -> str:
        """Noise at -20 dBFS RMS, 32-bit float (or PCM_16 for ``.wav``)."""
        rng = np.random.default_rng(seed)
        waveform = (0.1 * rng.standard_normal((int(seconds * rate), channels))).astype(np.float32)
        subtype = "PCM_16" if name.endswith(".wav") else None
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(self.root / name, waveform.squeeze(1) if channels == 1 else waveform, rate, subtype=subtype)
        return name

    def model(self, name: str = "model") -> str:
        return self.copy(self.fixture("tiny_aasist_dir"), name)

    def detector(self, name: str = "best") -> str:
        """A trained detector folder (training_config.json) with a README its user wrote."""
        self.model(name)
        self.write(
            f"{name}/training_config.json", json.dumps({"config": "C", "dataset": ".", "model": "tiny"})
        )
        self.write(f"{name}/README.md", USER_README)
        return name

    def run(self, name: str = "run") -> str:
        """A finished tiny training run (``run/best``, ``run/checkpoints/step_3``, ``step_4``)."""
        self.fixture("tiny_run").copy(self.root / name)
        return name

    def train_args(self, output_dir: str, *extra: str) -> list[str]:
        return [*self.fixture("tiny_run").options(output_dir), *extra]

    def plant(self, file: Path) -> None:
        """Write a pickle that runs code when loaded unsafely to ``file``."""
        payload, self.marker = self.fixture("malicious_pickle")
        file.write_bytes(payload)

    def online(self) -> str:
        """Hub access on (a local endpoint nobody answers) with a token; returns the endpoint."""
        self.fixture("monkeypatch").setenv("HF_TOKEN", TOKEN)
        return self.fixture("unreachable_hub")


def _files(root: Path) -> dict[str, str]:
    """``{relative POSIX path: sha256}`` of every file under ``root``."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink()
    }


def _temporary(name: str) -> bool:
    """Names of half-written files: ours (``*.tmp``), downloads (``*.part``), ``datasets``' (``tmp*``)."""
    base = name.rsplit("/", 1)[-1]
    return base.endswith((".tmp", ".part", ".incomplete")) or base.startswith("tmp")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]


@dataclass(frozen=True)
class Case:
    """One row of the sweep.

    ``prepare(sandbox)`` writes the user's files and returns the command line (for ``runner`` "main",
    the arguments of ``program``'s entry point; for "process", a whole command; for "call", a
    function). ``errors``: one regex per ``<program>: error:`` line stderr must hold, in order.
    ``may_change``: globs of the user's files the command may change or move (others must stay
    byte-identical). ``raised``: whether the error is raised (``--debug`` then shows its traceback)
    rather than reported per file while the other files are processed. ``launcher_traceback``: the
    launcher (``accelerate launch``, several processes) prints its own report, with a traceback of its
    frames only. ``file_size_limit``: bytes a "process" case may write to one file (beyond, writing fails
    as on a full disk). ``interrupt_when``: a "process" case gets Ctrl-C (SIGINT to its process group)
    once its stderr shows this text.
    """

    name: str
    prepare: Callable[[Sandbox], object]
    code: int = 2
    errors: tuple[str, ...] = ()
    program: str = "codecfake"
    runner: str = "main"
    may_change: tuple[str, ...] = ()
    check: Callable[[Sandbox, Outcome], None] | None = None
    raised: bool = True
    launcher_traceback: bool = False
    file_size_limit: int | None = None
    slow: bool = False
    interrupt_when: str | None = None


def _run(case: Case, command, sandbox: Sandbox, capsys, debug: bool = False) -> tuple[int, str, str]:
    """Run a prepared case; ``(exit code, stdout, stderr)``."""
    capsys.readouterr()
    if case.runner == "process":
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "1",
                       "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
        if case.interrupt_when is not None:
            from tests.test_interrupts import interrupt

            ready = case.interrupt_when
            result = interrupt(command, lambda err: ready in err, sandbox.root, environment=environment)
            return result.returncode, result.stdout, result.stderr
        limit = case.file_size_limit
        result = subprocess.run(
            command, cwd=sandbox.root, env=environment, capture_output=True, text=True, timeout=900,
            preexec_fn=None if limit is None else lambda: _limit_file_size(limit),
        )  # fmt: skip
        return result.returncode, result.stdout, result.stderr
    if case.runner == "call":
        try:
            command()
            code = 0
        except CodecFakeError as error:
            report_user_error(error, case.program)
            code = 2
    else:
        code = _entry_point(case.program, sandbox)([*command, *(["--debug"] if debug else [])])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _limit_file_size(limit: int) -> None:
    """In a child process: writing past ``limit`` bytes fails with EFBIG, as a full disk fails a write."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _entry_point(program: str, sandbox: Sandbox) -> Callable[[list[str]], int]:
    from codecfake_hf import cli
    from dataset_builder import vctk

    return {
        "codecfake": cli.main,
        "train.py": sandbox.fixture("train_script").main,
        "python -m dataset_builder.vctk": vctk.main,
    }[program]


def _error_lines(program: str, err: str) -> list[str]:
    """Every line of stderr (progress bars split off) that reports an error."""
    lines = [line.strip() for line in re.split(r"[\r\n]", err)]
    errors = [line for line in lines if re.search(r"\berror: ", line)]
    prefix = re.compile(rf"{re.escape(program)}( [a-z-]+)?: error: ")  # codecfake <command>: error: ...
    assert all(prefix.match(line) for line in errors), err
    return errors


# --- what some cases check besides the exit code, the message and the user's files -------------


def _scored(*names: str, windows: int | None = None) -> Callable[[Sandbox, Outcome], None]:
    """``detect --json`` scored exactly ``names`` (the good files), with ``windows`` windows each."""

    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        results = json.loads(outcome.out)
        assert sorted(r["path"] for r in results if r["score"] is not None) == sorted(names), outcome.out
        assert all(r["label"] and r["probability"] is not None for r in results if r["score"] is not None)
        if windows is not None:
            assert {r["num_windows"] for r in results if r["score"] is not None} == {windows}

    return check


def _absent(*names: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert not [name for name in names if (sandbox.root / name).exists()], names

    return check


def _written(*names: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert all((sandbox.root / name).is_file() for name in names), names

    return check


def _no_code_ran(sandbox: Sandbox, outcome: Outcome) -> None:
    assert sandbox.marker is not None and not sandbox.marker.exists(), "code planted in a pickle ran"


def _both(*checks: Callable[[Sandbox, Outcome], None]) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        for one in checks:
            one(sandbox, outcome)

    return check


def _token_never_printed(sandbox: Sandbox, outcome: Outcome) -> None:
    assert TOKEN not in outcome.out + outcome.err and "resume" not in outcome.err


def _damaged_checkpoint_kept(sandbox: Sandbox, outcome: Outcome) -> None:
    """The damaged ``step_4`` was set aside as ``step_4.damaged``, byte for byte."""
    for path, digest in outcome.before.items():
        if path.startswith("run/checkpoints/step_4/"):
            assert outcome.after[path.replace("step_4/", "step_4.damaged/")] == digest, path
    assert "resumed from run/checkpoints/step_3" in outcome.out + outcome.err


def _unreadable_trial_left_out(sandbox: Sandbox, outcome: Outcome) -> None:
    scores = pd.read_csv(sandbox.root / "eval" / "scores_set.csv", keep_default_na=False)
    assert (scores["error"] == "").sum() == 6  # every readable clip was scored
    assert "cannot decode audio" in scores.set_index("utterance_id").at["bonafide/broken.wav", "error"]


def _heatmap_titled(sandbox: Sandbox, outcome: Outcome) -> None:
    from tests.test_tables import visible_texts

    assert list(pd.read_csv(sandbox.root / "mx" / "cross_test_eer.csv", index_col=0).index) == ["E-a", "E-b"]
    (figure,) = sandbox.figures
    texts = visible_texts(figure)
    assert "cross-test EER (%)" in texts and all(texts.values()), texts


def _report_paths(sandbox: Sandbox, outcome: Outcome) -> None:
    report = json.loads((sandbox.root / "cf" / "build_report.json").read_text())
    assert report["vctk"]["root"] == str((sandbox.root / "vctk" / "VCTK-Corpus-0.92").resolve())
    (excluded,) = report["excluded"]
    assert excluded["path"] == "wav48_silence_trimmed/p225/p225_002_mic1.flac"
    assert excluded["error"].startswith(f"{excluded['path']}: cannot decode audio")


def _counts_leave_out_the_broken_file(sandbox: Sandbox, outcome: Outcome) -> None:
    assert "| train | 1 | 42752 | 1 | 103 |" in outcome.out  # p225_001 only: p225_002 cannot be decoded
    assert "left out, cannot be decoded (as in codecfake build): 1" in outcome.out
    assert "p225_002_mic1.flac: cannot decode audio" in outcome.out


def _neither_is_better(sandbox: Sandbox, outcome: Outcome) -> None:
    summary = pd.read_csv(sandbox.root / "eval" / "eer.csv", index_col=0)
    assert summary.at["set", "better"] == "neither" and not summary.at["set", "significant"]


def _cosine_reaches_the_floor(sandbox: Sandbox, outcome: Outcome) -> None:
    log = [json.loads(line) for line in (sandbox.root / "run" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and log[-1]["learning_rate"] == pytest.approx(5e-6, rel=1e-9)


def _one_report_from_the_launcher(sandbox: Sandbox, outcome: Outcome) -> None:
    """Two processes: both exit 2 (one may be stopped by the launcher first), the launcher reports it."""
    exit_codes = re.findall(r"exitcode\s*: (-?\d+)", outcome.err)
    assert "2" in exit_codes and set(exit_codes) <= {"2", "-15"}, outcome.err
    assert f'File "{REPO_ROOT / "train.py"}"' not in outcome.err  # no traceback from the training processes


# --- preparing the user's files --------------------------------------------------------------------


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


def _online(prepare: Callable[[Sandbox], object]) -> Callable[[Sandbox], object]:
    """``prepare`` with Hub access on (an endpoint nobody answers) and a token in HF_TOKEN."""

    def online(sandbox: Sandbox):
        sandbox.online()
        return prepare(sandbox)

    return online


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


def _official_pth(sandbox: Sandbox, name: str = "AASIST-L.pth") -> Path:
    return sandbox.root / sandbox.copy(sandbox.fixture("fixtures_dir") / "aasist" / "AASIST-L.pth", name)


def _truncated_pth(sandbox: Sandbox) -> list[str]:
    official = _official_pth(sandbox)
    sandbox.write("cut.pth", official.read_bytes()[:5000])
    return ["convert-aasist", "cut.pth", "models/aasist-l"]


def _malicious_pth(sandbox: Sandbox) -> list[str]:
    sandbox.plant(sandbox.root / "AASIST-L.pth")
    return ["convert-aasist", "AASIST-L.pth", "models/aasist-l"]


def _labelled(sandbox: Sandbox, name: str = "set") -> str:
    sandbox.fixture("write_labelled_folder")(sandbox.root / name, per_class=3, samples=4800)
    return name


def _labelled_with_a_broken_file(sandbox: Sandbox) -> str:
    _labelled(sandbox)
    sandbox.write("set/bonafide/broken.wav", b"RIFF not really audio")
    return "set"


def _built_dataset(sandbox: Sandbox, name: str = "codecfake") -> str:
    return sandbox.copy(sandbox.fixture("bonafide_build"), name)


def _corpus(sandbox: Sandbox, broken: bool = False) -> str:
    sandbox.copy(sandbox.fixture("vctk_corpus"), "vctk/VCTK-Corpus-0.92")
    if broken:
        sandbox.write(
            "vctk/VCTK-Corpus-0.92/wav48_silence_trimmed/p225/p225_002_mic1.flac", b"fLaC but not really"
        )
    return "vctk/VCTK-Corpus-0.92"


def _foreign_folder(sandbox: Sandbox) -> list[str]:
    sandbox.write("my_project/README.md", "# my project\n")
    return ["build", "--vctk", _corpus(sandbox), "--configs", "E", "--tiny", "--out", "my_project"]


def _edited_card(sandbox: Sandbox) -> str:
    folder = _built_dataset(sandbox)
    card = sandbox.root / folder / "README.md"
    card.write_text(card.read_text() + "\nMy own notes.\n")
    return folder


def _checkpoints(sandbox: Sandbox) -> list[Path]:
    return sorted((sandbox.root / "run" / "checkpoints").iterdir())


def _pickle_in_every_checkpoint(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    for checkpoint in _checkpoints(sandbox):
        sandbox.plant(checkpoint / "custom_checkpoint_0.pkl")
    return sandbox.train_args("run", "--resume")


def _damaged_latest_checkpoint(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    optimizer = _checkpoints(sandbox)[-1] / "optimizer.bin"
    optimizer.write_bytes(optimizer.read_bytes()[:100])  # an interrupted copy
    return sandbox.train_args("run", "--resume")


def _every_checkpoint_damaged(sandbox: Sandbox) -> list[str]:
    sandbox.run()
    for checkpoint in _checkpoints(sandbox):
        weights = checkpoint / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
    return sandbox.train_args("run", "--resume")


def _symlink_zip(sandbox: Sandbox) -> Callable[[], None]:
    from dataset_builder.corpora.vctk import extract_zip

    link = zipfile.ZipInfo("VCTK/txt")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(sandbox.root / "VCTK.zip", "w") as archive:
        archive.writestr("VCTK/speaker-info.txt", "ID\n")
        archive.writestr(link, "/tmp")
        archive.writestr("VCTK/txt/p225/p225_001.txt", "hello")
    return lambda: extract_zip(sandbox.root / "VCTK.zip", sandbox.root / "corpus")


def _codec_made_in_inference_mode(sandbox: Sandbox) -> Callable[[], None]:
    import torch

    from codecfake_hf.codecs.registry import load_codec

    def run() -> None:
        with torch.inference_mode():
            codec = load_codec("A", tiny=True)
        clip = (0.3 * np.sin(np.linspace(0, 200, 8000))).astype(np.float32)
        assert np.isfinite(codec.resynthesize([clip], 16000, 1)[0]).all()

    return run


def _same_config_twice(sandbox: Sandbox) -> list[str]:
    for run in ("run_a", "run_b"):  # two trainings on config E
        sandbox.model(f"{run}/best")
        sandbox.write(f"{run}/best/training_config.json", json.dumps({"config": "E"}))
    return ["matrix", "--models", "run_a/best", "run_b/best", "--dataset", _labelled(sandbox), "--output-dir",
            "mx"]  # fmt: skip


def _named_twice(sandbox: Sandbox) -> list[str]:
    import matplotlib.pyplot as plt

    _same_config_twice(sandbox)
    sandbox.fixture("monkeypatch").setattr(plt, "close", sandbox.figures.append)  # keep the heatmap
    return ["matrix", "--models", "E-a=run_a/best", "E-b=run_b/best", "--dataset", "set", "--output-dir",
            "mx"]  # fmt: skip


def _push_model(sandbox: Sandbox, repo: str) -> list[str]:
    return ["push-model", sandbox.detector(), "--repo", repo, "--write-card", "--dataset-id", "org/cf"]


def _disk_full_evaluate(sandbox: Sandbox) -> list[str]:
    return [sys.executable, "-m", "codecfake_hf.cli", "evaluate", "--model", sandbox.model(), "--dataset",
            _labelled(sandbox), "--output-dir", "eval"]  # fmt: skip


def _read_only_out(sandbox: Sandbox) -> list[str]:
    folder = sandbox.fixture("read_only_folder")
    return ["evaluate", "--model", sandbox.model(), "--dataset", _labelled(sandbox), "--output-dir",
            f"{folder}/eval"]  # fmt: skip


def _bad_eer_csv(sandbox: Sandbox) -> list[str]:
    sandbox.model("best")
    eer_csv = sandbox.write("eer.csv", "test_set,threshold\nE,0.1\n")
    return ["push-model", "best", "--repo", "org/x", "--eer-csv", eer_csv]


def _funcodec_bad_yaml(sandbox: Sandbox) -> list[str]:
    sandbox.write("F3/config.yaml", "encoder: [unclosed\n")
    sandbox.write("F3/model.pth", b"")
    return ["resynthesize", sandbox.audio("speech.wav"), "out.flac", "--codec", "F3", "--checkpoint-dir",
            "F3"]  # fmt: skip


def _disk_full_build(sandbox: Sandbox) -> list[str]:
    """A build whose bona fide shards (12 clips of 1-1.5 s, about 1.2 MB) do not fit in 200 kB."""
    from dataset_builder.synthetic import make_synthetic_vctk

    make_synthetic_vctk(sandbox.root / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=4,
                        seconds=(1.0, 1.5))  # fmt: skip
    return [sys.executable, "-m", "codecfake_hf.cli", "build", "--vctk", "vctk", "--configs", "bonafide",
            "--out", "cf", "--shard-size", "100"]  # fmt: skip


def _accelerate(launcher_options: list[str], train_args: list[str]) -> Callable[[Sandbox], list[str]]:
    def prepare(sandbox: Sandbox) -> list[str]:
        command, _ = sandbox.fixture("accelerate_launch")(launcher_options, train_args)
        return command

    return prepare


def _cosine_run(sandbox: Sandbox) -> list[str]:
    sandbox.fixture("write_labelled_folder")(sandbox.root / "data", per_class=5, samples=4000)
    sandbox.model("init")
    options = ["--dataset", "data", "--model", "init", "--epochs", "2", "--batch-size", "2", "--num-workers",
               "0", "--log-with", "none", "--learning-rate", "0.001", "--min-learning-rate", "0.000005",
               "--output-dir", "run"]  # fmt: skip
    return _accelerate(["--multi_gpu", "--num_processes", "2"], options)(sandbox)


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
    return [sys.executable, "-m", "codecfake_hf.cli", "detect", "talk.flac", "cut.wav", "--model", "model",
            "--json", "--mode", "full", "--batch-size", "8"]  # fmt: skip


# --- issue 22, items 9-15 ----------------------------------------------------------------------------------


def _bin_weights(sandbox: Sandbox, payload: bytes | None = None, name: str = "model") -> str:
    """A model folder whose weights are ``pytorch_model.bin``: ``payload``, or a planted pickle."""
    folder = sandbox.model(name)
    (sandbox.root / folder / "model.safetensors").unlink()
    weights = sandbox.root / folder / "pytorch_model.bin"
    if payload is None:
        sandbox.plant(weights)
    else:
        weights.write_bytes(payload)
    return folder


def _no_unsafe_advice(sandbox: Sandbox, outcome: Outcome) -> None:
    assert "weights_only=False" not in outcome.err and "set to `False`" not in outcome.err, outcome.err


def _moved_aside(name: str, aside: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert outcome.after[aside] == outcome.before[name] and name not in outcome.after

    return check


def _interrupted(program: str, kept: str) -> Callable[[Sandbox, Outcome], None]:
    """The one line Ctrl-C prints, ending with ``kept``; no error line (checked by the sweep)."""

    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        lines = [line.strip() for line in re.split(r"[\r\n]", outcome.err) if "interrupted (Ctrl-C)" in line]
        assert lines == [f"{program}: interrupted (Ctrl-C); {kept}"], outcome.err[-3000:]

    return check


def _calibrated(sandbox: Sandbox, outcome: Outcome) -> None:
    from codecfake_hf.calibration import read_calibration

    calibration = read_calibration(sandbox.root / "model")
    assert calibration is not None and calibration.bonafide_label == "bonafide", calibration


def _warned(text: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert [line for line in outcome.err.splitlines() if "warning" in line] == [text], outcome.err

    return check


def _ranked(sandbox: Sandbox, model: str = "model") -> str:
    """``set/``: ten clips labelled so that the model's scores rank them mostly right (calibratable)."""
    from codecfake_hf.detection import Detector
    from tests.test_calibration import write_ranked_folder

    write_ranked_folder(sandbox.root / "set", Detector.from_pretrained(sandbox.root / model, device="cpu"))
    return "set"


def _users_temporary_name(sandbox: Sandbox) -> list[str]:
    """A file of the user's named as the atomic writer's temporary file used to be named."""
    folder = sandbox.model()
    sandbox.write(f"{folder}/config.json.tmp", "my notes")
    return ["calibrate", "--model", folder, "--dataset", _ranked(sandbox)]


def _ranked_with_a_broken_file(sandbox: Sandbox) -> list[str]:
    folder = sandbox.model()
    dataset = _ranked(sandbox)
    sandbox.write(f"{dataset}/bonafide/broken.wav", b"RIFF not really audio")
    return ["calibrate", "--model", folder, "--dataset", dataset]


def _bonafide_only(sandbox: Sandbox) -> str:
    sandbox.audio("set/bonafide/a.wav")
    return "set"


def _checkpoint_kept(sandbox: Sandbox, outcome: Outcome) -> None:
    assert list((sandbox.root / "run" / "checkpoints").glob("step_*/progress.json")), outcome.err[-3000:]


def _damaged_calibration(sandbox: Sandbox) -> list[str]:
    folder = sandbox.model()
    dataset = _ranked(sandbox)
    config = json.loads((sandbox.root / folder / "config.json").read_text())
    sandbox.write(f"{folder}/config.json", json.dumps({**config, "calibration": {"scale": "steep"}}))
    return ["calibrate", "--model", folder, "--dataset", dataset, "--overwrite"]


def _unreachable_download(sandbox: Sandbox) -> list[str]:
    """``convert-aasist download`` online, with the official file's host refusing connections."""
    import huggingface_hub

    from codecfake_hf.models.aasist import convert_aasist_checkpoint as converter
    from tests.conftest import free_port

    monkeypatch = sandbox.fixture("monkeypatch")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(
        converter, "OFFICIAL_CHECKPOINT_URL", f"http://127.0.0.1:{free_port()}/{{variant}}.pth"
    )
    return ["convert-aasist", "download", "models/aasist-l"]


def _readme_test_command_in_a_new_shell(sandbox: Sandbox) -> Callable[[], None]:
    """The README's test command, verbatim, in a bash with a stock PATH (nothing activated), in a clone
    whose ``.venv/bin/python`` is this interpreter and whose one test checks the offline setting."""
    from tests.test_setup_commands import readme_parts

    interpreter = sandbox.root / sandbox.write(
        ".venv/bin/python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n'
    )
    interpreter.chmod(0o755)
    sandbox.write(
        "test_offline.py",
        "import os\n\n\ndef test_offline():\n    assert os.environ['HF_HUB_OFFLINE'] == '1'\n",
    )
    (command,) = readme_parts()["2"]

    def run() -> None:
        shell = subprocess.run(["bash", "--noprofile", "--norc", "-c", command], cwd=sandbox.root, text=True,
                               capture_output=True, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(sandbox.root)})  # fmt: skip
        assert shell.returncode == 0 and "1 passed" in shell.stdout, shell.stdout + shell.stderr

    return run


def _interrupted_build(sandbox: Sandbox) -> list[str]:
    from dataset_builder.synthetic import make_synthetic_vctk

    make_synthetic_vctk(sandbox.root / "vctk", speakers=("p225", "p226", "p227"), utterances_per_speaker=4,
                        seconds=(1.0, 1.5))  # fmt: skip
    return [sys.executable, "-m", "codecfake_hf.cli", "build", "--vctk", "vctk", "--configs", "E", "--tiny",
            "--out", "cf", "--shard-size", "2"]  # fmt: skip


def _interrupted_training(sandbox: Sandbox) -> list[str]:
    sandbox.fixture("write_labelled_folder")(sandbox.root / "data", per_class=4, samples=9000)
    return [sys.executable, str(REPO_ROOT / "train.py"), "--dataset", "data", "--model", "tiny", "--epochs", "100",
            "--batch-size", "2", "--num-workers", "0", "--log-with", "none", "--output-dir", "run"]  # fmt: skip


# --- the cases -------------------------------------------------------------------------------------------

# fmt: off
CASES = [
    # 1. resuming runs nothing from a checkpoint (tests/test_resume_safety.py)
    Case("1 train.py --resume: a pickled object planted in every checkpoint is never run",
         _pickle_in_every_checkpoint, program="train.py", check=_no_code_ran,
         errors=(r"no intact checkpoint to resume from in run/checkpoints: run/checkpoints/step_4/"
                 r"custom_checkpoint_0\.pkl: unexpected pickled object .*; restore it from a copy or remove "
                 r"this checkpoint$",)),
    # 2. nothing of the user's is replaced before (or instead of) a check (tests/dataset_builder/test_push_checks.py,
    #    test_build_output_folder.py)
    Case("2 push-model offline keeps README.md",
         lambda s: ["push-model", s.detector(), "--repo", "org/aasist-l-c"],
         errors=(r"HF_HUB_OFFLINE is set: unset it on a machine with network access to push$",)),
    Case("2 push-model with the Hub unreachable keeps README.md and never prints the token",
         _online(lambda s: _push_model(s, "org/aasist-l-c")), check=_token_never_printed,
         errors=(r"cannot reach http://127\.0\.0\.1:\d+ \(ConnectError\): check the network or proxy, then "
                 r"rerun$",)),
    Case("2/9 push-model: an invalid repo id says so (not 'rerun to resume')",
         _online(lambda s: _push_model(s, "org/bad..name")), check=_token_never_printed,
         errors=(r"'org/bad\.\.name' is not a valid Hub model repo id \(.*\); use ORG/NAME$",)),
    Case("2 push offline keeps an edited dataset card",
         lambda s: ["push", _edited_card(s), "--repo", "org/codecfake"],
         errors=(r"HF_HUB_OFFLINE is set: unset it on a machine with network access to push$",)),
    Case("2/9 push: an invalid dataset repo id says so (not 'rerun to resume')",
         _online(lambda s: ["push", _edited_card(s), "--repo", "org/bad..name"]), check=_token_never_printed,
         errors=(r"'org/bad\.\.name' is not a valid Hub dataset repo id \(.*\); use ORG/NAME$",)),
    Case("2 build --out a folder that is not a CodecFake build keeps its README.md", _foreign_folder,
         errors=(r"my_project: not empty and not a CodecFake build .*--force",)),
    Case("2 convert-aasist into an existing detector folder replaces nothing",
         lambda s: ["convert-aasist", _official_pth(s).name, s.detector("best")],
         errors=(r"best: is a folder that is not empty; nothing was written: pass a new or empty output "
                 r"folder$",)),
    Case("2 train.py into an earlier run without --resume replaces nothing",
         lambda s: s.train_args(s.run()), program="train.py",
         errors=(r"run: holds an earlier run \(best/, checkpoints/step_4\); nothing was changed: pass "
                 r"--resume to continue it, or choose another --output-dir for a new run$",)),
    Case("2 resynthesize onto its own input keeps the input",
         lambda s: ["resynthesize", s.audio("speech.wav"), "speech.wav", "--codec", "E", "--tiny"],
         errors=(r"speech\.wav: already exists; nothing was written: remove it or choose another output "
                 r"file$",)),
    # 3. detect --mode full streams --batch-size windows on --device (tests/test_detect_streaming.py)
    Case("3 detect --mode full --batch-size --device",
         _with(_long_file,
               then=_detect("long.flac", "--mode", "full", "--batch-size", "3", "--device", "cpu")),
         code=0, check=_scored("long.flac", windows=10)),
    Case("3 detect --batch-size 0", _with(_speech, then=_detect("speech.wav", "--batch-size", "0")),
         errors=(r"batch size 0: must be at least 1 \(windows per forward pass\)$",)),
    Case("3 detect --device banana", _with(_speech, then=_detect("speech.wav", "--device", "banana")),
         errors=(r"unknown device 'banana'; use cpu, cuda or cuda:N$",)),
    # 4. one line instead of a traceback (tests/test_user_errors.py, test_build_failures.py)
    Case("4 detect with a corrupt model.safetensors", _corrupt_weights,
         errors=(r"model: cannot load an audio-classification model .*SafetensorError",)),
    Case("4 convert-aasist a truncated .pth", _truncated_pth, check=_absent("models"),
         errors=(r"cut\.pth: cannot be loaded safely \(.*\); the file is truncated, corrupt or holds Python "
                 r"objects other than tensors \(nothing in it was run\)",)),
    Case("4 convert-aasist a malicious .pth runs nothing", _malicious_pth,
         check=_both(_no_code_ran, _absent("models")),
         errors=(r"AASIST-L\.pth: cannot be loaded safely .*\(nothing in it was run\)",)),
    Case("4 evaluate --output-dir in a read-only folder", _read_only_out,
         errors=(r"read-only/eval: permission denied; check its permissions or choose another location$",)),
    Case("4 evaluate on a full disk (a file size limit) names the output folder", _disk_full_evaluate,
         runner="process", file_size_limit=300,
         errors=(r"while writing eval: file too large for this file system or the file size limit "
                 r"\(ulimit -f\); choose another location, then rerun$",)),
    Case("4 detect --mode full with a model that is not AASIST",
         _with(_speech, then=_detect("speech.wav", "--mode", "full", model="wav2vec2_dir")),
         errors=(r"mode 'full' scores 4\.04 s windows and needs an AASIST model; this model's feature "
                 r"extractor is Wav2Vec2FeatureExtractor: use mode 'first' \(--mode first\)$",)),
    Case("4 push-model --eer-csv without an eer column writes no card", _bad_eer_csv,
         check=_absent("best/README.md"),
         errors=(r"eer\.csv: no 'eer' column \(columns: threshold\); pass the eer\.csv that `codecfake "
                 r"evaluate --output-dir` writes",)),
    Case("4 evaluate --configs naming a config the dataset lacks",
         lambda s: ["evaluate", "--model", s.model(), "--dataset", _built_dataset(s), "--configs", "Z",
                    "--output-dir", "eval"], check=_absent("eval"),
         errors=(r"codecfake: no config Z in this dataset \(its configs: default, bonafide\); choose from "
                 r"those \(--subsets\) or build the missing ones",)),
    Case("4 compare a folder that is not a dataset (bonafide/ + spoof/)",
         lambda s: ["compare", _built_dataset(s), _labelled(s), "--output-dir", "cmp"], check=_absent("cmp"),
         errors=(r"IMPORTED set: not a dataset folder \(no README\.md listing configs:\); pass a folder written "
                 r"by `codecfake build` or `codecfake import`$",)),
    Case("4 compare --subsets naming a subset one side lacks",
         lambda s: ["compare", _built_dataset(s), _built_dataset(s, "release"), "--subsets", "E",
                    "--output-dir", "cmp"], check=_absent("cmp"),
         errors=(r"BUILT codecfake: no subset E \(its subsets: bonafide\); leave it out of --subsets, or build "
                 r"/ import it$",)),
    Case("4 matrix --subsets NAME/SUBSET for a dataset no --dataset names",
         lambda s: ["matrix", "--models", s.model(), "--dataset", f"one={_built_dataset(s)}", "--dataset",
                    f"two={_built_dataset(s, 'other')}", "--subsets", "three/E", "--output-dir", "m"],
         check=_absent("m/scores"),
         errors=(r"--subsets three/E: no --dataset is named 'three' \(names: one, two\); write NAME/SUBSET "
                 r"with one of those, or SUBSET for every dataset$",)),
    Case("4 train.py --dataset that does not exist",
         lambda s: s.train_args("run", "--dataset", "no/such/folder"), program="train.py",
         errors=(r"no/such/folder: no such dataset folder \(relative to .*\); check the path",)),
    Case("4 train.py --epochs 0", lambda s: s.train_args("run", "--epochs", "0"), program="train.py",
         check=_absent("run"), errors=(r"--epochs 0: must be at least 1$",)),
    Case("4 train.py --config-file with bad YAML",
         lambda s: s.train_args("run", "--config-file", s.write("e.yaml", "epochs: [2\n")),
         program="train.py",
         errors=(r"e\.yaml: not valid YAML \(.*line 1, column 9",)),
    Case("4 FunCodecCheckpointError is a user error", _funcodec_bad_yaml, check=_absent("out.flac"),
         errors=(r"F3/config\.yaml: not valid YAML",)),
    Case("4 RobustnessError is a user error",
         lambda s: ["robustness", _labelled(s), "--model", s.model(), "--out", "r", "--conditions", "mp3-7"],
         errors=(r"unsupported condition\(s\) mp3-7; supported: clean, mp3-16, .*, g711-8k$",)),
    # 5. a damaged latest checkpoint (tests/test_resume_safety.py)
    Case("5 train.py --resume falls back from a damaged latest checkpoint and keeps it",
         _damaged_latest_checkpoint, code=0, program="train.py", may_change=("run/*",),
         check=_damaged_checkpoint_kept),
    Case("5 train.py --resume with every checkpoint damaged", _every_checkpoint_damaged, program="train.py",
         errors=(r"no intact checkpoint to resume from in run/checkpoints: run/checkpoints/step_4/"
                 r"model\.safetensors: not a readable safetensors file",)),
    # 6. a --model path that does not exist is no Hub id to retry (tests/test_user_errors.py)
    Case("6 detect --model models/aasist-l before converting (README, offline)",
         _with(_speech, then=_detect("speech.wav", model="models/aasist-l")),
         errors=(r"models/aasist-l: no such model folder \(relative to .*\), and HF_HUB_OFFLINE is set",)),
    Case("6 detect --model models/aasist-l with the Hub unreachable asks once",
         _with(_speech, then=_online(_detect("speech.wav", model="models/aasist-l"))),
         errors=(r"models/aasist-l: no such model folder \(relative to .*\), and the Hub "
                 r"\(http://127\.0\.0\.1:\d+\) could not be reached",)),
    Case("6 detect --model ./models/aasist-l is never a Hub id",
         _with(_speech, then=_detect("speech.wav", model="./models/aasist-l")),
         errors=(r"\./models/aasist-l: no such model folder \(relative to .*\); check the path, or convert "
                 r"one",)),
    Case("6 train.py --model models/aasist-l", lambda s: s.train_args("run", "--model", "models/aasist-l"),
         program="train.py", errors=(r"models/aasist-l: no such model folder",)),
    # 7. build without --tiny finds every checkpoint first (tests/dataset_builder/test_build_checkpoints.py; README)
    Case("7 build without --tiny offline stops before the bona fide pass",
         lambda s: ["build", "--vctk", _corpus(s), "--configs", "E,D1", "--out", "cf"],
         check=_absent("cf/data", "cf/README.md"),
         errors=(r"checkpoint files not in the Hub cache and HF_HUB_OFFLINE is set .*nothing was built.*"
                 r"`hf download facebook/encodec_24khz config\.json model\.safetensors --revision [0-9a-f]{40}`; "
                 r"`hf download descript/dac_16khz config\.json model\.safetensors --revision [0-9a-f]{40}`"
                 r".*--checkpoint-dir DIR"
                 r".*--tiny",)),
    # 8. no confident verdict on nothing (tests/test_verdicts.py)
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
    # 9. messages that say what happened (tests/test_audio_loading.py)
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
    # 10. smaller cases (tests/dataset_builder/test_vctk_checks.py, test_build_failures.py, test_evaluate_cli.py,
    #     test_weight_norm_conv.py, test_training_schedule.py, test_tables.py)
    Case("10 extract_zip: a symbolic link member with a file under it", _symlink_zip, program="python",
         runner="call", check=_absent("corpus"), errors=(r"VCTK\.zip: .*symbolic link member 'VCTK/txt'",)),
    Case("10 build on a full disk: one line, no temporary file, nothing half-written", _disk_full_build,
         runner="process", file_size_limit=200_000, check=_absent("cf/data/bonafide"),
         errors=(r"cf: cannot write \(File too large\); free disk space, or build into another --out",)),
    Case("10 evaluate scores the readable files and reports the unreadable one",
         lambda s: ["evaluate", "--model", s.model(), "--dataset", _labelled_with_a_broken_file(s),
                    "--output-dir", "eval"], check=_unreadable_trial_left_out, raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped \(listed above and in the error column of "
                 r"scores_<set>\.csv under eval\); the EERs leave them out$",)),
    Case("10 a codec made inside torch.inference_mode() runs", _codec_made_in_inference_mode, code=0,
         program="python", runner="call"),
    Case("10 matrix refuses two models trained on one config", _same_config_twice, check=_absent("mx/scores"),
         errors=(r"run_a/best and run_b/best would both be named 'E' \(one row\), but they are not seed "
                 r"replicas of one training \(both were trained with seed 1234\); name each one as NAME=PATH",)),
    Case("10 matrix with NAME=PATH, and a heatmap title inside the figure", _named_twice, code=0,
         check=_heatmap_titled),
    Case("10 python -m dataset_builder.vctk counts what the build counts",
         lambda s: [_corpus(s, broken=True)], code=0, program="python -m dataset_builder.vctk",
         check=_counts_leave_out_the_broken_file),
    Case("10 build_report.json: the corpus absolute, every file relative to it",
         lambda s: ["build", "--vctk", _corpus(s, broken=True), "--configs", "", "--out", "cf"], code=0,
         check=_report_paths),
    Case("10 evaluate --against: no significant difference is 'neither'",
         lambda s: ["evaluate", "--model", s.model(), "--against", "model", "--dataset", _labelled(s),
                    "--output-dir", "eval"], code=0, check=_neither_is_better),
    # found while walking the commands as a new user
    Case("new: matrix reports unreadable files as evaluate does",
         lambda s: ["matrix", "--models", s.model(), "--dataset", _labelled_with_a_broken_file(s),
                    "--output-dir", "mx"],
         check=_written("mx/cross_test_eer.csv", "mx/cross_test_eer.png"), raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped .* under mx/scores\)",)),
    Case("new: matrix checks every model before scoring any",
         lambda s: ["matrix", "--models", s.model(), "models/aasist-l", "--dataset", _labelled(s),
                    "--output-dir", "mx"],
         check=_absent("mx/scores"), errors=(r"models/aasist-l: no such model folder",)),
    Case("new: convert-aasist a folder instead of the .pth", lambda s: ["convert-aasist", s.model(), "out"],
         errors=(r"model: is a folder, not a checkpoint file; pass the official AASIST-L\.pth$",)),
    Case("new: convert-aasist with the wrong --variant names the other",
         lambda s: ["convert-aasist", _official_pth(s).name, "out", "--variant", "AASIST"],
         check=_absent("out"),
         errors=(r"AASIST-L\.pth: not an official AASIST checkpoint \(size mismatch for spectral_position: "
                 r".*; \d+ more\); if it is AASIST-L, pass --variant AASIST-L$",)),
    Case("new: resynthesize to a file type that holds no 16-bit audio",
         lambda s: ["resynthesize", s.audio("speech.wav"), "out.mp3", "--codec", "E", "--tiny"],
         errors=(r"out\.mp3: cannot write 16-bit audio to a \.mp3 file; name the output \.wav or \.flac$",)),
    Case("new: taxonomy of a file that is no CSV",
         lambda s: ["taxonomy", s.write("matrix.csv", b"\xff\xfe\x00\xa4 not text")],
         errors=(r"matrix\.csv: not a readable CSV file \(UnicodeDecodeError\); pass the "
                 r"cross_test_eer\.csv",)),
    Case("new: python -m dataset_builder.vctk --download onto a file",
         lambda s: ["--download", s.write("VCTK", "a file, not a folder")],
         program="python -m dataset_builder.vctk",
         errors=(r"VCTK: already exists; remove it or choose another path$",)),
    Case("new: demo --epochs 0 stops before building anything",
         lambda s: ["demo", "--out", "demo", "--epochs", "0"], check=_absent("demo"),
         errors=(r"--epochs 0: must be at least 1$",)),
    # issue 22, items 9-15 (tests/test_pytorch_model_bin.py, test_dataset_vctk.py, test_atomic_writes.py,
    #   test_interrupts.py, test_hub_io.py, test_resume_safety.py, test_calibration.py, test_evaluate_cli.py,
    #   test_setup_commands.py)
    Case("22.9 detect with a pytorch_model.bin that is garbage",
         lambda s: ["detect", s.audio("speech.wav"), "--model", _bin_weights(s, b"not a checkpoint " * 20)],
         check=_no_unsafe_advice,
         errors=(r"model/pytorch_model\.bin: cannot be loaded safely \(\w+Error: .*\); "
                 r"the file is truncated, corrupt or holds Python objects other than tensors \(nothing in it was "
                 r"run\); re-save the model as safetensors",)),
    Case("22.9 evaluate with a pytorch_model.bin that weights_only loading refuses runs nothing",
         lambda s: ["evaluate", "--model", _bin_weights(s), "--dataset", _labelled(s), "--output-dir", "eval"],
         check=_both(_no_code_ran, _no_unsafe_advice, _absent("eval")),
         errors=(r"model/pytorch_model\.bin: cannot be loaded safely \(UnpicklingError: refused by weights_only "
                 r"loading: .*\(nothing in it was run\); re-save the model as safetensors",)),
    Case("22.9/13 train.py --model with a refused pytorch_model.bin: one line, no --output-dir",
         lambda s: s.train_args("run", "--model", _bin_weights(s, name="init")), program="train.py",
         check=_both(_no_code_ran, _no_unsafe_advice, _absent("run")),
         errors=(r"init/pytorch_model\.bin: cannot be loaded safely \(UnpicklingError",)),
    Case("22.10 vctk --download with a wrong zip put in place moves it aside",
         lambda s: ["--download", s.write("dl/VCTK-Corpus-0.92.zip", b"PK not the corpus") and "dl"],
         program="python -m dataset_builder.vctk", may_change=("dl/VCTK-Corpus-0.92.zip",),
         check=_moved_aside("dl/VCTK-Corpus-0.92.zip", "dl/VCTK-Corpus-0.92.zip.rejected"),
         errors=(r"dl/VCTK-Corpus-0\.92\.zip: is 17 bytes instead of 11747302977, not the expected zip; moved it "
                 r"to dl/VCTK-Corpus-0\.92\.zip\.rejected \(nothing was deleted\); rerun to download the zip",)),
    Case("22.11 calibrate keeps the user's config.json.tmp", _users_temporary_name, code=0,
         may_change=("model/config.json",), check=_calibrated),
    Case("22.12 build interrupted (Ctrl-C): one line, exit 130, finished shards kept", _interrupted_build,
         code=130, runner="process", interrupt_when="config E",
         check=_both(_interrupted("codecfake build", "the finished shards in cf are kept; rerun the same command "
                                  "to resume (only unfinished shards are built)"),
                     _written("cf/data/bonafide/train-00000-of-00002.parquet"))),
    Case("22.13 convert-aasist download that cannot download leaves no models/aasist-l.download",
         _unreachable_download, check=_absent("models"),
         errors=(r"could not download http://127\.0\.0\.1:\d+/AASIST-L\.pth \(.*\); download .* on a machine "
                 r"with network access and pass the file path instead$",)),
    Case("22.13 train.py --batch-size larger than the data leaves no --output-dir",
         lambda s: s.train_args("run", "--batch-size", "64"), program="train.py", check=_absent("run"),
         errors=(r"fewer than one batch \(64 per process\); lower --batch-size$",)),
    Case("22.14 calibrate on a folder with bonafide/ only names the missing spoof/",
         lambda s: ["calibrate", "--model", s.model(), "--dataset", _bonafide_only(s)],
         errors=(r"set: has bonafide/ but no spoof/ folder, so no spoof trials; EERs and calibration need both "
                 r"classes: put spoof audio in set/spoof/$",)),
    Case("22.14 calibrate --overwrite replaces a damaged calibration", _damaged_calibration, code=0,
         may_change=("model/config.json",), check=_calibrated),
    Case("22.14 detect --prior-spoof with an uncalibrated model warns",
         _with(_speech, then=_detect("speech.wav", "--prior-spoof", "0.05")), code=0,
         check=_both(_scored("speech.wav"),
                     _warned("codecfake detect: warning: --prior-spoof 0.05 is ignored: model holds no calibration, "
                             "so p_bonafide is the softmax of its logits; calibrate it first (`codecfake calibrate "
                             "--model ...`)"))),
    Case("22.14 matrix given one model folder twice refuses the duplicate",
         lambda s: ["matrix", "--models", s.model(), "./model/", "--dataset", _labelled(s), "--output-dir", "mx"],
         check=_absent("mx"),
         errors=(r"\./model/: one model given twice \(as model and as \./model/\); list each model once$",)),
    Case("22.14 calibrate leaves out unreadable audio and exits 2, as evaluate",
         _ranked_with_a_broken_file, may_change=("model/config.json",), check=_calibrated, raised=False,
         errors=(r"1 trial\(s\) with unreadable audio were skipped \(listed above\); the calibration leaves them "
                 r"out$",)),
    Case("22.15 the README's test command runs verbatim in a new shell", _readme_test_command_in_a_new_shell,
         code=0, program="python", runner="call"),
    # slow: fresh processes, several processes, 10-minute files
    Case("slow 1 train.py --resume in a fresh process never runs a planted pickle",
         lambda s: [sys.executable, str(REPO_ROOT / "train.py"), *_pickle_in_every_checkpoint(s)],
         runner="process", program="train.py", check=_no_code_ran, slow=True,
         errors=(r"no intact checkpoint to resume from in run/checkpoints: .*unexpected pickled object",)),
    Case("slow 4 accelerate launch -q (one process): train.py's line, no launcher traceback",
         _accelerate(["-q", "--cpu", "--num_processes", "1"], ["--dataset", "no/such/folder"]), code=1,
         runner="process", program="train.py", slow=True,
         errors=(r"no/such/folder: no such dataset folder",)),
    Case("slow 4 accelerate launch, two processes: one line from the main process, the launcher's report",
         _accelerate(["--multi_gpu", "--num_processes", "2"], ["--dataset", "no/such/folder"]), code=1,
         runner="process", program="train.py", launcher_traceback=True, check=_one_report_from_the_launcher,
         slow=True, errors=(r"no/such/folder: no such dataset folder",)),
    Case("slow 3/9 detect --mode full on 10-minute files: the cut one reported, the other scored",
         _ten_minute_files, runner="process", check=_scored("talk.flac", windows=1200), slow=True,
         errors=(r"cut\.wav: truncated WAV.*\(540\.00 of 600\.00 s\)",)),
    Case("slow 10 the cosine schedule ends at --min-learning-rate with two processes", _cosine_run, code=0,
         runner="process", program="train.py", check=_cosine_reaches_the_floor, slow=True),
    Case("slow 22.12 train.py interrupted (Ctrl-C): one line, exit 130, checkpoints kept",
         _interrupted_training, code=130, runner="process", program="train.py", interrupt_when="epoch 2/100",
         check=_both(_interrupted("train.py", "the checkpoints under run are kept; rerun the same command with "
                                  "--resume to continue from the latest one (a run without one starts afresh)"),
                     _checkpoint_kept), slow=True),
]
# fmt: on


@pytest.fixture(scope="module")
def vctk_corpus(tmp_path_factory) -> Path:
    """A VCTK 0.92-shaped corpus: train p225, validation p226, test p227, two 0.3-0.4 s clips each."""
    from dataset_builder.synthetic import make_synthetic_vctk

    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92", speakers=("p225", "p226", "p227"),
        utterances_per_speaker=2, seconds=(0.3, 0.4),
    )  # fmt: skip


@pytest.fixture
def sandbox(tmp_path, request, monkeypatch) -> Sandbox:
    root = tmp_path / "user"
    root.mkdir()
    monkeypatch.chdir(root)
    return Sandbox(root, request)


def _params(cases: list[Case]) -> list:
    return [pytest.param(case, id=case.name, marks=[pytest.mark.slow] if case.slow else []) for case in cases]


@pytest.mark.parametrize("case", _params(CASES))
def test_sweep(case: Case, sandbox: Sandbox, capsys):
    command = case.prepare(sandbox)
    before = _files(sandbox.root)
    code, out, err = _run(case, command, sandbox, capsys)
    after = _files(sandbox.root)
    # (a) the exit code
    assert code == case.code, err[-3000:]
    # (b) one line per error, naming what and how to fix it; no traceback (a launcher's own at most)
    assert f'File "{REPO_ROOT}' not in err + out, err[-3000:]
    assert case.launcher_traceback or "Traceback" not in err + out, err[-3000:]
    lines = _error_lines(case.program, err)
    assert len(lines) == len(case.errors), err[-3000:]
    for line, pattern in zip(lines, case.errors):
        assert re.search(pattern, line), line
    # (c) nothing lost: the user's files are as they were, nothing half-written is left
    for path, digest in before.items():
        if not any(fnmatch.fnmatch(path, pattern) for pattern in case.may_change):
            assert after.get(path) == digest, f"{path} was changed or removed"
    assert not [path for path in after if path not in before and _temporary(path)]
    if case.check is not None:
        case.check(sandbox, Outcome(code, out, err, before, after))


@pytest.mark.parametrize(
    "case", _params([c for c in CASES if c.runner == "main" and c.code == 2 and c.raised and not c.slow])
)
def test_debug_shows_the_traceback(case: Case, sandbox: Sandbox, capsys):
    """With ``--debug`` the same error is raised (Python prints its traceback) instead of one line."""
    command = case.prepare(sandbox)
    with pytest.raises(Exception) as raised:
        _run(case, command, sandbox, capsys, debug=True)
    message = user_error_message(raised.value)
    assert message is not None and re.search(case.errors[0], message), message
