"""The Store contract against the real IndexedDB store, in Chromium."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.contract.store_contract import CHECKS


def test_the_indexeddb_store_honours_the_store_contract(page: Page) -> None:
    page.goto("tests/contract/store_contract.html")
    page.wait_for_selector("body[data-results]", state="attached")
    results = json.loads(page.locator("body").get_attribute("data-results") or "{}")
    assert set(results) == set(CHECKS), "every check ran"
    failures = {name: error for name, error in results.items() if error != "ok"}
    assert failures == {}
