"""The wheel holds what an install needs: the card templates of the top-level ``model_cards/`` folder
as ``codecfake_hf/model_cards/``, every module of the source tree, and the ``codecfake`` console script
(its commands built in, none through entry points). Built offline with the environment's setuptools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: source folder -> where its files go in the wheel
INSTALLED_AS = {
    "codecfake_hf": "codecfake_hf",
    "dataset_builder": "dataset_builder",
    "codecfake_cli": "codecfake_cli",
    "model_cards": "codecfake_hf/model_cards",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built from a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in INSTALLED_AS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    built = subprocess.run(
        [*command, "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    (path,) = dist.glob("codecfake_hf-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_wheel_ships_the_card_templates_as_package_data(wheel):
    templates = sorted(path.name for path in (ROOT / "model_cards").glob("*.md"))
    assert templates == ["dataset_card.md", "detector_card.md", "imported_dataset_card.md"]
    for name in templates:
        assert wheel.read(f"codecfake_hf/model_cards/{name}") == (ROOT / "model_cards" / name).read_bytes()
    assert "codecfake_hf/model_cards/__init__.py" in wheel.namelist()
    assert not any(name.startswith("model_cards/") for name in wheel.namelist())


def test_the_wheel_holds_every_module_of_the_source_tree(wheel):
    """The package list in pyproject.toml is written out (for the model_cards mapping): a sub-package
    missing from it would be missing here."""
    expected = {
        f"{target}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, target in INSTALLED_AS.items()
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected - set(wheel.namelist()) == set()


def test_the_wheel_ships_the_eer_metric_folder_whole(wheel):
    """The `evaluate` metric folder is package data: its script, the EER it imports and its metric card."""
    folder = ROOT / "codecfake_hf" / "metrics" / "codecfake_eer"
    for name in ("codecfake_eer.py", "asvspoof_eer.py", "README.md"):
        assert wheel.read(f"codecfake_hf/metrics/codecfake_eer/{name}") == (folder / name).read_bytes(), name


def test_the_wheel_registers_the_codecfake_script_and_no_command_plugins(wheel):
    """Every ``codecfake`` command is built into :mod:`codecfake_cli`; the entry-point group
    ``codecfake_hf.commands`` is left to other packages' plug-ins."""
    (entry_points,) = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]\ncodecfake = codecfake_cli.main:main" in text
    assert "[codecfake_hf.commands]" not in text
