// Parlance's first script: it starts PyScript, after making sure PyScript can start, and makes
// sure a start that fails says so instead of sitting at "Starting...".
//
// PyScript opens IndexedDB for its own package cache before any app code runs, and cannot start
// without it. Where the browser offers no IndexedDB, or refuses to open one (some private modes,
// locked-down profiles), an in-memory IndexedDB (the fake-indexeddb package, vendored) takes its
// place, and `window.parlanceStorageProblem` tells the app, which then keeps chats in memory and
// says that they will not be kept.
//
// Everything else about the app lives in Python (app/main.py). This file stays small.

const READY = '[data-testid="app"][data-ready="true"]';
const SLOW_START_MS = 30000;

function storageProblem() {
  let factory;
  try {
    factory = globalThis.indexedDB;
  } catch (error) {
    return `This browser blocks IndexedDB (${error.message}).`;
  }
  if (!factory) return "This browser offers no IndexedDB.";
  try {
    // A throwaway database: opening ours without a version would create it empty.
    const probe = factory.open("parlance-probe");
    probe.onsuccess = () => probe.result.close();
    probe.onerror = (event) => event.preventDefault();
  } catch (error) {
    return `This browser refuses to open IndexedDB (${error.message}).`;
  }
  return null;
}

function showStartFailure(text) {
  if (document.querySelector(READY)) return;
  const error = document.querySelector('[data-testid="error"]');
  if (error) {
    error.querySelector(".error-text").textContent = text;
    error.hidden = false;
  }
  const note = document.querySelector(".boot-note");
  if (note) note.textContent = "Parlance could not start.";
}

function watchStart() {
  const failed = (reason) => {
    // Errors, and things thrown that are not (Pyodide's ExitStatus when Python cannot start).
    const name = reason?.name && reason.name !== "Error" ? `${reason.name}: ` : "";
    const detail = reason?.message || (typeof reason === "string" ? reason : "unknown error");
    showStartFailure(`Parlance could not start (${name}${detail}). Reloading may help; if it ` +
      "does not, this site's files may be incomplete.");
  };
  const onError = (event) => failed(event.error ?? event.message);
  const onRejection = (event) => failed(event.reason);
  window.addEventListener("error", onError);
  window.addEventListener("unhandledrejection", onRejection);
  const slow = setTimeout(() => {
    const note = document.querySelector(".boot-note");
    if (note && !document.querySelector(READY)) {
      note.textContent = "Still starting: this is taking longer than usual. Reloading may help.";
    }
  }, SLOW_START_MS);
  const ready = new MutationObserver(() => {
    if (!document.querySelector(READY)) return;
    window.removeEventListener("error", onError);
    window.removeEventListener("unhandledrejection", onRejection);
    clearTimeout(slow);
    ready.disconnect();
  });
  ready.observe(document.querySelector('[data-testid="app"]'), { attributes: true });
}

// Enter before Python is ready: keep the text (no newline) and ask the composer to send it once
// it is ready (app/ui/composer.py reads data-send-when-ready).
function holdEarlyEnter() {
  const input = document.querySelector('[data-testid="chat-input"]');
  input?.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (document.querySelector(READY)) return;
    event.preventDefault();
    if (input.value.trim()) input.dataset.sendWhenReady = "true";
  });
}

watchStart();
holdEarlyEnter();
const problem = storageProblem();
if (problem) {
  const fake = await import("../vendor/fake-indexeddb/index.js");
  for (const name of ["indexedDB", "IDBKeyRange", "IDBFactory", "IDBDatabase", "IDBTransaction",
    "IDBObjectStore", "IDBIndex", "IDBCursor", "IDBCursorWithValue", "IDBRequest",
    "IDBOpenDBRequest", "IDBVersionChangeEvent"]) {
    Object.defineProperty(globalThis, name, {
      value: name === "indexedDB" ? fake.indexedDB : fake[name],
      configurable: true,
      writable: true,
    });
  }
  globalThis.parlanceStorageProblem = problem;
}
await import("../vendor/pyscript/core.js");
