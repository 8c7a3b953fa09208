"""The structure of ``codecfake_hf.codecs``: one-way imports, the registry's family table, the shared
layers every native family is built from, and family options read from ``CodecSpec.options``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import codecfake_hf.codecs
from codecfake_hf.codecs import registry

CODECS_DIR = Path(codecfake_hf.codecs.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CODECS_DIR.rglob("*.py") if p.name != "registry.py"),
    ids=lambda p: str(p.relative_to(CODECS_DIR)),
)
def test_nothing_in_the_codecs_package_imports_the_registry(path):
    """Families import the spec and base modules; only the registry imports families (no cycle)."""
    imported = _imported_modules(path)
    assert "codecfake_hf.codecs.registry" not in imported
    assert not any(name.startswith("dataset_builder") for name in imported)


def test_the_registry_table_names_every_family_and_its_contract():
    assert {spec.family_module for spec in registry.CODECS.values()} == set(registry.FAMILY_MODULES)
    for spec in registry.CODECS.values():
        assert registry.implemented(spec)
        module = registry.family_module(spec)
        assert module.__name__ == registry.FAMILY_MODULES[spec.family_module]
        for function in ("tiny_codec", "random_codec", "pretrained_codec"):
            assert callable(getattr(module, function)), (spec.id, function)
