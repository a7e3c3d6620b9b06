import email
import email.policy
import smtplib

import pytest

from ews_sandbox import delivery as delivery_module
from ews_sandbox.mime import build_mime
from ews_sandbox.store import Attachment, extended_key

from ews_test_support import ALICE, BOB, MARKER_SET, Env


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


def message(env, to, marker=None, send_state=None):
    drafts = env.store.distinguished_folder(ALICE, "drafts")
    properties = {"ExchangeEwsSendMarker": marker, "ExchangeEwsSendState": send_state}
    extended = {extended_key(property_set_id=MARKER_SET, property_name=name): ("String", value)
                for name, value in properties.items() if value}
    return env.store.create_item(drafts, {"subject": "Hi", "body": "<p>x</p>", "body_type": "HTML",
                                          "to_recipients": [{"name": a, "email": a} for a in to]}, extended)


def test_local_recipients_get_an_unread_inbox_copy(env):
    entry = env.delivery.deliver(ALICE, message(env, [BOB], marker="m1"))
    assert (entry["route"], entry["recipients"], entry["marker"], entry["undelivered"]) == ("local", [BOB], "m1", [])
    inbox = env.store.distinguished_folder(BOB, "inbox")
    assert env.store.folder_counts(inbox) == (1, 1)
    _, (copy,) = env.store.find_items([inbox])
    assert copy.fields["is_draft"] is False and copy.extended == {}


def test_the_send_state_at_submission_is_logged(env):
    stamped = env.delivery.deliver(ALICE, message(env, [BOB], marker="m1", send_state="pending:run1:1700000000"))
    unstamped = env.delivery.deliver(ALICE, message(env, [BOB]))
    assert (stamped["send_state"], unstamped["send_state"]) == ("pending:run1:1700000000", None)
    assert [e["send_state"] for e in env.delivery.log()] == ["pending:run1:1700000000", None]


def test_outside_recipients_without_a_smarthost_are_logged_undelivered(env):
    entry = env.delivery.deliver(ALICE, message(env, [BOB, "x@example.org"]))
    assert entry["route"] == "smtp" and entry["undelivered"] == ["x@example.org"]


def test_outside_recipients_are_relayed_as_mime(env, monkeypatch):
    relayed = []
    monkeypatch.setattr(delivery_module.smtp_relay, "relay", lambda *args: relayed.append(args))
    env.delivery.smarthost = ("127.0.0.1", 2525)
    entry = env.delivery.deliver(ALICE, message(env, ["x@example.org"]))
    (smarthost, mail_from, rcpt, mime, delivery_receipt), = relayed
    assert (smarthost, mail_from, rcpt, entry["undelivered"]) == (("127.0.0.1", 2525), ALICE, ["x@example.org"], [])
    assert delivery_receipt is False
    assert b"Subject: Hi" in mime and b"text/html" in mime


def test_a_refused_relay_is_recorded_not_raised(env, monkeypatch):
    def refuse(*args):
        raise smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no")})

    monkeypatch.setattr(delivery_module.smtp_relay, "relay", refuse)
    env.delivery.smarthost = ("127.0.0.1", 2525)
    assert env.delivery.deliver(ALICE, message(env, ["x@example.org"]))["undelivered"] == ["x@example.org"]


def test_every_send_is_logged_and_the_log_pages(env):
    item = message(env, [BOB], marker="twice")
    first = env.delivery.deliver(ALICE, item)
    env.delivery.deliver(ALICE, item)
    assert [e["marker"] for e in env.delivery.log()] == ["twice", "twice"]
    assert len(env.delivery.log(since=first["seq"])) == 1
    env.delivery.reset()
    assert env.delivery.log() == []


def test_the_mime_encodes_what_is_not_ascii_and_a_line_break_cannot_add_a_header(env):
    drafts = env.store.distinguished_folder(ALICE, "drafts")
    item = env.store.create_item(
        drafts, {"subject": "Zahlen für März\r\nBcc: spy@example.org", "body": "Grüße", "body_type": "Text",
                 "to_recipients": [{"name": "Jürgen Groß", "email": "j@example.org"}], "sent": "2026-01-02T03:04:05Z"},
        {extended_key(distinguished_property_set_id="InternetHeaders", property_name="X-Tag"): ("String", "a\nX-Evil: 1")},
        [Attachment("Übersicht.pdf", "application/pdf", None, False, 3, content=b"pdf")])
    message = email.message_from_bytes(build_mime(item, env.store.attachments_with_content(item)),
                                       policy=email.policy.default)
    assert message["Subject"] == "Zahlen für März Bcc: spy@example.org" and message["Bcc"] is None
    assert message["To"].addresses[0].display_name == "Jürgen Groß"
    assert message["X-Tag"] == "a X-Evil: 1" and message["X-Evil"] is None
    body, pdf = message.iter_parts()
    assert body.get_content().strip() == "Grüße" and pdf.get_filename() == "Übersicht.pdf"
    assert message["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"
