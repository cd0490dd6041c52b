"""The audit page in a headless Chromium: its script draws the round table and the chart.

The app is served by uvicorn on a free loopback port over a task the real roles ran on the
in-memory ledger; Chromium loads the page, runs its script (with a virtual-time budget, so the
fetches finish) and dumps the DOM. Skipped when no `chromium` is installed, unless
FEDLEDGER_REQUIRE_BROWSER=1 (as in CI). With FEDLEDGER_SCREENSHOT=FILE it also saves a PNG of the
page (how docs/dashboard.png was made).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from support.consortium import Consortium, run_whole_task

from fedledger.dashboard.app import create_app

pytestmark = pytest.mark.slow

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[dict[str, object]]]]:
    if BROWSER is None:
        if os.environ.get("FEDLEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (FEDLEDGER_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("no chromium installed")
    with Consortium() as consortium:
        task = consortium.propose()
        outcomes, _, _ = run_whole_task(consortium, task)
        admin = consortium.ledger.contract(consortium.members[0].contract.identity)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(admin, org="Org1"), host="127.0.0.1", port=port,
                           log_level="warning")
        )  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        rounds = [{"round": o.round, "status": o.status} for o in outcomes]
        try:
            # live=0: an open event stream would keep Chromium's virtual time from ever running out
            yield f"http://127.0.0.1:{port}/?live=0#{task}", rounds
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _chromium(*flags: str, url: str) -> str:
    assert BROWSER is not None
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", *flags, url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def test_the_page_shows_every_round_in_the_table_and_the_chart(
    served: tuple[str, list[dict[str, object]]],
) -> None:
    url, rounds = served

    dom = _chromium("--dump-dom", url=url)

    rows = re.findall(r'<tr data-round="(\d+)"><td>\d+</td><td class="(\w+)">', dom)
    assert rows == [(str(r["round"]), r["status"]) for r in rounds]
    decided = [r for r in rounds if r["status"] in ("accepted", "rejected")]
    assert dom.count('class="point"') == len(decided)
    assert "reading as Org1" in dom
    screenshot = os.environ.get("FEDLEDGER_SCREENSHOT")
    if screenshot:
        _chromium(f"--screenshot={screenshot}", "--window-size=1280,1100", url=url)
