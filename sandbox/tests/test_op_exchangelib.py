"""End to end through the HTTPS/NTLM sandbox with exchangelib, a real-world EWS client."""

import pytest
import requests

import exchangelib  # pinned in requirements/test.txt: missing is an error, never a skip
from exchangelib import (DELEGATE, NTLM, Account, Build, Configuration, Credentials,
                         ExtendedProperty, Mailbox, Message, Version)
from exchangelib.protocol import BaseProtocol

MARKER_SET = "2d0c7b1e-7f5c-4c8e-9a39-65d2b8a0f0e1"


class SendMarker(ExtendedProperty):
    property_set_id = MARKER_SET
    property_name = "ExchangeEwsSendMarker"
    property_type = "String"


@pytest.fixture
def accounts(clean_sandbox, monkeypatch):
    """exchangelib accounts: alice in her own mailbox, bob (her delegate) in alice's mailbox."""
    ca_path = clean_sandbox.ca_path

    class TrustSandboxCa(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn, url, verify, cert):
            super().cert_verify(conn, url, ca_path, cert)

    monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", TrustSandboxCa)
    Message.register("send_marker", SendMarker)
    made = {}
    for login, mailbox in (("alice", "alice"), ("bob", "alice")):
        user = clean_sandbox.users[login]
        config = Configuration(service_endpoint=clean_sandbox.url, credentials=Credentials(login, user.password),
                               auth_type=NTLM, version=Version(Build(15, 1, 2507, 6)))
        made[login] = Account(primary_smtp_address=clean_sandbox.users[mailbox].smtp, config=config,
                              autodiscover=False, access_type=DELEGATE)
    yield made
    Message.deregister("send_marker")
    for account in made.values():
        account.protocol.close()


def test_draft_life_cycle(accounts, clean_sandbox):
    alice = accounts["alice"]
    draft = Message(account=alice, folder=alice.drafts, subject="Quarterly", body="numbers",
                    to_recipients=[Mailbox(email_address="bob@sandbox.test")], send_marker="m-1")
    draft.save()
    first_key = draft.changekey
    draft.subject = "Quarterly report"
    draft.save(update_fields=["subject"])
    assert draft.changekey != first_key
    fetched, = alice.fetch(ids=[(draft.id, draft.changekey)])
    assert (fetched.subject, fetched.send_marker, fetched.is_draft) == ("Quarterly report", "m-1", True)
    assert [m.subject for m in alice.drafts.filter(send_marker="m-1")] == ["Quarterly report"]
    assert alice.drafts.all().count() == 1
    draft.send(save_copy=True)
    clean_sandbox.admin.wait_for_outbox()
    saved, = alice.sent.filter(send_marker="m-1")
    assert saved.id != draft.id and saved.is_draft is False
    deliveries = clean_sandbox.admin.deliveries()
    assert [(d["marker"], d["route"]) for d in deliveries] == [("m-1", "local")]


def test_paging_through_many_drafts(accounts, clean_sandbox):
    clean_sandbox.admin.seed("alice@sandbox.test", count=250, subject="Bulk {n}")
    subjects = list(accounts["alice"].drafts.all().order_by("subject").values_list("subject", flat=True))
    assert len(subjects) == 250 and len(set(subjects)) == 250


def test_delegate_send_names_the_principal_mailbox(accounts, clean_sandbox):
    """exchangelib always names the mailbox of a distinguished folder: the seed's workaround, so no quirk."""
    alice, bob = accounts["alice"], accounts["bob"]
    draft = Message(account=bob, folder=bob.drafts, subject="on behalf", to_recipients=["carol@sandbox.test"])
    draft.save()
    draft_id = draft.id
    draft.send()
    clean_sandbox.admin.wait_for_outbox()
    assert [m.subject for m in alice.sent.all()] == ["on behalf"]
    assert list(alice.fetch(ids=[(draft_id, None)]))[0].__class__.__name__ == "ErrorItemNotFound"
    assert [d["route"] for d in clean_sandbox.admin.deliveries()] == ["local"]
