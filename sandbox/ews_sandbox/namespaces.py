"""XML namespaces of the EWS protocol and helpers for qualified names."""

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
