# Two commands for a fresh machine (see README.md):
#   make lab    install into .venv and open the course in JupyterLab
#   make test   install into .venv and run every test (what CI runs)

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS ?= requirements.txt
# The full data directory when it sits beside the clone (as in CI); otherwise the
# loaders use data/ (MNIST) and fetch the other assets when online.
COURSE_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export COURSE_DATA_DIR

.PHONY: install lab test lint results html editions assignments autograde-timing clean

$(STAMP): requirements.txt requirements-gpu.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(REQUIREMENTS)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (deep learning for images)" > /dev/null
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m utils.data verify
	COURSE_MODE=smoke MPLBACKEND=Agg $(BIN)/python -m pytest

# Runs every lesson headless in cpu mode and writes results/cpu/ (about 45 min on 2 cores).
results: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --mode cpu

# The executed course (outputs of the last `make results`) as HTML pages in build/html/.
html: $(STAMP)
	test -d build/executed/cpu || $(MAKE) results
	$(BIN)/jupyter nbconvert --to html --output-dir build/html build/executed/cpu/*.ipynb
	$(BIN)/python scripts/html_index.py build/html

# The learner editions (notebooks/) and worked solutions (solutions/) from the lesson
# sources in instructor/; run after editing a source.
editions: $(STAMP)
	$(BIN)/python -m scripts.editions

# Student versions (solutions and hidden tests removed), one nbgrader assignment per
# lesson: release/NN_topic/NN_topic.ipynb.
assignments: $(STAMP)
	rm -rf build/nbgrader release && mkdir -p build/nbgrader/source
	for lesson in instructor/[0-9][0-9]_*.ipynb; do \
		name=$$(basename $$lesson .ipynb); \
		mkdir -p build/nbgrader/source/$$name && cp $$lesson build/nbgrader/source/$$name/ \
		&& (cd build/nbgrader && ../../$(BIN)/python -m nbgrader generate_assignment \
			$$name --CourseDirectory.root=. --force --no-db) || exit 1; \
	done
	cp -r build/nbgrader/release release

# Times autograding one submission per lesson (smoke mode) for the README.
autograde-timing: $(STAMP)
	COURSE_MODE=smoke MPLBACKEND=Agg $(BIN)/python -m scripts.time_autograde

clean:
	rm -rf build release figures .pytest_cache .ruff_cache
