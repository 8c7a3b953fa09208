"""Every shell and Python block of README.md and docs/*.md is run here, so the docs cannot drift from
the code.

A fenced block is ```bash / ```sh / ```shell / ```console (shell), ```python, or ```text (output, a
listing, an illustration: not run); any other fence fails :func:`test_every_block_is_shell_python_or_text`.
A block runs as written, in a temporary folder that the named fixtures below prepare, with the
environment's programs on ``PATH``, ``HOME`` set to that folder (so ``~/data/...`` is the fixtures'),
``HF_HUB_OFFLINE=1``, an empty Hub cache and ``FREE_PORT`` (a local TCP port nobody listens on). Shell
blocks run with ``bash -euo pipefail``; a Python block is executed in a new interpreter. A fixture's
checks of what the block made run once the block has succeeded. A comment just above the fence changes that, one clause per
line (or one clause on the comment's line)::

    <!-- docs-test
    fixtures tiny_dataset repo_scripts               prepare the folder (tests/docs_fixtures)
    replace "--subset E" "--subset E --model tiny"   a named substitution; OLD must be in the block
    env RANK_OF_THIS_MACHINE=0                       a variable the block expects from you
    slow REASON                                      the run is in the slow suite only
    timeout 900                                      seconds the block may take (default 300)
    serves http://127.0.0.1:7860/                    runs until that page answers, then is stopped (Ctrl-C)
    machines 2 RANK_OF_THIS_MACHINE                  2 copies at once, one per simulated machine, VAR=0, 1
    not-run REASON                                   not run here (only the set-up block, which .ci/run runs)
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
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import free_port
from tests.docs_fixtures import ARTEFACTS, FIXTURES, BlockFolder

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
    not_run: str = ""
    timeout: int = TIMEOUT
    serves: str = ""
    machines: tuple[int, str] = (1, "")


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
        elif keyword in ("slow", "not-run") and rest:
            reasons[keyword] = " ".join(rest)
        elif keyword == "timeout" and len(rest) == 1 and rest[0].isdigit():
            reasons["timeout"] = rest[0]
        elif keyword == "serves" and len(rest) == 1 and rest[0].startswith("http://127.0.0.1:"):
            reasons["serves"] = rest[0]
        elif keyword == "machines" and len(rest) == 2 and rest[0].isdigit() and int(rest[0]) > 1:
            reasons["machines"] = text
        else:
            raise AssertionError(f"{where}: unknown or incomplete docs-test clause {line!r}")
    return Directive(
        fixtures=tuple(clauses["fixtures"]), replacements=tuple(clauses["replace"]), env=tuple(clauses["env"]),
        slow=reasons.get("slow", ""), not_run=reasons.get("not-run", ""),
        timeout=int(reasons.get("timeout", TIMEOUT)), serves=reasons.get("serves", ""),
        machines=(int(machines[0]), machines[1]) if (machines := reasons.get("machines", "").split()) else (1, ""),
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


# --- running a block ---------------------------------------------------------------------------


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
        "FREE_PORT": str(free_port()),  # for a launcher whose machines must agree on a port
        **dict(block.directive.env),
    }


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory, tiny_aasist_dir) -> Callable[[str], Path]:
    """Artefacts made once and copied into each block's folder: ``artefacts(name)``
    (``tests/docs_fixtures``); the tiny detector is ``tiny_aasist_dir`` (tests/conftest.py)."""
    made: dict[str, Path] = {"tiny_detector": tiny_aasist_dir}
    root = tmp_path_factory.mktemp("docs-artefacts")

    def make(name: str) -> Path:
        if name not in made:
            made[name] = ARTEFACTS[name](root / name)
        return made[name]

    return make


@contextlib.contextmanager
def _prepared(block: Block, folder: Path, artefacts) -> Iterator[BlockFolder]:
    """The block's fixtures run in ``folder``; what they started stops when the block is done."""
    with contextlib.ExitStack() as stack:
        prepared = BlockFolder(folder, artefacts, stack)
        for name in block.directive.fixtures:
            FIXTURES[name](prepared)
        yield prepared


#: Seconds the other copies of a ``machines`` block may go on once one has failed (a launcher whose
#: peer is gone waits for its rendezvous timeout, far longer), and a served block after Ctrl-C.
GRACE = 30


