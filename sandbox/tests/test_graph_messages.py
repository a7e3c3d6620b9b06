"""Graph v1.0 messages over HTTPS: the same store as EWS, the message shape, queries and their refusals, writes,
sending through the Outbox, and authorization."""

from __future__ import annotations

import pytest
from lxml import etree

from conftest import MARKER_ID, STATE_ID, envelope, graph_error, graph_session, post, session_for
from ews_sandbox.namespaces import T
from ews_test_support import MARKER_SET

ALICE, BOB = "alice@sandbox.test", "bob@sandbox.test"


def users(sandbox, mailbox: str = ALICE) -> str:
    return f"{sandbox.graph_url}/users/{mailbox}"


def draft(subject="Hello", to=(BOB,), marker=None, **extra) -> dict:
    message = {"subject": subject, "body": {"contentType": "text", "content": "line one\nline two"},
               "toRecipients": [{"emailAddress": {"address": address}} for address in to], **extra}
    if marker is not None:
        message["singleValueExtendedProperties"] = [{"id": MARKER_ID, "value": marker}]
    return message


def create(session, sandbox, **fields) -> dict:
    answer = session.post(f"{users(sandbox)}/messages", json=draft(**fields))
    assert answer.status_code == 201, answer.text
    return answer.json()


def by_marker(marker: str) -> dict:
    return {"$filter": f"singleValueExtendedProperties/any(ep: ep/id eq '{MARKER_ID}' and ep/value eq '{marker}')"}


def ews_marker_and_ids(sandbox, ews_id: str) -> tuple[str, str]:
    """(marker, ChangeKey) of an item read through EWS GetItem."""
    response = post(session_for(sandbox), sandbox, envelope(
        '<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>'
        f'<t:ExtendedFieldURI PropertySetId="{MARKER_SET}" PropertyName="ExchangeEwsSendMarker" PropertyType="String"/>'
        f'</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="{ews_id}"/></m:ItemIds></m:GetItem>'),
        "GetItem")
    root = etree.fromstring(response.content)
    return root.findtext(f".//{{{T}}}Value"), root.find(f".//{{{T}}}ItemId").get("ChangeKey")


def test_a_graph_draft_is_an_ews_item_and_the_other_way_round(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, marker="m-graph")
    assert created["isDraft"] is True and created["@odata.etag"] == f'W/"{created["changeKey"]}"'
    ews_id = created["id"].replace("-", "+").replace("_", "/")     # REST id -> EWS id
    assert ews_marker_and_ids(sandbox, ews_id) == ("m-graph", created["changeKey"])

    seeded = sandbox.admin.seed(ALICE, subject="from EWS", to=[BOB], extended_properties=[
        {"property_set_id": MARKER_SET, "property_name": "ExchangeEwsSendMarker", "property_type": "String",
         "value": "m-ews"}])[0]
    found = graph.get(f"{users(sandbox)}/mailFolders/drafts/messages", params={
        **by_marker("M-EWS"), "$expand": f"singleValueExtendedProperties($filter=id eq '{MARKER_ID}')",
        "$select": "subject,changeKey"}).json()["value"]
    assert [(m["subject"], m["changeKey"]) for m in found] == [("from EWS", seeded["change_key"])]
    assert found[0]["singleValueExtendedProperties"] == [{"id": MARKER_ID, "value": "m-ews"}]
    assert set(found[0]) == {"@odata.etag", "id", "subject", "changeKey", "singleValueExtendedProperties"}
    # The same item, its REST id the URL-safe form of its EWS ItemId.
    assert found[0]["id"] == seeded["id"].replace("+", "-").replace("/", "_")


