// Writes vendor/app.zip: the app's Python package as PyScript unpacks it at start (pyscript.toml
// maps it to "./*"), its sources and their byte code, compiled by the browser's own Python
// (Pyodide, run by Node from node_modules). tools/app_bundle.py says why and when this runs.
//
// Usage: node tools/app_bundle.mjs <site root> <zip to write> [comment]
// The .pyc files are "checked hash" ones: Python uses one only while its source's hash matches,
// so a stale one is ignored (the module is compiled as usual), never run.

import path from "node:path";
import { fileURLToPath } from "node:url";

const [root, out] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const comment = process.argv[4] ?? "";
if (!root || !out) {
  console.error("usage: node tools/app_bundle.mjs <site root> <zip to write> [comment]");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const indexURL = path.join(here, "..", "node_modules", "pyodide") + path.sep;
const { loadPyodide } = await import(path.join(indexURL, "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL });
pyodide.FS.mkdirTree("/site");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root }, "/site");
pyodide.FS.mkdirTree("/out");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.dirname(out) }, "/out");
pyodide.globals.set("out_name", path.basename(out));
pyodide.globals.set("comment", comment);
pyodide.runPython(`
import importlib.util
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc
from pathlib import Path

site = Path("/site")
tmp = Path("/out") / (out_name + ".part")


def add(archive, name, data):
    info = zipfile.ZipInfo(name)  # a fixed date: the same sources give the same zip
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


count = 0
with zipfile.ZipFile(tmp, "w") as archive:
    archive.comment = comment.encode()
    for source in sorted((site / "app").rglob("*.py")):
        relative = source.relative_to(site)
        data = source.read_bytes()
        code = compile(data, relative.as_posix(), "exec", dont_inherit=True)
        pyc = _code_to_hash_pyc(code, importlib.util.source_hash(data), checked=True)
        add(archive, relative.as_posix(), data)
        cached = f"{relative.stem}.{sys.implementation.cache_tag}.pyc"
        add(archive, (relative.parent / "__pycache__" / cached).as_posix(), pyc)
        count += 1
tmp.replace(Path("/out") / out_name)
print(f"vendor/{out_name}: {count} modules, with byte code for {sys.implementation.cache_tag}")
`);
