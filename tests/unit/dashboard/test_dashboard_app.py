"""The audit web view over HTTP, on a whole task the real roles ran on the in-memory ledger."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient
from support.consortium import Consortium, run_whole_task

from fedledger.dashboard.app import create_app
from fedledger.protocol.rounds import round_key

# Slow: the module's fixture runs a whole task on the in-memory ledger first (about 6 s).
pytestmark = pytest.mark.slow


@dataclass
class Audited:
    consortium: Consortium
    task: str
    client: TestClient


@pytest.fixture(scope="module")
def audited() -> Iterator[Audited]:
    with Consortium() as consortium:
        task = consortium.propose()
        run_whole_task(consortium, task)
        admin = consortium.ledger.contract(consortium.members[1].contract.identity)
        with TestClient(create_app(admin, org="Org2")) as client:
            yield Audited(consortium, task, client)


def test_the_page_is_html_with_the_round_table_and_the_chart(audited: Audited) -> None:
    response = audited.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<table id="rounds">' in response.text
    assert '<svg id="chart"' in response.text
    assert 'new EventSource("/api/events")' in response.text


def test_identity_names_the_org_and_party_the_view_reads_as(audited: Audited) -> None:
    me = audited.client.get("/api/identity").json()

    assert me == {
        "org": "Org2",
        "msp_id": "Org2MSP",
        "party": audited.consortium.members[1].party["id"],
    }


def test_tasks_lists_the_finished_task(audited: Audited) -> None:
    tasks = audited.client.get("/api/tasks").json()

    assert [(t["id"], t["status"], t["rounds"]) for t in tasks] == [(audited.task, "finished", 2)]


def test_a_task_shows_each_rounds_status_contributors_aggregate_shares_and_result(
    audited: Audited,
) -> None:
    task = audited.client.get(f"/api/tasks/{audited.task}").json()

    assert "threshold_public" not in task and task["key_bits"] == 2048
    assert task["history"] == [{"label": "task", "type": "TrainingTask", "key": [audited.task]}]
    parties = {m.party["id"] for m in audited.consortium.members}
    assert [r["round"] for r in task["round_views"]] == [1, 2]
    for view in task["round_views"]:
        assert view["status"] in ("accepted", "rejected")
        assert set(view["aggregate"]["contributors"]) == parties
        assert len(view["aggregate"]["digest"]) == 64 and view["aggregate"]["size"] > 0
        assert len(view["shares"]) == 2
        assert view["result"]["median_bp"] >= 0
        labels = [link["label"] for link in view["history"]]
        assert labels[:2] == ["round", "aggregate"]
        assert sum(label.startswith("update of ") for label in labels) == 3
        assert sum(label.startswith("share of ") for label in labels) == 2


def test_every_history_link_of_a_round_reads_a_committed_history(audited: Audited) -> None:
    task = audited.client.get(f"/api/tasks/{audited.task}").json()

    for link in task["round_views"][0]["history"]:
        params = [("type", link["type"]), *(("key", part) for part in link["key"])]
        entries = audited.client.get("/api/history", params=params).json()
        page = audited.client.get("/history", params=params)
        assert len(entries) >= 1, link
        assert page.status_code == 200 and entries[0]["tx_id"] in page.text


def test_the_round_history_shows_its_versions_newest_first(audited: Audited) -> None:
    params = [("type", "Round"), ("key", audited.task), ("key", round_key(1))]

    entries = audited.client.get("/api/history", params=params).json()

    statuses = [e["value"]["status"] for e in entries]
    assert statuses[0] in ("accepted", "rejected") and statuses[-1] == "open"


def test_an_unknown_task_is_a_404_with_the_chaincodes_message(audited: Audited) -> None:
    response = audited.client.get("/api/tasks/task-" + "0" * 32)

    assert response.status_code == 404
    assert "task-" + "0" * 32 in response.json()["error"]


def test_a_malformed_history_request_is_a_400_with_the_chaincodes_message(
    audited: Audited,
) -> None:
    api = audited.client.get("/api/history", params={"type": "Nothing", "key": "x"})
    page = audited.client.get("/history", params={"type": "Round"})

    assert api.status_code == 400
    assert api.json()["error"].startswith("unknown object type 'Nothing'; known types are")
    assert page.status_code == 400
    assert page.json()["error"] == "argument 2 must name at least one key part"


def test_events_stream_as_server_sent_events_from_a_block(audited: Audited) -> None:
    with audited.client.stream("GET", "/api/events?from_block=0&limit=3") as response:
        body = "".join(response.iter_text())

    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in body.split("\n\n") if f.startswith("event: chaincode")]
    events = [json.loads(f.split("data: ", 1)[1]) for f in frames]
    assert len(events) == 3
    assert events[0]["name"] == "PartyRegistered"
    assert [e["block"] for e in events] == sorted(e["block"] for e in events)


def test_events_refuse_a_block_that_is_not_a_number(audited: Audited) -> None:
    response = audited.client.get("/api/events?from_block=soon")

    assert response.status_code == 400
    assert response.json() == {"error": "from_block and limit must be integers"}


def test_events_follow_a_transaction_committed_while_the_stream_is_open(audited: Audited) -> None:
    start = audited.consortium.ledger.height
    ad = {"description": "new data", "samples": 5, "goal": "digits"}
    writer = threading.Thread(
        target=audited.consortium.members[2].contract.submit,
        args=("CreateAdvertisement", json.dumps(ad)),
    )

    with audited.client.stream("GET", f"/api/events?from_block={start}&limit=1") as response:
        writer.start()
        body = "".join(response.iter_text())
    writer.join()

    frames = [f for f in body.split("\n\n") if f.startswith("event: chaincode")]
    event = json.loads(frames[0].split("data: ", 1)[1])
    assert (event["name"], event["block"]) == ("AdvertisementCreated", start)
    assert event["payload"]["description"] == "new data"
