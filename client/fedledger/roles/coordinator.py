"""The coordinator: proposes a training task, deals the threshold key, opens and closes rounds.

The coordinator is also the key dealer (DESIGN.md, Cryptography): it generates the Paillier key,
seals each participant's share to the X25519 key the participant registered, publishes the
envelopes on the ledger, and drops the factorisation at once. Trust assumption: the dealer does
not keep the key. It never sees a key share after the ceremony and holds no decryption share.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fedledger.crypto.ceremony import deal_from_private_key
from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PrivateKey, PublicKey, generate_keypair
from fedledger.ledger.interface import Contract
from fedledger.protocol.rounds import decision_deadline
from fedledger.roles.ledger_io import DECIDED, get_round, query, submit, wait_for
from fedledger.roles.model_io import FloatVector, model_hash, weights_bytes, weights_hash

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class TaskPlan:
    """What the consortium agrees on for one training task."""

    model: str = "mlp32"
    rounds: int = 5
    threshold: int = 2
    quorum: int | None = None  # default: every participant
    round_seconds: int = 600
    tolerance_bp: int = 200
    frac_bits: int = 16
    clip: float = 1.0  # bound on each (sample-weighted) update value; larger values are clipped
    key_bits: int = 2048


def key_share_context(fingerprint: str) -> bytes:
    """Associated data binding a sealed key share to the task's key (and, inside, the party)."""
    return f"fedledger key share for key {fingerprint}".encode()


def encoding_for(plan: TaskPlan, participants: int) -> EncodingParams:
    """Encoding with headroom for every participant's update in one encrypted sum."""
    return EncodingParams.create(
        frac_bits=plan.frac_bits,
        clip=plan.clip,
        max_summands=participants,
        modulus_bits=plan.key_bits,
    )


def generate_task_key(plan: TaskPlan, progress: Progress = _silent) -> tuple[PublicKey, PrivateKey]:
    """A fresh safe-prime Paillier key for a task (seconds to minutes: the search is random)."""
    progress(f"generating a {plan.key_bits}-bit threshold Paillier key (safe primes)")
    return generate_keypair(plan.key_bits, processes=2)


class Coordinator:
    """Drives one task through its rounds over a ``Contract`` (Gateway or in-memory)."""

    def __init__(
        self,
        contract: Contract,
        progress: Progress = _silent,
        watchdog: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``watchdog`` runs while waiting on the ledger and may raise to stop waiting;
        ``clock`` (seconds since the epoch) decides when ledger deadlines have passed."""
        self.contract = contract
        self.progress = progress
        self.watchdog = watchdog
        self.clock = clock

    def propose_task(
        self,
        plan: TaskPlan,
        participants: list[dict[str, Any]],
        initial: FloatVector,
        keypair: tuple[PublicKey, PrivateKey] | None = None,
    ) -> str:
        """Deal keys, propose the task, publish initial weights and envelopes; return its id.

        ``participants`` are Party records (``id``, ``kx_public_key``) each with ``samples``.
        ``keypair`` is a safe-prime key made ahead (see :func:`generate_task_key`); by default
        one is generated here. Raises ContractError when the chaincode refuses any step.
        """
        public, private = keypair or generate_task_key(plan, self.progress)
        recipients = [(p["id"], base64.b64decode(p["kx_public_key"])) for p in participants]
        ceremony = deal_from_private_key(
            private,
            recipients,
            plan.threshold,
            associated_data=key_share_context(public.fingerprint),
        )
        del private  # the dealer keeps no key: only sealed shares leave the ceremony
        encoding = encoding_for(plan, len(participants))
        request = {
            "model": plan.model,
            "model_hash": model_hash(plan.model),
            "initial_weights_hash": weights_hash(initial),
            "value_count": int(initial.size),
            "encoding": encoding.to_spec().to_dict(),
            "public_key": {"n": str(public.n)},
            "threshold_public": ceremony.threshold_public_base64,
            "threshold": plan.threshold,
            "participants": [
                {"party": p["id"], "samples": int(p["samples"])} for p in participants
            ],
            "quorum": plan.quorum or len(participants),
            "rounds": plan.rounds,
            "round_seconds": plan.round_seconds,
            "tolerance_bp": plan.tolerance_bp,
        }
        task = submit(self.contract, "ProposeTask", json.dumps(request))
        task_id: str = task["id"]
        self.progress(f"proposed {task_id}; publishing initial weights and sealed key shares")
        self.contract.submit(
            "PutModelWeights", task_id, base64.b64encode(weights_bytes(initial)).decode()
        )
        for party_id, envelope in ceremony.envelopes.items():
            self.contract.submit(
                "PutKeyEnvelope", task_id, party_id, base64.b64encode(envelope).decode()
            )
        return task_id

    def wait_active(self, task_id: str, timeout: float) -> dict[str, Any]:
        """Wait until every participant approved the task; return the task record."""
        task: dict[str, Any] = wait_for(
            lambda: query(self.contract, "GetTask", task_id),
            lambda t: t["status"] == "active",
            what=f"every participant to approve {task_id}",
            timeout=timeout,
            watchdog=self.watchdog,
        )
        return task

    def open_round(self, task_id: str, number: int) -> dict[str, Any]:
        """Open round ``number``; returns the round record."""
        record: dict[str, Any] = submit(self.contract, "OpenRound", task_id, str(number))
        return record

    def close_when_submitted(self, task_id: str, number: int, timeout: float) -> dict[str, Any]:
        """Close the round once every participant has submitted, or once its deadline passed.

        Past the deadline a round with the quorum is closed and one without is failed
        (FailRound). Returns the round record (closed or failed). Raises WaitTimeout, or
        ContractError if the chaincode refuses.
        """
        task = query(self.contract, "GetTask", task_id)
        expected = len(task["participants"])

        def closable(record: dict[str, Any] | None) -> bool:
            if record is None:
                return False
            if record["status"] != "open":
                return True
            return len(record["submissions"]) >= expected or self._past(record["deadline"])

        record = wait_for(
            lambda: get_round(self.contract, task_id, number),
            closable,
            what=f"updates for round {number}",
            timeout=timeout,
            watchdog=self.watchdog,
        )
        if record["status"] != "open":
            return dict(record)
        verb = "CloseRound" if len(record["submissions"]) >= task["quorum"] else "FailRound"
        if verb == "FailRound":
            self.progress(f"round {number}: deadline passed below the quorum; failing it")
        result: dict[str, Any] = submit(self.contract, verb, task_id, str(number))
        return result

    def wait_decided(self, task_id: str, number: int, timeout: float) -> dict[str, Any]:
        """Wait until the round is accepted, rejected or failed; return the round record.

        A closed round still undecided after its decision deadline (shares or results missing)
        is failed here, so the task can go on.
        """
        task = query(self.contract, "GetTask", task_id)

        def final_or_overdue(record: dict[str, Any] | None) -> bool:
            if record is None:
                return False
            overdue = self._past(decision_deadline(record["deadline"], task["round_seconds"]))
            return record["status"] in DECIDED or overdue

        record: dict[str, Any] = wait_for(
            lambda: get_round(self.contract, task_id, number),
            final_or_overdue,
            what=f"the result of round {number}",
            timeout=timeout,
            watchdog=self.watchdog,
        )
        if record["status"] not in DECIDED:
            self.progress(f"round {number}: undecided after its decision deadline; failing it")
            failed: dict[str, Any] = submit(self.contract, "FailRound", task_id, str(number))
            return failed
        return record

    def _past(self, deadline: int) -> bool:
        """True once the clock is past a ledger deadline (seconds since the epoch)."""
        return self.clock() > deadline
