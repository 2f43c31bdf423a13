"""Critical sections that a Ctrl-C / SIGTERM must not cut in half.

The loop turns the first SIGINT/SIGTERM into an exception raised wherever the main thread
happens to be. Between a committed INSERT and the bookkeeping that follows it (the next
sequence number and hash, the in-memory run state) that exception would leave the record
writer out of step with the file, and the `safe_state` / `stopped` events that follow
would collide with the committed row. Inside `signals_deferred()` the two signals are
blocked at the OS level (`pthread_sigmask`); one that arrives is delivered, and its Python
handler runs, as soon as the block ends.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Block SIGINT and SIGTERM for the duration of the block (main thread only; a no-op
    elsewhere, where Python never runs signal handlers anyway). Nests correctly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
