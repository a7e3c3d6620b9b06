"""Size limits, as an on-premises Exchange 2016/2019 sets them by default; changeable at start and at run time.

* ``max_request_bytes``: the EWS request size limit, IIS's maxAllowedContentLength and WCF's
  maxReceivedMessageSize on the EWS virtual directories (67108864 bytes each). A bigger request is answered
  507 with no body by the front end, before authentication, and the connection is closed.
* ``max_send_bytes``: the organization's MaxSendSize (10 MB), compared with the size of the message as it goes
  out (MIME, attachments in base64): a bigger one is refused on send with ErrorMessageSizeExceeded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

DEFAULT_MAX_REQUEST_BYTES = 67108864
DEFAULT_MAX_SEND_BYTES = 10 * 1024 * 1024


@dataclass
class Limits:
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_send_bytes: int = DEFAULT_MAX_SEND_BYTES

    def update(self, data: dict) -> "Limits":
        """Change the limits ``data`` names (admin JSON); ValueError names what is wrong, and nothing changes."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(unknown)}")
        for name, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"'{name}' must be a positive number of bytes")
        for name, value in data.items():
            setattr(self, name, value)
        return self

    def to_json(self) -> dict:
        return asdict(self)
