"""`fedledger party|advertise|advertisement|query ...`: transactions and queries as one identity."""

from __future__ import annotations

import argparse
import base64
import json
import os
from typing import Any

from fedledger.cli.output import answer, emit_json, table
from fedledger.cli.paths import Paths
from fedledger.contract import parties
from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.errors import FedLedgerError
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.protocol.asset_requests import (
    AdvertisementListing,
    AdvertisementRequest,
    PartyRequest,
)
from fedledger.protocol.assets import ROLES


def add_parsers(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse._SubParsersAction:
    """Add party/advertise/advertisement/query; return the query sub-commands for extension."""
    party = sub.add_parser("party", help="register this identity as a party, or read parties")
    psub = party.add_subparsers(dest="party_command", required=True)
    reg = psub.add_parser("register", parents=[common], help="register the --org/--user identity")
    reg.add_argument(
        "--role",
        action="append",
        choices=ROLES,
        required=True,
        help="a role of this party (repeat for several)",
    )
    reg.set_defaults(func=cmd_party_register)
    psub.add_parser("list", parents=[common], help="every registered party").set_defaults(
        func=cmd_party_list
    )

    adv = sub.add_parser("advertise", parents=[common], help="advertise data this party offers")
    _ad_fields(adv)
    adv.set_defaults(func=cmd_advertise)

    ad = sub.add_parser("advertisement", help="change or withdraw your own advertisement")
    asub = ad.add_subparsers(dest="advertisement_command", required=True)
    upd = asub.add_parser("update", parents=[common], help="replace an advertisement's fields")
    upd.add_argument("id")
    _ad_fields(upd)
    upd.set_defaults(func=cmd_ad_update)
    wd = asub.add_parser("withdraw", parents=[common], help="withdraw an advertisement")
    wd.add_argument("id")
    wd.set_defaults(func=cmd_ad_withdraw)

    query = sub.add_parser("query", help="read the ledger")
    qsub = query.add_subparsers(dest="query_command", required=True)
    qa = qsub.add_parser("advertisements", parents=[common], help="advertised data sets")
    qa.add_argument("--all", action="store_true", help="include withdrawn advertisements")
    qa.set_defaults(func=cmd_query_ads)
    qsub.add_parser("parties", parents=[common], help="registered parties").set_defaults(
        func=cmd_party_list
    )
    qh = qsub.add_parser("history", parents=[common], help="every version of one ledger key")
    qh.add_argument("object_type", help="e.g. Party, Advertisement, TrainingTask")
    qh.add_argument("key", nargs="+", help="the key's parts, e.g. an advertisement id")
    qh.set_defaults(func=cmd_query_history)
    return qsub


def _ad_fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--description", required=True, help="what the data set is")
    parser.add_argument("--samples", type=int, required=True, help="number of samples")
    parser.add_argument("--goal", required=True, help="the business goal of sharing it")
    parser.add_argument(
        "--labels", default=None, help='label histogram as JSON, e.g. \'{"0": 480, "1": 530}\''
    )


def _ad_request(args: argparse.Namespace) -> AdvertisementRequest:
    """The request from the flags; ``ProtocolError`` names a malformed label count."""
    request: dict[str, Any] = {
        "description": args.description,
        "samples": args.samples,
        "goal": args.goal,
    }
    if args.labels is not None:
        try:
            request["labels"] = json.loads(args.labels)
        except json.JSONDecodeError as exc:
            raise FedLedgerError(f"--labels is not valid JSON: {exc}") from exc
    return AdvertisementRequest.from_dict(request)


def contract_for(paths: Paths, args: argparse.Namespace) -> GatewayContract:
    """Connect to the network as ``--org``/``--user`` through that org's peer."""
    if not paths.profile.is_file():
        raise FedLedgerError(
            f"no network profile at {paths.profile}: start the network with 'fedledger network up'"
        )
    return connect(paths.profile, org=args.org, user=args.user)


def kx_private_key(paths: Paths, org: str, user: str) -> bytes:
    """This identity's X25519 key-exchange private key, created on first use (mode 0600)."""
    path = paths.wallet(org, user) / "x25519.key.b64"
    if path.is_file():
        return base64.b64decode(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(key).decode())
    return key


def _show(args: argparse.Namespace, record: Any, line: str) -> None:
    answer(args.json, record, line)


def cmd_party_register(paths: Paths, args: argparse.Namespace) -> int:
    key = kx_private_key(paths, args.org, args.user)
    request = PartyRequest(
        roles=tuple(sorted(set(args.role))),
        kx_public_key=base64.b64encode(public_key_bytes(key)).decode(),
    )
    with contract_for(paths, args) as contract:
        party = parties.register_party(contract, request)
    _show(args, party.to_dict(), f"registered {party.id} with roles {', '.join(party.roles)}")
    return 0


def cmd_party_list(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        registered = parties.list_parties(contract)
    if args.json:
        emit_json([p.to_dict() for p in registered])
    else:
        table(
            ["party", "msp", "roles"],
            [(p.id[:40] + "…", p.msp_id, ",".join(p.roles)) for p in registered],
        )
    return 0


def cmd_advertise(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        ad = parties.create_advertisement(contract, _ad_request(args))
    _show(args, ad.to_dict(), f"advertised {ad.id}: {ad.samples} samples, goal: {ad.goal}")
    return 0


def cmd_ad_update(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        ad = parties.update_advertisement(contract, args.id, _ad_request(args))
    _show(args, ad.to_dict(), f"updated {ad.id} (version {ad.version})")
    return 0


def cmd_ad_withdraw(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        ad = parties.withdraw_advertisement(contract, args.id)
    _show(args, ad.to_dict(), f"withdrew {ad.id}")
    return 0


def cmd_query_ads(paths: Paths, args: argparse.Namespace) -> int:
    listing = AdvertisementListing(include_withdrawn=bool(args.all))
    with contract_for(paths, args) as contract:
        ads = parties.list_advertisements(contract, listing)
    if args.json:
        emit_json([a.to_dict() for a in ads])
    else:
        table(
            ["id", "owner", "samples", "status", "goal"],
            [(a.id, a.owner_msp, a.samples, a.status, a.goal[:40]) for a in ads],
        )
    return 0


def cmd_query_history(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        history = parties.get_history(contract, args.object_type, args.key)
    if args.json:
        emit_json(history)
    else:
        table(
            ["tx", "time", "deleted"],
            [(h["tx_id"][:16], h["timestamp"]["seconds"], h["is_delete"]) for h in history],
        )
    return 0
