# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed messages (the message module's core) against the real EWS sandbox over HTTPS and NTLM.

The ground truth is the sandbox's delivery log, read once its Outbox has drained.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import threading

import pytest

from ansible_collections.exchange.ews.plugins.module_utils import messages
from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError
from ansible_collections.exchange.ews.tests.unit.utils.sandbox_clients import client_for

ALICE, BOB, CAROL, TEAM = "alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test", "team@sandbox.test"
KEY_PROPERTY = {"property_set_id": "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1", "property_name": "ExchangeEwsDraftKey",
                "property_type": "String"}
LOGO = b"\x89PNG\r\n\x1a\n a logo"


@pytest.fixture
def admin(sandbox):
    sandbox.admin.reset()
    sandbox.admin.set_submission_delay(0)
    return sandbox.admin


def params(**options):
    """The module's parameters: its defaults, then ``options``."""
    values = dict((name, spec.get("default")) for name, spec in messages.ARGUMENT_SPEC.items())
    values.update(options)
    return values


def report(**options):
    """The task of the integration target: HTML, two files and an inline logo, cc, importance high."""
    values = dict(
        key="weekly-19", subject="Weekly report 19", to=[BOB], cc=[CAROL], importance="high", body_type="html",
        body='<p>Numbers attached.</p><img src="cid:logo@example">',
        attachments=[
            {"name": "numbers.csv", "content": "week,sent\n19,42\n"},
            {"name": "summary.txt", "content": "All good."},
            {"name": "logo.png", "content": base64.b64encode(LOGO).decode(), "encoding": "base64",
             "content_id": "logo@example"},
        ])
    values.update(options)
    return params(**values)


def run(sandbox, values, login="alice", check_mode=False, state=None):
    """One run of the module's work: ``(result, warnings)``; raises what the module would fail with."""
    spec = messages.MessageSpec.from_params(values)
    with client_for(sandbox, login) as client:
        keyed = messages.KeyedMessage(client, spec, check_mode=check_mode, deadline=60)
        result = keyed.run(state or values["state"] or "sent")
    return result, keyed.warnings


def delivered(admin, subject):
    admin.wait_for_outbox()
    return [entry for entry in admin.deliveries() if entry["subject"] == subject]


def concurrently(count, work):
    """Run ``work(index)`` in ``count`` threads started together; their results (or exceptions) by index."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(index):
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except Exception as error:  # pylint: disable=broad-exception-caught
            outcomes[index] = error
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# -- concurrency ------------------------------------------------------------------------------------

@pytest.mark.parametrize("existing_draft", [False, True], ids=["no draft yet", "a draft exists"])
def test_eight_concurrent_runs_deliver_one_message(sandbox, admin, existing_draft):
    subject = "Concurrent %s" % existing_draft
    if existing_draft:
        admin.seed(ALICE, count=1, subject="prepared", to=[BOB], extended_properties=[
            dict(KEY_PROPERTY, value="concurrent-%s" % existing_draft)])
    outcomes = concurrently(8, lambda index: run(sandbox, report(key="concurrent-%s" % existing_draft,
                                                                 subject=subject))[0])
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert errors == []
    assert len(delivered(admin, subject)) == 1
    assert sorted(outcome["changed"] for outcome in outcomes).count(True) >= 1
    assert [outcome["sent"] for outcome in outcomes] == [True] * 8
    assert sorted(outcome["status"] for outcome in outcomes) == ["already_sent"] * 7 + ["sent"]
    assert len({outcome["internet_message_id"] for outcome in outcomes}) == 1
    # The losers' drafts are gone: nothing with the key is left in Drafts.
    rerun = run(sandbox, report(key="concurrent-%s" % existing_draft, subject=subject), state="draft")[0]
    assert rerun["sent"] is True and "id" not in rerun


# -- Send As and on behalf ----------------------------------------------------------------------------

def test_send_as_without_the_right_is_refused_clearly(sandbox, admin):
    with pytest.raises(EwsError) as refused:
        run(sandbox, report(key="send-as-denied", subject="Not from carol", **{"from": ALICE}), login="carol")
    assert refused.value.response_code == "ErrorSendAsDenied"
    assert "Send As" in str(refused.value) and ALICE in str(refused.value)
    assert delivered(admin, "Not from carol") == []


def test_send_as_with_the_right_sends_from_the_shared_mailbox(sandbox, admin):
    result = run(sandbox, report(key="send-as", subject="From the team", **{"from": TEAM}), login="bob")[0]
    assert result["sent"] and result["changed"]
    [entry] = delivered(admin, "From the team")
    assert (entry["from"], entry["sender"]) == (TEAM, TEAM)


def test_on_behalf_a_delegate_sends_from_the_principals_mailbox(sandbox, admin):
    result = run(sandbox, report(key="behalf", subject="On behalf", mailbox=ALICE), login="bob")[0]
    assert result["sent"]
    [entry] = delivered(admin, "On behalf")
    assert (entry["from"], entry["sender"], entry["mailbox"]) == (ALICE, BOB, ALICE)
