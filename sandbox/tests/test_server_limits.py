"""Size limits as Exchange sets them: the EWS request size limit (IIS maxAllowedContentLength / WCF
maxReceivedMessageSize, 64 MiB by default) and the message size limit on send (MaxSendSize, 10 MB by default)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from conftest import call, envelope, find_items, post, session_for
from ews_sandbox.testing import PACKAGE_ROOT, SandboxError

BOB = "bob@sandbox.test"


@pytest.fixture
def limited(clean_sandbox):
    """The session sandbox; its limits are put back afterwards."""
    defaults = clean_sandbox.admin.limits()
    yield clean_sandbox
    clean_sandbox.admin.set_limits(**defaults)


def message_with(size: int, disposition: str = "SaveOnly") -> str:
    content = base64.b64encode(os.urandom(size)).decode()
    return ('<m:CreateItem MessageDisposition="%s"><m:Items><t:Message><t:Subject>big</t:Subject><t:Attachments>'
            '<t:FileAttachment><t:Name>big.bin</t:Name><t:Content>%s</t:Content></t:FileAttachment></t:Attachments>'
            '<t:ToRecipients><t:Mailbox><t:EmailAddress>%s</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message>'
            '</m:Items></m:CreateItem>') % (disposition, content, BOB)


def test_the_defaults_are_exchange_2016s(sandbox):
    assert sandbox.admin.limits() == {"max_request_bytes": 64 * 1024 * 1024, "max_send_bytes": 10 * 1024 * 1024}


def test_a_request_over_the_ews_limit_is_a_507_with_no_body_and_nothing_is_done(limited):
    limited.admin.set_limits(max_request_bytes=20_000)
    response = post(session_for(limited), limited, envelope(message_with(20_000)), "CreateItem")
    assert (response.status_code, response.content) == (507, b"")
    assert response.headers["Connection"] == "close"
    assert limited.admin.requests()[-1]["http_status"] == 507
    assert find_items(limited, "drafts") == ("NoError", [])
    [(_, code, _)] = call(limited, "CreateItem", message_with(10_000))      # one under the limit is served
    assert code == "NoError"


def test_a_message_over_the_send_limit_is_error_message_size_exceeded_and_not_sent(limited):
    limited.admin.set_limits(max_send_bytes=50_000)
    # 40,000 bytes fit the store, but base64 in MIME makes them 54,000 and more: over the limit.
    [(_, code, message)] = call(limited, "CreateItem", message_with(40_000))
    assert code == "NoError"
    item_id = message.find(".//{*}ItemId")
    [(klass, code, _)] = call(limited, "SendItem", '<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="%s" '
                              'ChangeKey="%s"/></m:ItemIds></m:SendItem>' % (item_id.get("Id"), item_id.get("ChangeKey")))
    assert (klass, code) == ("Error", "ErrorMessageSizeExceeded")
    [(_, code, _)] = call(limited, "CreateItem", message_with(40_000, "SendAndSaveCopy"))
    assert code == "ErrorMessageSizeExceeded"
    [(_, code, _)] = call(limited, "CreateItem", message_with(30_000, "SendAndSaveCopy"))
    assert code == "NoError"
    limited.admin.wait_for_outbox()
    assert len(limited.admin.deliveries()) == 1
    assert len(find_items(limited, "drafts")[1]) == 1          # the refused SendItem's draft stays


def test_limits_are_checked(sandbox):
    for bad in ({"max_send_bytes": 0}, {"max_request_bytes": "64MB"}, {"max_send_bytes": True}, {"other": 1}):
        with pytest.raises(SandboxError, match="400"):
            sandbox.admin._call("POST", "limits", bad)


def test_serve_options_set_the_limits(tmp_path):
    from ews_sandbox.testing import Sandbox
    with Sandbox(data_dir=tmp_path, options=["--max-request-bytes", "1000000", "--max-send-bytes", "2000"]) as sandbox:
        assert sandbox.admin.limits() == {"max_request_bytes": 1_000_000, "max_send_bytes": 2000}
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    result = subprocess.run([sys.executable, "-m", "ews_sandbox", "serve", "--max-send-bytes", "0"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--max-send-bytes" in result.stderr
