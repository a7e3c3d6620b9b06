"""Graph ids are Exchange's REST ids: the EWS ItemId / FolderId bytes in URL-safe base64 ('-' and '_' for '+' and
'/', padding kept), so an EWS id and the Graph id of the same item differ exactly as they do in Exchange Online
(translateExchangeIds' ewsId and restId). Malformed ids are ErrorInvalidIdMalformed."""

from __future__ import annotations

from ..errors import ItemError
from ..ids import (StoreId, decode_attachment_id, decode_folder_id, decode_item_id, encode_attachment_id,
                   encode_folder_id, encode_item_id)
from .errors import GraphError

_TO_REST = str.maketrans("+/", "-_")
_TO_EWS = str.maketrans("-_", "+/")


def message_id(mailbox: str, item_uuid: str) -> str:
    return encode_item_id(mailbox, item_uuid).translate(_TO_REST)


def folder_id(mailbox: str, folder_uuid: str) -> str:
    return encode_folder_id(mailbox, folder_uuid).translate(_TO_REST)


def attachment_id(mailbox: str, item_uuid: str, attachment_uuid: str) -> str:
    return encode_attachment_id(mailbox, item_uuid, attachment_uuid).translate(_TO_REST)


def decode_attachment(text: str) -> tuple[StoreId, str]:
    return _decode(decode_attachment_id, text)


def decode_message_id(text: str) -> StoreId:
    return _decode(decode_item_id, text)


def decode_folder(text: str) -> StoreId:
    return _decode(decode_folder_id, text)


def _decode(decoder, text: str) -> StoreId:
    if "+" in text or "/" in text:      # an EWS id: Graph does not take that form
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    try:
        return decoder(text.translate(_TO_EWS))
    except ItemError as error:
        raise GraphError(400, "ErrorInvalidIdMalformed", error.message) from None
