"""Request-level failures, answered as a SOAP fault shaped like Exchange's, and item-level errors."""

INTERNAL_ERROR_MESSAGE = "An internal server error occurred. The operation failed."


class EwsFault(Exception):
    """A fault that aborts the whole request (as opposed to an item-level Error message).

    ``code`` is the Exchange ResponseCode (``ErrorSchemaValidation``,
    ``ErrorImpersonateUserDenied``, ``ErrorServerBusy``...), ``message`` the
    human text; ``details`` become ``t:MessageXml`` ``t:Value`` entries
    (for example ``{"BackOffMilliseconds": "500"}``).
    """

    def __init__(self, code: str, message: str, http_status: int = 500, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.details = details or {}


class ItemError(Exception):
    """An item-level error: becomes a ResponseClass="Error" response message for that item.

    ``details`` become the message's ``m:MessageXml`` ``t:Value`` entries (e.g. ``{"PolicyLimit": 1000}``),
    ``field_uri`` its ``t:ExceptionFieldURI`` (the property at fault, e.g. ``attachment:Name``).
    """

    def __init__(self, code: str, message: str, details: dict | None = None, field_uri: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.field_uri = field_uri


class SchemaValidationError(EwsFault):
    """ErrorSchemaValidation: the fault Exchange answers for XML it cannot parse or that breaks its schema.

    ``line``/``position`` locate the violation in the request, as Exchange's
    ``t:MessageXml`` ``t:LineNumber`` / ``t:LinePosition`` do.
    """

    def __init__(self, violation: str, line: int = 0, position: int = 0):
        super().__init__("ErrorSchemaValidation", "The request failed schema validation: " + violation)
        self.violation = violation
        self.line = line
        self.position = position
