// Check models/local-build/SmolLM2-135M-Instruct with transformers.js in Node: greedy
// decoding through the chat template, for q8 and fp32, compared with the PyTorch
// answers the Python build recorded in <model dir>/check.json.
//
//   node tools/real_model/check_tjs.mjs [--dtype q8|fp32]... [--prompt TEXT]... [--ort-web]
//
// transformers.js is imported from $TRANSFORMERS_JS if set (path to
// .../node_modules/@huggingface/transformers/dist/transformers.node.mjs), else from the
// '@huggingface/transformers' package resolvable from here (the repo's node_modules).
// Default: onnxruntime-node on the CPU. --ort-web runs onnxruntime-web's wasm backend
// (what browsers without WebGPU use), one thread.
// The "hi" answer must be exactly "Hello there! How can I assist you today?" for fp32 (as
// PyTorch); other prompts and q8 are reported (exact match with PyTorch or not).
// Exits 1 if the fp32 "hi" answer differs or fp32 differs from PyTorch on any prompt.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const modelId = "local-build/SmolLM2-135M-Instruct";
const modelDir = join(repo, "models", modelId);
const EXPECTED_HI = "Hello there! How can I assist you today?";

const args = process.argv.slice(2);
const opt = (name) => {
  const out = [];
  args.forEach((a, i) => { if (a === `--${name}`) out.push(args[i + 1]); });
  return out;
};
const ortWeb = args.includes("--ort-web");
const spec = process.env.TRANSFORMERS_JS ? pathToFileURL(process.env.TRANSFORMERS_JS).href : "@huggingface/transformers";
const req = createRequire(process.env.TRANSFORMERS_JS ?? import.meta.url);
if (ortWeb) {
  globalThis[Symbol.for("onnxruntime")] = await import(pathToFileURL(req.resolve("onnxruntime-web")).href);
}
const { env, pipeline } = await import(spec);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(repo, "models") + "/";
if (ortWeb) {
  env.backends.onnx.wasm.numThreads = 1;
  env.backends.onnx.wasm.wasmPaths = dirname(req.resolve("onnxruntime-web")) + "/";
}
console.log(`onnxruntime: ${JSON.stringify(env.backends.onnx.versions ?? {})}${ortWeb ? " (onnxruntime-web, wasm)" : " (onnxruntime-node)"}`);

const checkPath = join(modelDir, "check.json");
const reference = existsSync(checkPath)
  ? Object.fromEntries(JSON.parse(readFileSync(checkPath, "utf8")).rows.map((r) => [r.prompt, r]))
  : {};
const prompts = opt("prompt").length ? opt("prompt") : (Object.keys(reference).length ? Object.keys(reference) : ["hi"]);
const dtypes = opt("dtype").length ? opt("dtype") : ["q8", "fp32"];
const device = ortWeb ? "auto" : "cpu";

let failed = 0;
const results = [];
for (const dtype of dtypes) {
  const t0 = Date.now();
  const gen = await pipeline("text-generation", modelId, { dtype, device });
  console.log(`loaded ${modelId} dtype=${dtype} device=${device} in ${Date.now() - t0} ms`);
  for (const prompt of prompts) {
    const messages = [{ role: "user", content: prompt }];
    const text = gen.tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
    const nPrompt = gen.tokenizer.encode(text, { add_special_tokens: false }).length;
    const t1 = performance.now();
    const out = await gen(messages, { max_new_tokens: 64, do_sample: false });
    const ms = performance.now() - t1;
    const msgs = out[0].generated_text;
    const got = msgs[msgs.length - 1].content;
    const nNew = gen.tokenizer.encode(got, { add_special_tokens: false }).length + 1; // + <|im_end|> (approx. when 64 are hit)
    const ref = reference[prompt];
    const torch = ref ? ref.pytorch : null;
    const python = ref ? (dtype === "fp32" ? ref["onnx-fp32"].answer : ref["onnx-q8"].answer) : null;
    let status = torch === null ? "----" : (got === torch ? "SAME" : "DIFF");
    if (dtype === "fp32" && ((prompt === "hi" && got !== EXPECTED_HI) || status === "DIFF")) {
      status = "FAIL";
      failed++;
    }
    results.push({ dtype, prompt, answer: got, vs_pytorch: status, same_as_python_onnxruntime: python === null ? null : got === python, ms_per_token: +(ms / nNew).toFixed(1), prompt_tokens: nPrompt });
    console.log(`${status}  ${dtype.padEnd(5)} ${JSON.stringify(prompt).padEnd(34)} ${(ms / nNew).toFixed(0).padStart(4)} ms/token  ${JSON.stringify(got)}`);
    if (python !== null && got !== python) console.log(`      python onnxruntime ${dtype}: ${JSON.stringify(python)}`);
  }
  await gen.dispose();
}
console.log("vs_pytorch: SAME/DIFF = transformers.js answer equals the PyTorch greedy answer or not (DIFF expected for q8 on some prompts); FAIL = fp32 mismatch");
console.log(`${failed ? "FAIL" : "PASS"} (${failed} fp32 failures)`);
process.exit(failed ? 1 : 0);
