# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EwsClient against servers that lie, bloat, trickle, redirect and echo secrets (issue #10).

Every server here is real (tests/unit/utils/hostile_server.py: sockets, TLS, raw bytes):
what is asserted is what a client would meet on the wire.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import tracemalloc
import warnings

import pytest
import requests
import urllib3

from ansible_collections.exchange.ews.plugins.module_utils import errors
from ansible_collections.exchange.ews.plugins.module_utils.client import EwsClient
from ansible_collections.exchange.ews.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.exchange.ews.plugins.module_utils.retry import RetryPolicy
from ansible_collections.exchange.ews.plugins.module_utils.services.common import folder_id
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.transport import QuietInsecureRequests
from ansible_collections.exchange.ews.tests.unit.utils import hostile_server as hostile
from ansible_collections.exchange.ews.tests.unit.utils.leaks import leaked_forms, secret_echoes

USERNAME = "alice"
# Non-ASCII (so escaped forms differ from the literal) and a distinctive run leak checks look for.
PASSWORD = "S\u00e9cret-Zq7Xw9Vt-\u00f1"
MB = 1 << 20


@pytest.fixture(scope="module")
def server():
    with hostile.HostileServer() as running:
        yield running


@pytest.fixture(scope="module")
def other_host():
    """A second server on another address, over plain HTTP: where a redirect would send credentials."""
    with hostile.HostileServer(tls=False, host="127.0.0.2") as running:
        running.answer(hostile.status(200, b"", "text/plain"))
        yield running


def client_for(server, **options):
    params = {"url": server.url, "username": USERNAME, "password": PASSWORD, "auth": "basic",
              "ca_path": server.ca_path, "timeout": 5}
    params.update(options)
    return EwsClient(ConnectionSettings.from_params(params), retry_policy=RetryPolicy(retries=0))


def get_item(client):
    return GetItem(client).call(["AAMkAGI2TG93AAA="])


# --- 3. redirects ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_is_never_followed_and_names_the_location_host(server, other_host, code):
    server.answer(hostile.redirect(other_host.url, code))
    other_host.answer(hostile.status(200, b"", "text/plain"))
    with client_for(server, auth="ntlm") as client:
        with pytest.raises(errors.EwsResponseLost) as caught:
            client.call("GetItem", request=get_item_request())
    assert other_host.requests == []
    assert len(server.requests) == 1
    assert caught.value.http_status == code
    assert "127.0.0.2" in str(caught.value) and "redirect" in str(caught.value)


def get_item_request():
    from lxml import etree

    from ansible_collections.exchange.ews.plugins.module_utils.services.common import item_ids_element

    request = etree.Element("{%s}GetItem" % hostile.M)
    shape = etree.SubElement(request, "{%s}ItemShape" % hostile.M)
    etree.SubElement(shape, "{%s}BaseShape" % hostile.T).text = "IdOnly"
    request.append(item_ids_element([("AAMkAGI2TG93AAA=", None)]))
    return request


# --- 4. bounds ---------------------------------------------------------------------------------------

def test_a_gzip_bomb_is_cut_at_the_size_limit_counted_after_decompression(server):
    server.answer(hostile.gzip_bomb(1 << 30))
    tracemalloc.start()
    started = time.monotonic()
    try:
        with client_for(server, max_response_mb=8) as client:
            with pytest.raises(errors.EwsResponseLost) as caught:
                client.call("GetItem", request=get_item_request())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert peak < 40 * MB
    assert "8 MB" in str(caught.value)
    assert len(server.requests) == 1  # a lost response is not repeated by the client itself


def test_a_huge_body_is_cut_at_the_size_limit(server):
    server.answer(hostile.huge_body(200 * MB))
    started = time.monotonic()
    with client_for(server, max_response_mb=4) as client:
        with pytest.raises(errors.EwsResponseLost) as caught:
            client.call("GetItem", request=get_item_request())
    assert time.monotonic() - started < 10
    assert caught.value.http_status == 200 and "4 MB" in str(caught.value)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_trickling_body_ends_at_the_timeout(server, chunked):
    server.answer(hostile.trickle(interval=0.05, chunked=chunked))
    started = time.monotonic()
    with client_for(server, timeout=1.5) as client:
        with pytest.raises(errors.EwsResponseLost) as caught:
            client.call("GetItem", request=get_item_request())
    assert time.monotonic() - started < 8
    assert "1.5" in str(caught.value)


def test_endless_find_item_paging_stops_at_the_item_limit(server):
    server.answer(hostile.endless_paging(page_size=50))
    with client_for(server) as client:
        with pytest.raises(errors.EwsError) as caught:
            FindItem(client).find(folder_id("drafts"), limit=400)
    assert "400" in str(caught.value)
    assert len(server.requests) <= 9


