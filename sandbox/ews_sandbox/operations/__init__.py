"""EWS operations served by the sandbox: name -> handle(ctx, request) -> response element."""

from . import create_item, delete_item, find_item, get_folder, get_item, move_item, send_item, update_item

OPERATIONS = {
    "CreateItem": create_item.handle,
    "DeleteItem": delete_item.handle,
    "FindItem": find_item.handle,
    "GetFolder": get_folder.handle,
    "GetItem": get_item.handle,
    "MoveItem": move_item.handle,
    "SendItem": send_item.handle,
    "UpdateItem": update_item.handle,
}
