"""Attack 9: sizes that break the contract or task discovery for everyone.

A task whose round of updates cannot be held within one chaincode message would never close or
fail; a flood of proposals used to push ListTasks (every task with its threshold data) past the
message limit. ProposeTask now bounds a round's bytes; listings return small summaries a page at
a time and can be filtered by participant through an index; round views never carry vectors.
"""

from __future__ import annotations

import json

from cc_helpers import party_json, reject
from support.identities import make_identity
from training_helpers import SPEC, Setup, listed, pid, round_view, task_json, threshold_public

from fedledger.protocol.round_records import UpdateSummary
from fedledger.protocol.training import MAX_ROUND_BYTES


def test_a_task_whose_round_exceeds_one_message_is_refused_with_the_limit(setup: Setup) -> None:
    extra = [setup.ledger.contract(make_identity(f"Org{i}MSP")) for i in (4, 5)]
    for seed, contract in enumerate(extra, start=20):
        contract.submit("RegisterParty", party_json(["trainer"], seed=seed))
    ids = setup.ids + [pid(c.identity) for c in extra]
    big = 16 * 1024 * 1024

    message = reject(
        setup.ledger,
        setup.coordinator,
        "ProposeTask",
        task_json(
            ids,
            threshold_public=threshold_public(5),
            max_update_bytes=big,
            encoding={**SPEC.to_dict(), "max_summands": 5},
        ),
    )

    assert message == (
        f"5 participants x max_update_bytes {big} = {5 * big} bytes per round, more than the "
        f"{MAX_ROUND_BYTES} bytes one chaincode message can carry; lower max_update_bytes or "
        "split the consortium"
    )


def test_a_flood_of_proposals_cannot_hide_a_participants_tasks(setup: Setup) -> None:
    spammer, victim = setup.outsider, setup.trainers[0]
    spam = task_json(
        [pid(spammer.identity), setup.ids[1]], threshold_public=threshold_public(2), quorum=2
    )
    for _ in range(255):
        spammer.submit("ProposeTask", spam)
    real = setup.propose()["id"]

    first_page = spammer.evaluate("ListTasks", json.dumps({"page_size": 100}))
    mine = listed(setup.coordinator, participant=setup.ids[0])
    pages, bookmark = 0, None
    found = []
    while True:
        query = {"participant": setup.ids[1], **({"bookmark": bookmark} if bookmark else {})}
        page = json.loads(victim.evaluate("ListTasks", json.dumps(query)))
        found += [t["id"] for t in page["tasks"]]
        pages, bookmark = pages + 1, page["bookmark"]
        if bookmark is None:
            break

    assert len(json.loads(first_page)["tasks"]) == 100
    assert len(first_page) < 100 * 1024  # summaries: no key material, no threshold data
    assert [t["id"] for t in mine] == [real]  # the coordinator's index holds only its task
    assert real in found and len(found) == 256 and pages == 6  # 50 per page by default


def test_a_listing_page_is_bounded(setup: Setup) -> None:
    message = reject(setup.ledger, setup.coordinator, "ListTasks", json.dumps({"page_size": 101}))

    assert message == "page_size must be at most 100, got 101"


def test_a_round_view_carries_summaries_not_vectors(setup: Setup) -> None:
    task = setup.active_task()
    setup.coordinator.submit("OpenRound", task, "1")
    for contract in setup.participants:
        setup.submit_update(contract, task)
    setup.outsider.submit("CloseRound", task, "1")

    view = round_view(setup.outsider, task)

    assert len(json.dumps(view)) < 4096
    assert all(
        set(s) == set(UpdateSummary.__dataclass_fields__)
        for s in view["submissions"]
    )