def test_max_items_ends_endless_paging_without_an_error(server):
    server.answer(hostile.endless_paging(page_size=50))
    with client_for(server) as client:
        result = FindItem(client).find(folder_id("drafts"), max_items=120)
    assert len(result.items) == 120 and len(server.requests) == 3


# --- 5. error text --------------------------------------------------------------------------------

def test_an_invalid_body_is_quoted_as_a_short_excerpt(server):
    server.answer(hostile.status(200, "<not-xml " + "x" * (2 * MB)))
    with client_for(server) as client:
        with pytest.raises(errors.EwsResponseLost) as caught:
            client.call("GetItem", request=get_item_request())
    assert len(str(caught.value)) < 1500


def test_message_text_in_results_is_bounded(server):
    message = hostile.error_message("GetItem", "ErrorItemNotFound", "y" * (3 * MB))
    server.answer(hostile.soap(hostile.response_messages("GetItem", [message])))
    with client_for(server) as client:
        response = get_item(client)[0]
    assert response.response_code == "ErrorItemNotFound"
    assert len(response.message_text) < 1000


def _echoing_answers():
    """(name, answer) pairs: every place a server can put text the client may show."""
    echoed = " | ".join(secret_echoes(USERNAME, PASSWORD).values())
    return [
        ("fault", hostile.fault("Access denied for " + echoed)),
        ("html", hostile.html(500, "Error " + echoed)),
        ("invalid xml", hostile.status(200, "<oops>" + echoed)),
        ("raw bytes", hostile.status(200, b"\xff\xfe<" + echoed.encode("utf-8") + PASSWORD.encode("latin-1"))),
        ("redirect", hostile.redirect("https://%s.evil.test/?pw=%s" % (
            secret_echoes(USERNAME, PASSWORD)["url-encoded"], echoed))),
        ("message text", hostile.soap(hostile.response_messages("GetItem", [
            hostile.error_message("GetItem", "ErrorAccessDenied", "no: " + echoed)]))),
    ]


@pytest.mark.parametrize("name, answer", _echoing_answers(), ids=[pair[0] for pair in _echoing_answers()])
def test_echoed_secrets_are_redacted_in_every_form(server, name, answer):
    server.answer(answer)
    with client_for(server) as client:
        try:
            shown = repr([m.as_dict() for m in get_item(client)])
        except errors.EwsError as error:
            shown = str(error)
    assert "GetItem" in shown or "ErrorAccessDenied" in shown
    assert leaked_forms(shown, USERNAME, PASSWORD) == []


# --- 6. responses the client refuses to parse are lost responses ------------------------------------

@pytest.mark.parametrize("answer", [
    hostile.with_dtd("doctype"), hostile.with_dtd("xxe"), hostile.with_dtd("billion_laughs"),
    hostile.status(200, "this is not XML"), hostile.truncated_xml(), hostile.dropped(),
    hostile.soap("<m:Unexpected xmlns:m='%s'/>" % hostile.M),
], ids=["doctype", "xxe", "billion-laughs", "not-xml", "truncated-xml", "dropped", "unexpected-element"])
def test_a_response_the_client_refuses_is_a_lost_response(server, answer):
    server.answer(answer)
    with client_for(server) as client:
        with pytest.raises(errors.EwsResponseLost):
            client.call("GetItem", request=get_item_request())


# --- transport classification ----------------------------------------------------------------------

@pytest.mark.parametrize("answer, lost, status", [
    (hostile.status(502, "<html><title>Bad Gateway</title></html>", "text/html"), True, 502),
    (hostile.status(504, "", "text/html"), True, 504),
    (hostile.html(500, "Runtime Error"), True, 500),
    (hostile.status(404, "<html><title>Not Found</title></html>", "text/html"), True, 404),
    (hostile.status(503, "", "text/html"), False, 503),
    (hostile.status(401, "", "text/html"), False, 401),
    (hostile.status(403, "", "text/html"), False, 403),
    (hostile.fault("The request failed schema validation", "ErrorSchemaValidation"), False, None),
], ids=["502", "504", "html-500", "404", "503", "401", "403", "soap-fault"])
def test_only_proof_of_no_processing_is_not_a_lost_response(server, answer, lost, status):
    server.answer(answer)
    with client_for(server) as client:
        with pytest.raises(errors.EwsError) as caught:
            client.call("GetItem", request=get_item_request())
    assert isinstance(caught.value, errors.EwsResponseLost) == lost
    assert caught.value.http_status == status


