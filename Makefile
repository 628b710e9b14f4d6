# Two commands for a fresh machine:  make run  (set up + launch the app on the demo)
#                                    make test (set up + run the whole test suite)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint sysdeps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned, so pip takes the local CPU build instead of downloading CUDA
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

sysdeps:
	@bash .ci/sysdeps.sh

run: sysdeps $(STAMP)
	$(VENV)/bin/smart-workbench

test: sysdeps $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	PYQTGRAPH_QT_LIB=PySide6 $(PY) -m pytest

clean:
	rm -rf $(VENV)
