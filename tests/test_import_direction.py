"""Imports go one way: ``codecfake_hf`` (library) <- ``dataset_builder`` (builder) <- command line and
apps, and inside the library each codec family module builds on the codec toolkit only.

Read from the source with ``ast``, so lazy imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import codecfake_hf
from codecfake_hf.codecs.registry import FAMILY_MODULES

PACKAGE_DIR = Path(codecfake_hf.__file__).parent


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


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=_relative)
def test_the_library_never_imports_the_builder(path):
    """Nothing under codecfake_hf/ imports dataset_builder, not even lazily: its commands plug in
    through the codecfake_hf.commands entry points instead."""
    builder = sorted(name for name in imported_modules(path) if name.split(".")[0] == "dataset_builder")
    assert not builder, f"{_relative(path)} imports {builder}"


def test_the_import_walk_sees_every_kind_of_import(tmp_path):
    """The check above cannot pass by missing an import form."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "mod.py"
    module.write_text(
        "import dataset_builder.build\n"
        "def run():\n"
        "    from dataset_builder import cli\n"
        "    import importlib\n"
        "    return importlib.import_module('dataset_builder.demo')\n"
        "from . import sibling\n"
    )
    found = imported_modules(module)
    assert {"dataset_builder.build", "dataset_builder.cli", "dataset_builder.demo", "pkg.sibling"} <= found


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
    "codecfake_hf.audio",
    "codecfake_hf.hub",
    "codecfake_hf.checkpoints",
    "codecfake_hf.checkpoint_files",
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
