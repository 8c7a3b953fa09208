"""Fixtures of the docs blocks that talk to the Hub: a loopback Hub (``tests/loopback_hub.py``) for the
block, and the repos the blocks expect on it.

``loopback_hub`` starts the Hub for one block and points the block at it (``HF_ENDPOINT``,
``HF_HUB_OFFLINE=0``, ``HF_DATASETS_OFFLINE=0``, ``HF_TOKEN``; ``HF_HOME`` stays the block's empty
cache), and fails the block if a client asked it for an endpoint it does not have. A seeding fixture
(here or in another module) gets that Hub with :func:`hub_of` (which starts it when no fixture did yet)
and may register a check of what the block pushed with ``block.stack.callback``.
"""

from __future__ import annotations

from tests.docs_fixtures.registry import BlockFolder, fixture
from tests.loopback_hub import LoopbackHub

#: The Hub of each block being prepared (by ``id`` of its BlockFolder), until the block is done.
_HUBS: dict[int, LoopbackHub] = {}


def hub_of(block: BlockFolder) -> LoopbackHub:
    """The loopback Hub of ``block``: started, and the block's environment pointed at it, on first use;
    stopped (after checking that no client asked it for an endpoint it lacks) once the block ran."""
    if id(block) not in _HUBS:
        hub = block.stack.enter_context(LoopbackHub())
        _HUBS[id(block)] = hub
        block.stack.callback(_HUBS.pop, id(block))
        block.stack.callback(_no_unhandled_requests, hub)
        block.env.update(hub.environment())
    return _HUBS[id(block)]


def _no_unhandled_requests(hub: LoopbackHub) -> None:
    assert not hub.unhandled, f"the block asked the loopback Hub for endpoints it lacks: {hub.unhandled}"


@fixture
def loopback_hub(block: BlockFolder) -> None:
    """A loopback Hub for the block (tests/loopback_hub.py): ``HF_ENDPOINT`` points at it, online, with a
    token; the block's Hub cache stays empty."""
    hub_of(block)
