import smtplib

import pytest

from ews_sandbox import delivery as delivery_module
from ews_sandbox.store import extended_key

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
    (smarthost, mail_from, rcpt, mime), = relayed
    assert (smarthost, mail_from, rcpt, entry["undelivered"]) == (("127.0.0.1", 2525), ALICE, ["x@example.org"], [])
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
