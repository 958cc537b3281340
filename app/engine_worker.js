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

// A task boundary: a promise that resolves from a task of its own (a MessageChannel message,
// which is not clamped as a nested setTimeout is), so that messages already queued run first.
const channel = new MessageChannel();
const resumes = [];
channel.port1.onmessage = () => resumes.shift()();
const nextTask = () => new Promise((resume) => {
  resumes.push(resume);
  channel.port2.postMessage(null);
});

self.parlanceEngine = {
  // The Python side hands its request handler here once it is ready.
  serve(handler) {
    serve = handler;
    for (const data of waiting.splice(0)) serve(data);
  },
  // On wasm a decoding step is computed synchronously and awaits only resolved promises, so a
  // whole reply is one run of microtasks and the page's messages (a Stop) wait for its end.
  // Each step of `model` first lets the event loop turn (measured cost: see BENCHMARKS.md).
  yieldEachStep(model) {
    if (model.forward.parlanceYields) return;
    const forward = model.forward.bind(model);
    model.forward = async (inputs) => {
      await nextTask();
      return forward(inputs);
    };
    model.forward.parlanceYields = true;
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