def test_a_connection_never_opened_is_not_sent_and_retried():
    with hostile.HostileServer(tls=False) as gone:
        url = gone.url
    settings = ConnectionSettings.from_params({"url": url, "username": USERNAME, "password": PASSWORD,
                                               "allow_http": True})
    sleeps = []
    with EwsClient(settings, retry_policy=RetryPolicy(retries=2, sleep=sleeps.append)) as client:
        with pytest.raises(errors.EwsNotSent):
            client.call("GetItem", request=get_item_request())
    assert len(sleeps) == 2


def test_a_lost_response_is_not_retried(server):
    server.answer(hostile.dropped())
    sleeps = []
    with client_for(server) as client:
        client.retry_policy = RetryPolicy(retries=2, sleep=sleeps.append)
        with pytest.raises(errors.EwsResponseLost):
            client.call("GetItem", request=get_item_request())
    assert sleeps == [] and len(server.requests) == 1


# --- 7. TLS and transport -------------------------------------------------------------------------

def test_validate_certs_false_warns_naming_the_host_and_leaves_process_warnings_alone(server):
    server.answer(hostile.soap(hostile.response_messages("GetItem", [
        hostile.error_message("GetItem", "ErrorItemNotFound", "gone")])))
    filters_before = list(warnings.filters)
    with client_for(server, validate_certs=False, ca_path=None) as client:
        assert any("127.0.0.1" in warning and "validate_certs" in warning for warning in client.settings.warnings)
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            get_item(client)
        assert not [w for w in shown if issubclass(w.category, urllib3.exceptions.InsecureRequestWarning)]
    assert warnings.filters == filters_before
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        requests.post(server.url, data=b"", verify=False, timeout=5)
    assert [w for w in shown if issubclass(w.category, urllib3.exceptions.InsecureRequestWarning)]


def test_unverified_requests_side_by_side_give_the_process_its_warning_filters_back():
    filters_before = list(warnings.filters)
    first, second = QuietInsecureRequests(), QuietInsecureRequests()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first request ends while the second still runs
    assert warnings.filters != filters_before  # still quiet for the second
    second.__exit__(None, None, None)
    assert warnings.filters == filters_before


def test_server_time_is_the_date_header_of_the_last_response(server):
    server.answer(hostile.status(200, hostile.envelope(hostile.response_messages("GetItem", [
        hostile.error_message("GetItem", "ErrorItemNotFound", "gone")])),
        headers=[("Date", "Tue, 15 Nov 1994 08:12:31 GMT")]),
        hostile.soap(hostile.response_messages("GetItem", [
            hostile.error_message("GetItem", "ErrorItemNotFound", "gone")])))
    with client_for(server) as client:
        assert client.server_time is None
        get_item(client)
        assert client.server_time.isoformat() == "1994-11-15T08:12:31+00:00"
        get_item(client)
        assert client.server_time is None


# -- request-level failures users meet first (issue 11, case 6) ----------------------------------


def test_ews_blocked_by_tenant_policy_names_the_policy_the_dates_and_graph(server):
    server.answer(hostile.status(403, b"", "text/html", headers=[("X-EWS-Policy-Reason", "EwsBlockedByTenantPolicy")]))
    with client_for(server) as client:
        with pytest.raises(errors.EwsPolicyBlocked) as info:
            get_item(client)
    text = str(info.value)
    assert info.value.http_status == 403
    for expected in ("EwsBlockedByTenantPolicy", "EWSEnabled", "EwsAllowedAppIDs", "1 October 2026", "1 April 2027",
                     "api: graph"):
        assert expected in text, (expected, text)


def test_a_plain_403_is_an_access_refusal_not_a_policy(server):
    server.answer(hostile.status(403, b"", "text/html"))
    with client_for(server) as client:
        with pytest.raises(errors.EwsAuthError) as info:
            get_item(client)
    assert not isinstance(info.value, errors.EwsPolicyBlocked) and "HTTP 403" in str(info.value)


def test_a_host_that_does_not_resolve_fails_at_once_naming_it():
    policy = RetryPolicy(retries=5)
    settings = ConnectionSettings.from_params({"url": "https://no-such-host.invalid/EWS/Exchange.asmx",
                                               "username": USERNAME, "password": PASSWORD})
    with EwsClient(settings, retry_policy=policy) as client:
        with pytest.raises(errors.EwsHostNotFound) as info:
            get_item(client)
    assert "no-such-host.invalid" in str(info.value) and "Max retries" not in str(info.value)
    assert policy.attempts_log == []      # a name that does not resolve is not retried
