"""The Graph behaviours the documentation leaves open, as switches (``POST /_sandbox/graph``, serve options)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

IF_MATCH_MODES = ("ignored", "honoured")
BATCH_CONCURRENCY_MODES = ("throttle", "queue")


@dataclass
class GraphSettings:
    # If-Match on PATCH / DELETE of a message: the message-update reference does not mention it. "ignored" (the
    # default, the conservative reading: a stale etag does not stop the write), or "honoured" (412
    # ErrorIrresolvableConflict when it no longer matches).
    if_match: str = "ignored"
    # The requests of a $batch without dependsOn run in parallel: "throttle" (the default, as observed: past the four
    # concurrent requests a mailbox takes, they get 429 MailboxConcurrency) or "queue" (Graph hands the Outlook
    # service at most four at a time, as the throttling page now says, so none is throttled for it).
    batch_concurrency: str = "throttle"
    token_lifetime_s: int = 3599   # the access tokens' lifetime (expires_in)

    def update(self, data: dict) -> "GraphSettings":
        """Change the settings named in ``data``; ValueError names what is wrong."""
        unknown = sorted(set(data) - set(asdict(self)))
        if unknown:
            raise ValueError(f"unknown graph setting(s): {', '.join(unknown)}")
        if data.get("if_match", self.if_match) not in IF_MATCH_MODES:
            raise ValueError(f"'if_match' must be one of {', '.join(IF_MATCH_MODES)}")
        if data.get("batch_concurrency", self.batch_concurrency) not in BATCH_CONCURRENCY_MODES:
            raise ValueError(f"'batch_concurrency' must be one of {', '.join(BATCH_CONCURRENCY_MODES)}")
        lifetime = data.get("token_lifetime_s", self.token_lifetime_s)
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1:
            raise ValueError("'token_lifetime_s' must be a positive integer")
        for name, value in data.items():
            setattr(self, name, value)
        return self

    def to_json(self) -> dict:
        return asdict(self)
