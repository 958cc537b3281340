// Parlance's engine worker: a second Pyodide, in a Web Worker, running the app's own engine
// module (app/browser/engine_host.py). transformers.js and onnxruntime-web run here too, so a
// reply's tensors never leave this thread; only text goes back to the page.
//
// The page (app/browser/worker_engine.py) sends one "boot" message first, with the source of
// the modules to run (the page's own copy: both sides are always the same version) and the
// wheels to install; then the engine protocol's requests (app/core/engine_protocol.py), which
// are kept until Python is ready to serve them. A start that fails says why ("fatal").
//
// Everything else lives in Python. This file stays small.

import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";

const waiting = [];
let serve = null;

// The Python side hands its request handler here once it is ready.
self.parlanceEngine = {
  serve(handler) {
    serve = handler;
    for (const data of waiting.splice(0)) serve(data);
  },
};

async function boot({ files, wheels }) {
  const pyodide = await loadPyodide({
    indexURL: new URL("../vendor/pyodide/", import.meta.url).href,
  });
  await pyodide.loadPackage(wheels);
  for (const [path, source] of Object.entries(files)) {
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, source);
  }
  pyodide.pyimport("app.browser.engine_host").start();
}

self.onmessage = (event) => {
  const data = event.data;
  if (data.kind === "boot") {
    boot(data).catch((error) => {
      self.postMessage({ kind: "fatal", reason: String(error?.message ?? error) });
    });
  } else if (serve) {
    serve(data);
  } else {
    waiting.push(data);
  }
};
