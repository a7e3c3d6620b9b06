"""HTTP details: routing, keep-alive friendly bodies (Content-Length or chunked), bad requests."""

from __future__ import annotations

import http.client
import ssl
import threading

from conftest import GET_DRAFTS, envelope, post, session_for


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
