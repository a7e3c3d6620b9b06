"""SMTP client the delivery uses to hand messages for outside recipients to a smarthost."""

from __future__ import annotations

import smtplib

TIMEOUT_SECONDS = 30


def relay(smarthost: tuple[str, int], mail_from: str, rcpt: list[str], mime_bytes: bytes) -> None:
    """Send one message through ``smarthost``; raise smtplib.SMTPException or OSError when it is not accepted.

    A smarthost that refuses some recipients but accepts others counts as a failure
    for the whole message, so the caller can record every refused recipient.
    """
    host, port = smarthost
    with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as client:
        refused = client.sendmail(mail_from, rcpt, mime_bytes)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
