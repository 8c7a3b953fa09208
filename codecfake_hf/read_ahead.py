"""Reading ahead: decode (and resample, and cut) many audio sources in background threads while the
caller scores what has arrived.

:func:`read_ahead` runs ``read(source, emit)`` for every source in a few worker threads (one source
per thread at a time, sources taken in order) and yields what they emit, as it arrives, tagged with
the source's position. At most ``max_buffered`` emitted items wait in the queue, so memory is bounded
by the buffer and the sources being read, whatever their number and length. A source's items arrive in
the order its ``read`` emitted them; items of different sources interleave.

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


class Event(NamedTuple):
    """What a reader reported about the source at position ``index``: ``kind`` "item" (``value`` is
    what ``read`` emitted), "end" (``value`` is what ``read`` returned) or "error" (``value`` is the
    exception ``read`` raised, one of the ``expected`` types)."""

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
    max_buffered: int = 8,
) -> Iterator[Event]:
    """The events of reading every source, in the order they happen (module docstring).

    Args:
        sources: any iterable (taken lazily, in order, by the workers).
        read: ``read(source, emit) -> result``; calls ``emit(item)`` for each item it makes.
        expected: exception types that end one source with an "error" event; any other exception
            stops everything and is raised here.
        workers: threads reading at once (at least 1).
        max_buffered: items waiting for the consumer at most (at least 1).

    Leaving the loop early (break, an exception) stops the readers.
    """
    events: queue.Queue = queue.Queue(maxsize=max(1, max_buffered))
    stop = threading.Event()
    lock = threading.Lock()
    numbered = enumerate(sources)

    def put(event: Event) -> None:
        while not stop.is_set():
            try:
                events.put(event, timeout=0.05)
                return
            except queue.Full:
                continue
        raise _Stopped

    def work() -> None:
        try:
            while not stop.is_set():
                with lock:
                    try:
                        index, source = next(numbered)
                    except StopIteration:
                        break
                try:
                    result = read(source, lambda item, i=index, s=source: put(Event(i, s, "item", item)))
                except expected as error:
                    put(Event(index, source, "error", error))
                else:
                    put(Event(index, source, "end", result))
            put(Event(-1, None, "done", None))
        except _Stopped:
            pass
        except BaseException as error:  # a bug in read, or in the sources iterable: raised by the consumer
            try:
                put(Event(-1, None, "crash", error))
            except _Stopped:
                pass

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for thread in threads:
        thread.start()
    try:
        running = len(threads)
        while running:
            event = events.get()
            if event.kind == "done":
                running -= 1
            elif event.kind == "crash":
                raise event.value
            else:
                yield event
    finally:
        stop.set()
        for thread in threads:
            thread.join()
