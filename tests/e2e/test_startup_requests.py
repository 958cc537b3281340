"""Start-up asks the server only for files that exist, and never for a model that is not built.

The app learns which local models the site holds from `vendor/local-models.json`, written by
`make run` / `make test` (tools/vendor.py), instead of sending HEAD requests for every local
model's files: so a model that is not built (`models/local-build/...` on a fresh clone) costs
no request and no 404. The shipped catalog (no `?catalog=`) is used, as a user gets it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Response, expect

from .chat_page import ChatPage
from .conftest import ROOT

SETTLED = r"^(ready|failed|canceled)$"


def built_models() -> set[str]:
    """The `org/name` folders of models/ that hold a config (a hidden staging folder is not)."""
    folders = [p.parent.relative_to(ROOT / "models") for p in ROOT.glob("models/*/*/config.json")]
    return {f.as_posix() for f in folders if not any(s.startswith(".") for s in f.parts)}


def model_folder(url: str, base_url: str) -> str | None:
    """The `org/name` folder of models/ a request asks for, or None for any other file."""
    path = urlsplit(url).path
    prefix = urlsplit(base_url).path + "models/"
    if not path.startswith(prefix):
        return None
    parts = Path(path.removeprefix(prefix)).parts
    return "/".join(parts[:2]) if len(parts) > 2 else None


def test_start_up_requests_no_missing_file_and_no_model_that_is_not_built(
    page: Page, base_url: str
) -> None:
    requests: list[Request] = []
    not_found: list[str] = []

    def on_response(response: Response) -> None:
        if response.status == 404:
            not_found.append(f"{response.request.method} {response.url}")

    page.on("request", lambda request: requests.append(request))
    page.on("response", on_response)
    ChatPage(page).open("#/chat")
    status = page.get_by_test_id("model-status")
    expect(status).to_have_attribute("data-state", "ready")
    loaded = status.get_attribute("data-model")

    built = built_models()
    catalog = json.loads((ROOT / "models/catalog.json").read_text())
    local = {m["id"] for m in catalog["models"] if m["source"] == "local"}
    assert loaded in built & local, f"the default resolved to {loaded}, not a built local model"
    assert not_found == [], f"start-up met 404s: {not_found}"
    folders = {model_folder(r.url, base_url) for r in requests} - {None}
    assert folders <= built, f"start-up asked for models that are not built: {folders - built}"
    assert folders == {loaded}, f"start-up touched models it does not load: {folders}"
    probes = [r.url for r in requests if r.method == "HEAD"]
    assert probes == [], f"the manifest should answer, yet start-up probed: {probes}"
    manifest = f"{base_url}vendor/local-models.json"
    assert manifest in [r.url for r in requests], "start-up did not read the manifest"