@dataclass
class _Started:
    """One running copy of a block: its process (the leader of its own process group) and the
    temporary files its stdout and stderr go to (a pipe nobody reads would fill with progress bars)."""

    process: subprocess.Popen
    out: IO[str]
    err: IO[str]

    def output(self, note: str = "") -> tuple[str, str]:
        """What it printed so far: stdout, and stderr with ``note`` after it."""
        self.out.seek(0), self.err.seek(0)
        return self.out.read(), self.err.read() + (f"\ndocs-test: {note}\n" if note else "")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to its whole process group (a launcher's workers, a background job), then
        SIGKILL what is left after :data:`GRACE` seconds."""
        for signal_number in (sig, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal_number)
            try:
                self.process.wait(GRACE)
                return
            except subprocess.TimeoutExpired:
                continue


@contextlib.contextmanager
def _started(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[_Started]:
    """``command`` running in its own process group; whatever of the group still runs on leaving is
    killed, so no block leaves a process behind (a timed-out launch, a copy left waiting)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True,
                                   start_new_session=True)  # fmt: skip
        started = _Started(process, out, err)
        try:
            yield started
        finally:
            started.stop()


def _answers(url: str) -> bool:
    """Whether ``url`` answers 200 with a body now."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and bool(response.read())
    except OSError:
        return False


def _serve(block: Block, command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Start the block, wait (up to its timeout) until its ``serves`` URL answers 200 with a body, then
    stop it with Ctrl-C (SIGINT to its process group; SIGKILL :data:`GRACE` s later). Exit code 0 when
    the page was served; else the block's own code (1 if it ended with 0 before serving), or 124 when
    it neither served nor ended in time. A URL that answers before the block starts fails at once:
    another server would pass for the block's."""
    url, timeout = block.directive.serves, block.directive.timeout
    if _answers(url):
        note = f"docs-test: {url} answers before the block started: another server holds the port\n"
        return subprocess.CompletedProcess(command, 1, "", note)
    with _started(command, cwd, env) as started:
        served, deadline = False, time.monotonic() + timeout
        while not served and started.process.poll() is None and time.monotonic() < deadline:
            served = _answers(url)
            if not served:
                time.sleep(1)
        if served:
            started.stop(signal.SIGINT)
            return subprocess.CompletedProcess(command, 0, *started.output())
        if started.process.poll() is None:
            return subprocess.CompletedProcess(
                command, 124, *started.output(f"{url} not served in {timeout} s")
            )
        code = started.process.returncode
        return subprocess.CompletedProcess(command, code or 1, *started.output(f"ended before serving {url}"))


def run_block(block: Block, command: list[str], prepared: BlockFolder) -> subprocess.CompletedProcess:
    """Run ``command`` (the block under bash or Python) in the prepared folder with the block's
    environment, up to its timeout (then its processes are killed and the exit code is 124); a
    ``serves`` block until its page answers (:func:`_serve`); a ``machines N VAR`` block as N copies
    at once with ``VAR`` = 0 ... N-1, one per simulated machine: once one fails the others get
    :data:`GRACE` seconds, and the result is the first copy that failed, its stderr headed
    ``[VAR=rank]``."""
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env = _environment(prepared.folder, path, block) | prepared.env | dict(block.directive.env)
    if block.directive.serves:
        return _serve(block, command, prepared.folder, env)
    copies, variable = block.directive.machines
    environments = [env] if copies == 1 else [env | {variable: str(rank)} for rank in range(copies)]
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(_started(command, prepared.folder, e)) for e in environments]
        ended: dict[int, int] = {}  # rank -> exit code, in the order the copies ended
        deadline = time.monotonic() + block.directive.timeout
        while len(ended) < copies and time.monotonic() < deadline:
            for rank, started in enumerate(running):
                if rank not in ended and started.process.poll() is not None:
                    ended[rank] = started.process.returncode
                    if ended[rank] and deadline > time.monotonic() + GRACE:
                        deadline = time.monotonic() + GRACE
            time.sleep(0.1)
        failed = [rank for rank, code in ended.items() if code]
        waiting = [rank for rank in range(copies) if rank not in ended]
        if failed:
            rank, code, note = failed[0], ended[failed[0]], ""
            if waiting:
                note = f"the other copies ({variable}={', '.join(map(str, waiting))}) were stopped"
        elif waiting:
            rank, code, note = waiting[0], 124, f"timed out after {block.directive.timeout} s"
        else:
            rank, code, note = 0, 0, ""
        out, err = running[rank].output(note)
        heading = f"[{variable}={rank}]\n" if copies > 1 else ""
        return subprocess.CompletedProcess(command, code, out, heading + err)


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
        code, missing = block.code, []
        for old, new in directive.replacements:  # in order: an earlier one may change the text of a later one
            missing += [] if old in code else [old]
            code = code.replace(old, new)
        problems += [
            f"{block.id}: {old!r} is not in the block (after the substitutions above it)" for old in missing
        ]
        if block.language == "python" and directive.not_run:
            problems.append(f"{block.id}: a Python block runs (give it fixtures or a substitution)")
        if directive.not_run and directive.fixtures:
            problems.append(f"{block.id}: fixtures of a block that is not run")
    assert not problems, "\n".join(problems)


