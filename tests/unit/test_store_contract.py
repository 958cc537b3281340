"""The Store contract against the in-memory store (the same checks run on IndexedDB in e2e)."""

from __future__ import annotations

import asyncio

import pytest

from app.core.memory import MemoryStore
from tests.contract.store_contract import CHECKS, Check


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_memory_store_honours_the_store_contract(check: Check) -> None:
    asyncio.run(check(MemoryStore()))
