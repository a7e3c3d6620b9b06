"""Deferred delivery: PidTagDeferredSendTime (0x3FEF, SystemTime) keeps a sent message in the Outbox until then;
the due time is persisted with the submission and survives a restart."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from conftest import call, find_items
from ews_sandbox.testing import Sandbox

BOB = "bob@sandbox.test"


def deferred_until(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def send_deferred(sandbox, when: str, subject: str = "later") -> None:
    [(_, code, message)] = call(sandbox, "CreateItem", (
        '<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message><t:Subject>%s</t:Subject>'
        '<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x3FEF" PropertyType="SystemTime"/>'
        '<t:Value>%s</t:Value></t:ExtendedProperty><t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress>'
        '</t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>') % (subject, when, BOB))
    assert code == "NoError", message.findtext("{*}MessageText")


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_deferred_message_waits_in_the_outbox_until_its_time(clean_sandbox):
    when = deferred_until(3)          # in whole seconds: 2 to 3 s from now
    send_deferred(clean_sandbox, when)
    [pending] = clean_sandbox.admin.outbox()["pending"]
    assert pending["due"] == when and pending["due_in_ms"] <= 3000
    _, in_outbox = find_items(clean_sandbox, "outbox")
    still_early = time.time() < epoch(when) - 0.5      # a loaded machine may have taken that long already
    assert len(in_outbox) == 1 or not still_early
    assert clean_sandbox.admin.deliveries() == [] or not still_early
    clean_sandbox.admin.wait_for_outbox(timeout=10)
    [entry] = clean_sandbox.admin.deliveries()
    assert epoch(entry["time"]) >= epoch(when)


def test_a_deferred_time_in_the_past_sends_at_once(clean_sandbox):
    send_deferred(clean_sandbox, "2001-01-01T00:00:00Z", "past")
    clean_sandbox.admin.wait_for_outbox(timeout=10)
    assert [d["subject"] for d in clean_sandbox.admin.deliveries()] == ["past"]


def test_a_deferred_time_that_is_no_time_is_refused(clean_sandbox):
    [(_, code, _)] = call(clean_sandbox, "CreateItem", (
        '<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:ExtendedProperty><t:ExtendedFieldURI '
        'PropertyTag="0x3FEF" PropertyType="SystemTime"/><t:Value>tomorrow</t:Value></t:ExtendedProperty></t:Message>'
        '</m:Items></m:CreateItem>'))
    assert code == "ErrorInvalidExtendedPropertyValue"


def test_a_deferred_message_survives_a_restart_and_is_delivered_once_on_time(tmp_path):
    with Sandbox(data_dir=tmp_path) as first:
        when = deferred_until(2)
        send_deferred(first, when)
    with Sandbox(data_dir=tmp_path) as second:
        # Still waiting with its due time, unless the restart took until then (a loaded machine).
        assert [p["due"] for p in second.admin.outbox()["pending"]] in ([when], [])
        second.admin.wait_for_outbox(timeout=10)
        [entry] = second.admin.deliveries()
        assert epoch(entry["time"]) >= epoch(when)
