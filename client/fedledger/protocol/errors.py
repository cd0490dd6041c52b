"""Root of fedledger's exception hierarchy and the errors of the shared protocol.

Lives in ``protocol`` because the chaincode may import only this package; everything else in
fedledger derives its errors from :class:`FedLedgerError` through :mod:`fedledger.errors`.
"""


class FedLedgerError(Exception):
    """Base class of every error fedledger raises on purpose."""


class ProtocolError(FedLedgerError, ValueError):
    """Input that breaks the wire protocol: malformed JSON, wrong types, out-of-range values.

    The message is meant for people and, inside the chaincode, is returned verbatim to the
    client as the transaction's error message, so it is part of the interface.
    """


class NotFoundError(ProtocolError):
    """The asset a transaction names does not exist (yet).

    The chaincode answers it with status :data:`NOT_FOUND_STATUS` instead of the generic error
    status, so clients tell "not there" from "refused" by the status, never by the words.
    """


NOT_FOUND_STATUS = 404
