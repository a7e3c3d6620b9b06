"""The store survives a sandbox restart: ids issued before it still resolve, logs are kept."""

from lxml import etree

from ews_sandbox.namespaces import qm
from ews_sandbox.testing import Sandbox

from conftest import envelope, post, session_for


def get_item(sandbox, item_id):
    body = ('<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
            '<m:ItemIds><t:ItemId Id="%s"/></m:ItemIds></m:GetItem>' % item_id)
    response = post(session_for(sandbox), sandbox, envelope(body), "GetItem")
    return etree.fromstring(response.content).findtext(".//" + qm("ResponseCode"))


def send_item(sandbox, item):
    body = ('<m:SendItem SaveItemToFolder="true"><m:ItemIds><t:ItemId Id="%s" ChangeKey="%s"/></m:ItemIds></m:SendItem>'
            % (item["id"], item["change_key"]))
    response = post(session_for(sandbox), sandbox, envelope(body), "SendItem")
    return etree.fromstring(response.content).findtext(".//" + qm("ResponseCode"))


def test_items_and_deliveries_survive_a_restart(tmp_path):
    with Sandbox(data_dir=tmp_path) as first:
        kept, sent = first.admin.seed("alice@sandbox.test", count=2, to=["bob@sandbox.test"])
        assert send_item(first, sent) == "NoError"
    with Sandbox(data_dir=tmp_path) as second:
        assert get_item(second, kept["id"]) == "NoError"
        assert get_item(second, sent["id"]) == "ErrorItemNotFound"
        second.admin.wait_for_outbox()
        assert len(second.admin.deliveries()) == 1
