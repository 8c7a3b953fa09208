"""The registry of docs-block fixtures and of the artefacts they copy (the package docstring)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BlockFolder:
    """What a fixture prepares for one block: its temporary ``folder`` (the block's working folder and
    ``HOME``), ``artefact(name)`` (the path of an artefact made once, to copy from), ``env`` (variables
    added to the block's environment), ``prelude`` (Python run before a Python block), ``stack`` (closed
    once the block has run: servers, temporary state)."""

    folder: Path
    artefact: Callable[[str], Path]
    stack: contextlib.ExitStack
    env: dict[str, str] = field(default_factory=dict)
    prelude: list[str] = field(default_factory=list)


#: Fixture name -> function preparing a block's folder.
FIXTURES: dict[str, Callable[[BlockFolder], None]] = {}
#: Artefact name -> function ``make(folder) -> path`` building it once into ``folder``.
ARTEFACTS: dict[str, Callable[[Path], Path]] = {}


def fixture(function: Callable[[BlockFolder], None]) -> Callable[[BlockFolder], None]:
    """Register ``function`` as the fixture named after it (its docstring says what it prepares)."""
    assert function.__name__ not in FIXTURES, f"two docs fixtures named {function.__name__}"
    assert function.__doc__, f"docs fixture {function.__name__} needs a docstring saying what it prepares"
    FIXTURES[function.__name__] = function
    return function


def artefact(name: str) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    """Register the decorated ``make(folder) -> path`` as the artefact ``name``."""

    def register(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
        assert name not in ARTEFACTS, f"two docs artefacts named {name}"
        ARTEFACTS[name] = make
        return make

    return register
