"""Critical sections that a Ctrl-C / SIGTERM must not cut in half.

The loop turns the first SIGINT/SIGTERM into an exception raised wherever the main thread
happens to be. Between a committed INSERT and the bookkeeping that follows it (the next
sequence number and hash, the in-memory run state) such an exception would leave the
record writer out of step with the file, and the `safe_state` / `stopped` events that
follow would collide with the committed row.

A signal handler that honours this module calls `defer_if_critical(action)` first: inside
`critical()` the action (raising the stop exception) is kept and run when the outermost
critical section ends; outside, the handler acts at once. (Blocking the signals with
`pthread_sigmask` is not enough: torch and numba start threads that do not block them,
and CPython runs the Python handler in the main thread whichever thread received it.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

_depth = 0
_pending: Callable[[], None] | None = None


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Defer honouring signal handlers to the end of the block. Nests."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            action, _pending = _pending, None
            action()


def defer_if_critical(action: Callable[[], None]) -> bool:
    """From a signal handler: keep `action` for the end of the current critical section
    and return True, or return False (not in one: the handler should act now)."""
    global _pending
    if _depth > 0:
        _pending = action
        return True
    return False
