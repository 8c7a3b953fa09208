"""Imports go one way: ``codecfake_hf`` (library) <- ``dataset_builder`` (builder) <- ``codecfake_cli``
(the commands); inside the library the subpackages import each other without a loop, the codec
toolkit and the audio helpers import no detector, and each codec family module builds on the codec
toolkit only.

Read from the source with ``ast``, so lazy imports inside functions count too; what an import runs is
checked in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import codecfake_hf
from codecfake_hf.codecs.registry import FAMILY_MODULES

PACKAGE_DIR = Path(codecfake_hf.__file__).parent
BUILDER_DIR = PACKAGE_DIR.parent / "dataset_builder"


def _module_name(path: Path) -> str:
    """``.../codecfake_hf/codecs/dac.py`` -> ``codecfake_hf.codecs.dac`` (the package's own folders)."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports included), as absolute
    names: ``from a.b import c`` gives ``a.b`` and ``a.b.c`` (``c`` may be a sub-module); a relative
    import is resolved against the file's package; ``importlib.import_module("x")`` with a literal
    name gives ``x``."""
    module_parts = _module_name(path).split(".")
    package = module_parts if path.name == "__init__.py" else module_parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE_DIR.parent))


def package_graph(root: Path) -> dict[str, set[str]]:
    """The import graph of the package at ``root`` by its first-level parts (each subpackage, and each
    module at the top, is one node): an edge ``A -> B`` when any module of ``A`` imports any module of
    ``B``, lazily or not (:func:`imported_modules`)."""
    nodes = {path.name for path in root.iterdir() if (path / "__init__.py").is_file()}
    nodes |= {path.stem for path in root.glob("*.py") if path.name != "__init__.py"}

    def node(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if parts[0] == root.name and len(parts) > 1 and parts[1] in nodes else None

    graph: dict[str, set[str]] = {name: set() for name in nodes}
    for path in root.rglob("*.py"):
        source = node(_module_name(path))
        if source is not None:
            graph[source] |= {target for name in imported_modules(path) if (target := node(name))} - {source}
    return graph


def package_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """One loop of ``graph`` as its nodes, first node repeated at the end (``[a, b, a]``); None if none."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph.get(name, ())):
            loop = visit(target, [*path, name])
            if loop:
                return loop
        done.add(name)
        return None

    return next((loop for name in sorted(graph) if (loop := visit(name, []))), None)


def test_the_library_subpackages_import_each_other_without_a_loop():
    """No subpackage of codecfake_hf reaches itself through another (lazy imports included): e.g. the
    detector families use the model-source rules, so those never import a detector."""
    graph = package_graph(PACKAGE_DIR)
    assert {"codecs", "models", "training"} <= set(graph)  # the walk sees the subpackages
    loop = package_loop(graph)
    assert loop is None, "package loop: " + " -> ".join(loop)


def test_the_package_loop_check_finds_a_lazy_loop(tmp_path):
    """The check above cannot pass by missing a loop made of a relative and a lazy import."""
    package = tmp_path / "pkg"
    for folder in (package, package / "detectors", package / "sources"):
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (package / "errors.py").write_text("")
    (package / "detectors" / "table.py").write_text("from ..sources import where\nfrom pkg import errors\n")
    (package / "sources" / "where.py").write_text("def find():\n    from pkg.detectors.table import X\n")
    graph = package_graph(package)
    assert graph == {"detectors": {"sources", "errors"}, "sources": {"detectors"}, "errors": set()}
    assert package_loop(graph) == ["detectors", "sources", "detectors"]
    assert package_loop({"a": {"b"}, "b": {"c"}, "c": set()}) is None


#: The toolkit side: importing (and resampling with) these must not import the detector package
#: (``models.aasist``'s model files, or the family table that imports them).
DETECTOR_FREE = ("codecfake_hf.codecs", "codecfake_hf.audio")
#: What of ``codecfake_hf.models`` they may import: the lazy package faces and the resampler file.
RESAMPLER_ONLY = {
    "codecfake_hf.models",
    "codecfake_hf.models.aasist",
    "codecfake_hf.models.aasist.resampling",
}


def test_the_codec_toolkit_and_audio_import_no_detector():
    """A fresh interpreter imports every module of the codec toolkit and the audio helpers and resamples
    with each resampler: the detector's model files are not imported (the resampler is a file of the
    detector package, read through its lazy face)."""
    script = f"""
import importlib, pkgutil, sys
import numpy as np
for name in {DETECTOR_FREE!r}:
    module = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        importlib.import_module(info.name)
from codecfake_hf.audio.audio_io import RESAMPLERS, resample
for resampler in RESAMPLERS:
    assert resample(np.ones(800, np.float32), 8000, 16000, resampler=resampler).shape == (1600,)
print("\\n".join(sorted(sys.modules)))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    imported = set(run.stdout.split())
    assert "codecfake_hf.codecs.registry" in imported and "codecfake_hf.models.aasist.resampling" in imported
    detector = sorted(
        name for name in imported if name.startswith("codecfake_hf.models") and name not in RESAMPLER_ONLY
    )
    assert not detector, f"the codec toolkit imports the detector: {detector}"


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=_relative)
def test_the_library_never_imports_the_builder(path):
    """Nothing under codecfake_hf/ imports dataset_builder, not even lazily: the commands that use
    both live above them, in codecfake_cli."""
    builder = sorted(name for name in imported_modules(path) if name.split(".")[0] == "dataset_builder")
    assert not builder, f"{_relative(path)} imports {builder}"


@pytest.mark.parametrize(
    "path", sorted([*PACKAGE_DIR.rglob("*.py"), *BUILDER_DIR.rglob("*.py")]), ids=_relative
)
def test_no_library_imports_a_command(path):
    """Nothing under codecfake_hf/ or dataset_builder/ imports codecfake_cli, not even lazily: the
    commands sit above both libraries."""
    commands = sorted(name for name in imported_modules(path) if name.split(".")[0] == "codecfake_cli")
    assert not commands, f"{_relative(path)} imports {commands}"


def test_the_import_walk_sees_every_kind_of_import(tmp_path):
    """The check above cannot pass by missing an import form."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "mod.py"
    module.write_text(
        "import dataset_builder.build\n"
        "def run():\n"
        "    from dataset_builder import corpora\n"
        "    from codecfake_cli.main import main\n"
        "    import importlib\n"
        "    return importlib.import_module('dataset_builder.demo'), __import__('codecfake_cli.commands')\n"
        "from . import sibling\n"
    )
    found = imported_modules(module)
    assert {"dataset_builder.build", "dataset_builder.corpora", "dataset_builder.demo"} <= found
    assert "pkg.sibling" in found
    assert {"codecfake_cli.main", "codecfake_cli.main.main", "codecfake_cli.commands"} <= found


#: What a codec family module may import from the library: the codec toolkit (spec, base engine, shared
#: layers, conversion helpers, loudness, the transformers-model base) and the library's foundation
#: (errors, audio, Hub downloads, checkpoint checks). The registry, other families, the ``convert_<family>``
#: modules (they import the families) and everything that uses codecs (datasets, training,
#: evaluation, the command line) are not.
CODEC_TOOLKIT = (
    "codecfake_hf.codecs.spec",
    "codecfake_hf.codecs.base",
    "codecfake_hf.codecs.layers",
    "codecfake_hf.codecs.conversion",
    "codecfake_hf.codecs.loudness",
    "codecfake_hf.codecs.transformers_codec",
)
LIBRARY_FOUNDATION = (
    "codecfake_hf.errors",
    "codecfake_hf.audio.audio_io",
    "codecfake_hf.files.hub_io",
    "codecfake_hf.files.strict_loading",
    "codecfake_hf.files.checkpoint_files",
)
PACKAGES = ("codecfake_hf", "codecfake_hf.codecs")  # `from codecfake_hf.codecs import convert_dac`


@pytest.mark.parametrize("family", sorted(FAMILY_MODULES))
def test_codec_families_import_only_the_toolkit(family):
    module = FAMILY_MODULES[family].model
    path = PACKAGE_DIR.parent / (module.replace(".", "/") + ".py")
    allowed = (*CODEC_TOOLKIT, *LIBRARY_FOUNDATION)
    library = {name for name in imported_modules(path) if name.split(".")[0] == "codecfake_hf"}
    outside = sorted(
        name
        for name in library - set(PACKAGES)
        if not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)
    )
    assert not outside, f"{module} imports {outside}"
    assert library & {"codecfake_hf.codecs.spec", "codecfake_hf.codecs.spec.CodecSpec"}, module
