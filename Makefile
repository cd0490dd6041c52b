# fedledger — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install fabric lattice browser demo demo-predict demo-enrich test unit integration lint typecheck bench-crypto clean

install: $(STAMP)

# Re-run pip only when the dependency list changed; the editable install picks up code changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "fedledger needs Python 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[ml,paas,dashboard,dev]'
	@touch $@

# Builds Fabric's binaries from the pinned Go module once; a no-op when they are present.
fabric: install
	$(BIN)/fedledger network build

# Builds the lattice scheme's Go helper (lattice/, pinned Lattigo) once; a no-op when current.
lattice: install
	$(BIN)/python -m fedledger.crypto.lattice.build

# Chromium (Debian's package) for the audit view's browser test; installing it needs root, as in
# CI. Without it that one test is skipped (CI sets FEDLEDGER_REQUIRE_BROWSER=1: there it fails).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) || echo "chromium not installed: the browser test will be skipped"

demo: install fabric lattice
	$(BIN)/fedledger demo

# Trains mlp32q, then Org1 and Org2 sell encrypted predictions of it and Org3 buys 20.
demo-predict: install fabric
	$(BIN)/fedledger demo --predict

# The training demo on a label-skewed consortium, then a paid enrichment by a fourth org.
demo-enrich: install fabric
	$(BIN)/fedledger demo --enrich

lint: install
	$(BIN)/ruff check client chaincode tests benchmarks

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install fabric
	$(BIN)/pytest tests/integration

test: install fabric lattice browser lint typecheck
	$(BIN)/pytest

bench-crypto: install
	$(BIN)/python benchmarks/crypto.py --json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
