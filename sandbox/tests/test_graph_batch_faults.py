"""JSON batching, the mailbox concurrency limit, and faults injected into Graph requests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import GET_DRAFTS, envelope, graph_error, graph_session, post, session_for
from ews_sandbox.testing import PACKAGE_ROOT, SandboxError

MESSAGES = "/users/alice@sandbox.test/messages"


def batch(session, sandbox, requests_: list[dict]) -> requests.Response:
    return session.post(f"{sandbox.graph_url}/$batch", json={"requests": requests_})


def gets(count: int, depends: bool = False) -> list[dict]:
    return [{"id": str(n), "method": "GET", "url": MESSAGES + "?$top=1",
             **({"dependsOn": [str(n - 1)]} if depends and n > 1 else {})} for n in range(1, count + 1)]


def test_batch_limits_and_shape(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    assert graph_error(batch(graph, sandbox, gets(21)))[:2] == (400, "BadRequest")
    created = {"id": "c", "method": "POST", "url": MESSAGES, "headers": {"Content-Type": "application/json"},
               "body": {"subject": "In a batch"}}
    answer = batch(graph, sandbox, [created, {"id": "g", "method": "GET", "url": "users/alice@sandbox.test/messages"}])
    assert answer.status_code == 200
    by_id = {response["id"]: response for response in answer.json()["responses"]}
    assert by_id["c"]["status"] == 201 and by_id["c"]["body"]["subject"] == "In a batch"
    assert by_id["g"]["status"] == 200
    no_type = dict(created, headers={})
    assert graph_error(batch(graph, sandbox, [no_type]))[2].startswith("Write request id : c does not contain")


def test_a_failed_dependency_is_424(sandbox):
    graph = graph_session(sandbox)
    requests_ = [{"id": "1", "method": "GET", "url": MESSAGES + "/AAMkAGI2"},
                 {"id": "2", "method": "GET", "url": MESSAGES, "dependsOn": ["1"]}]
    statuses = [(r["id"], r["status"]) for r in batch(graph, sandbox, requests_).json()["responses"]]
    assert statuses == [("1", 400), ("2", 424)]


def test_parallel_batch_requests_past_four_are_throttled(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    parallel = batch(graph, sandbox, gets(6)).json()["responses"]
    assert [r["id"] for r in parallel] == ["6", "5", "4", "3", "2", "1"]   # any order: the sandbox reverses
    throttled = [r for r in parallel if r["status"] == 429]
    assert [r["id"] for r in throttled] == ["6", "5"]
    assert throttled[0]["headers"]["Retry-After"] == "1"
    assert throttled[0]["body"]["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert {r["status"] for r in batch(graph, sandbox, gets(6, depends=True)).json()["responses"]} == {200}
    sandbox.admin.set_graph_settings(batch_concurrency="queue")
    assert {r["status"] for r in batch(graph, sandbox, gets(6)).json()["responses"]} == {200}


def test_a_fifth_concurrent_request_on_a_mailbox_is_throttled(clean_sandbox):
    sandbox = clean_sandbox
    token = sandbox.graph_token()
    sandbox.admin.add_graph_fault("delay", operation="ListMessages", times=4, delay_ms=600)
    statuses = []

    def list_messages():
        statuses.append(graph_session(sandbox, token=token).get(sandbox.graph_url + MESSAGES).status_code)

    threads = [threading.Thread(target=list_messages) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while sandbox.admin.faults() and time.monotonic() < deadline:    # until all four hold their slots
        time.sleep(0.02)
    fifth = graph_session(sandbox, token=token).get(sandbox.graph_url + MESSAGES)
    other_mailbox = graph_session(sandbox, token=token).get(sandbox.graph_url + "/users/bob@sandbox.test/messages")
    for thread in threads:
        thread.join()
    assert graph_error(fifth)[:2] == (429, "ApplicationThrottled") and fifth.headers["Retry-After"] == "1"
    assert other_mailbox.status_code == 200 and statuses == [200] * 4


@pytest.mark.parametrize("kind, fields, status, code, retry_after", [
    ("http_429", {"retry_after": 7}, 429, "TooManyRequests", "7"),
    ("http_503", {"retry_after": 3}, 503, "ServiceUnavailable", "3"),
    ("graph_error", {"status": 412, "code": "ErrorIrresolvableConflict"}, 412, "ErrorIrresolvableConflict", None),
])
def test_faults_answer_instead_of_the_operation(clean_sandbox, kind, fields, status, code, retry_after):
    sandbox = clean_sandbox
    sandbox.admin.add_graph_fault(kind, operation="ListMessages", **fields)
    graph = graph_session(sandbox)
    answer = graph.get(sandbox.graph_url + MESSAGES)
    assert graph_error(answer)[:2] == (status, code)
    assert answer.headers.get("Retry-After") == retry_after
    assert graph.get(sandbox.graph_url + MESSAGES).status_code == 200


def test_faults_keep_to_their_api(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_graph_fault("http_503")
    assert post(session_for(sandbox), sandbox, envelope(GET_DRAFTS)).status_code == 200   # EWS: untouched
    sandbox.admin.add_fault("http_503")
    graph = graph_session(sandbox)
    assert graph.get(sandbox.graph_url + MESSAGES).status_code == 503          # the Graph fault
    assert graph.get(sandbox.graph_url + MESSAGES).status_code == 200          # the EWS one stays for EWS
    assert [f["api"] for f in sandbox.admin.faults()] == ["ews"]
    with pytest.raises(SandboxError, match="does not apply"):
        sandbox.admin.add_graph_fault("soap_fault")


def test_a_fault_inside_a_batch(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.add_graph_fault("http_429", operation="ListMessages", retry_after=2)
    responses = batch(graph_session(sandbox), sandbox, gets(2, depends=True)).json()["responses"]
    assert [(r["status"], r["headers"].get("Retry-After")) for r in responses] == [(429, "2"), (424, None)]


def test_a_send_whose_answer_is_lost_still_sends(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = graph.post(sandbox.graph_url + MESSAGES, json={
        "subject": "Lost answer", "toRecipients": [{"emailAddress": {"address": "bob@sandbox.test"}}]}).json()
    sandbox.admin.add_graph_fault("drop_after_commit", operation="SendMessage")
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.post(f"{sandbox.graph_url}{MESSAGES}/{created['id']}/send")
    sandbox.admin.add_graph_fault("http_504_after_commit", operation="Batch")
    again = batch(graph, sandbox, [{"id": "1", "method": "POST", "url": f"{MESSAGES}/{created['id']}/send"}])
    assert again.status_code == 504          # the batch ran (404: the draft is in the Outbox), its answer was lost
    sandbox.admin.wait_for_outbox()
    assert [d["subject"] for d in sandbox.admin.deliveries()] == ["Lost answer"]
    assert [(r["operation"], r["http_status"]) for r in sandbox.admin.requests()[-2:]] == [("SendMessage", 0),
                                                                                          ("Batch", 504)]


def test_graph_faults_and_settings_from_the_cli(clean_sandbox):
    sandbox = clean_sandbox
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), EWS_CA_PATH=sandbox.ca_path, EWS_ADMIN_URL=sandbox.admin_url)
    added = subprocess.run([sys.executable, "-m", "ews_sandbox", "fault", "add", "--api", "graph", "--kind",
                            "graph_error", "--status", "412", "--code", "ErrorIrresolvableConflict", "--operation",
                            "UpdateMessage"], env=env, capture_output=True, text=True, timeout=30)
    assert added.returncode == 0, added.stderr
    [fault] = sandbox.admin.faults()
    assert (fault["api"], fault["status"], fault["operation"]) == ("graph", 412, "UpdateMessage")
    changed = subprocess.run([sys.executable, "-m", "ews_sandbox", "graph", "--if-match", "honoured"], env=env,
                             capture_output=True, text=True, timeout=30)
    assert changed.returncode == 0, changed.stderr
    assert sandbox.admin.graph_settings()["if_match"] == "honoured"
    with pytest.raises(SandboxError, match="if_match"):
        sandbox.admin.set_graph_settings(if_match="sometimes")


def test_the_latency_model_names_graph_operations(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    sandbox.admin.set_latency(operations={"ListMessages": {"request_ms": 300}})
    try:
        started = time.perf_counter()
        assert graph.get(sandbox.graph_url + MESSAGES).ok
        assert time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        assert graph.get(f"{sandbox.graph_url}{MESSAGES}/AAMkAGI2").status_code == 400   # GetMessage: no cost
        assert time.perf_counter() - started < 0.3
    finally:
        sandbox.admin.set_latency(operations={})
