"""Every shell and Python block of README.md and docs/*.md is run here, so the docs cannot drift from
the code.

A fenced block is ```bash / ```sh / ```shell / ```console (shell), ```python, or ```text (output, a
listing, an illustration: not run); any other fence fails :func:`test_every_block_is_shell_python_or_text`.
A block runs as written, in a temporary folder that the named fixtures below prepare, with the
environment's programs on ``PATH``, ``HOME`` set to that folder (so ``~/data/...`` is the fixtures'),
``HF_HUB_OFFLINE=1`` and an empty Hub cache. Shell blocks run with ``bash -euo pipefail``; a Python
block is executed in a new interpreter. A comment just above the fence changes that, one clause per
line (or one clause on the comment's line)::

    <!-- docs-test
    fixtures tiny_dataset repo_scripts               prepare the folder (FIXTURES below)
    replace "--subset E" "--subset E --model tiny"   a named substitution; OLD must be in the block
    env RANK_OF_THIS_MACHINE=0                       a variable the block expects from you
    slow REASON                                      the run is in the slow suite only
    parse-only REASON                                cannot run offline here: parsed, not run
    not-run REASON                                   neither (the set-up block, which .ci/run runs)
    -->

Every shell block that is not ``not-run`` is also parsed, in the default suite: bash runs it with the
programs replaced by recorders, and each recorded ``codecfake``, ``python -m codecfake_cli`` and
``accelerate launch`` (``train.py`` or ``-m codecfake_cli``) command line goes through the real parser
(``codecfake_cli.main.build_parser``, ``codecfake_cli.train.build_parser``, accelerate's launch
parser), so a renamed option or command fails even in a block that needs a GPU or the Hub.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "shell", "console")
NOT_RUN = ("text",)
#: Programs the parse check replaces by recorders; a block calling anything else fails there.
RECORDED = ("codecfake", "accelerate", "python", "python3", "pip", "hf", "zip", "rm", "apt-get")
#: Seconds one block may take.
TIMEOUT = 300


@dataclass(frozen=True)
class Directive:
    """What the ``<!-- docs-test ... -->`` comment above a block says (module docstring)."""

    fixtures: tuple[str, ...] = ()
    replacements: tuple[tuple[str, str], ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    slow: str = ""
    parse_only: str = ""
    not_run: str = ""


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository
    line: int  # line of the opening fence, 1-based
    language: str
    code: str
    directive: Directive = field(default_factory=Directive)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def script(self) -> str:
        """The block with its directive's substitutions made."""
        code = self.code
        for old, new in self.directive.replacements:
            code = code.replace(old, new)
        return code


def _directive(text: str, where: str) -> Directive:
    clauses: dict[str, list] = {"fixtures": [], "replace": [], "env": []}
    reasons: dict[str, str] = {}
    for line in text.strip().removeprefix(":").splitlines():
        keyword, _, text = line.strip().partition(" ")
        if not keyword:
            continue
        rest = shlex.split(text) if keyword in ("fixtures", "replace", "env") else text.split()
        if keyword == "fixtures":
            clauses["fixtures"] += rest
        elif keyword == "replace" and len(rest) == 2:
            clauses["replace"].append(tuple(rest))
        elif keyword == "env" and len(rest) == 1 and "=" in rest[0]:
            clauses["env"].append(tuple(rest[0].split("=", 1)))
        elif keyword in ("slow", "parse-only", "not-run") and rest:
            reasons[keyword] = " ".join(rest)
        else:
            raise AssertionError(f"{where}: unknown or incomplete docs-test clause {line!r}")
    return Directive(
        fixtures=tuple(clauses["fixtures"]), replacements=tuple(clauses["replace"]), env=tuple(clauses["env"]),
        slow=reasons.get("slow", ""), parse_only=reasons.get("parse-only", ""), not_run=reasons.get("not-run", ""),
    )  # fmt: skip


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of one page, each with the directive just above it (blank lines between
    allowed); a directive that no fence follows is an error."""
    page = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, pending, index = [], None, 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("<!-- docs-test"):
            end = next(i for i in range(index, len(lines)) if "-->" in lines[i])
            text = "\n".join(lines[index : end + 1]).removeprefix("<!-- docs-test").rsplit("-->", 1)[0]
            pending = (_directive(text, f"{page}:{index + 1}"), index + 1)
            index = end + 1
            continue
        if line.startswith("```"):
            close = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            code = "\n".join(lines[index + 1 : close]) + "\n"
            directive = pending[0] if pending else Directive()
            blocks.append(Block(page, index + 1, line[3:].strip(), code, directive))
            pending, index = None, close + 1
            continue
        if line.strip() and pending:
            raise AssertionError(f"{page}:{pending[1]}: a docs-test directive must stand just above a fence")
        index += 1
    assert pending is None, f"{page}:{pending[1]}: a docs-test directive at the end of the page"
    return blocks


BLOCKS = [block for page in PAGES for block in blocks_of(page)]
SHELL_BLOCKS = [block for block in BLOCKS if block.language in SHELL]
PYTHON_BLOCKS = [block for block in BLOCKS if block.language == "python"]


# --- fixtures: named preparations of the block's folder --------------------------------------------


def _speech(seconds: float, sampling_rate: int, seed: int):
    """A voiced, speech-like clip (harmonics of a gliding pitch, a little noise): neither silent nor
    shorter than the 0.5 s a verdict needs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * sampling_rate)) / sampling_rate
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.7 * time)
    phase = 2 * np.pi * np.cumsum(pitch) / sampling_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (0.2 * voiced + 0.01 * rng.standard_normal(time.size)).astype(np.float32)


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory, tiny_aasist_dir) -> Callable[[str], Path]:
    """Artefacts made once and copied into each block's folder: ``artefacts(name)``; the tiny detector
    is ``tiny_aasist_dir`` (tests/conftest.py)."""
    made: dict[str, Path] = {"tiny_detector": tiny_aasist_dir}
    root = tmp_path_factory.mktemp("docs-artefacts")

    def make(name: str) -> Path:
        if name not in made:
            made[name] = ARTEFACTS[name](root / name)
        return made[name]

    return make


