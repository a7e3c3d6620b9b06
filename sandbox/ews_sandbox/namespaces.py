"""XML namespaces of the EWS protocol, helpers for qualified names, and child lookups for the hot paths."""

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

NSMAP = {"s": SOAP, "m": M, "t": T}


_QM = "{%s}" % M
_QT = "{%s}" % T


def qm(name: str) -> str:
    """Clark notation for an element of the messages namespace."""
    return _QM + name


def qt(name: str) -> str:
    """Clark notation for an element of the types namespace."""
    return _QT + name


# lxml's find() and findtext() parse their argument as an ElementPath on every call; for one child tag,
# iterchildren() costs half as much, which counts where a request's every item does it.

def first_child(parent, tag: str):
    """``parent.find(tag)`` for a Clark name: the first child element ``tag``, or None."""
    return next(parent.iterchildren(tag), None)


def first_child_text(parent, tag: str) -> str | None:
    """``parent.findtext(tag)`` for a Clark name: the text of the first child ``tag`` ('' when empty), or None."""
    element = next(parent.iterchildren(tag), None)
    return None if element is None else element.text or ""


def first_of_few(parent, tag: str):
    """``first_child`` for an element that holds a few children at most (t:ItemChange, t:SetItemField,
    t:ExtendedProperty): looking at each costs less than setting up iterchildren()'s tag filter."""
    for child in parent:
        if child.tag == tag:
            return child
    return None
