# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EwsClient against canned HTTP answers: the faults a real server cannot be made to produce on demand
(HTML pages, malformed faults) and the exact wire format of requests."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import requests
from lxml import etree

from ansible_collections.exchange.ews.plugins.module_utils import errors
from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy

M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
NS = {"m": M, "t": T, "s": "http://schemas.xmlsoap.org/soap/envelope/"}
PASSWORD = "Passw0rd-alice"

SEND_RESPONSE = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>
<t:ServerVersionInfo MajorVersion="8" MinorVersion="0" MajorBuildNumber="602" MinorBuildNumber="0"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>
<s:Body><SendItemResponse xmlns:m="%(M)s" xmlns:t="%(T)s" xmlns="%(M)s"><m:ResponseMessages>
<m:SendItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode></m:SendItemResponseMessage>
<m:SendItemResponseMessage ResponseClass="Error"><m:MessageText>Id is malformed.</m:MessageText>
<m:ResponseCode>ErrorInvalidIdMalformed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>
</m:SendItemResponseMessage></m:ResponseMessages></SendItemResponse></s:Body></s:Envelope>""" % {"M": M, "T": T}

BUSY_FAULT = """<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode xmlns:a="%(T)s">a:ErrorServerBusy</faultcode><faultstring>The server cannot service this request right now.</faultstring>
<detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>
<t:MessageXml xmlns:t="%(T)s"><t:Value Name="BackOffMilliseconds">250</t:Value></t:MessageXml></detail>
</s:Fault></s:Body></s:Envelope>""" % {"T": T}


class FakeResponse:
    def __init__(self, status, body, content_type="text/xml; charset=utf-8", headers=None):
        self.status_code = status
        self.text = body
        self.content = body.encode("utf-8")
        self.encoding = "utf-8"
        self.headers = {"Content-Type": content_type}
        self.headers.update(headers or {})


class FakeSession(requests.Session):
    """Answers each request with the next queued response (or raises a queued exception)."""

    def __init__(self, *answers):
        super(FakeSession, self).__init__()
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, data=None, headers=None, **kwargs):
        self.sent.append((url, data, headers))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def settings(**overrides):
    params = {"url": "https://ews.example.test/EWS/Exchange.asmx", "username": "alice", "password": PASSWORD}
    params.update(overrides)
    return ConnectionSettings.from_params(params)


def make_client(*answers, **overrides):
    """(client, session, sleeps): the fake session records requests, sleeps the retry waits."""
    sleeps = []
    session = FakeSession(*answers)
    client = EwsClient(settings(**overrides), session=session,
                       retry_policy=RetryPolicy(retries=2, timeout=10, max_delay=5, sleep=sleeps.append))
    return client, session, sleeps


def test_send_item_seed_examples_success_and_malformed_id():
    client, session = make_client(FakeResponse(200, SEND_RESPONSE))[:2]
    messages = client.call("SendItem", ItemIds={"ItemId": [{"Id": "AAAtAEF=", "ChangeKey": "CQAAABY+T"},
                                                           {"Id": "%BadItemId%", "ChangeKey": "CQAAABYAAA"}]},
                           SaveItemToFolder=True)
    assert [m.as_dict() for m in messages] == [
        {"response_class": "Success", "response_code": "NoError", "message_text": None},
        {"response_class": "Error", "response_code": "ErrorInvalidIdMalformed", "message_text": "Id is malformed."},
    ]
    assert client.server_version_info["MajorBuildNumber"] == 602
    url, body, headers = session.sent[0]
    assert headers["SOAPAction"] == '"http://schemas.microsoft.com/exchange/services/2006/messages/SendItem"'
    envelope = etree.fromstring(body)
    assert envelope.find("s:Header/t:RequestServerVersion", NS).get("Version") == "Exchange2013_SP1"
    send = envelope.find("s:Body/m:SendItem", NS)
    assert send.get("SaveItemToFolder") == "true"
    assert [i.get("Id") for i in send.findall("m:ItemIds/t:ItemId", NS)] == ["AAAtAEF=", "%BadItemId%"]


def test_impersonation_and_culture_headers():
    client, session = make_client(FakeResponse(200, SEND_RESPONSE), impersonate="alice@sandbox.test",
                                  culture="en-US", server_version="Exchange2016")[:2]
    client.call("SendItem", ItemIds={"ItemId": [{"Id": "A"}, {"Id": "B"}]}, SaveItemToFolder=False)
    header = etree.fromstring(session.sent[0][1]).find("s:Header", NS)
    assert header.findtext("t:ExchangeImpersonation/t:ConnectingSID/t:PrimarySmtpAddress", namespaces=NS) \
        == "alice@sandbox.test"
    assert header.findtext("t:MailboxCulture", namespaces=NS) == "en-US"
    assert header.find("t:RequestServerVersion", NS).get("Version") == "Exchange2016"


def test_server_busy_is_retried_with_back_off_then_raised():
    client, session, sleeps = make_client(*[FakeResponse(500, BUSY_FAULT)] * 3)
    with pytest.raises(errors.EwsServerBusy) as info:
        client.call("GetItem", ItemShape={"BaseShape": "IdOnly"}, ItemIds={"ItemId": [{"Id": "A"}]})
    assert sleeps == [0.25, 0.25]
    assert len(session.sent) == 3
    assert info.value.response_code == "ErrorServerBusy"
    assert "GetItem" in str(info.value)


def test_503_honours_retry_after_then_succeeds():
    client, session, sleeps = make_client(FakeResponse(503, "", "text/html", {"Retry-After": "2"}),
                                          FakeResponse(200, SEND_RESPONSE))
    assert len(client.call("SendItem", ItemIds={"ItemId": [{"Id": "A"}, {"Id": "B"}]},
                           SaveItemToFolder=True)) == 2
    assert sleeps == [2.0]


def test_html_error_page_is_a_clear_error():
    page = "<html><head><title>404 - File or directory not found.</title></head></html>"
    client = make_client(FakeResponse(404, page, "text/html"))[0]
    with pytest.raises(errors.EwsHttpStatusError) as info:
        client.call("GetItem", ItemShape={"BaseShape": "IdOnly"}, ItemIds={"ItemId": [{"Id": "A"}]})
    assert "404 - File or directory not found." in str(info.value)
    assert "HTTP 404" in str(info.value)


def test_401_never_shows_the_password():
    client = make_client(FakeResponse(401, "", "text/html"))[0]
    with pytest.raises(errors.EwsAuthError) as info:
        client.call("GetItem", ItemShape={"BaseShape": "IdOnly"}, ItemIds={"ItemId": [{"Id": "A"}]})
    assert PASSWORD not in str(info.value)
    assert "HTTP 401" in str(info.value)


def test_redact_masks_secrets_and_auth_headers():
    text = errors.redact("Authorization: NTLM TlRMTVNTUAADAAAAGAAYAHAAAAA= password=hunter2 x", ["hunter2"])
    assert "TlRMTVNTUAAD" not in text and "hunter2" not in text