def _tiny_vctk_corpus(folder: Path) -> Path:
    from dataset_builder.synthetic import make_synthetic_vctk

    speakers = ("p225", "p226", "p227", "p228", "p229")
    return make_synthetic_vctk(folder, speakers=speakers, utterances_per_speaker=2, seconds=(0.3, 0.4))


def _tiny_dataset(folder: Path, subsets: tuple[str, ...] = ("E",)) -> Path:
    from dataset_builder.build import build_codecfake
    from dataset_builder.build_options import BuildOptions

    corpus = _tiny_vctk_corpus(folder.parent / f"{folder.name}-corpus" / "VCTK-Corpus-0.92")
    build_codecfake(corpus, folder, list(subsets), BuildOptions(tiny=True))
    return folder


def _trained_detector(folder: Path) -> Path:
    """The tiny AASIST trained one epoch on the tiny dataset by train.py, left uncalibrated (a
    calibration needs a detector that ranks bona fide above spoof, which a random one may not)."""
    dataset = _tiny_dataset(folder.parent / "trained-detector-dataset")
    command = [sys.executable, str(REPO_ROOT / "train.py"), "--dataset", str(dataset), "--subset", "E"]
    command += ["--model", "tiny", "--epochs", "1", "--batch-size", "2", "--no-calibrate"]
    command += ["--output-dir", str(folder)]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run(command, check=True, capture_output=True, env=environment, timeout=TIMEOUT)
    return folder / "best"


ARTEFACTS: dict[str, Callable[[Path], Path]] = {
    "tiny_vctk": _tiny_vctk_corpus,
    "tiny_dataset": _tiny_dataset,
    "tiny_dataset_e_a": lambda folder: _tiny_dataset(folder, ("E", "A")),
    "trained_detector": _trained_detector,
}


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)


def _write_clips(folder: Path, names: dict[str, tuple[float, int]]) -> None:
    from codecfake_hf.audio.audio_io import write_audio

    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, (seconds, sampling_rate)) in enumerate(names.items()):
        write_audio(folder / name, _speech(seconds, sampling_rate, seed), sampling_rate)


AUDIO_PRELUDE = """
import numpy as np
_time = np.arange(2 * 44100) / 44100
waveform = (0.2 * np.sin(2 * np.pi * 140 * _time) + 0.01 * np.random.default_rng(0).standard_normal(_time.size)).astype(np.float32)
waveforms = [np.resize(waveform, n) for n in (48000, 36000)]  # 48 kHz clips
"""  # fmt: skip


def fixture_tiny_vctk(folder: Path, artefacts) -> str:
    """A VCTK 0.92-shaped synthetic corpus at ``~/data/VCTK-Corpus-0.92`` (5 speakers, 2 clips each)."""
    _copy(artefacts("tiny_vctk"), folder / "data" / "VCTK-Corpus-0.92")
    return ""


