"""SMTP client the delivery uses to hand messages for outside recipients to a smarthost."""

from __future__ import annotations

import smtplib

TIMEOUT_SECONDS = 30
# A delivery receipt requested (PidTagOriginatorDeliveryReportRequested) asks the next hop for a success DSN
# (RFC 3461), where it offers the DSN extension; failures are reported either way.
DELIVERY_RECEIPT_OPTIONS = ["NOTIFY=SUCCESS,FAILURE"]


def relay(smarthost: tuple[str, int], mail_from: str, rcpt: list[str], mime_bytes: bytes,
          delivery_receipt: bool = False) -> None:
    """Send one message through ``smarthost``; raise smtplib.SMTPException or OSError when it is not accepted.

    A smarthost that refuses some recipients but accepts others counts as a failure
    for the whole message, so the caller can record every refused recipient.
    """
    host, port = smarthost
    with smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS) as client:
        client.ehlo()
        options = DELIVERY_RECEIPT_OPTIONS if delivery_receipt and client.has_extn("dsn") else []
        refused = client.sendmail(mail_from, rcpt, mime_bytes, rcpt_options=options)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
