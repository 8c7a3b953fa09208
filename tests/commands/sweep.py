"""The machinery of the reliability and security sweep (issue 12), shared by the ``test_<command>.py``
files of this folder, one per command: each holds its command's cases, and every case, run the way a user
meets it, asserts

(a) the exit code (2 for a user error),
(b) the one-line message on stderr (``<program>: error: ...`` naming the file, repo or option and the
    fix; no traceback, which only ``--debug`` shows), and
(c) that nothing was lost: every file the user had (README.md, an edited card, input audio, trained
    models and checkpoints) is byte-identical afterwards unless the case says otherwise, no temporary
    file is left behind, and where several files are given the good ones were still processed.

Each case runs in a fresh folder that is the current directory (paths are typed as a user types
them) through the ``codecfake`` entry point or ``train.py``'s ``main``, a Python call for what only the
library reaches, or, for the slow cases, a fresh process (``train.py`` under ``accelerate launch``, several
processes, 10-minute files). The dedicated tests named in each case go into depth; this sweep walks every
case end to end. A file runs its cases with ``test_sweep = sweep_test(CASES)`` and, with ``--debug``,
``test_debug_shows_the_traceback = debug_test(CASES)``.
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
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecfake_hf.errors import CodecFakeError, report_user_error, user_error_message

REPO_ROOT = Path(__file__).resolve().parents[2]
USER_README = "---\nlicense: mit\n---\n# My detector\n\nNotes I wrote by hand.\n"
TOKEN = "hf_SWEEPSECRETVALUE"


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
    from codecfake_cli.main import main

    return {"codecfake": main, "train.py": sandbox.fixture("train_script").main}[program]


def _error_lines(program: str, err: str) -> list[str]:
    """Every line of stderr (progress bars split off) that reports an error."""
    lines = [line.strip() for line in re.split(r"[\r\n]", err)]
    errors = [line for line in lines if re.search(r"\berror: ", line)]
    prefix = re.compile(rf"{re.escape(program)}( [a-z-]+)?: error: ")  # codecfake <command>: error: ...
    assert all(prefix.match(line) for line in errors), err
    return errors


# --- what several commands' cases check besides the exit code, the message and the user's files ---


def absent(*names: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert not [name for name in names if (sandbox.root / name).exists()], names

    return check


def written(*names: str) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        assert all((sandbox.root / name).is_file() for name in names), names

    return check


def no_code_ran(sandbox: Sandbox, outcome: Outcome) -> None:
    assert sandbox.marker is not None and not sandbox.marker.exists(), "code planted in a pickle ran"


def both(*checks: Callable[[Sandbox, Outcome], None]) -> Callable[[Sandbox, Outcome], None]:
    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        for one in checks:
            one(sandbox, outcome)

    return check


def token_never_printed(sandbox: Sandbox, outcome: Outcome) -> None:
    assert TOKEN not in outcome.out + outcome.err and "resume" not in outcome.err


def no_unsafe_advice(sandbox: Sandbox, outcome: Outcome) -> None:
    assert "weights_only=False" not in outcome.err and "set to `False`" not in outcome.err, outcome.err


def interrupted(program: str, kept: str) -> Callable[[Sandbox, Outcome], None]:
    """The one line Ctrl-C prints, ending with ``kept``; no error line (checked by the sweep)."""

    def check(sandbox: Sandbox, outcome: Outcome) -> None:
        lines = [line.strip() for line in re.split(r"[\r\n]", outcome.err) if "interrupted (Ctrl-C)" in line]
        assert lines == [f"{program}: interrupted (Ctrl-C); {kept}"], outcome.err[-3000:]

    return check


# --- preparing the user's files that several commands take ----------------------------------------


def online(prepare: Callable[[Sandbox], object]) -> Callable[[Sandbox], object]:
    """``prepare`` with Hub access on (an endpoint nobody answers) and a token in HF_TOKEN."""

    def prepare_online(sandbox: Sandbox):
        sandbox.online()
        return prepare(sandbox)

    return prepare_online


def labelled_folder(sandbox: Sandbox, name: str = "set") -> str:
    sandbox.fixture("write_labelled_folder")(sandbox.root / name, per_class=3, samples=4800)
    return name


def labelled_folder_with_a_broken_file(sandbox: Sandbox) -> str:
    labelled_folder(sandbox)
    sandbox.write("set/bonafide/broken.wav", b"RIFF not really audio")
    return "set"


def built_dataset(sandbox: Sandbox, name: str = "codecfake") -> str:
    return sandbox.copy(sandbox.fixture("bonafide_build"), name)


def vctk_folder(sandbox: Sandbox, broken: bool = False) -> str:
    sandbox.copy(sandbox.fixture("vctk_corpus"), "vctk/VCTK-Corpus-0.92")
    if broken:
        sandbox.write(
            "vctk/VCTK-Corpus-0.92/wav48_silence_trimmed/p225/p225_002_mic1.flac", b"fLaC but not really"
        )
    return "vctk/VCTK-Corpus-0.92"


def bin_weights(sandbox: Sandbox, payload: bytes | None = None, name: str = "model") -> str:
    """A model folder whose weights are ``pytorch_model.bin``: ``payload``, or a planted pickle."""
    folder = sandbox.model(name)
    (sandbox.root / folder / "model.safetensors").unlink()
    weights = sandbox.root / folder / "pytorch_model.bin"
    if payload is None:
        sandbox.plant(weights)
    else:
        weights.write_bytes(payload)
    return folder


# --- the tests of a command's cases -----------------------------------------------------------------


def _params(cases: list[Case]) -> list:
    return [pytest.param(case, id=case.name, marks=[pytest.mark.slow] if case.slow else []) for case in cases]


def sweep_test(cases: list[Case]) -> Callable:
    """The test that runs every case of ``cases`` (a module's ``test_sweep``)."""

    @pytest.mark.parametrize("case", _params(cases))
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

    return test_sweep


def debug_test(cases: list[Case]) -> Callable:
    """The test that reruns, with ``--debug``, every case of ``cases`` whose error is raised through the
    entry point (a module's ``test_debug_shows_the_traceback``)."""

    @pytest.mark.parametrize(
        "case", _params([c for c in cases if c.runner == "main" and c.code == 2 and c.raised and not c.slow])
    )
    def test_debug_shows_the_traceback(case: Case, sandbox: Sandbox, capsys):
        """With ``--debug`` the same error is raised (Python prints its traceback) instead of one line."""
        command = case.prepare(sandbox)
        with pytest.raises(Exception) as raised:
            _run(case, command, sandbox, capsys, debug=True)
        message = user_error_message(raised.value)
        assert message is not None and re.search(case.errors[0], message), message

    return test_debug_shows_the_traceback
