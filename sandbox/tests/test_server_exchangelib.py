"""A third-party EWS client (exchangelib) talks to the sandbox and understands its faults."""

from __future__ import annotations

import pytest
import requests.adapters

import exchangelib  # pinned in requirements/test.txt: missing is an error, never a skip
from exchangelib import DELEGATE, NTLM, Account, Build, Configuration, Credentials, Version
from exchangelib import errors as ews_errors
from exchangelib.protocol import BaseProtocol


@pytest.fixture
def account(clean_sandbox, monkeypatch):
    sandbox = clean_sandbox

    class TrustSandboxCA(requests.adapters.HTTPAdapter):
        # exchangelib sets no `verify`; and REQUESTS_CA_BUNDLE would win over a session default anyway.
        def cert_verify(self, conn, url, verify, cert):
            super().cert_verify(conn, url, sandbox.ca_path, cert)

    monkeypatch.setattr(BaseProtocol, "HTTP_ADAPTER_CLS", TrustSandboxCA)
    config = Configuration(service_endpoint=sandbox.url, auth_type=NTLM,
                           credentials=Credentials("alice", sandbox.users["alice"].password),
                           version=Version(Build(15, 1, 2507, 6)))
    account = Account("alice@sandbox.test", config=config, autodiscover=False, access_type=DELEGATE)
    yield sandbox, account
    account.protocol.close()


def test_find_and_get_items(account):
    sandbox, account = account
    sandbox.admin.seed("alice@sandbox.test", count=2, subject="hello {n}")
    assert sorted(item.subject for item in account.drafts.all()) == ["hello 1", "hello 2"]


def test_server_busy_back_off_is_understood(account):
    sandbox, account = account
    sandbox.admin.add_fault("server_busy", back_off_ms=1500)
    with pytest.raises(ews_errors.ErrorServerBusy) as busy:
        account.drafts.all().count()
    assert busy.value.back_off == 1.5


def test_soap_fault_code_is_understood(account):
    sandbox, account = account
    sandbox.admin.add_fault("soap_fault", code="ErrorMailboxStoreUnavailable")
    with pytest.raises(ews_errors.ErrorMailboxStoreUnavailable):
        account.drafts.all().count()


def test_a_message_with_attachments_round_trips(account):
    """exchangelib's own requests: CreateItem, CreateAttachment (inline and not), SendItem, GetItem, GetAttachment."""
    sandbox, account = account
    from exchangelib import FileAttachment, HTMLBody, Mailbox, Message

    message = Message(account=account, folder=account.drafts, subject="with files", importance="High",
                      body=HTMLBody('<p><img src="cid:logo@example"></p>'), to_recipients=[Mailbox(email_address="bob@sandbox.test")])
    message.attach(FileAttachment(name="report.pdf", content=b"%PDF numbers"))
    message.attach(FileAttachment(name="logo.png", content=b"png", is_inline=True, content_id="logo@example"))
    message.save()
    [saved] = account.drafts.all()
    assert saved.has_attachments and sorted(a.name for a in saved.attachments) == ["logo.png", "report.pdf"]
    assert {a.name: a.content for a in saved.attachments}["report.pdf"] == b"%PDF numbers"   # GetAttachment
    saved.send(save_copy=True)
    sandbox.admin.wait_for_outbox()
    [sent] = account.sent.all()
    assert sorted(a.name for a in sent.attachments) == ["logo.png", "report.pdf"]
