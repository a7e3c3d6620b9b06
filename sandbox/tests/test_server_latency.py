"""The latency model: every round trip and every item costs the time a distant server would take."""

from __future__ import annotations

import time

import pytest

from conftest import GET_DRAFTS, envelope, post, session_for
from ews_sandbox.testing import Sandbox, SandboxError

ALICE = "alice@sandbox.test"


def timed(session, sandbox, data: bytes, operation: str = "GetFolder") -> float:
    started = time.perf_counter()
    assert post(session, sandbox, data, operation).status_code == 200
    return time.perf_counter() - started


def get_items(drafts) -> bytes:
    ids = "".join(f'<t:ItemId Id="{d["id"]}"/>' for d in drafts)
    return envelope(f'<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds>{ids}'
                    '</m:ItemIds></m:GetItem>')


@pytest.fixture
def modelled(clean_sandbox):
    yield clean_sandbox
    clean_sandbox.admin.set_latency(request_ms=0, item_ms=0, operations={})


def test_request_item_and_operation_costs(modelled):
    sandbox = modelled
    drafts = sandbox.admin.seed(ALICE, count=4)
    session = session_for(sandbox)
    post(session, sandbox, envelope(GET_DRAFTS))                 # authenticated before timing
    assert sandbox.admin.set_latency(request_ms=150, item_ms=40) == {"request_ms": 150.0, "item_ms": 40.0,
                                                                     "operations": {}}
    assert timed(session, sandbox, envelope(GET_DRAFTS)) >= 0.15             # no items: the round trip only
    assert timed(session, sandbox, get_items(drafts), "GetItem") >= 0.15 + 4 * 0.04
    sandbox.admin.set_latency(request_ms=0, item_ms=0, operations={"GetItem": {"request_ms": 200}})
    assert timed(session, sandbox, get_items(drafts), "GetItem") >= 0.2
    assert timed(session, sandbox, envelope(GET_DRAFTS)) < 0.2       # only GetItem is far away
    assert sandbox.admin.requests()[-1]["ms"] < 150                  # the log keeps the server's own time
    assert sandbox.admin.latency()["operations"] == {"GetItem": {"request_ms": 200.0, "item_ms": 0.0}}


def test_bad_settings_are_refused(sandbox):
    with pytest.raises(SandboxError, match="request_ms"):
        sandbox.admin.set_latency(request_ms=-1)
    with pytest.raises(SandboxError, match="operations.SendItem"):
        sandbox.admin.set_latency(operations={"SendItem": {"seconds": 1}})


def test_serve_options(tmp_path):
    options = ["--latency-ms", "120", "--item-latency-ms", "0.5", "--operation-latency", "SendItem=30,2"]
    with Sandbox(data_dir=tmp_path, options=options) as sandbox:
        assert sandbox.admin.latency() == {"request_ms": 120.0, "item_ms": 0.5,
                                           "operations": {"SendItem": {"request_ms": 30.0, "item_ms": 2.0}}}
        session = session_for(sandbox)
        post(session, sandbox, envelope(GET_DRAFTS))
        assert timed(session, sandbox, envelope(GET_DRAFTS)) >= 0.12
