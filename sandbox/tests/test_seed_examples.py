"""Microsoft's SendItem reference examples, replayed against the sandbox.

With the namespaces Exchange really uses (http://) the requests get the responses
the page prints; exactly as printed (https://, a documentation error) they get
Exchange's ErrorSchemaValidation fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from conftest import fault_of, post, session_for
from ews_sandbox.namespaces import M, SOAP, T

EXAMPLES = Path(__file__).parent / "seed_examples"
PRINTED_BASE = "https://schemas.microsoft.com/exchange/services/2006/"
REAL_BASE = "http://schemas.microsoft.com/exchange/services/2006/"
ALICE = "alice@sandbox.test"


def corrected(name: str) -> str:
    return (EXAMPLES / name).read_text().replace(PRINTED_BASE, REAL_BASE)


def response_messages(document: bytes) -> list[tuple[str, list[tuple[str, str]]]]:
    """(ResponseClass, [(child element, text)...]) of every SendItemResponseMessage, in order."""
    root = etree.fromstring(document)
    return [(message.get("ResponseClass"), [(etree.QName(child).localname, child.text) for child in message])
            for message in root.iter(f"{{{M}}}SendItemResponseMessage")]


def server_version_info(document: bytes):
    return etree.fromstring(document).find(f"{{{SOAP}}}Header/{{{T}}}ServerVersionInfo")


def test_success_example_with_a_real_draft(clean_sandbox):
    sandbox = clean_sandbox
    [draft] = sandbox.admin.seed(ALICE, count=1, subject="seed example", to=["bob@sandbox.test"])
    request = (corrected("send_item_request.xml")
               .replace('Id="AAAtAEF="', f'Id="{draft["id"]}"')
               .replace('ChangeKey="CQAAABY+T"', f'ChangeKey="{draft["change_key"]}"'))
    assert draft["id"] in request and draft["change_key"] in request

    response = post(session_for(sandbox), sandbox, request.encode(), "SendItem")

    assert response.status_code == 200
    assert server_version_info(response.content) is not None
    expected = corrected("send_item_success_response.xml").encode()
    assert response_messages(response.content) == response_messages(expected) == [
        ("Success", [("ResponseCode", "NoError")])]
    sandbox.admin.wait_for_outbox()
    assert [entry["subject"] for entry in sandbox.admin.deliveries(since=0)] == ["seed example"]


def test_bad_id_example(sandbox):
    response = post(session_for(sandbox), sandbox, corrected("send_item_bad_id_request.xml").encode(), "SendItem")

    assert response.status_code == 200
    assert server_version_info(response.content) is not None
    expected = corrected("send_item_bad_id_response.xml").encode()
    assert response_messages(response.content) == response_messages(expected) == [
        ("Error", [("MessageText", "Id is malformed."), ("ResponseCode", "ErrorInvalidIdMalformed"),
                   ("DescriptiveLinkKey", "0")])]


@pytest.mark.parametrize("name", ["send_item_request.xml", "send_item_bad_id_request.xml"])
def test_examples_as_printed_fail_schema_validation(sandbox, name):
    response = post(session_for(sandbox), sandbox, (EXAMPLES / name).read_bytes(), "SendItem")

    assert response.status_code == 500
    fault = fault_of(response)
    assert (fault["faultcode"], fault["code"]) == ("a:ErrorSchemaValidation", "ErrorSchemaValidation")
    assert PRINTED_BASE + "messages" in fault["faultstring"]
