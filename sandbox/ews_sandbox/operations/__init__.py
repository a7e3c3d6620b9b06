"""EWS operations served by the sandbox: name -> handle(ctx, request) -> response element."""

from . import (create_attachment, create_item, delete_attachment, delete_item, find_item, get_attachment, get_folder,
               get_item, move_item, send_item, update_item)

OPERATIONS = {
    "CreateAttachment": create_attachment.handle,
    "CreateItem": create_item.handle,
    "DeleteAttachment": delete_attachment.handle,
    "DeleteItem": delete_item.handle,
    "FindItem": find_item.handle,
    "GetAttachment": get_attachment.handle,
    "GetFolder": get_folder.handle,
    "GetItem": get_item.handle,
    "MoveItem": move_item.handle,
    "SendItem": send_item.handle,
    "UpdateItem": update_item.handle,
}
