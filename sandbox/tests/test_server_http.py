"""HTTP details: routing, keep-alive friendly bodies (Content-Length or chunked), bad requests."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading

import pytest

from conftest import GET_DRAFTS, envelope, post, session_for
from ews_sandbox import http_server


def test_unknown_path_is_404(sandbox):
    assert session_for(sandbox, None).get(sandbox.url.replace("Exchange.asmx", "nope")).status_code == 404


def test_ews_path_is_case_insensitive_like_iis(sandbox):
    session = session_for(sandbox, "alice")
    response = session.post(sandbox.url.replace("/EWS/Exchange.asmx", "/ews/exchange.asmx"), data=envelope(GET_DRAFTS))
    assert response.status_code == 200


def test_chunked_request_body(sandbox):
    session = session_for(sandbox, None)
    session.auth = ("alice", sandbox.users["alice"].password)
    data = envelope(GET_DRAFTS)
    response = session.post(sandbox.url, data=iter([data[:50], data[50:]]))  # a generator: sent chunked
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200, response.text


def test_bad_content_length_is_400(sandbox):
    host, port = sandbox.url.split("/")[2].rsplit(":", 1)
    connection = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=sandbox.ca_path))
    connection.putrequest("POST", "/EWS/Exchange.asmx")
    connection.putheader("Content-Length", "-5")
    connection.endheaders()
    assert connection.getresponse().status == 400
    connection.close()


def test_concurrent_ntlm_connections(sandbox):
    """Many connections authenticating and working at once: per-connection state stays per connection."""
    users = ["alice", "bob", "carol", "svc"] * 3
    statuses: dict[str, list[int]] = {}

    def work(index: int, user: str):
        session = session_for(sandbox, user)
        statuses[f"{index}-{user}"] = [post(session, sandbox, envelope(GET_DRAFTS)).status_code for _ in range(20)]

    threads = [threading.Thread(target=work, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == len(users)
    assert all(codes == [200] * 20 for codes in statuses.values()), statuses


def _raw_exchange(sandbox, request: bytes, timeout: float = 5) -> bytes:
    """Send ``request`` as is over TLS and return what the server answers before closing (or the timeout)."""
    host, port = sandbox.url.split("/")[2].rsplit(":", 1)
    context = ssl.create_default_context(cafile=sandbox.ca_path)
    with socket.create_connection((host, int(port)), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(request)
            try:
                return tls.recv(65536)
            except (TimeoutError, socket.timeout):
                return b""


@pytest.mark.parametrize("size_line", [b"-1", b"-0x10", b"+10", b"0x10", b"1 0", b"", b"ffffffffffffffffffff"])
def test_a_chunk_size_that_is_not_plain_hex_is_400_not_a_read_until_eof(sandbox, size_line):
    # -1 used to become rfile.read(-1): a body read until the client closes, past the size cap, before any login.
    request = (b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               + size_line + b"\r\n" + b"A" * 100)
    assert _raw_exchange(sandbox, request).startswith(b"HTTP/1.1 400 ")


def test_a_chunked_body_over_the_cap_is_refused(sandbox):
    too_big = b"%x\r\n" % (http_server.MAX_BODY + 1)
    request = b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + too_big
    # Over the EWS request size limit (64 MiB by default): Exchange's 507, not a malformed request's 400.
    assert _raw_exchange(sandbox, request).startswith(b"HTTP/1.1 507 ")
    request = b"POST /_sandbox/seed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + too_big
    assert _raw_exchange(sandbox, request).startswith(b"HTTP/1.1 400 ")


def test_endless_chunk_trailers_are_refused(sandbox):
    trailers = b"X-Pad: p\r\n" * (http_server.MAX_TRAILER_LINES + 1)
    request = (b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
               + trailers + b"\r\n")
    assert _raw_exchange(sandbox, request).startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("headers", [b"Transfer-Encoding: gzip\r\n",
                                     b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"])
def test_other_framings_are_refused(sandbox, headers):
    request = b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n0\r\n\r\n"
    assert _raw_exchange(sandbox, request).startswith(b"HTTP/1.1 400 ")
