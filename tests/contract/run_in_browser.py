"""Runs the Store contract against the real IndexedDB store, in the page.

Loaded by store_contract.html; writes {check name: "ok" | error text} as JSON into
`<body data-results>` for tests/e2e/test_store_contract.py to read.
"""

from __future__ import annotations

import asyncio
import json
import traceback
import uuid

import js

from app.browser.idb import IndexedDbStore
from tests.contract.store_contract import CHECKS


async def run_all() -> None:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            store = await IndexedDbStore.open(f"contract-{name}-{uuid.uuid4().hex}")
            await check(store)
            results[name] = "ok"
        except Exception:
            results[name] = traceback.format_exc()
    js.document.body.dataset.results = json.dumps(results)


_RUNNING: set[asyncio.Future[None]] = {asyncio.ensure_future(run_all())}
