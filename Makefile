# make run: install and start the app. make test: install and run every test. make checkpoints: rebuild the shipped models.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast checkpoints clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/streamlit run app.py

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q tests

test-fast: $(BIN)/.installed   # everything but the real-browser tests
	$(BIN)/python -m pytest -q tests -m "not browser"

checkpoints: $(BIN)/.installed
	$(BIN)/python -m vae_core train --data digits --latent-dim 2 --epochs 300 --out checkpoints/digits-2d.pt --force --quiet
	$(BIN)/python -m vae_core train --data digits --latent-dim 16 --epochs 300 --out checkpoints/digits-16d.pt --force --quiet

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
