// Check the tiny chat models with transformers.js in Node (greedy, every canned case).
//
//   node tools/models/check_tiny_models_tjs.mjs [--device cpu|wasm] [--dtype fp32|q8] [--model tiny-chat-a]
//
// transformers.js is imported from $TRANSFORMERS_JS if set (path to
// .../node_modules/@huggingface/transformers/dist/transformers.node.mjs),
// else from the '@huggingface/transformers' package resolvable from here.
// --ort-web runs onnxruntime-web's wasm backend (what browsers without WebGPU
// use) instead of onnxruntime-node: it is handed to transformers.js through
// globalThis[Symbol.for("onnxruntime")] and the device is then "auto".
// Prints PASS/FAIL per case and "N passed, N failed"; exits 1 on any failure.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const spec = process.env.TRANSFORMERS_JS ? pathToFileURL(process.env.TRANSFORMERS_JS).href : "@huggingface/transformers";
const args = process.argv.slice(2);
const ortWeb = args.includes("--ort-web");
if (ortWeb) {
  const req = createRequire(process.env.TRANSFORMERS_JS ?? import.meta.url);
  const ortPath = req.resolve("onnxruntime-web");
  globalThis[Symbol.for("onnxruntime")] = await import(pathToFileURL(ortPath).href);
}
const { env, pipeline } = await import(spec);
console.log(`onnxruntime: ${JSON.stringify(env.backends.onnx.versions ?? {})}${ortWeb ? " (onnxruntime-web, wasm)" : ""}`);

const opt = (name) => {
  const out = [];
  args.forEach((a, i) => { if (a === `--${name}`) out.push(args[i + 1]); });
  return out;
};
const canned = JSON.parse(readFileSync(join(here, "canned.json"), "utf8"));
const models = opt("model").length ? opt("model") : Object.keys(canned.models);
const dtypes = opt("dtype").length ? opt("dtype") : ["fp32", "q8"];
const devices = opt("device").length ? opt("device") : [ortWeb ? "auto" : "cpu"];

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(repo, "models") + "/";
if (ortWeb) {
  env.backends.onnx.wasm.numThreads = 1;
  env.backends.onnx.wasm.wasmPaths = dirname(createRequire(process.env.TRANSFORMERS_JS ?? import.meta.url).resolve("onnxruntime-web")) + "/";
}

let passed = 0, failed = 0;
for (const device of devices) {
  for (const name of models) {
    for (const dtype of dtypes) {
      const t0 = Date.now();
      const gen = await pipeline("text-generation", `tinylm/${name}`, { dtype, device });
      console.log(`loaded tinylm/${name} dtype=${dtype} device=${device} in ${Date.now() - t0} ms`);
      for (const c of canned.models[name]) {
        const out = await gen(c.messages, { max_new_tokens: 320, do_sample: false });
        const msgs = out[0].generated_text;
        const got = msgs[msgs.length - 1].content;
        const ok = got === c.answer;
        ok ? passed++ : failed++;
        console.log(`${ok ? "PASS" : "FAIL"}  ${name.padEnd(12)} ${dtype.padEnd(5)} ${device.padEnd(5)} ${c.id}`);
        if (!ok) console.log(`      expected: ${JSON.stringify(c.answer)}\n      got:      ${JSON.stringify(got)}`);
      }
      await gen.dispose();
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