def fixture_tiny_dataset(folder: Path, artefacts) -> str:
    """``codecfake/``: that corpus built with the tiny random-weight codec of subset E."""
    _copy(artefacts("tiny_dataset"), folder / "codecfake")
    return ""


def fixture_tiny_dataset_e_a(folder: Path, artefacts) -> str:
    """``codecfake/``: the tiny corpus built with the tiny codecs of subsets E and A."""
    _copy(artefacts("tiny_dataset_e_a"), folder / "codecfake")
    return ""


def fixture_tiny_detector(folder: Path, artefacts) -> str:
    """``models/aasist-l/``: a saved random AASIST at the ``tiny`` preset, as convert-aasist writes it."""
    _copy(artefacts("tiny_detector"), folder / "models" / "aasist-l")
    return ""


def fixture_trained_detector(folder: Path, artefacts) -> str:
    """``runs/E/best/`` and ``runs/aasist-l-E/best/``: a tiny AASIST that train.py trained on the tiny
    dataset, where train.py --subset E saves it with --output-dir runs/E and by default."""
    for run in ("E", "aasist-l-E"):
        _copy(artefacts("trained_detector"), folder / "runs" / run / "best")
    return ""


def fixture_audio(folder: Path, artefacts) -> str:
    """``a.wav`` (2 s, 16 kHz), ``b.flac`` (3 s, 44.1 kHz), ``long.wav`` (12 s, 22.05 kHz); in Python,
    ``waveform`` (2 s at 44.1 kHz) and ``waveforms`` (48 kHz clips)."""
    _write_clips(folder, {"a.wav": (2.0, 16000), "b.flac": (3.0, 44100), "long.wav": (12.0, 22050)})
    return AUDIO_PRELUDE


def fixture_heldout(folder: Path, artefacts) -> str:
    """``heldout/``: a ``bonafide/`` + ``spoof/`` folder holding the tiny dataset's validation clips."""
    from datasets import load_dataset

    from codecfake_hf.audio.audio_io import write_audio

    rows = load_dataset(str(artefacts("tiny_dataset")), "E", split="validation")
    for row in rows:
        label = "bonafide" if row["label"] == 1 else "spoof"
        (folder / "heldout" / label).mkdir(parents=True, exist_ok=True)
        audio = row["audio"].get_all_samples()
        path = folder / "heldout" / label / f"{row['utterance_id']}.flac"
        write_audio(path, audio.data[0].numpy(), audio.sample_rate)
    return ""


def fixture_zero_shot(folder: Path, artefacts) -> str:
    """``zero_shot/valle/``: a ``bonafide/`` + ``spoof/`` folder (the tiny dataset's validation clips)."""
    fixture_heldout(folder, artefacts)
    (folder / "zero_shot").mkdir()
    (folder / "heldout").rename(folder / "zero_shot" / "valle")
    return ""


def fixture_robustness_folder(folder: Path, artefacts) -> str:
    """``FOLDER/`` (``bonafide/`` + ``spoof/``, 2 clips each) and the tiny detector at ``path/to/aasist``."""
    for label in ("bonafide", "spoof"):
        _write_clips(folder / "FOLDER" / label, {f"{label}-{i}.flac": (1.0, 22050) for i in range(2)})
    _copy(artefacts("tiny_detector"), folder / "path" / "to" / "aasist")
    return ""


def fixture_scores(folder: Path, artefacts) -> str:
    """In Python, ``scores`` (bona fide logits) and ``labels`` (1 bona fide, 0 spoof) of 40 trials."""
    return (
        "import numpy as np\n_rng = np.random.default_rng(0)\nlabels = np.repeat([1, 0], 20)\n"
        "scores = _rng.normal(size=40) + 2.0 * labels\n"
    )


def fixture_repo_scripts(folder: Path, artefacts) -> str:
    """``train.py`` and ``examples/`` of the repository, as a clone has them."""
    (folder / "train.py").symlink_to(REPO_ROOT / "train.py")
    (folder / "examples").symlink_to(REPO_ROOT / "examples")
    return ""


FIXTURES: dict[str, Callable[[Path, Callable[[str], Path]], str]] = {
    name.removeprefix("fixture_"): function
    for name, function in globals().items()
    if name.startswith("fixture_") and callable(function)
}


def _environment(home: Path, path: str, block: Block) -> dict[str, str]:
    return {
        "PATH": path,
        "HOME": str(home),
        "HF_HOME": str(home / ".cache" / "huggingface"),  # empty: nothing from this machine's cache
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        **dict(block.directive.env),
    }


