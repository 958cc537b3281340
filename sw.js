// Parlance's service worker: the app starts with the network off after one visit.
//
// Why it is built this way:
// - One version, one cache. The page registers `sw.js?v=<version>`, the version of
//   vendor/precache.json (tools/precache.py: a hash of every shell file). A new deployment is a
//   new URL, so the browser installs a new worker beside the running one; that worker caches the
//   whole shell into `parlance-shell:<scope>:<version>` and waits. The page keeps running on the
//   old worker and the old cache until the user takes the update (app/browser/offline.py shows
//   the banner and posts "skip-waiting"); activation then deletes the older shell caches.
// - All or nothing. Install fetches every file with its Subresource Integrity hash; one failure
//   (missing, or changed since the build) fails the install, so a half cache never serves.
// - Served from its own version only. A precached file is answered from this worker's cache
//   (cache-first, ignoring the query: `index.html?catalog=...` is index.html), and never from
//   another version's. Other same-origin GETs go to the network first and fall back to a small
//   runtime cache (a `?catalog=` file); precache.json is never kept. Cross-origin requests (the Hugging
//   Face hub) are never touched, and model weights (.onnx) are never cached here:
//   transformers.js keeps model files in its own Cache Storage ("transformers-cache").
// - HEAD requests (the app probes local model files of a `?catalog=` catalog with HEAD) fall back
//   to what transformers.js has cached, so a model used once online is still found offline.
// - Works from any sub-path: every URL is resolved against this file's own URL (it sits next to
//   index.html, so its scope is the page's folder), and caches are named after that scope.

const SCOPE = new URL("./", self.location.href).href;
const SCOPE_PATH = new URL(SCOPE).pathname;
const VERSION = new URL(self.location.href).searchParams.get("v") || "unversioned";
const SHELL_PREFIX = `parlance-shell:${SCOPE_PATH}:`;
const SHELL = SHELL_PREFIX + VERSION;
const RUNTIME = `parlance-runtime:${SCOPE_PATH}`;
const MODEL_CACHE = "transformers-cache"; // transformers.js's own
const PRECACHE_URL = new URL("vendor/precache.json", SCOPE).href;
const INDEX_URL = new URL("index.html", SCOPE).href;
// Small same-origin files only: a runtime cache must not grow with model files.
const RUNTIME_MAX_BYTES = 1024 * 1024;
const NEVER_CACHED = /\.onnx(_data)?$/;
const PARALLEL_FETCHES = 4;

// SWITCH: cross-origin isolation, ON. When true, every page and worker response this worker
// serves carries COOP `same-origin` and COEP `require-corp`, which makes the page
// `crossOriginIsolated` (SharedArrayBuffer, multi-threaded wasm for onnxruntime-web) on any
// static host, with no server headers (app/browser/worker_engine.py then gives onnxruntime one
// thread per core). Under COEP every cross-origin subresource must be CORS or CORP (the hub's
// downloads are CORS fetches, which pass), and the first, uncontrolled visit is not isolated
// until the next load: it runs on one thread meanwhile. `require-corp` rather than `credentialless`: it is the one every engine supports.
const CROSS_ORIGIN_ISOLATION = true;

function isolated(response, request) {
  const document = request.mode === "navigate" || request.destination === "document";
  const worker = ["worker", "sharedworker"].includes(request.destination);
  if (!CROSS_ORIGIN_ISOLATION || !(document || worker) || response.type === "opaque") {
    return response;
  }
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

// -- install: the whole shell of this version, or nothing ----------------------------------

async function precache() {
  const listing = await fetch(PRECACHE_URL, { cache: "no-store" });
  if (!listing.ok) throw new Error(`precache.json: HTTP ${listing.status}`);
  const manifest = await listing.json();
  // A newer deployment landed between the page's registration and this install: its files
  // belong to another version. Fail; the page registers that version next time.
  if (manifest.version !== VERSION) {
    throw new Error(`precache.json is version ${manifest.version}, this worker ${VERSION}`);
  }
  const cache = await caches.open(SHELL);
  const pending = [...manifest.files];
  const fetchOne = async () => {
    for (let file = pending.shift(); file; file = pending.shift()) {
      const url = new URL(file.url, SCOPE).href;
      if (await cache.match(url)) continue; // an interrupted install of this same version
      // no-cache: revalidate, so a stale HTTP-cached copy cannot enter; integrity: the bytes
      // are the ones the build listed.
      const response = await fetch(url, { cache: "no-cache", integrity: file.integrity });
      if (!response.ok) throw new Error(`${file.url}: HTTP ${response.status}`);
      await cache.put(url, response);
    }
  };
  try {
    await Promise.all(Array.from({ length: PARALLEL_FETCHES }, fetchOne));
  } catch (error) {
    await caches.delete(SHELL);
    throw error;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

// -- activate: older versions' caches go ---------------------------------------------------

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(
        names
          .filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL)
          .map((name) => caches.delete(name)),
      ),
    ),
  );
});

// The page asks for the update once the user has said so (the "Reload" button).
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});

// -- fetch ----------------------------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (!request.url.startsWith(SCOPE)) return; // another origin (the hub) or outside the scope
  if (request.method === "GET") {
    event.respondWith(answerGet(request));
  } else if (request.method === "HEAD") {
    event.respondWith(answerHead(request));
  }
});

// The shell file a request asks for: the scope's folder itself is its index.html.
function shellKey(request) {
  const url = new URL(request.url);
  url.search = "";
  url.hash = "";
  return url.href === SCOPE ? INDEX_URL : url.href;
}

async function answerGet(request) {
  // caches.match with a cacheName: a missing cache is a miss, never created empty.
  const cached = await caches.match(shellKey(request), { cacheName: SHELL, ignoreSearch: true });
  if (cached) return isolated(cached, request);
  const path = new URL(request.url).pathname;
  // The build's listing is only ever wanted fresh (it names the newest version): never kept.
  const listing = shellKey(request) === PRECACHE_URL;
  if (listing || NEVER_CACHED.test(path) || request.headers.has("range")) {
    return isolated(await fetch(request), request);
  }
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && small(response)) {
      const runtime = await caches.open(RUNTIME);
      await runtime.put(request, response.clone());
    }
    return isolated(response, request);
  } catch (error) {
    const kept = await caches.match(request, { cacheName: RUNTIME });
    if (kept) return isolated(kept, request);
    throw error; // offline and never seen: the page sees the network error it would anyway
  }
}

function small(response) {
  const length = Number(response.headers.get("content-length"));
  return Number.isFinite(length) && length > 0 && length <= RUNTIME_MAX_BYTES;
}

async function answerHead(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const options = { ignoreMethod: true, ignoreSearch: true };
    for (const cacheName of [MODEL_CACHE, SHELL, RUNTIME]) {
      const kept = await caches.match(request.url, { ...options, cacheName });
      if (kept) {
        return new Response(null, { status: 200, headers: kept.headers });
      }
    }
    throw error;
  }
}
