"""One entry per EWS request, so tests and benchmarks can count round trips."""

from __future__ import annotations

import bisect
import threading
from collections import deque
from dataclasses import asdict, dataclass

# Enough for any benchmark run; the oldest entries go first.
MAX_ENTRIES = 200_000


@dataclass(frozen=True)
class RequestEntry:
    seq: int
    operation: str | None   # None when the request never got as far as naming one (401, bad XML)
    user: str | None        # login of the authenticated user
    mailbox: str | None     # effective mailbox (after impersonation)
    items: int              # ItemIds / items the request carried
    http_status: int
    ms: float


class RequestLog:
    def __init__(self):
        self._entries: deque[RequestEntry] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, operation: str | None, user: str | None, mailbox: str | None, items: int,
               http_status: int, ms: float) -> RequestEntry:
        with self._lock:
            self._seq += 1
            entry = RequestEntry(self._seq, operation, user, mailbox, items, http_status, round(ms, 3))
            self._entries.append(entry)
            return entry

    def since(self, seq: int = 0) -> list[dict]:
        """Entries with a sequence number greater than ``seq``."""
        with self._lock:
            entries = list(self._entries)
        start = bisect.bisect_right([e.seq for e in entries], seq)
        return [asdict(e) for e in entries[start:]]

    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        """Forget the entries; sequence numbers keep growing so ``since`` cursors stay valid."""
        with self._lock:
            self._entries.clear()