def _prepare(block: Block, folder: Path, artefacts) -> str:
    """Run the block's fixtures in ``folder``; returns the Python prelude they define."""
    return "".join(FIXTURES[name](folder, artefacts) for name in block.directive.fixtures)


def _failure(block: Block, result: subprocess.CompletedProcess) -> str:
    return (
        f"{block.id} ({block.language}) exited {result.returncode}\n--- script ---\n{block.script()}"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )


# --- the checks ------------------------------------------------------------------------------------


def test_pages_have_blocks_of_each_kind():
    """The parser finds the pages' blocks (a broken fence would hide them all)."""
    assert len(PAGES) >= 12 and (REPO_ROOT / "docs" / "moved.md") in PAGES
    assert len(SHELL_BLOCKS) >= 30 and len(PYTHON_BLOCKS) >= 8


def test_every_block_is_shell_python_or_text():
    known = (*SHELL, "python", *NOT_RUN)
    odd = [f"{block.id}: ```{block.language}" for block in BLOCKS if block.language not in known]
    assert not odd, f"fence a block as bash, python or text (output, listings): {odd}"


def test_every_directive_is_valid():
    """Fixtures exist, every substitution finds its text, only shell blocks may be parsed instead of
    run, a text block has no directive, and a block that is not run says why."""
    problems = []
    for block in BLOCKS:
        directive = block.directive
        if block.language in NOT_RUN and directive != Directive():
            problems.append(f"{block.id}: a text block is never run; drop its docs-test comment")
        problems += [
            f"{block.id}: no fixture {name!r}" for name in directive.fixtures if name not in FIXTURES
        ]
        missing = [old for old, _ in directive.replacements if old not in block.code]
        problems += [f"{block.id}: {old!r} is not in the block" for old in missing]
        if block.language == "python" and (directive.parse_only or directive.not_run):
            problems.append(f"{block.id}: a Python block runs (give it fixtures or a substitution)")
        if (directive.parse_only or directive.not_run) and directive.fixtures:
            problems.append(f"{block.id}: fixtures of a block that is not run")
    assert not problems, "\n".join(problems)


