"""`fedledger task propose --file task.toml` and `fedledger task approve --task T`.

``propose`` runs as the coordinator identity (give ``--org``/``--user``, e.g. ``--user Admin``):
it registers that identity as a coordinator if it is not yet, resolves each participant's party
record (and, for a participant named by its advertisement, the advertisement's sample count,
which must be owned by that party and active), generates the task's threshold Paillier key,
deals the sealed key shares and proposes the task (``roles.coordinator.Coordinator``). The task
file format is :mod:`fedledger.cli.task_file`.

``approve`` lets a participant approve by hand after reading the task (`fedledger query task`):
it runs the same checks as `participant run` (``roles.task_policy.check_task``) against the
coordinators it names, then submits ApproveTask. A later `participant run --task T` joins the
approved task without approving it again.
"""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

from fedledger.cli import ledger_cmd
from fedledger.cli.ledger_cmd import kx_private_key
from fedledger.cli.output import emit_json, progress, say
from fedledger.cli.paths import Paths
from fedledger.cli.task_file import ParticipantEntry, TaskFileError, load_task_file
from fedledger.contract import parties, training
from fedledger.crypto.envelope import public_key_bytes
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import AssetNotFound, FedLedgerError
from fedledger.ledger.interface import Contract
from fedledger.protocol.assets import ADVERTISEMENT_ACTIVE, party_id
from fedledger.roles.ledger_io import get_task, register_party
from fedledger.roles.training.coordinator import Coordinator, generate_task_key
from fedledger.roles.training.task_policy import TaskPolicy, check_task


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    task = sub.add_parser("task", help="propose or approve a training task")
    tsub = task.add_subparsers(dest="task_command", required=True)
    propose = tsub.add_parser(
        "propose", parents=[common], help="propose a task from a task file (as the coordinator)"
    )
    propose.add_argument("--file", required=True, help="the task file (TOML; see the README)")
    propose.add_argument(
        "--key-file",
        default=None,
        help='a safe-prime Paillier key made ahead, JSON {"p": "<hex>", "q": "<hex>"} '
        "(default: generate one now, seconds to minutes); it is the dealer's secret: delete it",
    )
    propose.set_defaults(func=cmd_task_propose)
    approve = tsub.add_parser(
        "approve", parents=[common], help="check a proposed task and approve it (a participant)"
    )
    approve.add_argument("--task", required=True)
    approve.add_argument(
        "--coordinator",
        action="append",
        required=True,
        metavar="PARTY_ID",
        help="a coordinator this participant trusts to deal the task's key (repeat for several)",
    )
    approve.add_argument(
        "--samples", type=int, default=None, help="refuse unless the task declares these samples"
    )
    approve.add_argument("--min-quorum", type=int, default=2)
    approve.set_defaults(func=cmd_task_approve)


def read_key_file(path: str) -> tuple[PublicKey, PrivateKey]:
    """The safe-prime key in ``path``; raises FedLedgerError when it is unreadable or unsafe."""
    try:
        raw: Any = json.loads(Path(path).read_text())
        p, q = int(raw["p"], 16), int(raw["q"], 16)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FedLedgerError(f'{path}: not a key file {{"p": hex, "q": hex}}: {exc}') from None
    public = PublicKey(p * q)
    private = PrivateKey(public, p, q)
    if not private.is_safe:
        raise FedLedgerError(f"{path}: p and q must be safe primes (threshold decryption)")
    return public, private


def resolve_participants(
    contract: Contract, entries: tuple[ParticipantEntry, ...]
) -> list[dict[str, Any]]:
    """Party records with their ``samples``: given, or from the party's own advertisement.

    Raises TaskFileError naming the participant that is not registered or whose advertisement
    is missing, someone else's or withdrawn.
    """
    records = []
    for number, entry in enumerate(entries, start=1):
        where = f"participants[{number}]"
        try:
            party = parties.get_party(contract, entry.party)
        except AssetNotFound:
            raise TaskFileError(f"{where}.party {entry.party} is not a registered party") from None
        samples = entry.samples
        if entry.advertisement is not None:
            try:
                ad = parties.get_advertisement(contract, entry.advertisement)
            except AssetNotFound:
                raise TaskFileError(
                    f"{where}.advertisement {entry.advertisement} does not exist"
                ) from None
            if ad.owner_party != entry.party:
                raise TaskFileError(
                    f"{where}.advertisement {entry.advertisement} belongs to {ad.owner_party}"
                )
            if ad.status != ADVERTISEMENT_ACTIVE:
                raise TaskFileError(f"{where}.advertisement {entry.advertisement} is withdrawn")
            samples = ad.samples
        records.append({**party.to_dict(), "samples": samples})
    return records


def cmd_task_propose(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.learning.models import initial_weights

    task_file = load_task_file(args.file)
    keypair: object | None = read_key_file(args.key_file) if args.key_file else None
    kx_key = kx_private_key(paths, args.org, args.user)
    with ledger_cmd.contract_for(paths, args) as contract:
        records = resolve_participants(contract, task_file.participants)
        me = register_party(
            contract, ["coordinator"], base64.b64encode(public_key_bytes(kx_key)).decode()
        )
        if keypair is None:
            keypair = generate_task_key(task_file.plan, progress)
        coordinator = Coordinator(contract, progress=progress if not args.json else _quiet)
        weights = initial_weights(task_file.plan.model, seed=task_file.seed)
        task_id = coordinator.propose_task(task_file.plan, records, weights, keypair)
        task = get_task(contract, task_id)
    if args.json:
        emit_json({"task": task_id, "proposer": me["id"], "status": task.status})
    else:
        say(f"proposed {task_id} as {me['id']}")
        say(f"participants approve it with 'participant run --task {task_id} ...' or 'task "
            f"approve'; then drive it with 'coordinator run --task {task_id}'")  # fmt: skip
    return 0


def cmd_task_approve(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        identity = contract.identity
        me = party_id(identity.msp_id, identity.certificate_pem)
        task = get_task(contract, args.task)
        policy = TaskPolicy.trusting(
            args.coordinator, min_quorum=args.min_quorum, expected_samples=args.samples
        )
        check_task(task, me, policy)
        if me in task.approvals:
            raise FedLedgerError(f"{me} has already approved {task.id}")
        after = training.approve_task(contract, task.id)
    if args.json:
        emit_json({"task": after.id, "status": after.status, "approvals": list(after.approvals)})
    else:
        say(f"approved {after.id}: {len(after.approvals)} of {len(after.participants)} "
            f"approvals, status {after.status}")  # fmt: skip
    return 0


def _quiet(_: str) -> None:
    return None
