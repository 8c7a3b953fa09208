"""The README's set-up commands and ``.ci/run`` are the same lines, and they install into a virtual
environment, so that they work with a system Python that refuses ``pip install`` (PEP 668)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The README's main job: part of the set-up block, not of CI.
MAIN_JOB = "codecfake demo"


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def readme_setup() -> list[str]:
    """The command lines of the first bash block under ``## Set-up``."""
    section = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("\n## Set-up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block, "README.md: no bash block under '## Set-up'"
    return _commands(block.group(1))


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
    assert setup[-1] == "HF_HUB_OFFLINE=1 python -m pytest -q"


def test_setup_installs_into_a_virtual_environment_it_creates():
    steps = _steps(readme_setup())
    apt_install = next(step for step in steps if step[:2] == ["apt-get", "install"])
    assert {"ffmpeg", "libsndfile1", "python3-venv", "chromium"} <= set(apt_install)  # chromium: tests/app
    create = next(i for i, step in enumerate(steps) if step[:3] == ["python3", "-m", "venv"])
    venv = steps[create][3]
    activate = next(i for i, step in enumerate(steps) if step[0] in ("source", ".") and step[1:])
    assert steps[activate][1] == f"{venv}/bin/activate"
    installs = [i for i, step in enumerate(steps) if step[0] == "pip" or step[1:3] == ["-m", "pip"]]
    assert installs and create < activate < min(installs), "pip must run inside the new environment"
    assert "--break-system-packages" not in {arg for step in steps for arg in step}
    ignored = (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert f"/{venv}/" in ignored or f"{venv}/" in ignored
