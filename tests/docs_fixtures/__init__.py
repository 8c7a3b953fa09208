"""Named preparations of a docs block's folder, for ``tests/test_docs.py``.

A fixture is a function ``name(block: BlockFolder) -> None`` registered with :func:`fixture`; a block's
``<!-- docs-test fixtures NAME ... -->`` clause runs it in the block's temporary folder before the block.
It may copy artefacts there (``block.artefact(name)``: made once per test module, see :func:`artefact`),
set environment variables (``block.env``), add Python to run before a Python block (``block.prelude``), or
start something that must live while the block runs (``block.stack``, an :class:`contextlib.ExitStack`
closed after it). One module per kind of preparation; importing this package registers them all.
"""

from tests.docs_fixtures import basic, corpora, hub, runs  # noqa: F401  (each registers its fixtures)
from tests.docs_fixtures.registry import ARTEFACTS, FIXTURES, BlockFolder, artefact, fixture

__all__ = ["ARTEFACTS", "FIXTURES", "BlockFolder", "artefact", "fixture"]
