"""fedledger's exceptions: every exception class of the tree, drawn in one place.

Most are defined in this module. The others are defined where they are raised; their module is
named in brackets (``fedledger.`` left out; ``fedledger_chaincode`` is the chaincode package).
tests/unit/test_errors_drawing.py fails when a class exists that this drawing does not name.

FedLedgerError                  root [protocol.errors, so that the chaincode shares it]
├── ProtocolError               malformed wire data: JSON, types, ciphertexts [protocol.errors]
│   ├── NotFoundError           the asset a transaction names does not exist, status 404 [same]
│   └── ShareProofError         a decryption share does not verify [protocol.threshold]
├── EncodingError               crypto: fixed-point encoding and packing
│   └── EncodingOverflowError   a value or a sum cannot fit a slot; never a silent wrap
├── CryptoError                 crypto: keys, decryption shares, sealed envelopes
│   ├── InvalidShareError       a decryption share failed verification (names the party)
│   ├── EnvelopeError           a sealed envelope cannot be opened: tampered or wrong recipient
│   └── HelperError             the lattice helper refused or died [crypto.lattice.helper]
├── LearningError               learning: model names, weight vectors, FedAvg inputs, specs
│   └── DatasetError            a dataset file is missing, malformed or inconsistent
├── InferenceError              encrypted prediction: CKKS parameters, contexts, ciphertexts
├── PredictionError             the prediction service refused or failed a call (gRPC status)
├── EnrichmentError             paid enrichment: a model envelope or digest does not match
├── SimulationError             a simulation's settings cannot work (participants, threshold)
├── RoleProcessError            a role run as a process failed, stalled or printed a bad line
├── LedgerError                 talking to a ledger (Fabric Gateway or in-memory)
│   ├── ContractError           the chaincode rejected the transaction (its message verbatim)
│   │   └── AssetNotFound       … because the asset it names does not exist (status 404)
│   └── GatewayError            a stage of the Gateway protocol failed (tx id, stage, details)
│       └── CommitError         the transaction was ordered but invalidated at commit
├── NetworkError                the local Fabric network: build, start, stop, health
├── WaitTimeout                 ledger state did not reach what a role waited for [roles.ledger_io]
├── SchemeRefusal               a task's scheme parameters or key are unusable [crypto.scheme]
├── TaskRefused                 a participant refuses a task [roles.training.task_policy]
├── CheckpointError             a stored model is missing or wrong [roles.training.checkpoints]
├── DivergedFromMajority        a majority accepted other weights [roles.training.participant]
├── TaskFileError               a task file is unreadable or out of range [cli.task_file]
├── ModelMismatch               a stored model is not the round's digest [cli.model_cmd]
└── ServerConfigError           chaincode server settings [fedledger_chaincode.fabric.server]

Outside the hierarchy: signals that are caught next to where they are raised, never by users.

Exception
├── _Rejected                   a decoder hook refused; becomes ProtocolError [protocol.canonical]
└── PeerRequestError            the peer answered ERROR [fedledger_chaincode.fabric.shim_context]
"""

from __future__ import annotations

from fedledger.protocol.errors import NOT_FOUND_STATUS, FedLedgerError, ProtocolError

__all__ = [
    "AssetNotFound",
    "CommitError",
    "ContractError",
    "CryptoError",
    "DatasetError",
    "EncodingError",
    "EncodingOverflowError",
    "EnrichmentError",
    "EnvelopeError",
    "FedLedgerError",
    "GatewayError",
    "InferenceError",
    "InvalidShareError",
    "LearningError",
    "LedgerError",
    "NetworkError",
    "PredictionError",
    "ProtocolError",
    "RoleProcessError",
    "SimulationError",
]


class EncodingError(FedLedgerError, ValueError):
    """A vector cannot be encoded with the given encoding parameters."""


class EncodingOverflowError(EncodingError):
    """A value, or the sum of the allowed number of summands, would not fit a packed slot."""


class CryptoError(FedLedgerError):
    """A key, a ciphertext, a decryption share or an envelope is wrong or unusable."""


class LearningError(FedLedgerError, ValueError):
    """A model name, weight vector, partition spec or training input is unusable."""


class DatasetError(LearningError):
    """A dataset file is missing, malformed or inconsistent (magic number, sizes, shapes)."""


class InferenceError(FedLedgerError, ValueError):
    """Encrypted prediction cannot proceed: unknown parameters, a malformed or mismatched CKKS
    context or ciphertext, a model the encrypted evaluation does not support."""


class PredictionError(FedLedgerError):
    """The prediction service refused or failed a call; ``code`` is the gRPC status name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidShareError(CryptoError):
    """A decryption share failed verification; ``party`` names the party that sent it.

    ``party`` is the share index (int) at the threshold layer, the party id (str) in the flows.
    """

    def __init__(self, party: int | str, reason: str) -> None:
        super().__init__(f"decryption share of party {party} is invalid: {reason}")
        self.party = party
        self.reason = reason


class EnvelopeError(CryptoError):
    """A sealed envelope cannot be opened: malformed, tampered with, or sealed to someone else."""


class SimulationError(FedLedgerError, ValueError):
    """A simulation's settings cannot work: too few participants, a threshold above them, an
    unknown strategy or model; the message names the setting."""


class LedgerError(FedLedgerError):
    """Talking to a ledger failed."""


class ContractError(LedgerError):
    """The chaincode rejected the transaction; ``message`` is the contract's own message and
    ``status`` the chaincode response status (404: not found, 500: refused)."""

    def __init__(
        self, message: str, *, tx_id: str = "", stage: str = "endorse", status: int = 500
    ) -> None:
        super().__init__(message)
        self.message = message
        self.tx_id = tx_id
        self.stage = stage
        self.status = status

    @classmethod
    def of_status(
        cls, message: str, status: int, *, tx_id: str = "", stage: str = "endorse"
    ) -> ContractError:
        """The error for a chaincode response: AssetNotFound for status 404."""
        kind = AssetNotFound if status == NOT_FOUND_STATUS else ContractError
        return kind(message, tx_id=tx_id, stage=stage, status=status)


class AssetNotFound(ContractError):
    """The chaincode refused because the asset the call names does not exist (yet)."""


class GatewayError(LedgerError):
    """A stage of the Gateway protocol failed (connection, endorse, submit, commit, evaluate)."""

    def __init__(self, stage: str, details: str, *, tx_id: str = "") -> None:
        prefix = f"{stage} failed" + (f" for transaction {tx_id}" if tx_id else "")
        super().__init__(f"{prefix}: {details}")
        self.stage = stage
        self.details = details
        self.tx_id = tx_id


class CommitError(GatewayError):
    """The transaction was ordered but the peers marked it invalid (e.g. MVCC_READ_CONFLICT)."""

    def __init__(self, tx_id: str, code: str, block_number: int | None = None) -> None:
        super().__init__("commit", f"validation code {code}", tx_id=tx_id)
        self.code = code
        self.block_number = block_number


class NetworkError(FedLedgerError):
    """The local Fabric network could not be built, started, stopped or reached."""


class EnrichmentError(FedLedgerError):
    """A plan's model cannot be used: its envelope does not open to the weights the ledger names
    (wrong digest or length), or the plan is not in the state the step needs."""


class RoleProcessError(FedLedgerError):
    """A ``fedledger`` command run as a process exited, stalled, reported an error or printed an
    event line that does not parse (the message names the process and, for a line, the field)."""