def test_every_block_runs_but_the_set_up():
    """Every shell and Python block is run, in the default or the slow set; the one block that is not
    run here is README's set-up, which .ci/run runs verbatim on a fresh machine."""
    not_run = [block for block in BLOCKS if block.directive.not_run]
    assert [(block.page, "python3 -m venv" in block.code) for block in not_run] == [("README.md", True)]
    assert [block.id for block in BLOCKS if block.language not in (*SHELL, "python", *NOT_RUN)] == []


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
        if not block.directive.not_run
    ]


@pytest.mark.parametrize("block", _params(SHELL_BLOCKS))
def test_shell_block_runs(block, tmp_path, artefacts):
    with _prepared(block, tmp_path, artefacts) as prepared:  # a Python prelude is of no use to a shell block
        result = run_block(block, ["/bin/bash", "-euo", "pipefail", "-c", block.script()], prepared)
        assert result.returncode == 0, _failure(block, result)  # before the fixtures' checks run


@pytest.mark.parametrize("block", _params(PYTHON_BLOCKS))
def test_python_block_runs(block, tmp_path, artefacts):
    """The block's imports and calls, executed in a new interpreter after its fixtures' prelude."""
    with _prepared(block, tmp_path, artefacts) as prepared:
        result = run_block(
            block, [sys.executable, "-c", "".join(prepared.prelude) + block.script()], prepared
        )
        assert result.returncode == 0, _failure(block, result)  # before the fixtures' checks run


def test_the_harness_fails_a_block_with_a_renamed_option(tmp_path):
    """A block whose option no parser knows fails the parse check (here ``--subsets`` misspelt)."""
    with pytest.raises(AssertionError, match="unrecognized arguments: --subsetz"):
        parse_command_line(["codecfake", "build", "--vctk", "x", "--subsetz", "E", "--out", "y"])
    with pytest.raises(AssertionError, match="--subjet"):
        parse_command_line(["accelerate", "launch", "--num_processes", "2", "train.py", "--subjet", "E"])
    assert not parse_command_line(["pip", "install", "-e", ".[app]"])


