# make run: install and start the app. make test: install everything and run lint and every test.
# make checkpoints: rebuild the shipped models.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint chromium checkpoints clean onnxruntime-web

# make run needs the app's requirements and the onnx extra (small, and "bring your own model" needs it); make test
# adds the extras dev (pytest, Playwright, the linters) and ray. The pins live in pyproject.toml only;
# tools/pins.py reads them out for pip.
$(BIN)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/python tools/pins.py > $(VENV)/pins-run.txt
	$(BIN)/python tools/pins.py onnx >> $(VENV)/pins-run.txt
	$(BIN)/pip install -q -r $(VENV)/pins-run.txt
	touch $@

$(BIN)/.installed: $(BIN)/.installed-run
	$(BIN)/python tools/pins.py dev ray > $(VENV)/pins-dev.txt
	$(BIN)/pip install -q -r $(VENV)/pins-dev.txt
	touch $@

run: $(BIN)/.installed-run onnxruntime-web
	$(BIN)/streamlit run app.py

# Two test processes, each given whole files (their module fixtures are made once): on 2 cores the suite took
# 19 minutes against 25 in one process, and three processes were no faster (22 minutes).
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile

test: $(BIN)/.installed chromium lint onnxruntime-web
	$(PYTEST) tests

# The Explore page decodes in the browser with onnxruntime-web: its two files from the npm registry, checked against
# tools/onnxruntime_web.sha256, into static/ (git-ignored). It never fails: offline, the app decodes on the server.
onnxruntime-web: $(BIN)/.installed-run
	$(BIN)/python tools/fetch_onnxruntime_web.py

test-fast: $(BIN)/.installed lint   # everything but the real-browser tests (no Chromium needed)
	$(PYTEST) tests -m "not browser"

# Style, the engine's layers (pyproject.toml's import-linter contracts), types, and thin pages.
lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	@awk 'FNR == 251 { print FILENAME " is over 250 lines: move sections into ui/<page>/"; long = 1 } \
		END { exit long }' pages/*.py

# The browser tests drive Debian's Chromium (or $CHROMIUM). Installed here when we can (root and apt-get);
# otherwise stop with the command that installs it.
chromium:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests (apt-get install chromium)..."; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null || exit 1; \
	else \
		echo "Chromium is needed for the browser tests. Install it with:"; \
		echo "    sudo apt-get install -y chromium"; \
		echo "or set CHROMIUM=/path/to/chromium. 'make test-fast' runs everything else."; \
		exit 1; \
	fi

checkpoints: $(BIN)/.installed
	$(BIN)/python -m vae_core train --data digits --latent-dim 2 --epochs 300 --out checkpoints/digits-2d.pt --force --quiet
	$(BIN)/python -m vae_core train --data digits --latent-dim 16 --epochs 300 --out checkpoints/digits-16d.pt --force --quiet
	$(BIN)/python -m vae_core.analysis.cached_map checkpoints/digits-2d.pt checkpoints/digits-16d.pt  # their maps, for a fast start

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts build *.egg-info
