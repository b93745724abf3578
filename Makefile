# trustreview: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= outputs

.PHONY: install run test unit nbval notebooks lab bench bench-coding clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab,test]"
	touch $(STAMP)

## run the whole review on the bundled corpus (or CORPUS=dir BIB=file OUT=dir)
run: install
	$(BIN)/trustreview run --corpus $(or $(CORPUS),corpus) --bib $(or $(BIB),references.bib) --out $(OUT)

## unit tests, then nbval over the committed notebooks
test: unit nbval

unit: install
	$(BIN)/python -m pytest -p no:nbval -q -n auto --dist loadfile tests

nbval: install
	cd notebooks && ../$(BIN)/python -m pytest -p nbval -q --nbval --nbval-current-env \
		--nbval-sanitize-with ../tests/nbval_sanitize.cfg -o addopts="" -o testpaths=. \
		--rootdir=. .

## re-execute the committed notebooks on the bundled corpus and store their outputs
notebooks: install
	$(BIN)/python -m trustreview.run.refresh notebooks

lab: install
	$(BIN)/jupyter lab notebooks

bench: install
	$(BIN)/python benchmarks/bench.py

bench-coding: install
	$(BIN)/python benchmarks/coding.py

clean:
	rm -rf $(OUT) .pytest_cache
