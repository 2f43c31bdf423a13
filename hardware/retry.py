"""Retry policy for idempotent device commands, kept outside the drivers.

Drivers mark each command as a *query* (idempotent: reading a value, or setting a value to
an absolute target) or an *action* (RUN, PUR, clearing a counter). Only queries go through
`RetryPolicy.call`; an action is sent once and, if its reply is lost, the driver asks the
device for its state instead of resending (PROTOCOLS.md: "Never blindly resend RUN").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hardware.errors import DeviceTimeout, ProtocolError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a query on timeout or garbled reply.

    Attributes:
        attempts: total tries (1 = no retry).
        retry_on: exception types that trigger a retry; anything else propagates at once.
    """

    attempts: int = 3
    retry_on: tuple[type[BaseException], ...] = field(default=(DeviceTimeout, ProtocolError))

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")

    def call(self, fn: Callable[[], T], what: str = "query", *,
             on_retry: Callable[[BaseException, int], None] | None = None) -> T:
        """Run `fn`, retrying up to `attempts` times; re-raise the last error.

        Args:
            fn: the idempotent call.
            what: label for the log.
            on_retry: called with (error, attempt) before each retry (e.g. restore a
                setting the device lost, or wait a poll interval on the rig clock).
        """
        for i in range(1, self.attempts + 1):
            try:
                return fn()
            except self.retry_on as e:
                if i == self.attempts:
                    raise
                log.info("%s failed (%s); retry %d/%d", what, e, i, self.attempts - 1)
                if on_retry is not None:
                    on_retry(e, i)
        raise AssertionError("unreachable")  # pragma: no cover


NO_RETRY = RetryPolicy(attempts=1)