def test_message_shape_and_body_format(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, subject="Shape", categories=["Blue"], importance="High")
    assert created["toRecipients"] == [{"emailAddress": {"name": BOB, "address": BOB}}]
    assert created["body"]["contentType"] == "html" and "<div>line one</div>" in created["body"]["content"]
    assert (created["importance"], created["categories"], created["from"]) == ("high", ["Blue"], None)
    assert created["parentFolderId"] == graph.get(f"{users(sandbox)}/mailFolders/drafts/messages").json()[
        "value"][0]["parentFolderId"]
    as_text = graph.get(f"{users(sandbox)}/messages/{created['id']}",
                        headers={"Prefer": 'outlook.body-content-type="text"'})
    assert as_text.json()["body"] == {"contentType": "text", "content": "line one\nline two"}
    assert as_text.headers["Preference-Applied"] == 'outlook.body-content-type="text"'
    assert as_text.headers["ETag"] == created["@odata.etag"]


@pytest.mark.parametrize("request_kwargs, status, code", [
    ({"params": {"$select": "subject,meetingMessageType"}}, 400, "RequestBroker--ParseUri"),
    ({"params": {"$filter": f"toRecipients/any(r: r/emailAddress/address eq '{BOB}')"}}, 400,
     "ErrorInvalidUrlQueryFilter"),
    ({"params": {"$filter": "subject eq 'x'", "$orderby": "receivedDateTime desc"}}, 400, "InefficientFilter"),
    ({"params": {"$filter": "subject eq 'x' and receivedDateTime ge 2020-01-01T00:00:00Z",
                 "$orderby": "receivedDateTime desc"}}, 400, "InefficientFilter"),
    ({"params": {"$filter": "subject eq"}}, 400, "BadRequest"),
    ({"params": {"$top": "-1"}}, 400, "BadRequest"),
    ({"params": {"$search": '"hello"', "$filter": "isDraft eq true"}}, 400, "BadRequest"),
    ({"params": {"$format": "json"}}, 400, "BadRequest"),
    ({"params": {"$expand": "singleValueExtendedProperties"}}, 400, "ErrorNotSupportedBySandbox"),
])
def test_queries_graph_refuses(sandbox, request_kwargs, status, code):
    answer = graph_session(sandbox).get(f"{users(sandbox)}/messages", **request_kwargs)
    assert graph_error(answer)[:2] == (status, code)


