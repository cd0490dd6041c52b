"""The network a demo runs on: the one in the state folder when it fits, else a new one.

Every demo (`demo`, `demo --enrich`, `demo --predict`) needs at least a number of
organisations. A recorded network with fewer (or on other ports) is replaced, after saying so:
``make demo`` followed by ``make demo-enrich`` must not need a third command.
"""

from __future__ import annotations

import argparse

from fedledger.cli.network_cmd import bring_up
from fedledger.cli.output import progress, say
from fedledger.cli.paths import Paths
from fedledger.network.local import LocalNetwork
from fedledger.network.recorded import fits, read_topology


def network_for_demo(paths: Paths, args: argparse.Namespace) -> tuple[LocalNetwork, bool, float]:
    """Bring up a network with at least ``args.orgs`` orgs; return it, whether it started, seconds.

    A recorded network that has enough orgs is kept whatever its other settings; one that has
    too few, or another base port than ``args.base_port``, is stopped and purged first. Raises
    NetworkError as ``network up`` does.
    """
    saved = read_topology(paths.state / "topology.json")
    base_port = getattr(args, "base_port", None)
    if saved is not None and not fits(saved, min_orgs=args.orgs, base_port=base_port):
        say(
            f"the network in {paths.state} has {saved['orgs']} orgs on base port "
            f"{saved['base_port']}; this demo needs {args.orgs}"
            f"{'' if base_port is None else f' on base port {base_port}'}: replacing it "
            "(its ledger and wallets are deleted)"
        )
        LocalNetwork.open(paths.state, paths.bin_dir, paths.builder_dir).down(
            purge=True, progress=progress
        )
        saved = None
    # A network that fits is reopened as recorded; a new one gets exactly what the demo needs.
    wanted = argparse.Namespace(
        orgs=args.orgs if saved is None else None, base_port=base_port if saved is None else None
    )
    return bring_up(paths, wanted)
