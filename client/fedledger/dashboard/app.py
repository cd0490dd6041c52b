"""The audit web view as a Starlette application: one page, a JSON API and live events.

Routes (every one read-only; the identity is the one the app was given):

- ``GET /``: the page (``static/index.html``), which draws everything from the API;
- ``GET /api/identity``: the org and party id the view reads as;
- ``GET /api/tasks``: every task's summary; ``GET /api/tasks/{task}``: a task with its rounds;
- ``GET /api/history?type=T&key=K1&key=K2``: GetHistory of one asset, as JSON; ``GET
  /history?...``: the same as a page;
- ``GET /api/events``: the chaincode's events as server-sent events (``text/event-stream``),
  from the newest block, or from ``?from_block=N``; ``?limit=N`` ends the stream after N events
  (for scripts). A comment line every 15 s keeps idle connections open. The ledger stream is
  renewed every 30 s from the block of the last event; a stream from the newest block that saw
  no event is renewed from the newest block, so an event committed in that instant is not pushed
  (the page also refreshes once a minute, which covers it).

Chaincode rejections become HTTP errors with the chaincode's message: 404 for a missing asset,
400 for anything else it refuses.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fedledger.dashboard import views
from fedledger.errors import AssetNotFound, ContractError, LedgerError
from fedledger.ledger.events import EventCursor, event_json
from fedledger.ledger.interface import ChaincodeEvent, Contract
from fedledger.protocol.assets import party_id

__all__ = ["create_app"]

KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 30.0


def _page() -> str:
    return resources.files("fedledger.dashboard").joinpath("static/index.html").read_text()


def _follow(
    contract: Contract,
    start: int | None,
    deliver: Callable[[ChaincodeEvent], None],
    stopped: threading.Event,
) -> None:
    """Read events into ``deliver`` until ``stopped``; resume from the last block after a break
    (skipping that block's events already delivered)."""
    cursor = EventCursor(start)
    while not stopped.is_set():
        try:
            for event in contract.events(cursor.block, timeout=STREAM_SECONDS):
                if stopped.is_set():
                    return
                if cursor.take(event):
                    deliver(event)
        except LedgerError:
            stopped.wait(1.0)


def _guarded(read: Callable[[Request], Any]) -> Callable[[Request], Response]:
    """An endpoint answering ``read``'s result as JSON, and a chaincode rejection as an HTTP
    error with the chaincode's message (404 for a missing asset, 400 otherwise)."""

    def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(read(request))
        except AssetNotFound as exc:
            return JSONResponse({"error": exc.message}, status_code=404)
        except ContractError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)

    return endpoint


def _events_endpoint(contract: Contract) -> Callable[[Request], Awaitable[Response]]:
    """``GET /api/events``: the chaincode's events from ``?from_block``, at most ``?limit``."""

    async def events(request: Request) -> Response:
        raw_start = request.query_params.get("from_block")
        raw_limit = request.query_params.get("limit")
        try:
            start = None if raw_start is None else int(raw_start)
            limit = None if raw_limit is None else int(raw_limit)
        except ValueError:
            return JSONResponse({"error": "from_block and limit must be integers"}, 400)
        return StreamingResponse(
            _stream(contract, start, limit), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )  # fmt: skip

    return events


def create_app(contract: Contract, *, org: str = "") -> Starlette:
    """The audit view reading through ``contract`` (one org's identity, named ``org``)."""

    def identity(_: Request) -> dict[str, Any]:
        me = contract.identity
        return {"org": org, "msp_id": me.msp_id, "party": party_id(me.msp_id, me.certificate_pem)}

    def tasks(_: Request) -> Any:
        return views.task_list(contract)

    def task(request: Request) -> Any:
        return views.task_view(contract, request.path_params["task_id"])

    def history_of(request: Request) -> Any:
        return views.history(
            contract, request.query_params.get("type", ""), request.query_params.getlist("key")
        )

    def history_page(request: Request) -> Response:
        response = _guarded(history_of)(request)
        if response.status_code != 200:
            return response
        object_type = request.query_params.get("type", "")
        parts = request.query_params.getlist("key")
        entries = json.loads(bytes(response.body))
        return HTMLResponse(_history_html(object_type, parts, entries))

    def index(_: Request) -> Response:
        return HTMLResponse(_page())

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/identity", _guarded(identity)),
            Route("/api/tasks", _guarded(tasks)),
            Route("/api/tasks/{task_id}", _guarded(task)),
            Route("/api/history", _guarded(history_of)),
            Route("/history", history_page),
            Route("/api/events", _events_endpoint(contract)),
        ]
    )


async def _stream(contract: Contract, start: int | None, limit: int | None) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[ChaincodeEvent] = asyncio.Queue()
    stopped = threading.Event()

    def deliver(event: ChaincodeEvent) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    reader = threading.Thread(target=_follow, args=(contract, start, deliver, stopped), daemon=True)
    reader.start()
    sent = 0
    try:
        yield ": connected\n\n"
        while limit is None or sent < limit:
            try:
                event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            sent += 1
            yield f"event: chaincode\ndata: {json.dumps(event_json(event))}\n\n"
    finally:
        stopped.set()


def _history_html(object_type: str, parts: list[str], entries: list[dict[str, Any]]) -> str:
    title = html.escape(f"{object_type} {' / '.join(parts)}")
    rows = "".join(
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>".format(
            html.escape(e["tx_id"]),
            e["timestamp"]["seconds"],
            "deleted" if e["is_delete"] else "",
            html.escape(json.dumps(e.get("value"), indent=1, sort_keys=True)[:20_000]),
        )
        for e in entries
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>history of "
        f"{title}</title><style>body{{font-family:sans-serif;margin:1.5em}}"
        "td{vertical-align:top;border-top:1px solid #ccc;padding:.3em}"
        "pre{margin:0;max-height:20em;overflow:auto;font-size:.8em}</style></head><body>"
        f"<p><a href='/'>&larr; dashboard</a></p><h1>History of {title}</h1>"
        f"<p>{len(entries)} committed versions, newest first.</p><table><tr><th>transaction</th>"
        f"<th>time (s)</th><th></th><th>value</th></tr>{rows}</table></body></html>"
    )
