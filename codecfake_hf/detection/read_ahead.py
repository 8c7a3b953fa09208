"""Reading ahead: decode (and resample, and cut) many audio sources in background threads while the
caller scores what has arrived.

:func:`read_ahead` runs ``read(source, emit)`` for the sources in a few worker threads (one source per
thread at a time, sources taken in order) and yields what they emit source by source, in the order of
the sources, however the threads happen to interleave: so a caller that batches the items gets the same
batches on every run. Workers run at most ``lookahead`` sources ahead of the one being yielded, and each
source holds at most ``max_buffered`` emitted items waiting, so memory is bounded whatever the number and
length of the sources.

Threads, not processes: libsndfile, soxr and numpy release the GIL while they work, and the items
(numpy windows) reach the caller without being copied between processes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

#: Worker threads that read ahead by default: one decodes while another resamples on 2 cores; more
#: only hold more files open.
DEFAULT_READ_WORKERS = 2
_POLL_SECONDS = 0.05


class Event(NamedTuple):
    """What a reader reported about the source at position ``index``: ``kind`` "item" (``value`` is
    what ``read`` emitted), "end" (``value`` is what ``read`` returned) or "error" (``value`` is the
    exception ``read`` raised, one of the ``expected`` types). "end" and "error" close a source."""

    index: int
    source: Any
    kind: str
    value: Any


class _Stopped(Exception):
    """The consumer went away: a reader stops where it is."""


def read_ahead(
    sources: Iterable,
    read: Callable[[Any, Callable[[Any], None]], Any],
    expected: tuple[type[BaseException], ...],
    workers: int = DEFAULT_READ_WORKERS,
    max_buffered: int = 2,
    lookahead: int | None = None,
) -> Iterator[Event]:
    """The events of reading every source, source by source in the order of ``sources`` (module
    docstring).

    Args:
        sources: any iterable (taken lazily, in order, by the workers).
        read: ``read(source, emit) -> result``; calls ``emit(item)`` for each item it makes.
        expected: exception types that close one source with an "error" event; any other exception
            stops everything and is raised here.
        workers: threads reading at once (at least 1).
        max_buffered: items of one source waiting for the consumer at most (at least 1).
        lookahead: sources begun ahead of the one being yielded at most (default ``workers + 1``).

    Leaving the loop early (break, an exception) stops the readers.
    """
    workers, max_buffered = max(1, workers), max(1, max_buffered)
    lookahead = max(1, lookahead or workers + 1)
    iterator = iter(sources)
    state = {"started": 0, "consumed": 0, "total": None, "crash": None}
    queues: dict[int, queue.Queue] = {}
    changed = threading.Condition()
    stop = threading.Event()

    def put(target: queue.Queue, event: Event) -> None:
        while not stop.is_set():
            try:
                target.put(event, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue
        raise _Stopped

    def work() -> None:
        while True:
            with changed:
                while state["started"] >= state["consumed"] + lookahead and not stop.is_set():
                    changed.wait(_POLL_SECONDS)
                if stop.is_set() or state["total"] is not None or state["crash"] is not None:
                    return
                try:
                    source = next(iterator)
                except StopIteration:
                    state["total"] = state["started"]
                    changed.notify_all()
                    return
                except BaseException as error:  # a bug in the sources iterable: raised by the consumer
                    state["crash"] = error
                    changed.notify_all()
                    return
                index = state["started"]
                state["started"] += 1
                queues[index] = target = queue.Queue(maxsize=max_buffered)
                changed.notify_all()
            try:
                try:
                    emit = lambda item, t=target, i=index, s=source: put(t, Event(i, s, "item", item))  # noqa: E731
                    result = read(source, emit)
                except expected as error:
                    put(target, Event(index, source, "error", error))
                else:
                    put(target, Event(index, source, "end", result))
            except _Stopped:
                return
            except BaseException as error:  # a bug in read: raised by the consumer
                with changed:
                    state["crash"] = error
                    changed.notify_all()
                return

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        index = 0
        while True:
            with changed:
                while index not in queues and state["crash"] is None and state["total"] != index:
                    changed.wait(_POLL_SECONDS)
                if state["crash"] is not None:
                    raise state["crash"]
                if index not in queues:
                    return  # every source was read
                source_queue = queues[index]
            while True:
                try:
                    event = source_queue.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    if state["crash"] is not None:
                        raise state["crash"] from None
                    continue
                yield event
                if event.kind != "item":
                    break
            with changed:
                del queues[index]
                state["consumed"] = index + 1
                changed.notify_all()
            index += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()
