"""What every operation handler receives about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ItemError
from .limits import Limits

# Delegate rights on a mailbox: read its items, create and change them, send from it on behalf of its owner
# ("send": From the owner, Sender the delegate), send as its owner ("send_as": no trace of the delegate).
RIGHTS = ("read", "create", "send", "send_as")


@dataclass
class RequestContext:
    user: Any              # config.User: the authenticated account
    mailbox: str           # SMTP address of the effective mailbox (impersonated one, else the user's)
    directory: Any         # config.Directory
    store: Any             # store.Store
    delivery: Any          # delivery.Delivery
    submitter: Any         # submission.Submitter
    server_version: str    # RequestServerVersion value
    culture: str | None = None
    # (1-based position, ResponseCode) of an injected item-level error (the item_error fault): that item fails,
    # every later one of the request is left unprocessed (OperationResponse.each_item)
    item_failure: tuple[int, str] | None = None
    limits: Limits = field(default_factory=Limits)   # the size limits (limits.py)

    def check_access(self, owner_smtp: str, right: str) -> None:
        """Raise ErrorAccessDenied unless the effective mailbox may use ``right`` on ``owner_smtp``'s folders."""
        if right not in RIGHTS:
            raise ValueError(right)
        owner = owner_smtp.lower()
        if owner == self.mailbox.lower():
            return
        if self.directory.by_smtp(owner) is None:
            raise ItemError("ErrorNonExistentMailbox", "No mailbox with such guid.")
        if right not in self.directory.rights_of(self.mailbox, on=owner):
            raise ItemError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
