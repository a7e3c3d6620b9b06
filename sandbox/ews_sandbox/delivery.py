"""What happens to a sent message: copies in local recipients' Inboxes, SMTP relay for the rest, a durable log.

Every send appends one row to the delivery log (SQLite, same database as the
store), so a message sent twice shows up twice; ``marker`` carries the
``ExchangeEwsSendMarker`` extended property so tests can count sends per draft,
and ``send_state`` the ``ExchangeEwsSendState`` the message had when it was
submitted, so a test can tell which run's stamp was on what went out.
"""

from __future__ import annotations

import json
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from . import smtp_relay
from .store import Item, Store, utc_now

MARKER_PROPERTY = "ExchangeEwsSendMarker"
STATE_PROPERTY = "ExchangeEwsSendState"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    internet_message_id TEXT,
    subject TEXT,
    from_address TEXT,
    recipients TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    route TEXT NOT NULL,
    undelivered TEXT NOT NULL,
    marker TEXT,
    time TEXT NOT NULL,
    sender TEXT,
    send_state TEXT
);
"""


def named_property(item: Item, name: str) -> str | None:
    """The value of the named extended property ``name``, whatever its property set."""
    for key, (_, value) in item.extended.items():
        if key.endswith(":name:" + name):
            return value
    return None


def send_marker(item: Item) -> str | None:
    """The value of ExchangeEwsSendMarker."""
    return named_property(item, MARKER_PROPERTY)


def build_mime(item: Item, from_address: str) -> bytes:
    message = EmailMessage()
    message["From"] = from_address
    to = [r["email"] for r in item.fields["to_recipients"]]
    cc = [r["email"] for r in item.fields["cc_recipients"]]
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = item.fields["subject"] or ""
    message["Message-ID"] = item.fields["internet_message_id"] or make_msgid(domain="sandbox.test")
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    subtype = "html" if (item.fields["body_type"] or "").upper() == "HTML" else "plain"
    message.set_content(item.fields["body"] or "", subtype=subtype)
    return message.as_bytes()


class Delivery:
    """Delivers sent items. ``smarthost`` ((host, port)) relays recipients outside the sandbox's directory."""

    def __init__(self, store: Store, directory, smarthost: tuple[str, int] | None = None):
        self.store = store
        self.directory = directory
        self.smarthost = smarthost
        conn = self.store.connection()
        conn.executescript(_SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}
        if "sender" not in columns:
            conn.execute("ALTER TABLE deliveries ADD COLUMN sender TEXT")   # a data folder from before Send As
        if "send_state" not in columns:
            conn.execute("ALTER TABLE deliveries ADD COLUMN send_state TEXT")   # ... from before send_state

    def deliver(self, sender_mailbox: str, item: Item) -> dict:
        """Deliver ``item`` sent by ``sender_mailbox``; joins the caller's store transaction if there is one."""
        from_mailbox = item.fields.get("from_mailbox") or {"email": sender_mailbox}
        from_address = from_mailbox["email"]
        sender_address = (item.fields.get("sender_mailbox") or from_mailbox)["email"]
        addresses = list(dict.fromkeys(r["email"].lower() for r in item.recipients() if r.get("email")))
        local = [a for a in addresses if self.directory.by_smtp(a) is not None]
        remote = [a for a in addresses if a not in local]
        now = utc_now()
        with self.store.transaction() as conn:
            for address in local:
                inbox = self.store.distinguished_folder(address, "inbox")
                self.store.copy_item(item, inbox, {
                    "is_draft": False, "is_read": False, "received": now, "sent": now,
                    "bcc_recipients": [], "from_mailbox": from_mailbox,
                }, with_extended=False)
            undelivered = remote if remote and not self.smarthost else []
            if remote and self.smarthost:
                undelivered = self._relay(from_address, remote, build_mime(item, from_address))
            entry = {
                "internet_message_id": item.fields["internet_message_id"],
                "subject": item.fields["subject"],
                "from": from_address,
                "sender": sender_address,
                "recipients": addresses,
                "mailbox": item.mailbox,
                "route": "smtp" if remote else "local",
                "undelivered": undelivered,
                "marker": send_marker(item),
                "send_state": named_property(item, STATE_PROPERTY),
                "time": now,
            }
            cursor = conn.execute(
                "INSERT INTO deliveries (internet_message_id, subject, from_address, sender, recipients, mailbox, route,"
                " undelivered, marker, send_state, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry["internet_message_id"], entry["subject"], entry["from"], sender_address, json.dumps(addresses),
                 entry["mailbox"], entry["route"], json.dumps(undelivered) if undelivered else "[]", entry["marker"],
                 entry["send_state"], now))
            entry["seq"] = cursor.lastrowid
        return entry

    def _relay(self, mail_from: str, recipients: list[str], mime: bytes) -> list[str]:
        """Relay through the smarthost; a relay failure is logged as undelivered, never fails the send (like an NDR)."""
        try:
            smtp_relay.relay(self.smarthost, mail_from, recipients, mime)
        except (smtplib.SMTPException, OSError):
            return recipients
        return []

    def log(self, since: int = 0) -> list[dict]:
        """Delivery log entries with seq > ``since``, oldest first."""
        rows = self.store.connection().execute(
            "SELECT seq, internet_message_id, subject, from_address, COALESCE(sender, from_address), recipients, mailbox,"
            " route, undelivered, marker, send_state, time FROM deliveries WHERE seq > ? ORDER BY seq", (since,))
        return [{"seq": seq, "internet_message_id": message_id, "subject": subject, "from": from_address,
                 "sender": sender, "recipients": json.loads(recipients), "mailbox": mailbox, "route": route,
                 "undelivered": json.loads(undelivered), "marker": marker, "send_state": send_state, "time": time}
                for (seq, message_id, subject, from_address, sender, recipients, mailbox, route, undelivered, marker,
                     send_state, time) in rows]

    def reset(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM deliveries")
