"""What the page starts from: its clock, its ids, its query parameters and its model catalog.

Small adapters the composition root (app/main.py) hands to core; kept apart so that the root
only composes.
"""

from __future__ import annotations

import os
import time

from app.core.catalog import EMPTY_CATALOG, Catalog, parse_catalog
from app.core.errors import CatalogError

from .interop import fetch_json, query_param, same_origin_url

DEFAULT_CATALOG = "models/catalog.json"


class BrowserClock:
    def monotonic_ms(self) -> float:
        return time.perf_counter() * 1000.0

    def wall_ms(self) -> int:
        return int(time.time() * 1000)


class RandomIds:
    def new_id(self) -> str:
        # 128 random bits as 32 hex digits, as uuid4().hex gave, without compiling the uuid
        # module at start-up (Pyodide's standard library ships as source).
        return os.urandom(16).hex()


def int_param(name: str) -> int | None:
    value = query_param(name)
    return int(value) if value is not None and value.isdigit() else None


async def load_catalog(notices: list[str]) -> tuple[Catalog, str]:
    """The catalog the page asks for, else the shipped one, else none: never no app.

    `?catalog=` takes same-origin URLs only: a catalog decides which hosts the page contacts.
    """
    asked = query_param("catalog")
    if asked is not None:
        url = same_origin_url(asked)
        if url is None:
            notices.append(f"The catalog {asked} is not on this site, so it was not used.")
        else:
            try:
                return parse_catalog(await fetch_json(url)), asked
            except (CatalogError, OSError, ValueError) as exc:
                notices.append(f"The model catalog {asked} is unusable: {exc}.")
        notices.append("Using the catalog this site ships with.")
    try:
        return parse_catalog(await fetch_json(DEFAULT_CATALOG)), DEFAULT_CATALOG
    except (CatalogError, OSError, ValueError) as exc:
        notices.append(f"The model catalog {DEFAULT_CATALOG} is unusable: {exc}. No model can run.")
        return EMPTY_CATALOG, DEFAULT_CATALOG
