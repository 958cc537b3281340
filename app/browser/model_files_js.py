"""The model downloader's JavaScript half (app/browser/model_files.py says why it exists).

Each file streams from the network straight into transformers.js's Cache Storage under the key
transformers.js itself looks it up by, counting bytes on the way through (a TransformStream), so
a 500 MB file never sits in memory and progress needs no second read. Progress is reported at
most every 100 ms per file, and once at each file's end. An abort (the AbortSignal) fails the
stream, so `cache.put` stores nothing for that file; the caller removes the files it already put.
"""

JS = """
(() => {
  const EVERY_MS = 100;
  const fail = (name, message, extra) => Object.assign(new Error(message), { name }, extra);

  const copy = async (cache, item, signal, report) => {
    let response;
    try {
      response = await fetch(item.url, { signal });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw fail("NetworkError", error.message || "the network failed", { file: item.name });
    }
    if (!response.ok) {
      const { status } = response;
      throw fail("HttpError", `HTTP ${status}`, { status, file: item.name });
    }
    const declared = Number(response.headers.get("content-length")) || null;
    // A compressed body's length is not the length of what the cache will hold.
    const encoded = (response.headers.get("content-encoding") || "identity") !== "identity";
    const total = encoded ? null : declared;
    let loaded = 0;
    let last = 0;
    report(loaded, total);
    const counter = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        const now = performance.now();
        if (now - last >= EVERY_MS) {
          last = now;
          report(loaded, total);
        }
        controller.enqueue(chunk);
      },
    });
    const headers = new Headers({
      "content-type": response.headers.get("content-type") || "application/octet-stream",
    });
    if (total !== null) headers.set("content-length", String(total));
    await cache.put(item.key, new Response(response.body.pipeThrough(counter), { headers }));
    report(loaded, loaded);
  };

  return {
    // items: [{ name, url, key }]; onProgress(index, loaded, total|null). Resolves with the
    // keys it put; on failure the error carries them (`put`) so they can be removed.
    async download(cacheName, items, signal, onProgress) {
      const cache = await caches.open(cacheName);
      const put = [];
      for (let index = 0; index < items.length; index++) {
        const item = items[index];
        const cached = await cache.match(item.key);
        if (cached) {
          const size = Number(cached.headers.get("content-length")) || 0;
          onProgress(index, size, size);
          continue;
        }
        try {
          await copy(cache, item, signal, (loaded, total) => onProgress(index, loaded, total));
        } catch (error) {
          error.put = put;
          throw error;
        }
        put.push(item.key);
      }
      return put;
    },
    async remove(cacheName, keys) {
      const cache = await caches.open(cacheName);
      await Promise.all(keys.map((key) => cache.delete(key)));
    },
    // Every cached file whose URL starts with one of the prefixes (all of a model's files, any
    // dtype): removed, and their count returned.
    async removePrefixed(cacheName, prefixes) {
      const cache = await caches.open(cacheName);
      const keys = (await cache.keys()).filter((r) => prefixes.some((p) => r.url.startsWith(p)));
      await Promise.all(keys.map((r) => cache.delete(r)));
      return keys.length;
    },
  };
})()
"""