def test_a_directive_must_stand_above_a_fence(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: slow a reason -->\nsome text\n```bash\ncodecfake codecs\n```\n")
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


# --- the harness's timeout, serves and machines clauses ---------------------------------------------


def _run_sample(tmp_path: Path, directive: str, code: str) -> subprocess.CompletedProcess:
    """A one-block page with ``directive`` above the bash ``code``, parsed and run as a docs block."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    page = tmp_path / "page.md"
    page.write_text(f"<!-- docs-test\n{directive}\n-->\n```bash\n{code}\n```\n")
    (block,) = blocks_of(page)
    folder = tmp_path / "block"
    folder.mkdir()
    with _prepared(block, folder, artefacts=None) as prepared:
        return run_block(block, ["/bin/bash", "-euo", "pipefail", "-c", block.script()], prepared)


def _gone(pid: int) -> bool:
    """Whether the process ``pid`` no longer runs (a zombie waiting for its reaper counts as gone)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_new_clauses_parse(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test\ntimeout 900\nserves http://127.0.0.1:7860/\nmachines 2 RANK_OF_THIS_MACHINE\n-->\n"
        "```bash\ncodecfake codecs\n```\n"
    )
    (block,) = blocks_of(page)
    assert block.directive == Directive(
        timeout=900, serves="http://127.0.0.1:7860/", machines=(2, "RANK_OF_THIS_MACHINE")
    )
    for clause in ("timeout soon", "serves http://example.com/", "machines 1 RANK", "machines 2"):
        page.write_text(f"<!-- docs-test\n{clause}\n-->\n```bash\ncodecfake codecs\n```\n")
        with pytest.raises(AssertionError, match="unknown or incomplete docs-test clause"):
            blocks_of(page)


def test_a_timeout_stops_the_block_and_what_it_started(tmp_path):
    started = time.monotonic()
    result = _run_sample(tmp_path, "timeout 2", "sleep 120 &\necho $! > child.pid\nwait")
    assert result.returncode == 124 and "timed out after 2 s" in result.stderr
    assert time.monotonic() - started < 60
    assert _gone(int((tmp_path / "block" / "child.pid").read_text()))  # the background job too
    assert _run_sample(tmp_path / "quick", "timeout 60", "sleep 1").returncode == 0


def test_serves_passes_once_the_page_answers_then_stops_the_server(tmp_path):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    port = url.rsplit(":", 1)[1].strip("/")
    code = f"echo '<p>the page</p>' > index.html\npython -m http.server {port} --bind 127.0.0.1"
    result = _run_sample(tmp_path, f"serves {url}\ntimeout 60", code)
    assert result.returncode == 0, result.stderr
    assert not _answers(url)  # stopped (Ctrl-C) once it answered


def test_serves_fails_a_block_that_never_serves_or_ends_first(tmp_path):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    never = _run_sample(tmp_path / "never", f"serves {url}\ntimeout 3", "sleep 120")
    assert never.returncode == 124 and f"{url} not served in 3 s" in never.stderr
    ended = _run_sample(
        tmp_path / "ended", f"serves {url}", "echo 'codecfake app: error: no model' >&2; exit 2"
    )
    assert ended.returncode == 2 and "no model" in ended.stderr and "ended before serving" in ended.stderr
    quiet = _run_sample(tmp_path / "quiet", f"serves {url}", "echo done")
    assert quiet.returncode == 1 and "ended before serving" in quiet.stderr  # exit 0 is no page either


def test_serves_fails_when_another_server_answers_first(tmp_path):
    from tests.serving import served

    with served(b"someone else's page", "") as (url, _):
        result = _run_sample(tmp_path, f"serves {url}", "sleep 120")
    assert result.returncode == 1 and "answers before the block started" in result.stderr


def test_machines_runs_the_copies_at_once_each_with_its_rank(tmp_path):
    """Each copy waits for the other's file: run one after the other, the first would wait forever."""
    code = 'touch "ready-$RANK"\nuntil [ -e "ready-$((1 - RANK))" ]; do sleep 0.1; done\necho "rank $RANK"'
    result = _run_sample(tmp_path, "machines 2 RANK\ntimeout 30", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "rank 0\n" and result.stderr.startswith("[RANK=0]")


def test_a_failing_copy_fails_the_block_with_its_rank_named(tmp_path, monkeypatch):
    """Rank 1 fails at once; rank 0 (a launcher waiting for its peer) is stopped after the grace time,
    not at the block's timeout, and the failure shown is rank 1's."""
    monkeypatch.setitem(globals(), "GRACE", 2)
    code = 'if [ "$RANK" = 1 ]; then echo "no route to 10.0.0.1" >&2; exit 3; fi\nsleep 120'
    started = time.monotonic()
    result = _run_sample(tmp_path, "machines 2 RANK\ntimeout 250", code)
    assert result.returncode == 3 and result.stderr.startswith("[RANK=1]\nno route to 10.0.0.1")
    assert "the other copies (RANK=0) were stopped" in result.stderr
    assert time.monotonic() - started < 60
    late = _run_sample(tmp_path / "late", "machines 2 RANK", '[ "$RANK" = 0 ] || { sleep 1; exit 4; }')
    assert late.returncode == 4 and late.stderr.startswith("[RANK=1]")
