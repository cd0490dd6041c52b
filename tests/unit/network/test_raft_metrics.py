"""Reading an orderer's Raft state from its Prometheus metrics text."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from fedledger.network.raft import RaftState, parse_raft_metrics, read_raft_state

# As a v3.1.1 orderer's /metrics serves them (trimmed), for two channels.
METRICS = """\
# HELP consensus_etcdraft_active_nodes Number of active nodes in this channel.
# TYPE consensus_etcdraft_active_nodes gauge
consensus_etcdraft_active_nodes{channel="fedledger"} 3
consensus_etcdraft_cluster_size{channel="fedledger"} 3
consensus_etcdraft_committed_block_number{channel="fedledger"} 4
consensus_etcdraft_data_persist_duration_bucket{channel="fedledger",le="0.005"} 290
consensus_etcdraft_is_leader{channel="fedledger"} 1
consensus_etcdraft_is_leader{channel="other"} 0
consensus_etcdraft_committed_block_number{channel="other"} 17
"""


def test_the_leaders_gauges_give_leadership_height_and_cluster() -> None:
    # Execute
    state = parse_raft_metrics(METRICS, "fedledger")

    # Assert
    assert state == RaftState(is_leader=True, committed_block=4, active_nodes=3, cluster_size=3)
    assert state.height == 5


def test_each_channel_is_read_on_its_own() -> None:
    # Execute
    state = parse_raft_metrics(METRICS, "other")

    # Assert
    assert state == RaftState(is_leader=False, committed_block=17, active_nodes=0, cluster_size=0)


@pytest.mark.parametrize("text", ["", "# metrics disabled\n", 'go_goroutines{channel="x"} 3\n'])
def test_no_leadership_gauge_means_no_state(text: str) -> None:
    assert parse_raft_metrics(text + METRICS.replace("fedledger", "x"), "fedledger") is None
    assert parse_raft_metrics(text, "fedledger") is None


@pytest.fixture
def metrics_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = METRICS.encode() if self.path == "/metrics" else b""
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_read_raft_state_fetches_the_operations_endpoint(metrics_server: int) -> None:
    # Execute
    state = read_raft_state("127.0.0.1", metrics_server, "fedledger")

    # Assert
    assert state is not None and state.is_leader and state.height == 5


def test_an_unreachable_endpoint_reads_as_no_state() -> None:
    # Prepare: a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]

    # Execute / Assert
    assert read_raft_state("127.0.0.1", free, "fedledger", timeout=0.5) is None