def test_filters_orderby_paging_and_count(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.admin.seed(ALICE, count=25, subject="Page {n}", to=[BOB])
    graph = graph_session(sandbox)
    url, params, seen = f"{users(sandbox)}/mailFolders/drafts/messages", {
        "$filter": "createdDateTime ge 2000-01-01T00:00:00Z and startswith(subject, 'page')",
        "$orderby": "createdDateTime desc", "$top": "10", "$count": "true", "$select": "subject"}, []
    page = graph.get(url, params=params).json()
    assert page["@odata.count"] == 25
    while True:
        seen += [m["subject"] for m in page["value"]]
        if "@odata.nextLink" not in page:
            break
        page = graph.get(page["@odata.nextLink"]).json()
    assert sorted(seen) == sorted(f"Page {n}" for n in range(1, 26))
    assert graph.get(url, params={"$filter": "contains(subject, 'ge 1') and isDraft eq true", "$top": "50"}).json()[
        "value"].__len__() == 11    # Page 1, Page 10..19
    create(graph, sandbox, subject="Tagged", categories=["Red"])
    tagged = graph.get(f"{users(sandbox)}/messages", params={"$filter": "categories/any(c: c eq 'red')"}).json()
    assert [m["subject"] for m in tagged["value"]] == ["Tagged"]


def test_search_finds_recipients_the_filter_cannot(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    create(graph, sandbox, subject="To Bob", to=(BOB,))
    create(graph, sandbox, subject="Second", to=("carol@sandbox.test",))
    found = graph.get(f"{users(sandbox)}/messages", params={"$search": '"to:bob@sandbox.test"'}).json()["value"]
    assert [m["subject"] for m in found] == ["To Bob"]
    assert [m["subject"] for m in graph.get(f"{users(sandbox)}/messages", params={"$search": '"carol"'}).json()[
        "value"]] == []    # from, subject and body by default


def test_update_and_the_if_match_settings(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox)
    url = f"{users(sandbox)}/messages/{created['id']}"
    stamp = {"singleValueExtendedProperties": [{"id": STATE_ID, "value": "claimed"}]}
    first = graph.patch(url, json=stamp, headers={"If-Match": created["@odata.etag"]})
    assert first.status_code == 200 and first.json()["changeKey"] != created["changeKey"]
    # The documentation does not say If-Match is honoured on messages: by default a stale etag writes anyway.
    assert graph.patch(url, json={"subject": "again"}, headers={"If-Match": created["@odata.etag"]}).status_code == 200
    sandbox.admin.set_graph_settings(if_match="honoured")
    stale = graph.patch(url, json={"subject": "stale"}, headers={"If-Match": created["@odata.etag"]})
    assert graph_error(stale)[:2] == (412, "ErrorIrresolvableConflict")
    current = graph.get(url, params={"$select": "subject"}).json()
    assert current["subject"] == "again"
    assert graph.patch(url, json={"subject": "fresh"}, headers={"If-Match": current["@odata.etag"]}).ok


@pytest.mark.parametrize("body, code", [
    ({"isDraft": False}, "ErrorInvalidPropertySet"),
    ({"changeKey": "x"}, "ErrorInvalidPropertySet"),
    ({"colour": "blue"}, "RequestBodyRead"),
    ({"singleValueExtendedProperties": [{"id": "Text {x} Name y", "value": "z"}]}, "ErrorInvalidExtendedProperty"),
    ({"toRecipients": [{"address": BOB}]}, "ErrorInvalidRecipients"),
])
def test_writes_graph_refuses(clean_sandbox, body, code):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox)
    assert graph_error(graph.patch(f"{users(sandbox)}/messages/{created['id']}", json=body))[:2] == (400, code)


def test_send_is_asynchronous_through_the_outbox(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, marker="m-send")
    sandbox.admin.set_submission_delay(60_000)
    try:
        sent = graph.post(f"{users(sandbox)}/messages/{created['id']}/send")
        assert (sent.status_code, sent.content) == (202, b"")
        assert graph_error(graph.get(f"{users(sandbox)}/messages/{created['id']}"))[:2] == (404, "ErrorItemNotFound")
        outbox = graph.get(f"{users(sandbox)}/mailFolders/outbox/messages", params=by_marker("m-send")).json()["value"]
        assert [(m["isDraft"], m["sentDateTime"] is not None) for m in outbox] == [(False, True)]
        assert graph.get(f"{users(sandbox)}/mailFolders/sentitems/messages").json()["value"] == []
        again = graph.post(f"{users(sandbox)}/messages/{outbox[0]['id']}/send")
        assert graph_error(again)[:2] == (400, "ErrorInvalidOperation")
    finally:
        sandbox.admin.set_submission_delay(0)
    graph.delete(f"{users(sandbox)}/messages/{outbox[0]['id']}")    # withdrawn before the submitter took it
    sandbox.admin.wait_for_outbox()
    assert sandbox.admin.deliveries() == []

    second = create(graph, sandbox, marker="m-sent")
    assert graph.post(f"{users(sandbox)}/messages/{second['id']}/send").status_code == 202
    sandbox.admin.wait_for_outbox()
    [filed] = graph.get(f"{users(sandbox)}/mailFolders/sentitems/messages", params=by_marker("m-sent")).json()["value"]
    assert (filed["from"], filed["sender"]) == ({"emailAddress": {"name": ALICE, "address": ALICE}},) * 2
    assert [d["marker"] for d in sandbox.admin.deliveries()] == ["m-sent"]
    filed_url = f"{users(sandbox)}/messages/{filed['id']}"
    assert graph_error(graph.patch(filed_url, json={"subject": "x"}))[2] == "Message is not draft."
    assert graph.patch(filed_url, json={"singleValueExtendedProperties": [{"id": STATE_ID, "value": "sent"}]}).ok
    nobody = create(graph, sandbox, to=())
    assert graph_error(graph.post(f"{users(sandbox)}/messages/{nobody['id']}/send"))[:2] == \
        (400, "ErrorInvalidRecipients")


def test_delete_moves_to_deleted_items(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, subject="Bin me")
    assert graph.delete(f"{users(sandbox)}/messages/{created['id']}").status_code == 204
    binned = graph.get(f"{users(sandbox)}/mailFolders/deleteditems/messages").json()["value"]
    assert [m["subject"] for m in binned] == ["Bin me"] and binned[0]["id"] != created["id"]


@pytest.mark.parametrize("path, status, code", [
    ("/users/nobody@sandbox.test/messages", 404, "ErrorInvalidUser"),
    ("/me/messages", 400, "BadRequest"),
    ("/users/alice@sandbox.test/messages/AAMk+not/valid", 400, "BadRequest"),
    ("/users/alice@sandbox.test/messages/AAMkAGI2", 400, "ErrorInvalidIdMalformed"),
    ("/users/alice@sandbox.test/calendars", 400, "BadRequest"),
])
def test_paths_and_ids_graph_refuses(sandbox, path, status, code):
    assert graph_error(graph_session(sandbox).get(sandbox.graph_url + path))[:2] == (status, code)


def test_an_id_of_another_mailbox(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox)
    answer = graph.get(f"{users(sandbox, BOB)}/messages/{created['id']}")
    assert graph_error(answer) == (400, "ErrorInvalidMailboxItemId", "Item Id doesn't belong to the current mailbox.")


def test_permissions_and_mailbox_scoping(clean_sandbox):
    sandbox = clean_sandbox
    created = create(graph_session(sandbox), sandbox)
    read_write = graph_session(sandbox, "exchange-ews-readwrite")
    assert read_write.get(f"{users(sandbox)}/messages").ok
    assert graph_error(read_write.post(f"{users(sandbox)}/messages/{created['id']}/send")) == \
        (403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    scoped = graph_session(sandbox, "exchange-ews-scoped")
    assert scoped.get(f"{users(sandbox, 'team@sandbox.test')}/messages").ok
    assert graph_error(scoped.get(f"{users(sandbox, BOB)}/messages")) == \
        (403, "ErrorAccessDenied", "Access to OData is disabled.")
    logged = sandbox.admin.requests()[-1]
    assert (logged["operation"], logged["user"], logged["mailbox"], logged["http_status"]) == \
        ("ListMessages", "exchange-ews-scoped", BOB, 403)


def test_reply_to_receipts_and_sensitivity_reach_the_sent_message(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, replyTo=[{"emailAddress": {"address": "desk@example.org"}}],
                     isReadReceiptRequested=True, isDeliveryReceiptRequested=True,
                     singleValueExtendedProperties=[{"id": "Integer 0x0036", "value": "3"}])
    assert created["replyTo"] == [{"emailAddress": {"name": "desk@example.org", "address": "desk@example.org"}}]
    assert (created["isReadReceiptRequested"], created["isDeliveryReceiptRequested"]) == (True, True)
    read = graph.get(f"{users(sandbox)}/messages/{created['id']}",
                     params={"$expand": "singleValueExtendedProperties($filter=id eq 'Integer 0x0036')"}).json()
    assert read["singleValueExtendedProperties"] == [{"id": "Integer 0x0036", "value": "3"}]
    assert graph.post(f"{users(sandbox)}/messages/{created['id']}/send").status_code == 202
    sandbox.admin.wait_for_outbox()
    mime = sandbox.admin.delivery_mime(sandbox.admin.deliveries()[0]["seq"]).decode()
    assert "Reply-To: desk@example.org" in mime and "Sensitivity: Company-Confidential" in mime
    assert f"Disposition-Notification-To: {ALICE}" in mime and f"Return-Receipt-To: {ALICE}" in mime


def test_file_attachments_inline_in_a_create_added_listed_and_deleted(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    logo = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "logo.png", "contentType": "image/png",
            "contentBytes": "iVBORw0KGgo=", "contentId": "logo@example", "isInline": True}
    created = create(graph, sandbox, attachments=[logo])
    assert created["hasAttachments"] is True
    url = f"{users(sandbox)}/messages/{created['id']}/attachments"
    added = graph.post(url, json={"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.csv",
                                  "contentType": "text/csv", "contentBytes": "YSxiCg=="})
    assert added.status_code == 201 and added.json()["size"] == 4
    listed = graph.get(url, params={"$select": "name,size,contentId,isInline"}).json()["value"]
    assert [(a["name"], a["size"], a["contentId"], a["isInline"]) for a in listed] == [
        ("logo.png", 8, "logo@example", True), ("a.csv", 4, None, False)]
    assert "contentBytes" not in listed[0]
    assert graph.get(url).json()["value"][1]["contentBytes"] == "YSxiCg=="
    before = graph.get(f"{users(sandbox)}/messages/{created['id']}").json()["changeKey"]
    assert graph.delete(f"{url}/{listed[0]['id']}").status_code == 204
    after = graph.get(f"{users(sandbox)}/messages/{created['id']}").json()["changeKey"]
    assert after != before and [a["name"] for a in graph.get(url).json()["value"]] == ["a.csv"]
    assert graph_error(graph.delete(f"{url}/{listed[0]['id']}"))[:2] == (404, "ErrorItemNotFound")
    big = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "big.bin",
           "contentBytes": __import__("base64").b64encode(b"x" * (3 * 1024 * 1024)).decode()}
    assert graph_error(graph.post(url, json=big))[:2] == (413, "ErrorRequestEntityTooLarge")
    assert graph.post(f"{users(sandbox)}/messages/{created['id']}/send").status_code == 202
    sandbox.admin.wait_for_outbox()
    mime = sandbox.admin.delivery_mime(sandbox.admin.deliveries()[0]["seq"]).decode()
    assert 'filename="a.csv"' in mime


def test_delete_after_submit_files_no_copy(clean_sandbox):
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    created = create(graph, sandbox, singleValueExtendedProperties=[{"id": "Boolean 0x0E01", "value": "true"},
                                                                    {"id": MARKER_ID, "value": "m-nocopy"}])
    assert graph.post(f"{users(sandbox)}/messages/{created['id']}/send").status_code == 202
    sandbox.admin.wait_for_outbox()
    assert [d["marker"] for d in sandbox.admin.deliveries()] == ["m-nocopy"]
    assert graph.get(f"{users(sandbox)}/mailFolders/sentitems/messages").json()["value"] == []


def test_the_send_log_names_the_request_that_sent_each_message(clean_sandbox):
    """Ground truth for tests (GET /_sandbox/graph/sends): Graph's send checks no ChangeKey, so the send state a
    delivery carries need not be the sender's; the log keeps each accepted send's client-request-id, in a $batch
    the inner request's, and a send refused or answered after a lost commit is logged only if it committed."""
    sandbox = clean_sandbox
    graph = graph_session(sandbox)
    first, second, third = (create(graph, sandbox, marker="m-%d" % n) for n in range(3))
    sent = graph.post(f"{users(sandbox)}/messages/{first['id']}/send", headers={"client-request-id": "run-a"})
    assert sent.status_code == 202
    inner = {"id": "1", "method": "POST", "url": f"/users/{ALICE}/messages/{second['id']}/send",
             "headers": {"client-request-id": "run-b"}}
    assert graph.post(f"{sandbox.graph_url}/$batch", json={"requests": [inner]}).json()["responses"][0]["status"] == 202
    again = graph.post(f"{users(sandbox)}/messages/{first['id']}/send", headers={"client-request-id": "run-c"})
    assert again.status_code == 404                                     # refused: not logged
    sandbox.admin.add_graph_fault("drop_after_commit", operation="SendMessage")
    with pytest.raises(Exception):
        graph.post(f"{users(sandbox)}/messages/{third['id']}/send", headers={"client-request-id": "run-d"})
    assert [(e["marker"], e["client_request_id"]) for e in sandbox.admin.graph_sends()] == \
        [("m-0", "run-a"), ("m-1", "run-b"), ("m-2", "run-d")]
    assert [e["marker"] for e in sandbox.admin.graph_sends(since=2)] == ["m-2"]
    sandbox.admin.reset()
    assert sandbox.admin.graph_sends() == []
