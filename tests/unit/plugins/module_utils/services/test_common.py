# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EwsService, the one service base: requests, the response count, repeating lost reads only, errors."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.exchange.ews.plugins.module_utils.errors import EwsError, EwsFault, EwsResponseLost
from ansible_collections.exchange.ews.plugins.module_utils.ews_schema import M
from ansible_collections.exchange.ews.plugins.module_utils.responses import ResponseMessage
from ansible_collections.exchange.ews.plugins.module_utils.services.common import (
    EwsService,
    folder_id,
    folder_id_element,
    item_id_element,
    item_ids_element,
)
from ansible_collections.exchange.ews.plugins.module_utils.services.delete_item import DeleteItem
from ansible_collections.exchange.ews.plugins.module_utils.services.find_item import FindItem
from ansible_collections.exchange.ews.plugins.module_utils.services.get_item import GetItem
from ansible_collections.exchange.ews.plugins.module_utils.services.send_item import SendItem
from ansible_collections.exchange.ews.plugins.module_utils.services.update_item import UpdateItem

OK = ResponseMessage("Success", "NoError")


class ScriptedClient:
    """Answers each call with the next entry of ``answers``: a list of messages, or an exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def call(self, operation, request=None):
        self.calls.append((operation, request))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Read(EwsService):
    operation = "GetItem"
    read_only = True


class Write(EwsService):
    operation = "UpdateItem"


LOST = EwsResponseLost("cut short", operation="X")


@pytest.mark.parametrize("service, answers, outcome, calls", [
    (Read, [[OK]], "ok", 1),
    (Read, [LOST, [OK]], "ok", 2),                       # a lost read is asked again, once
    (Read, [LOST, LOST], EwsResponseLost, 2),             # ... and only once
    (Write, [LOST, [OK]], EwsResponseLost, 1),            # a write never
    (Read, [EwsFault("no", response_code="ErrorAccessDenied"), [OK]], EwsFault, 1),   # a refusal is not a loss
    (Read, [[OK, OK]], EwsError, 1),                      # more answers than asked for
    (Write, [[]], EwsError, 1),                           # fewer
])
def test_post_checks_the_count_and_repeats_only_a_lost_read(service, answers, outcome, calls):
    client = ScriptedClient(*answers)
    instance = service(client)
    if outcome == "ok":
        assert instance.post(instance.new_request(), expected=1) == [OK]
    else:
        with pytest.raises(outcome) as caught:
            instance.post(instance.new_request(), expected=1)
        if outcome is EwsError:
            assert "expected 1 response messages, got" in str(caught.value)
            assert caught.value.operation == service.operation
    assert len(client.calls) == calls
    assert [operation for operation, _request in client.calls] == [service.operation] * calls


@pytest.mark.parametrize("service, read_only", [
    (GetItem, True), (FindItem, True), (UpdateItem, False), (SendItem, False), (DeleteItem, False)])
def test_every_service_is_an_ews_service_and_only_reads_are_read_only(service, read_only):
    assert issubclass(service, EwsService) and service.read_only is read_only


def test_new_request_is_the_operations_element_with_its_attributes():
    request = Write(None).new_request(ConflictResolution="NeverOverwrite")
    assert request.tag == M + "UpdateItem" and request.get("ConflictResolution") == "NeverOverwrite"


def test_errors_name_the_operation_the_response_code_the_item_and_what_else():
    refused = ResponseMessage("Error", "ErrorStaleObject", "The change key is stale.")
    with pytest.raises(EwsError) as caught:
        Write(None).check(refused, "not updated", item_id="AAMk1", about="attachment 'a.csv'")
    error = caught.value
    assert (error.operation, error.response_code, error.item_id) == ("UpdateItem", "ErrorStaleObject", "AAMk1")
    assert str(error) == ("EWS UpdateItem failed, ResponseCode ErrorStaleObject, item AAMk1: attachment 'a.csv': "
                          "The change key is stale.")
    assert Write(None).check(OK, "not updated") is OK
    silent = ResponseMessage("Error", "ErrorInternalServerError")
    assert "not updated" in str(Write(None).error("not updated", silent))


def test_id_and_folder_elements():
    assert item_id_element("A", "ck").attrib == {"Id": "A", "ChangeKey": "ck"}
    assert item_id_element("A").attrib == {"Id": "A"}
    ids = item_ids_element([("A", None), ("B", "k")])
    assert [dict(element.attrib) for element in ids] == [{"Id": "A"}, {"Id": "B", "ChangeKey": "k"}]
    outbox = folder_id_element(folder_id("Outbox", "alice@example.org"))
    assert outbox.get("Id") == "outbox" and outbox.findtext("{*}Mailbox/{*}EmailAddress") == "alice@example.org"
    assert folder_id_element(folder_id("AAMkADk=")).attrib == {"Id": "AAMkADk="}
