# Two commands do all set-up on a fresh machine (Python >= 3.11, pip and gcc):
#   make run    create .venv, install, run the default simulated campaign
#   make test   create .venv, install, run the test suite
# torch==2.13.0 (CPU wheel) is installed first so the resolver never reaches for a
# newer CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: run test install bench-install lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,serve,notify,export,usb,cluster]'
	touch $(STAMP)

# A short simulated run of the default campaign (8 Sobol + 8 BO experiments); it ends by
# printing the best conditions found and the path of the HTML report.
run: $(STAMP)
	$(BIN)/sdl run campaigns/cdse_620nm.toml --budget 16

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench-install: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,serve,notify,export,usb,cluster,bench]'

lint: $(STAMP)
	$(BIN)/ruff check sdl hardware surrogates simulator benchmarks tests

clean:
	rm -rf $(VENV) .pytest_cache
