# trustreview: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab
OUT ?= outputs
# bytecode is written (into the checkout's ignored __pycache__ folders) even where the shell
# says not to: every kernel of a run, every test worker and every command would otherwise
# compile the package again (and pytest rewrite the tests), 0.8 CPU-s a run, 3 s a worker
unexport PYTHONDONTWRITEBYTECODE
# pytest runs one worker per core: one BLAS thread each, or the workers fight over the cores
SERIAL_BLAS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: install run test pytest-all unit nbval notebooks lab docs browser-test bench bench-coding clean

install: $(STAMP)

# everything to run and test the review; JupyterLab only for `make lab` (it brings a
# schema checker whose import alone costs 1.5 s in every process that loads nbformat)
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/python -m compileall -q src  # an editable install leaves the package uncompiled
	touch $(STAMP)

$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab,test]"
	touch $(LAB_STAMP)

## run the whole review on the bundled corpus (or CORPUS=dir BIB=file OUT=dir)
run: install
	$(BIN)/trustreview run --corpus $(or $(CORPUS),corpus) --bib $(or $(BIB),references.bib) --out $(OUT)

## every test (the fast lane, the end-to-end runs) and, beside them, nbval over the
## committed notebooks (one test file per worker: a module's runs are made once)
test: install
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest-all nbval

pytest-all: install
	$(SERIAL_BLAS) $(BIN)/python -m pytest -p no:nbval -q -n auto --dist loadfile --no-loadscope-reorder tests

## the fast lane: no notebook, no process, no papermill (tests marked slow are left out)
unit: install
	TRUSTREVIEW_FUZZ_EXAMPLES=$${TRUSTREVIEW_FUZZ_EXAMPLES:-100} $(SERIAL_BLAS) $(BIN)/python -m pytest -p no:nbval -q -n auto --dist worksteal -m "not slow" tests

nbval: install
	cd notebooks && $(SERIAL_BLAS) ../$(BIN)/python -m pytest -p nbval -q --nbval --nbval-current-env \
		--nbval-sanitize-with ../tests/nbval_sanitize.cfg -o addopts="" -o testpaths=. \
		--rootdir=. .

## re-execute the committed notebooks on the bundled corpus and store their outputs
notebooks: install
	$(BIN)/python -m trustreview.run.refresh notebooks

lab: $(LAB_STAMP)
	$(BIN)/jupyter lab notebooks

## the documentation site (docs/ -> docs/_build/html), warnings as errors; Sphinx lives in a
## venv of its own (.venv-docs), so the test runs never load it
DOCS_VENV := .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed
$(DOCS_STAMP): pyproject.toml constraints.txt
	$(call own_venv,$(DOCS_VENV),docs)

# a venv of its own for tools the test venv must not load: $(1) the venv, $(2) the extras
comma := ,
define own_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -c constraints.txt -e ".[$(2)]"
	touch $(1)/.installed
endef

## the screening notebook in a real JupyterLab in headless Chromium (Debian's chromium):
## JupyterLab and Playwright in a venv of their own, so the test venv stays without them
BROWSER_VENV := .venv-lab
BROWSER_STAMP := $(BROWSER_VENV)/.installed
$(BROWSER_STAMP): pyproject.toml constraints.txt
	$(call own_venv,$(BROWSER_VENV),lab$(comma)test$(comma)browser)

browser-test: $(BROWSER_STAMP)
	$(SERIAL_BLAS) $(BROWSER_VENV)/bin/python -m pytest -p no:nbval -q tests/test_screener_browser.py

docs: $(DOCS_STAMP)
	$(DOCS_VENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

bench: install
	$(BIN)/python benchmarks/bench.py

bench-coding: install
	$(BIN)/python benchmarks/coding.py

clean:
	rm -rf $(OUT) .pytest_cache docs/_build docs/notebooks
