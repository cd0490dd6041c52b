"""What an orderer's operations endpoint says about its Raft node on one channel.

Fabric v3.1's etcdraft chain exports Prometheus gauges per channel (orderer/consensus/etcdraft/
metrics.go) when the orderer runs with ``ORDERER_METRICS_PROVIDER=prometheus``:
``consensus_etcdraft_is_leader`` (1 on the leader), ``consensus_etcdraft_committed_block_number``,
``consensus_etcdraft_active_nodes`` (as the leader counts them) and
``consensus_etcdraft_cluster_size``. ``GET /metrics`` on the operations port serves them as
Prometheus text. Neither osnadmin nor the channel participation API names the leader.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass

__all__ = ["RaftState", "parse_raft_metrics", "read_raft_state"]

_SAMPLE = re.compile(
    r"^consensus_etcdraft_(is_leader|committed_block_number|active_nodes|cluster_size)"
    r'\{channel="([^"]*)"\}\s+(\S+)\s*$',
    re.MULTILINE,
)


@dataclass(frozen=True)
class RaftState:
    """One Raft node's view of a channel: whether it leads, its last block, the cluster size."""

    is_leader: bool
    committed_block: int
    active_nodes: int
    cluster_size: int

    @property
    def height(self) -> int:
        """Blocks on this node's ledger, genesis included (the last block number plus one)."""
        return self.committed_block + 1


def parse_raft_metrics(text: str, channel: str) -> RaftState | None:
    """Read the etcdraft gauges of ``channel`` from Prometheus text.

    Returns None when the text has no leadership gauge for the channel (metrics disabled, or the
    orderer has not joined the channel).
    """
    values: dict[str, int] = {}
    for name, label, value in _SAMPLE.findall(text):
        if label == channel:
            try:
                values[name] = int(float(value))
            except ValueError:
                continue
    if "is_leader" not in values:
        return None
    return RaftState(
        is_leader=values["is_leader"] == 1,
        committed_block=values.get("committed_block_number", 0),
        active_nodes=values.get("active_nodes", 0),
        cluster_size=values.get("cluster_size", 0),
    )


def read_raft_state(
    host: str, operations_port: int, channel: str, timeout: float = 2.0
) -> RaftState | None:
    """Fetch ``/metrics`` of an orderer and return its Raft state on ``channel``.

    Returns None when the endpoint cannot be reached or reports nothing for the channel.
    """
    url = f"http://{host}:{operations_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return parse_raft_metrics(text, channel)
