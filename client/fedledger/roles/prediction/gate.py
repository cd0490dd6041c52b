"""The provider's ledger gate: serve only paid requests, and commit the receipt before answering.

:class:`LedgerGate` is the :class:`~fedledger.roles.prediction.provider.RequestGate` of a provider
selling predictions on the ledger. It admits a request only when the ledger holds a paid
``PredictionRequest`` with that id, for one of the offers this provider serves, still open (no
receipt, not reclaimed), with time left before its deadline, and whose ``input_sha256`` equals
the SHA-256 of the ciphertext bytes that arrived. ``served`` submits ``SubmitReceipt`` with the
response's hash; the provider returns the encrypted answer only after that commit, so a request
whose payment did not reach the provider (reclaimed meanwhile, expired) is never answered.

Refusals (gRPC status names, see :mod:`fedledger.roles.prediction.provider`):

    ALREADY_EXISTS       the request is being served here, or already has a receipt (replay)
    FAILED_PRECONDITION  not on the ledger (unpaid), another offer's, reclaimed, expired or about
                         to, the input does not match the hash paid for, or the receipt refused
    UNAVAILABLE          the ledger could not be reached or did not confirm the receipt
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from fedledger.contract import prediction
from fedledger.errors import (
    AssetNotFound,
    ContractError,
    LedgerError,
    PredictionError,
    ProtocolError,
)
from fedledger.ledger.interface import Contract
from fedledger.protocol.predictions import (
    REQUEST_RECEIPTED,
    REQUEST_RECLAIMED,
    PredictionRequest,
    parse_request_id,
)

__all__ = ["DEFAULT_MARGIN_SECONDS", "LedgerGate"]

# Time a request must have left when it arrives: evaluation (a fraction of a second here) plus
# the receipt's endorsement, ordering and commit (a second or two on the local network).
DEFAULT_MARGIN_SECONDS = 5.0
# How long an unknown request id is looked up again before it counts as unpaid.
DEFAULT_READ_WAIT_SECONDS = 3.0
READ_RETRY_SECONDS = 0.2


def _refuse(message: str) -> PredictionError:
    return PredictionError("FAILED_PRECONDITION", message)


class LedgerGate:
    """Admits paid, open, matching requests for ``offers``; submits receipts as ``contract``."""

    def __init__(
        self,
        contract: Contract,
        offers: Iterable[str],
        *,
        clock: Callable[[], float] = time.time,
        margin_seconds: float = DEFAULT_MARGIN_SECONDS,
        read_wait_seconds: float = DEFAULT_READ_WAIT_SECONDS,
    ) -> None:
        self.contract = contract
        self.offers = frozenset(offers)
        self.clock = clock
        self.margin_seconds = margin_seconds
        self.read_wait_seconds = read_wait_seconds
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self.receipts: dict[str, str] = {}

    def _read(self, request_id: str) -> PredictionRequest:
        """The request as this provider's peer has it, waiting briefly for one not there yet:
        the consumer's payment committed on its own peer, which may be a block ahead of ours."""
        try:
            parse_request_id(request_id)
        except ProtocolError:
            raise _refuse(f"request {request_id} is not a paid request on the ledger") from None
        waited_until = time.monotonic() + self.read_wait_seconds
        while True:
            try:
                return prediction.get_request(self.contract, request_id)
            except AssetNotFound:
                if time.monotonic() >= waited_until:
                    message = f"request {request_id} is not a paid request on the ledger"
                    raise _refuse(message) from None
                time.sleep(READ_RETRY_SECONDS)
            except LedgerError as exc:
                message = f"cannot read request {request_id}: {exc}"
                raise PredictionError("UNAVAILABLE", message) from exc

    def _check(self, request: PredictionRequest, input_sha256: str) -> None:
        if request.status == REQUEST_RECEIPTED:
            raise PredictionError("ALREADY_EXISTS", f"request {request.id} was already served")
        if request.status == REQUEST_RECLAIMED:
            raise _refuse(f"request {request.id} was reclaimed by its consumer")
        if request.offer_id not in self.offers:
            raise _refuse(f"request {request.id} is for offer {request.offer_id}, not served here")
        left = request.deadline - self.clock()
        if left < self.margin_seconds:
            raise _refuse(
                f"request {request.id} expires at {request.deadline}, {max(left, 0):.0f} s from "
                f"now; it needs {self.margin_seconds:.0f} s to be served and receipted"
            )
        if request.input_sha256 != input_sha256:
            raise _refuse(
                f"the input's SHA-256 {input_sha256} is not the {request.input_sha256} paid for "
                f"in request {request.id}"
            )

    def admit(self, request_id: str, input_sha256: str) -> None:
        """Reserve a paid, open, matching request; raise PredictionError to refuse it."""
        with self._lock:
            if request_id in self.receipts or request_id in self._busy:
                raise PredictionError("ALREADY_EXISTS", f"request {request_id} was already served")
            self._busy.add(request_id)
        try:
            self._check(self._read(request_id), input_sha256)
        except BaseException:
            self.release(request_id)
            raise

    def release(self, request_id: str) -> None:
        """Give up a reservation (the evaluation or the receipt failed)."""
        with self._lock:
            self._busy.discard(request_id)

    def served(self, request_id: str, input_sha256: str, response_sha256: str) -> None:
        """Submit the receipt; raise PredictionError when the ledger refuses or cannot confirm it.

        The caller releases the reservation on failure (``PredictionProvider.predict`` does).
        """
        try:
            prediction.submit_receipt(self.contract, request_id, response_sha256)
        except ContractError as exc:
            raise _refuse(f"the ledger refused the receipt of {request_id}: {exc.message}") from exc
        except LedgerError as exc:
            raise PredictionError(
                "UNAVAILABLE", f"the receipt of {request_id} was not confirmed: {exc}"
            ) from exc
        with self._lock:
            self._busy.discard(request_id)
            self.receipts[request_id] = response_sha256
