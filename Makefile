# The two commands of the README: `make serve` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv serve test test-fast proto lint bench-hash check-golden clean

# Reinstall whenever the project's install inputs change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/neardup serve

test: lint
	bash scripts/tools/ensure_chromium.sh
	$(PY) -m pytest -q

# The inner loop: everything but the tests marked slow (real process kills, wheel builds,
# property runs); `make test` still runs them all.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# Regenerates the stubs beside the contract; tests/proto fails while they are stale.
proto: $(STAMP)
	$(PY) -m scripts.tools.generate_proto

# mypy resolves the neardup.* namespace through a tree of links shaped like the wheel.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	mkdir -p build/typecheck/neardup
	ln -sfn ../../../index build/typecheck/neardup/index
	ln -sfn ../../../service build/typecheck/neardup/service
	ln -sfn ../../../proto/neardup/v1 build/typecheck/neardup/v1
	cd build/typecheck && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml \
		-p neardup.index -p neardup.service

bench-hash: $(STAMP)
	$(PY) -m scripts.bench.hash

check-golden: $(STAMP)
	$(PY) -m scripts.tools.check_golden

clean:
	rm -rf $(VENV) build *.egg-info
