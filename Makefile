# hippo: the two commands (`make run`, `make test`) and the rest of the project's chores.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
# Where the CPU build of torch comes from. Empty means pip's configured index (this machine
# has the CPU wheel locally); elsewhere use: make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
DEMO_STORE ?= .hippo-demo
QUESTION ?= In which village was the founder of the Marren Observatory born?

.PHONY: run test lint install dev bench ui clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, as the CPU build, so sentence-transformers does not pull gigabytes of CUDA packages.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -c "import torch" 2>/dev/null || \
		$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e ".[local]"
	$(BIN)/hippo model install
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

## make run: index the demo corpus and answer one multi-hop question with its evidence.
run: $(VENV)/.installed
	$(BIN)/hippo index data/demo --store $(DEMO_STORE)
	$(BIN)/hippo ask "$(QUESTION)" --store $(DEMO_STORE) -k 3

## make test: lint, then the whole test suite.
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## make bench: retrieval quality and speed on 2WikiMultihopQA (writes bench/results/2wiki.json and .md).
bench: $(VENV)/.installed
	$(BIN)/python bench/twowiki.py
	$(BIN)/python bench/incremental.py

## make bench-locomo: session and turn retrieval on the 10 LoCoMo conversations, every method incl. memgas
## (writes bench/results/locomo.json and .md; about 20 min on 2 cores).
.PHONY: bench-locomo
bench-locomo: $(VENV)/.installed
	$(BIN)/python bench/locomo.py --fresh

## make bench-scale: index time by stage, store size, peak RSS and query latency on generated corpora of
## 10k, 30k and 100k passages, one fresh process per size (writes bench/results/scale.json and .md; hours on 2 cores).
.PHONY: bench-scale
bench-scale: $(VENV)/.installed
	$(BIN)/python bench/scale.py

## make ui: the web UI on the demo store (indexed first; unchanged files are skipped) at http://127.0.0.1:8501
ui: $(VENV)/.installed
	$(BIN)/hippo index data/demo --store $(DEMO_STORE)
	$(BIN)/hippo ui --store $(DEMO_STORE)

clean:
	rm -rf $(DEMO_STORE) .pytest_cache .ruff_cache build

.PHONY: model model-eval

## make model: retrain the bundled English pipeline data/models/en_hippo_ewt from UD + UNER English-EWT
## (CPU: the main pipeline and the NER train side by side, one core each, about 45 min; intermediate files
## and both training logs in build/spacy/).
model: $(VENV)/.installed
	$(VENV)/bin/python ingest/extract/training/convert.py
	start=$$(date +%s); \
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m spacy train ingest/extract/training/config.cfg \
		--output build/spacy/model > build/spacy/train.log 2>&1 & main=$$!; \
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m spacy train ingest/extract/training/ner.cfg \
		--code ingest/extract/training/augment.py --output build/spacy/ner > build/spacy/ner.log 2>&1 & ner=$$!; \
	wait $$main || { kill $$ner; tail -20 build/spacy/train.log; exit 1; }; \
	wait $$ner || { tail -20 build/spacy/ner.log; exit 1; }; \
	echo $$(( $$(date +%s) - start )) > build/spacy/train_seconds
	$(VENV)/bin/python ingest/extract/training/package.py --ner-src build/spacy/ner/model-best

## make model-eval: score data/models/en_hippo_ewt on the EWT + UNER test splits (writes bench/results/model.json).
model-eval: $(VENV)/.installed
	$(VENV)/bin/python ingest/extract/training/evaluate.py