def _parse(argv: list[str], parser, what: str) -> None:
    """``parser.parse_args(argv)``; an argparse error becomes the test's failure, with its message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as error:
        if error.code:
            raise AssertionError(f"{what}: {shlex.join(argv)}\n{stderr.getvalue()}") from None


def parse_command_line(argv: list[str]) -> bool:
    """Parse one recorded command line with the parser of the program it starts; True when it is
    this project's (``codecfake``, ``python -m codecfake_cli``, ``accelerate launch`` of train.py or
    ``-m codecfake_cli``, a repository script), False for another program (pip, hf, a Space's app.py)."""
    from accelerate.commands.launch import launch_command_parser

    from codecfake_cli.main import build_parser
    from codecfake_cli.train import build_parser as train_parser

    program, arguments = argv[0], argv[1:]
    if program == "codecfake":
        _parse(arguments, build_parser(), "codecfake")
        return True
    if program in ("python", "python3") and arguments[:2] == ["-m", "codecfake_cli"]:
        _parse(arguments[2:], build_parser(), "python -m codecfake_cli")
        return True
    if program in ("python", "python3") and arguments and arguments[0].endswith(".py"):
        return (REPO_ROOT / arguments[0]).is_file()
    if program == "accelerate":
        assert arguments[:1] == ["launch"], f"accelerate {shlex.join(arguments)}: only launch is documented"
        _parse(arguments[1:], launch_command_parser(), "accelerate launch")
        launch = launch_command_parser().parse_args(arguments[1:])
        if launch.module:
            assert launch.training_script == "codecfake_cli", f"accelerate launch -m {launch.training_script}"
            _parse(launch.training_script_args, build_parser(), "accelerate launch -m codecfake_cli")
        else:
            assert launch.training_script == "train.py", f"accelerate launch {launch.training_script}"
            _parse(launch.training_script_args, train_parser(), "train.py")
        return True
    return False


RECORDER = """#!/bin/sh
printf '%s\\0' "${0##*/}" "$@" >> "$DOCS_TEST_RECORD"
printf '\\036' >> "$DOCS_TEST_RECORD"
"""


@pytest.mark.parametrize("block", [b for b in SHELL_BLOCKS if not b.directive.not_run], ids=lambda b: b.id)
def test_shell_block_parses(block, tmp_path):
    """The block under bash with its programs recorded, not run; every command line of this project
    goes through its real parser."""
    recorders = tmp_path / "recorders"
    recorders.mkdir()
    for name in RECORDED:
        (recorders / name).write_text(RECORDER)
        (recorders / name).chmod(0o755)
    record = tmp_path / "record"
    record.touch()
    environment = _environment(tmp_path, str(recorders), block) | {"DOCS_TEST_RECORD": str(record)}
    script = "cd() { :; }\nsource() { :; }\n" + block.script()  # nothing runs, so no folder to enter
    result = subprocess.run(
        ["/bin/bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, _failure(block, result)
    command_lines = [entry.split("\0")[:-1] for entry in record.read_text().split("\036")[:-1]]
    assert command_lines, f"{block.id}: no command recorded"
    parsed = [parse_command_line(argv) for argv in command_lines]
    assert any(parsed), f"{block.id}: no command line of this project in the block"


def _params(blocks: list[Block]) -> list:
    return [
        pytest.param(block, id=block.id, marks=[pytest.mark.slow] if block.directive.slow else [])
        for block in blocks
        if not (block.directive.parse_only or block.directive.not_run)
    ]


@pytest.mark.parametrize("block", _params(SHELL_BLOCKS))
def test_shell_block_runs(block, tmp_path, artefacts):
    _prepare(block, tmp_path, artefacts)  # a Python prelude is of no use to a shell block
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    result = subprocess.run(
        ["/bin/bash", "-euo", "pipefail", "-c", block.script()], cwd=tmp_path,
        env=_environment(tmp_path, path, block), capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, _failure(block, result)


@pytest.mark.parametrize("block", _params(PYTHON_BLOCKS))
def test_python_block_runs(block, tmp_path, artefacts):
    """The block's imports and calls, executed in a new interpreter after its fixtures' prelude."""
    prelude = _prepare(block, tmp_path, artefacts)
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    result = subprocess.run(
        [sys.executable, "-c", prelude + block.script()], cwd=tmp_path,
        env=_environment(tmp_path, path, block), capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, _failure(block, result)


def test_the_harness_fails_a_block_with_a_renamed_option(tmp_path):
    """A block whose option no parser knows fails the parse check (here ``--subsets`` misspelt)."""
    with pytest.raises(AssertionError, match="unrecognized arguments: --subsetz"):
        parse_command_line(["codecfake", "build", "--vctk", "x", "--subsetz", "E", "--out", "y"])
    with pytest.raises(AssertionError, match="--subjet"):
        parse_command_line(["accelerate", "launch", "--num_processes", "2", "train.py", "--subjet", "E"])
    assert not parse_command_line(["pip", "install", "-e", ".[app]"])


def test_a_directive_must_stand_above_a_fence(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: parse-only a reason -->\nsome text\n```bash\ncodecfake codecs\n```\n")
    with pytest.raises(AssertionError, match="just above a fence"):
        blocks_of(page)
    page.write_text("<!-- docs-test\nfixtures a b\nfrobnicate\n-->\n```bash\ncodecfake codecs\n```\n")
    with pytest.raises(AssertionError, match="unknown or incomplete docs-test clause 'frobnicate'"):
        blocks_of(page)
    page.write_text(
        '<!-- docs-test\nfixtures tiny_dataset\nreplace "a b" "c"\n-->\n\n```python\nx = 1\n```\n'
    )
    (block,) = blocks_of(page)
    assert block.directive == Directive(fixtures=("tiny_dataset",), replacements=(("a b", "c"),))


#: Dotted names in the docs that are no Python path (an entry-point group).
NOT_A_PYTHON_PATH = {"codecfake_hf.commands"}


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module of this project or an attribute reached from one."""
    import importlib

    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_named_modules_and_files_exist():
    """Every `codecfake_hf.x.y` / `dataset_builder.x` / `codecfake_cli.x` the pages name imports (or is
    an attribute of a module), and every `codecfake_hf/...`, `tests/...`, `benchmarks/...` path they
    name exists, so a moved module or file fails here (docs/moved.md names old paths on purpose)."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES if page.name != "moved.md")
    dotted = set(re.findall(r"`((?:codecfake_hf|dataset_builder|codecfake_cli)(?:\.\w+)+)", text))
    assert len(dotted) > 20
    assert sorted(name for name in dotted - NOT_A_PYTHON_PATH if not _resolves(name)) == []
    paths = set(
        re.findall(
            r"`((?:codecfake_hf|dataset_builder|codecfake_cli|tests|benchmarks|examples)/[\w/.-]*)`", text
        )
    )
    assert len(paths) > 20
    assert sorted(path for path in paths if not (REPO_ROOT / path).exists()) == []
