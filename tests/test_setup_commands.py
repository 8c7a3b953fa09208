"""The README's set-up commands and ``.ci/run`` are the same lines, and they install into a virtual
environment, so that they work with a system Python that refuses ``pip install`` (PEP 668); the test
command runs as written in a new shell, where nothing is activated."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The README's main job: part of the set-up block, not of CI.
MAIN_JOB = "codecfake demo"


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _setup_block() -> str:
    """The first bash block under ``## Set-up``."""
    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("\n## Set-up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block, "README.md: no bash block under '## Set-up'"
    return block.group(1)


def readme_setup() -> list[str]:
    """The command lines of the first bash block under ``## Set-up``."""
    return _commands(_setup_block())


def readme_parts() -> dict[str, list[str]]:
    """The command lines of each numbered part of that block (``# 1. ...``, ``# 2. ...``)."""
    parts = re.split(r"^# (\d+)\..*$", _setup_block(), flags=re.MULTILINE)[1:]
    return {number: _commands(text) for number, text in zip(parts[::2], parts[1::2])}


def ci_commands() -> list[str]:
    """The command lines of ``.ci/run`` after its shell preamble (``set``, ``cd``, ``export``)."""
    lines = _commands((REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    return [line for line in lines if not line.startswith(("set ", "cd ", "export "))]


def _steps(lines: list[str]) -> list[list[str]]:
    """Every ``&&``-separated step of ``lines``, as argument lists."""
    return [shlex.split(step) for line in lines for step in line.split("&&")]


def test_ci_runs_the_readme_setup_verbatim():
    setup = readme_setup()
    assert MAIN_JOB in setup
    assert ci_commands() == [line for line in setup if line != MAIN_JOB]
    assert setup[-1] == "HF_HUB_OFFLINE=1 .venv/bin/python -m pytest -q"


def test_setup_installs_into_a_virtual_environment_it_creates():
    steps = _steps(readme_setup())
    apt_install = next(step for step in steps if step[:2] == ["apt-get", "install"])
    # chromium: tests/app drive a browser; zip: the docs block that joins Xie et al.'s split zips
    assert {"ffmpeg", "libsndfile1", "python3-venv", "chromium", "zip"} <= set(apt_install)
    create = next(i for i, step in enumerate(steps) if step[:3] == ["python3", "-m", "venv"])
    venv = steps[create][3]
    activate = next(i for i, step in enumerate(steps) if step[0] in ("source", ".") and step[1:])
    assert steps[activate][1] == f"{venv}/bin/activate"
    installs = [i for i, step in enumerate(steps) if step[0] == "pip" or step[1:3] == ["-m", "pip"]]
    assert installs and create < activate < min(installs), "pip must run inside the new environment"
    assert "--break-system-packages" not in {arg for step in steps for arg in step}
    ignored = (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert f"/{venv}/" in ignored or f"{venv}/" in ignored


def test_setup_parts_run_in_a_new_shell():
    """Part 1 activates the environment before it uses any of its programs (pip, codecfake), in the
    same part (pasted into one shell); part 2 (the tests), pasted into a new shell, names the
    environment's interpreter instead of relying on an activation it does not contain."""
    parts = readme_parts()
    assert list(parts) == ["1", "2"] and readme_setup() == parts["1"] + parts["2"]
    venv = next(step for step in _steps(parts["1"]) if step[:3] == ["python3", "-m", "venv"])[3]
    venv_programs = {"pip", "python", "codecfake", "pytest", "accelerate"}
    activated = False
    for part in ("1", "2"):
        for step in _steps(parts[part]):
            words = [word for word in step if "=" not in word or word.startswith("-")]  # VAR=value prefixes
            if words[0] in ("source", ".") and words[1] == f"{venv}/bin/activate":
                activated = True
            assert words[0] not in venv_programs or activated, f"part {part}: {step} runs before activation"
        activated = False  # part 2 may be pasted into a new shell
    (test_command,) = parts["2"]
    assert shlex.split(test_command)[1] == f"{venv}/bin/python"


def test_test_command_runs_verbatim_in_a_new_shell(tmp_path):
    """Part 2, as written, in a login-less bash with a stock PATH (no activation, no ``python`` on it):
    in a clone whose ``.venv/bin/python`` is this interpreter and whose only test checks the offline
    setting, pytest runs and passes."""
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    interpreter = tmp_path / ".venv" / "bin" / "python"
    interpreter.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    interpreter.chmod(0o755)
    (tmp_path / "test_offline.py").write_text(
        "import os\n\n\ndef test_offline():\n    assert os.environ['HF_HUB_OFFLINE'] == '1'\n"
    )
    (test_command,) = readme_parts()["2"]
    shell = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", test_command], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": os.environ.get("LANG", "C")},
        timeout=300,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "1 passed" in shell.stdout
